"""Train/validation/test tensors from a ``RawDataset``, and mini-batches over them.

The only module of the package that needs torch: the readers stay numpy-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from infomorphic.data.types import RawDataset

__all__ = ["Splits", "iterate_batches", "prepare_splits"]


@dataclass(eq=False)
class Splits:
    """Standardised train/validation/test tensors and their provenance.

    ``x_*`` float32 ``(n, n_features)``, ``y_*`` int64 ``(n,)``; ``mean``/``std`` are the two
    scalars the pixels were standardised with, kept so a run can record and undo them.
    """

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


def prepare_splits(raw: RawDataset, val_fraction: float = 0.2, seed: int = 0) -> Splits:
    """Hold out a seeded random ``val_fraction`` of the training set and standardise.

    All splits are standardised with ONE scalar mean and ONE scalar std computed over all
    pixels of the remaining training part (not per pixel), so no statistics leak from the
    validation or test data. Returns x float32 ``(n, features)``, y int64 ``(n,)`` on the CPU.
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
    """Yield ``(xb, yb)`` mini-batches of ``x`` ``(n, ...)`` and ``y`` ``(n,)``.

    A seeded ``generator`` makes the shuffling reproducible; the permutation is drawn on the
    generator's device and moved to the data, so CPU and GPU runs see the same order.
    """
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
