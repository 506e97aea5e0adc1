"""Evaluation: accuracy of a model on a split, without changing the model.

The one thing a readout learns from data (the infomorphic output polarity) is fitted by
``fit_readout``, called explicitly by whoever trains; ``evaluate`` only reads. Hidden spikes are
sampled in evaluation too (paper section 5), from a generator of each (seed, epoch, split), so
a split's accuracy does not depend on which other splits were measured before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from infomorphic.data import Splits
from infomorphic.networks.base import Classifier

__all__ = ["accuracy", "eval_generator", "evaluate", "fit_readout", "outputs_in_batches"]

_SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def eval_generator(seed: int, epoch: int, split: str, device: torch.device) -> torch.Generator:
    """The evaluation generator of one (seed, epoch, split)."""
    mixed = (seed * 100_003 + epoch) * 3 + _SPLIT_INDEX[split]
    return torch.Generator(device=device).manual_seed(mixed)


@torch.no_grad()
def outputs_in_batches(
    model: Classifier,
    x: torch.Tensor,
    batch_size: int,
    generator: torch.Generator | None,
    samples: int = 1,
) -> torch.Tensor:
    """``model.outputs`` of x (n, n_inputs) in batches: (n, n_classes), averaged over
    ``samples`` draws of the hidden spikes (1: the paper's single sample)."""
    parts = []
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size]
        total = model.outputs(batch, generator)
        for _ in range(samples - 1):
            total = total + model.outputs(batch, generator)
        parts.append(total / samples if samples > 1 else total)
    return torch.cat(parts) if parts else x.new_zeros(0, 0)


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows of scores (n, C) whose argmax is the label (n,); NaN for n = 0."""
    return float((scores.argmax(dim=1) == labels).float().mean()) if len(labels) else float("nan")


def fit_readout(
    model: Classifier, splits: Splits, batch_size: int, seed: int, epoch: int, samples: int = 1
) -> float | None:
    """Fit the model's readout on the training split; returns the training accuracy it saw
    (None for a model whose readout learns nothing)."""
    if not model.needs_readout_fit:
        return None
    generator = eval_generator(seed, epoch, "train", splits.x_train.device)
    outputs = outputs_in_batches(model, splits.x_train, batch_size, generator, samples)
    model.fit_readout(outputs, splits.y_train)
    return accuracy(model.to_scores(outputs), splits.y_train)


def evaluate(
    model: Classifier,
    splits: Splits,
    which: Sequence[str],
    batch_size: int,
    seed: int,
    epoch: int,
    samples: int = 1,
) -> dict[str, float]:
    """``{"<split>_accuracy": value}`` for each split named in ``which`` (train, val, test),
    the outputs averaged over ``samples`` spike draws."""
    results = {}
    for split in which:
        x, y = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}")
        generator = eval_generator(seed, epoch, split, x.device)
        outputs = outputs_in_batches(model, x, batch_size, generator, samples)
        scores = model.to_scores(outputs)
        results[f"{split}_accuracy"] = accuracy(scores, y)
    return results
