"""Evaluation: accuracy of a model on a split, without changing the model.

The one thing a readout learns from data (the infomorphic output polarity) is fitted by
``fit_readout``, called explicitly by whoever trains; ``evaluate`` only reads. Hidden spikes are
sampled in evaluation too (paper section 5), from a generator of each (seed, epoch, split), so
a split's accuracy does not depend on which other splits were measured before it. A
population (``model.members``) gives one accuracy per member, each member drawing from its own
generator of the same seed, so that it measures exactly as it would alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from infomorphic.data import Splits
from infomorphic.networks.base import Classifier
from infomorphic.nn.functional import Generators

__all__ = [
    "accuracy",
    "eval_generator",
    "eval_generators",
    "evaluate",
    "fit_readout",
    "outputs_in_batches",
]

#: One accuracy, or one per member of a population.
Accuracy = float | list[float]

_SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def eval_generator(seed: int, epoch: int, split: str, device: torch.device) -> torch.Generator:
    """The evaluation generator of one (seed, epoch, split)."""
    mixed = (seed * 100_003 + epoch) * 3 + _SPLIT_INDEX[split]
    return torch.Generator(device=device).manual_seed(mixed)


def eval_generators(
    model: Classifier, seed: int, epoch: int, split: str, device: torch.device
) -> torch.Generator | list[torch.Generator]:
    """``eval_generator`` for a network; one for each member of a population."""
    if model.members is None:
        return eval_generator(seed, epoch, split, device)
    return [eval_generator(seed, epoch, split, device) for _ in range(model.members)]


@torch.no_grad()
def outputs_in_batches(
    model: Classifier,
    x: torch.Tensor,
    batch_size: int,
    generator: Generators,
    samples: int = 1,
) -> torch.Tensor:
    """``model.outputs`` of x (n, n_inputs) in batches: (n, n_classes) ((n, P, n_classes) for a
    population), averaged over ``samples`` draws of the hidden spikes (1: the paper's single
    sample)."""
    parts = []
    for i in range(0, len(x), batch_size):
        batch = x[i : i + batch_size]
        total = model.outputs(batch, generator)
        for _ in range(samples - 1):
            total = total + model.outputs(batch, generator)
        parts.append(total / samples if samples > 1 else total)
    return torch.cat(parts) if parts else x.new_zeros(0, 0)


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> Accuracy:
    """Fraction of rows of scores (n, C) whose argmax is the label (n,); NaN for n = 0. For a
    population's scores (n, P, C), one fraction per member."""
    if scores.ndim == 3:
        if not len(labels):
            return [float("nan")] * scores.shape[1]
        return (scores.argmax(dim=-1) == labels[:, None]).float().mean(0).tolist()
    return float((scores.argmax(dim=1) == labels).float().mean()) if len(labels) else float("nan")


def fit_readout(
    model: Classifier, splits: Splits, batch_size: int, seed: int, epoch: int, samples: int = 1
) -> Accuracy | None:
    """Fit the model's readout on the training split; returns the training accuracy it saw
    (None for a model whose readout learns nothing)."""
    if not model.needs_readout_fit:
        return None
    generator = eval_generators(model, seed, epoch, "train", splits.x_train.device)
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
) -> dict[str, Accuracy]:
    """``{"<split>_accuracy": value}`` for each split named in ``which`` (train, val, test),
    the outputs averaged over ``samples`` spike draws."""
    results = {}
    for split in which:
        x, y = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}")
        generator = eval_generators(model, seed, epoch, split, x.device)
        outputs = outputs_in_batches(model, x, batch_size, generator, samples)
        scores = model.to_scores(outputs)
        results[f"{split}_accuracy"] = accuracy(scores, y)
    return results
