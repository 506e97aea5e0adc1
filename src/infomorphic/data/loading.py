"""``load_dataset``: find a data set's files (or fetch them) and hand them to its reader.

The readers (``idx``, ``cifar``, ``bundled``) only parse; this module decides where to look,
in the order ``locate.data_search_path`` documents, and says in its errors every folder it
tried and what was missing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infomorphic.data import locate
from infomorphic.data.bundled import load_digits, load_mnist_sample
from infomorphic.data.cifar import (
    CIFAR_EXPECTED,
    CIFAR_SUBDIR,
    CIFAR_TARBALL,
    CIFAR_URL,
    extract_cifar,
    missing_cifar_files,
    read_cifar_dir,
)
from infomorphic.data.idx import IDX_EXPECTED, find_idx_files, read_idx_dataset
from infomorphic.data.types import DataUnavailableError, RawDataset

__all__ = ["DATASET_NAMES", "dataset_key", "load_dataset"]

DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10", "digits", "mnist-sample")
_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}
_CIFAR_CACHE = "cifar10"  # subfolder of a search folder (and of the cache) for CIFAR-10


@dataclass(frozen=True)
class _IdxSpec:
    name: str
    title: str
    subdir: str
    mirrors: tuple[str, ...]


_IDX_SPECS = {
    "mnist": _IdxSpec(
        "mnist",
        "MNIST",
        "mnist",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": _IdxSpec(
        "fashion-mnist",
        "Fashion-MNIST",
        "fashion-mnist",
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    ),
}


def dataset_key(name: str) -> str:
    """The canonical name of a data set (case, ``_`` and known aliases folded)."""
    key = name.strip().lower().replace("_", "-")
    return _ALIASES.get(key, key)


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
) -> RawDataset:
    """Load dataset ``name`` (one of ``DATASET_NAMES``; ``_`` and case are ignored).

    Returns a ``RawDataset``: x float32 ``(n, features)`` with raw pixel values, y int64 ``(n,)``.

    ``mnist``, ``fashion-mnist`` and ``cifar10`` are looked for as follows:

    * ``data_dir`` given: only that folder and its standard subfolder (``mnist/``,
      ``fashion-mnist/``, ``cifar-10-batches-py/``; a CIFAR-10 tarball there is extracted into
      the cache). Nothing else is tried.
    * otherwise each folder of ``data_search_path(cache_dir)`` in turn: the folders in
      ``$INFOMORPHIC_DATA_PATH`` (in order), then the cache directory (``cache_dir``, else
      ``$INFOMORPHIC_DATA`` or ``~/.cache/infomorphic``), then ``/usr/share/datasets`` (where
      Debian's ``dataset-fashion-mnist`` puts ``fashion-mnist/``). In each folder the data set's
      subfolder is tried first (``mnist/``, ``fashion-mnist/``, ``cifar10/cifar-10-batches-py/``
      and ``cifar-10-batches-py/``), then the folder itself; a folder named after the other
      IDX data set is not taken for this one. For CIFAR-10, when no folder holds the batches, a
      ``cifar-10-python.tar.gz`` in a folder (or its ``cifar10/``) is extracted into the cache.
      Last, when ``download`` is true, the files are downloaded into the cache.

    ``digits`` and ``mnist-sample`` come from installed packages and ignore the folders. Raises
    ``DataUnavailableError`` (or its subclass ``CorruptDataError``) when the data cannot be had,
    ``ValueError`` for an unknown name.
    """
    key = dataset_key(name)
    if key in _IDX_SPECS:
        return _load_idx_dataset(_IDX_SPECS[key], data_dir, cache_dir, download)
    if key == "cifar10":
        return _load_cifar10(data_dir, cache_dir, download)
    if key == "digits":
        return load_digits()
    if key == "mnist-sample":
        return load_mnist_sample()
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")


def _load_idx_dataset(
    spec: _IdxSpec, data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []

    def try_dir(directory: Path) -> RawDataset | None:
        if not directory.is_dir():
            searched.append((directory, "no such directory"))
            return None
        found, missing = find_idx_files(directory)
        if missing:
            searched.append((directory, f"missing {', '.join(missing)}"))
            return None
        return read_idx_dataset(spec.name, spec.title, found, directory)

    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for directory in (root, root / spec.subdir):
            if (result := try_dir(directory)) is not None:
                return result
        raise DataUnavailableError(
            locate.not_found_message(
                spec.title,
                searched,
                IDX_EXPECTED,
                f"Put these four files (gzipped or not) into the directory given with "
                f"--data-dir (here {root}) or into its subdirectory {spec.subdir}/. "
                + locate.search_path_note(),
            )
        )

    # MNIST and Fashion-MNIST share file names: a folder named after one is never the other.
    others = {s.subdir for s in _IDX_SPECS.values()} - {spec.subdir}
    for folder in locate.existing_search_folders(cache_dir, searched):
        if (result := try_dir(folder / spec.subdir)) is not None:
            return result
        if folder.name in others:
            searched.append((folder, f"skipped: named after another data set, not {spec.name}"))
        elif (result := try_dir(folder)) is not None:
            return result

    cache = locate.resolve_cache(cache_dir) / spec.subdir
    if download:
        _, missing = find_idx_files(cache)
        errors: list[str] = []
        for base in missing:
            urls = [mirror + base + ".gz" for mirror in spec.mirrors]
            if errors := locate.download(urls, cache / f"{base}.gz"):
                break
        if not errors:
            found, _ = find_idx_files(cache)
            return read_idx_dataset(spec.name, spec.title, found, cache)
        note = "Download failed:\n  " + "\n  ".join(errors)
    else:
        note = "Downloading is disabled."
    raise DataUnavailableError(
        locate.not_found_message(
            spec.title,
            searched,
            IDX_EXPECTED,
            f"{note}\nPut the four files (gzipped or not) into a directory and pass it with "
            f"--data-dir DIR, {locate.search_advice(spec.subdir, cache, 'copy them')}",
        )
    )


def _load_cifar10(
    data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []

    def complete(directory: Path) -> bool:
        if not directory.is_dir():
            searched.append((directory, "no such directory"))
            return False
        missing = missing_cifar_files(directory)
        if missing:
            searched.append((directory, f"missing {', '.join(missing)}"))
        return not missing

    cache = locate.resolve_cache(cache_dir) / _CIFAR_CACHE
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for directory in (root, root / CIFAR_SUBDIR):
            if complete(directory):
                return read_cifar_dir(directory)
        if (root / CIFAR_TARBALL).is_file():
            return _read_cifar_tarball(root / CIFAR_TARBALL, cache / CIFAR_SUBDIR)
        raise DataUnavailableError(
            locate.not_found_message(
                "CIFAR-10",
                searched,
                CIFAR_EXPECTED,
                f"Put the batch files into the directory given with --data-dir (here {root}) "
                f"or into its subdirectory {CIFAR_SUBDIR}/. " + locate.search_path_note(),
            )
        )

    # Extracted batches in every folder first, tarballs only then: a tarball found on
    # $INFOMORPHIC_DATA_PATH is extracted into the cache once, not again on every load.
    folders: list[Path] = []
    for folder in locate.existing_search_folders(cache_dir, searched):
        folders.append(folder)
        for directory in (folder / _CIFAR_CACHE / CIFAR_SUBDIR, folder / CIFAR_SUBDIR, folder):
            if complete(directory):
                return read_cifar_dir(directory)
    for folder in folders:
        for tarball in (folder / _CIFAR_CACHE / CIFAR_TARBALL, folder / CIFAR_TARBALL):
            if tarball.is_file():
                return _read_cifar_tarball(tarball, cache / CIFAR_SUBDIR)

    tarball = cache / CIFAR_TARBALL
    note = "Downloading is disabled."
    if download:
        errors = locate.download([CIFAR_URL], tarball)
        if not errors:
            return _read_cifar_tarball(tarball, cache / CIFAR_SUBDIR)
        note = "Download failed:\n  " + "\n  ".join(errors)
    raise DataUnavailableError(
        locate.not_found_message(
            "CIFAR-10",
            searched,
            CIFAR_EXPECTED,
            f"{note}\nPut the batch files into a directory and pass it with --data-dir DIR, "
            + locate.search_advice(f"{_CIFAR_CACHE}/{CIFAR_SUBDIR}", cache, f"put {CIFAR_TARBALL}"),
        )
    )


def _read_cifar_tarball(tarball: Path, target: Path) -> RawDataset:
    """Extract the batches of ``tarball`` into ``target`` (the cache) and read them."""
    extract_cifar(tarball, target)
    return read_cifar_dir(target)
