"""``load_dataset``: find a data set's files (or fetch them) and hand them to its reader.

The readers (``idx``, ``cifar``, ``bundled``) only parse; this module decides where to look,
in the order ``locate.data_search_path`` documents, and says in its errors every folder it
tried and what was missing there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from infomorphic.data import fetch, locate
from infomorphic.data.bundled import load_digits, load_mnist_sample
from infomorphic.data.catalog import CATALOG, DatasetEntry, dataset_entry
from infomorphic.data.cifar import (
    CIFAR_EXPECTED,
    CIFAR_SUBDIR,
    CIFAR_TARBALL,
    extract_cifar,
    missing_cifar_files,
    read_cifar_dir,
)
from infomorphic.data.idx import IDX_EXPECTED, find_idx_files, read_idx_dataset
from infomorphic.data.types import DataUnavailableError, RawDataset

__all__ = ["DATASET_NAMES", "Location", "dataset_key", "find_dataset", "load_dataset"]

DATASET_NAMES: tuple[str, ...] = tuple(CATALOG)
_IDX_SETS = ("mnist", "fashion-mnist")
_CIFAR_CACHE = "cifar10"  # subfolder of a search folder (and of the cache) for CIFAR-10


def dataset_key(name: str) -> str:
    """The canonical name of a data set (case, ``_`` and known aliases folded)."""
    try:
        return dataset_entry(name).name
    except ValueError:
        return name.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class Location:
    """Where a downloadable data set was found: ``path`` is the folder holding its files (for
    CIFAR-10 the batches' folder, or ``tarball`` when only the tarball was found), or None;
    ``searched`` lists each folder tried and what was missing there, in order."""

    name: str
    path: Path | None
    searched: tuple[tuple[Path, str], ...]
    tarball: bool = False


def find_dataset(
    name: str, data_dir: str | Path | None = None, cache_dir: str | Path | None = None
) -> Location:
    """Where ``load_dataset`` would read ``name`` from, without reading or downloading it.

    For ``digits`` and ``mnist-sample`` (inside installed packages) the path is None.
    """
    entry = dataset_entry(name)
    searched: list[tuple[Path, str]] = []
    if entry.name in _IDX_SETS:
        found = _find_idx(entry, data_dir, cache_dir, searched)
        return Location(entry.name, found[0] if found else None, tuple(searched))
    if entry.name == "cifar10":
        path, tarball = _find_cifar(data_dir, cache_dir, searched)
        return Location(entry.name, path, tuple(searched), tarball)
    return Location(entry.name, None, ())


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
    entry = dataset_entry(name)
    if entry.name in _IDX_SETS:
        return _load_idx_dataset(entry, data_dir, cache_dir, download)
    if entry.name == "cifar10":
        return _load_cifar10(entry, data_dir, cache_dir, download)
    if entry.name == "digits":
        return load_digits()
    return load_mnist_sample(cache_dir)


def _idx_dir(directory: Path, searched: list[tuple[Path, str]]) -> dict[str, Path] | None:
    """The four IDX files in ``directory``, or None (noting in ``searched`` what lacked)."""
    if not directory.is_dir():
        searched.append((directory, "no such directory"))
        return None
    found, missing = find_idx_files(directory)
    if missing:
        searched.append((directory, f"missing {', '.join(missing)}"))
        return None
    return found


def _idx_candidates(
    entry: DatasetEntry,
    data_dir: str | Path | None,
    cache_dir: str | Path | None,
    searched: list[tuple[Path, str]],
) -> Iterator[Path]:
    """The folders that may hold an IDX data set, in the order ``load_dataset`` documents."""
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        yield from (root, root / entry.subdir)
        return
    # MNIST and Fashion-MNIST share file names: a folder named after one is never the other.
    others = {CATALOG[name].subdir for name in _IDX_SETS} - {entry.subdir}
    for folder in locate.existing_search_folders(cache_dir, searched):
        yield folder / entry.subdir
        if folder.name in others:
            searched.append((folder, f"skipped: named after another data set, not {entry.name}"))
        else:
            yield folder


def _find_idx(
    entry: DatasetEntry,
    data_dir: str | Path | None,
    cache_dir: str | Path | None,
    searched: list[tuple[Path, str]],
) -> tuple[Path, dict[str, Path]] | None:
    for directory in _idx_candidates(entry, data_dir, cache_dir, searched):
        if (found := _idx_dir(directory, searched)) is not None:
            return directory, found
    return None


def _load_idx_dataset(
    entry: DatasetEntry, data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []
    if (hit := _find_idx(entry, data_dir, cache_dir, searched)) is not None:
        return read_idx_dataset(entry.name, entry.title, hit[1], hit[0])
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        raise DataUnavailableError(
            locate.not_found_message(
                entry.title,
                searched,
                IDX_EXPECTED,
                f"Put these four files (gzipped or not) into the directory given with "
                f"--data-dir (here {root}) or into its subdirectory {entry.subdir}/. "
                + locate.search_path_note(),
            )
        )

    cache = locate.resolve_cache(cache_dir) / entry.subdir
    if download:
        note = _download(entry, cache)
        if note is None:
            found, _ = find_idx_files(cache)
            return read_idx_dataset(entry.name, entry.title, found, cache)
    else:
        note = "Downloading is disabled."
    raise DataUnavailableError(
        locate.not_found_message(
            entry.title,
            searched,
            IDX_EXPECTED,
            f"{note}\nPut the four files (gzipped or not) into a directory and pass it with "
            f"--data-dir DIR, {locate.search_advice(entry.subdir, cache, 'copy them')} "
            f"`infomorphic data fetch {entry.name}` downloads them with a progress bar.",
        )
    )


def _download(entry: DatasetEntry, cache: Path) -> str | None:
    """Download the files ``cache`` lacks (checked against their MD5); None when all are
    there, else the note for the error message."""
    for file in fetch.missing_files(entry, cache):
        if errors := fetch.download_file(entry.urls(file), cache / file.name, file.md5):
            return "Download failed:\n  " + "\n  ".join(errors)
    return None


def _cifar_dir(directory: Path, searched: list[tuple[Path, str]]) -> bool:
    if not directory.is_dir():
        searched.append((directory, "no such directory"))
        return False
    missing = missing_cifar_files(directory)
    if missing:
        searched.append((directory, f"missing {', '.join(missing)}"))
    return not missing


def _find_cifar(
    data_dir: str | Path | None, cache_dir: str | Path | None, searched: list[tuple[Path, str]]
) -> tuple[Path | None, bool]:
    """(the batches' folder, False), (a tarball, True) or (None, False)."""
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for directory in (root, root / CIFAR_SUBDIR):
            if _cifar_dir(directory, searched):
                return directory, False
        if (root / CIFAR_TARBALL).is_file():
            return root / CIFAR_TARBALL, True
        return None, False
    # Extracted batches in every folder first, tarballs only then: a tarball found on
    # $INFOMORPHIC_DATA_PATH is extracted into the cache once, not again on every load.
    folders: list[Path] = []
    for folder in locate.existing_search_folders(cache_dir, searched):
        folders.append(folder)
        for directory in (folder / _CIFAR_CACHE / CIFAR_SUBDIR, folder / CIFAR_SUBDIR, folder):
            if _cifar_dir(directory, searched):
                return directory, False
    for folder in folders:
        for tarball in (folder / _CIFAR_CACHE / CIFAR_TARBALL, folder / CIFAR_TARBALL):
            if tarball.is_file():
                return tarball, True
    return None, False


def _load_cifar10(
    entry: DatasetEntry, data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []
    cache = locate.resolve_cache(cache_dir) / _CIFAR_CACHE
    path, tarball = _find_cifar(data_dir, cache_dir, searched)
    if path is not None:
        return _read_cifar_tarball(path, cache / CIFAR_SUBDIR) if tarball else read_cifar_dir(path)
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        raise DataUnavailableError(
            locate.not_found_message(
                "CIFAR-10",
                searched,
                CIFAR_EXPECTED,
                f"Put the batch files into the directory given with --data-dir (here {root}) "
                f"or into its subdirectory {CIFAR_SUBDIR}/. " + locate.search_path_note(),
            )
        )
    note: str | None = "Downloading is disabled."
    if download:
        note = _download(entry, cache)
        if note is None:
            return _read_cifar_tarball(cache / CIFAR_TARBALL, cache / CIFAR_SUBDIR)
    raise DataUnavailableError(
        locate.not_found_message(
            "CIFAR-10",
            searched,
            CIFAR_EXPECTED,
            f"{note}\nPut the batch files into a directory and pass it with --data-dir DIR, "
            + locate.search_advice(f"{_CIFAR_CACHE}/{CIFAR_SUBDIR}", cache, f"put {CIFAR_TARBALL}")
            + f" `infomorphic data fetch {entry.name}` downloads it with a progress bar.",
        )
    )


def _read_cifar_tarball(tarball: Path, target: Path) -> RawDataset:
    """Extract the batches of ``tarball`` into ``target`` (the cache) and read them."""
    extract_cifar(tarball, target)
    return read_cifar_dir(target)
