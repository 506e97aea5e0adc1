"""CIFAR-10 "python version" batches, and safe extraction of its tarball.

The batches are pickles, and unpickling a crafted file runs any code it names; so they are read
by ``SafeBatchUnpickler``, which admits only what a batch holds (dicts, lists, strings, bytes,
numbers, and numpy arrays with the few numpy helpers that rebuild them) and refuses every other
name a pickle asks for: a crafted data folder cannot run code. The tarball is never extracted
wholesale: only the six batch files are copied out, under names chosen here, so an archive entry
such as ``../x`` or ``/abs/x`` cannot write outside the target.
"""

from __future__ import annotations

import codecs
import gzip
import importlib
import pickle
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from infomorphic.data.types import CorruptDataError, RawDataset
from infomorphic.errors import InfomorphicError
from infomorphic.files import atomic_write_stream

__all__ = [
    "CIFAR_EXPECTED",
    "CIFAR_FILES",
    "CIFAR_SUBDIR",
    "CIFAR_TARBALL",
    "CIFAR_URL",
    "extract_cifar",
    "missing_cifar_files",
    "read_cifar_batch",
    "read_cifar_dir",
]

_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_FILES: tuple[str, ...] = (*_CIFAR_TRAIN, "test_batch")
CIFAR_SUBDIR = "cifar-10-batches-py"
"""The folder the official tarball unpacks to."""
CIFAR_TARBALL = "cifar-10-python.tar.gz"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR_EXPECTED = f"{', '.join(CIFAR_FILES)} (python version, or the tarball {CIFAR_TARBALL})"


class UnsafePickleError(InfomorphicError, pickle.UnpicklingError):
    """A pickle asked for something a CIFAR-10 batch never holds (it could run code)."""


def _numpy_helper(name: str, *modules: str) -> Callable[..., Any] | None:
    """A numpy helper that rebuilds arrays, from whichever module this numpy keeps it in."""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return None


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What protocol-2 pickles of ``bytes`` call (``_codecs.encode(text, 'latin1')``); no
    other encoding, as a codec name could import a module."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"a pickle asked to encode with {encoding!r}")
    return codecs.encode(text, "latin1")


_RECONSTRUCT = _numpy_helper("_reconstruct", "numpy._core.multiarray", "numpy.core.multiarray")
_FROMBUFFER = _numpy_helper("_frombuffer", "numpy._core.numeric", "numpy.core.numeric")
# a numpy scalar from its dtype and bytes: labels written by numpy (np.int64) rather than int
_SCALAR = _numpy_helper("scalar", "numpy._core.multiarray", "numpy.core.multiarray")
#: Every name a CIFAR-10 batch (pickled by Python 2 or 3, protocols 2 to 5) may ask for.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("_codecs", "encode"): _latin1_bytes,
}


class SafeBatchUnpickler(pickle.Unpickler):
    """Unpickles what a CIFAR-10 batch holds and nothing else: any other global a pickle
    names (a function to call, a class to build) raises ``UnsafePickleError``."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise UnsafePickleError(
                f"it asks for {module}.{name}, which a CIFAR-10 batch never holds (unpickling "
                "it could run code), so it was not read"
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("it refers to persistent objects, which a batch never holds")


def missing_cifar_files(directory: Path) -> list[str]:
    """Names of the six batch files that ``directory`` lacks."""
    return [f for f in CIFAR_FILES if not (directory / f).is_file()]


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one batch: x uint8 ``(n, 3072)`` (3x32x32, channel-major), y int64 ``(n,)``."""
    try:
        with path.open("rb") as f:
            batch = SafeBatchUnpickler(f, encoding="bytes").load()
    except UnsafePickleError as exc:
        raise CorruptDataError(f"{path}: not a CIFAR-10 python batch: {exc}") from None
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


def read_cifar_dir(directory: Path) -> RawDataset:
    """Read the six batches in ``directory``: x float32 ``(n, 3072)`` 0..255, y int64 ``(n,)``.

    Training set = data_batch_1..5 in order (50,000 images), test set = test_batch (10,000).
    """
    try:
        train = [read_cifar_batch(directory / f) for f in _CIFAR_TRAIN]
        x_test, y_test = read_cifar_batch(directory / "test_batch")
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"CIFAR-10 data in {directory} is corrupt: {exc}. Replace the files "
            f"({CIFAR_EXPECTED}) with intact copies, or point --data-dir at another directory."
        ) from exc
    return RawDataset(
        x_train=np.concatenate([x for x, _ in train]).astype(np.float32),
        y_train=np.concatenate([y for _, y in train]),
        x_test=x_test.astype(np.float32),
        y_test=y_test,
        n_classes=10,
        name="cifar10",
        source=f"CIFAR-10 python batches in {directory.resolve()}: {', '.join(CIFAR_FILES)}",
        files=tuple(str((directory / name).resolve()) for name in CIFAR_FILES),
    )


def extract_cifar(tarball: Path, target: Path) -> None:
    """Copy the six batch files out of ``tarball`` into ``target``, each written atomically.

    Archive paths are ignored (only the base name is matched), so nothing lands outside
    ``target``; a damaged or incomplete archive raises ``CorruptDataError``.
    """
    wanted, done = set(CIFAR_FILES), set()
    try:
        with tarfile.open(tarball, "r:*") as tar:
            for member in tar:
                base = PurePosixPath(member.name).name
                if base in wanted and base not in done and member.isfile():
                    stream = tar.extractfile(member)
                    if stream is not None:
                        atomic_write_stream(target / base, stream)
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
