"""What a loader returns (``RawDataset``) and the two errors it raises.

numpy only: the readers depend on this module, and reading files needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infomorphic.errors import InfomorphicError

__all__ = ["CorruptDataError", "DataUnavailableError", "RawDataset"]


class DataUnavailableError(InfomorphicError, RuntimeError):
    """The requested dataset could not be found, read or downloaded."""


class CorruptDataError(DataUnavailableError):
    """A dataset file exists but its content is not what the format requires."""


@dataclass(frozen=True, eq=False)
class RawDataset:
    """A dataset as read from disk, before any scaling.

    ``x_train``/``x_test`` are float32 ``(n, features)`` (flattened pixels, raw values such as
    0..255), ``y_train``/``y_test`` int64 ``(n,)``. ``source`` says exactly which files (or which
    package) the data came from, so a run can record its provenance; ``files``, the paths of
    the files read (none for the bundled sets), for ``infomorphic.data.identity``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    source: str
    files: tuple[str, ...] = ()

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
