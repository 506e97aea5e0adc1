"""The figures of ``infomorphic inspect``: one function per figure, numpy arrays in, PNG bytes out.

Atoms over training are drawn as the mean over a layer's neurons with the 10-90 % band across
neurons, one small panel per atom (and one for the goal); the self-cosine distance (paper
eq. 4, appendix Fig. 5) as the median with the same band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from infomorphic.reports.plotting import NEGATIVE, NEUTRAL, POSITIVE, png_bytes, require_matplotlib

__all__ = [
    "accuracy_figure",
    "atoms_figure",
    "heatmap_figure",
    "image_shape",
    "receptive_fields_figure",
    "selectivity_figure",
    "self_cosine_figure",
]

SPLIT_COLOURS = {"train": NEUTRAL, "val": POSITIVE, "test": NEGATIVE}
BAND = (10, 90)


def _integers():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def accuracy_figure(
    epochs: Sequence[int], curves: Mapping[str, Sequence[float]], finals: Mapping[str, float]
) -> bytes:
    """Accuracy per epoch of each split measured per epoch; ``finals``: splits measured only
    after the last epoch, drawn as single points there."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(7, 4))
    for split, values in curves.items():
        axes.plot(
            epochs,
            [100 * v for v in values],
            color=SPLIT_COLOURS.get(split),
            marker="o" if len(epochs) < 30 else None,
            markersize=3,
            label=split,
        )
    last = max(epochs) if len(epochs) else 0
    for split, value in finals.items():
        axes.scatter(
            [last],
            [100 * value],
            color=SPLIT_COLOURS.get(split),
            marker="D",
            s=30,
            zorder=3,
            label=f"{split} (after the last epoch)",
        )
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(_integers())
    axes.set_ylabel("accuracy (%)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title("Accuracy during training")
    figure.tight_layout()
    return png_bytes(figure)


def _band(axes, x, values: np.ndarray, colour: str, centre: str = "mean") -> None:
    """values (epochs, N): centre line and the 10-90 % band across the N neurons."""
    line = values.mean(axis=1) if centre == "mean" else np.median(values, axis=1)
    low, high = np.percentile(values, BAND, axis=1)
    axes.fill_between(x, low, high, color=colour, alpha=0.25, linewidth=0)
    axes.plot(x, line, color=colour, marker="o" if len(x) < 4 else None, markersize=3)


def atoms_figure(
    layer: str, atoms: np.ndarray, labels: Sequence[str], weights: Sequence[float] | None
) -> bytes:
    """atoms (epochs, N, A+1) of one layer: a panel per term (title with the goal's weight,
    coloured by its sign), first a panel of the goal itself when ``weights`` are known."""
    plt = require_matplotlib()
    epochs = np.arange(1, atoms.shape[0] + 1)
    panels: list[tuple[str, np.ndarray, float | None]] = []
    if weights is not None:
        panels.append(("goal G", atoms @ np.asarray(weights, dtype=atoms.dtype), None))
    for k, label in enumerate(labels):
        panels.append((label, atoms[:, :, k], None if weights is None else float(weights[k])))
    cols = min(5, len(panels))
    rows = math.ceil(len(panels) / cols)
    figure, grid = plt.subplots(
        rows, cols, figsize=(2.6 * cols, 1.9 * rows), sharex=True, squeeze=False
    )
    for axes, (label, values, weight) in zip(grid.flat, panels, strict=False):
        colour = "black" if weight is None else POSITIVE if weight > 0 else NEGATIVE
        colour = NEUTRAL if weight == 0 else colour
        _band(axes, epochs, values, colour)
        title = label if weight is None else f"{label}  w={weight:+.2f}"
        axes.set_title(title, fontsize=9, family="monospace", color=colour)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
    for axes in list(grid.flat)[len(panels) :]:
        axes.set_visible(False)
    for axes in grid[-1]:
        axes.set_xlabel("epoch", fontsize=8)
        axes.xaxis.set_major_locator(_integers())
    figure.suptitle(f"{layer}: mean over neurons (line) and 10-90 % band, in bits", fontsize=11)
    figure.tight_layout()
    return png_bytes(figure)


def heatmap_figure(layer: str, values: np.ndarray, labels: Sequence[str], ylabel: str) -> bytes:
    """values (N, A+1) at the last epoch, rows already sorted (``ylabel`` says how). Each column
    is divided by its largest absolute value (named under it), so that small atoms show their
    pattern across neurons beside large ones (H_res, unique information)."""
    plt = require_matplotlib()
    n, terms = values.shape
    largest = np.abs(values).max(axis=0)
    scaled = values / np.where(largest > 0, largest, 1.0)
    height = min(8.0, max(3.5, 0.055 * n + 2.2))
    figure, axes = plt.subplots(figsize=(0.42 * terms + 2.8, height))
    image = axes.imshow(
        scaled, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest"
    )
    axes.set_xticks(range(terms))
    axes.set_xticklabels(
        [f"{label}  {m:.3f}" for label, m in zip(labels, largest, strict=True)],
        rotation=90,
        family="monospace",
        fontsize=8,
    )
    axes.set_ylabel(ylabel)
    figure.colorbar(
        image,
        ax=axes,
        fraction=0.04,
        pad=0.02,
        label="share of the column's largest |value|",
    )
    axes.set_title(f"{layer}: atoms per neuron at the last epoch", fontsize=11)
    figure.tight_layout()
    return png_bytes(figure)


def image_shape(n: int) -> tuple[int, ...]:
    """How to show n input weights: 28x28 for 784, (3, s, s) channel-major colour for 3 s^2
    inputs that are no square (CIFAR-10), s x s for a square, else the nearest square above."""
    side = math.isqrt(n)
    if side * side == n:
        return (side, side)
    colour = math.isqrt(n // 3)
    if n % 3 == 0 and colour * colour == n // 3:
        return (3, colour, colour)
    side += 1
    return (side, side)


def _picture(weights: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """A neuron's weights as an image, scaled to [-1, 1]; (image, is colour)."""
    scaled = weights / (np.abs(weights).max() or 1.0)
    if len(shape) == 3:
        return np.clip(np.moveaxis(scaled.reshape(shape), 0, -1) / 2 + 0.5, 0, 1), True
    padded = np.full(shape[0] * shape[1], np.nan)
    padded[: len(scaled)] = scaled
    return padded.reshape(shape), False


def receptive_fields_figure(
    weights: np.ndarray, order: Sequence[int], captions: Sequence[str], title: str
) -> bytes:
    """Feedforward weights (N, n_inputs) of the neurons in ``order``, one image each (blue
    negative, red positive, each neuron on its own scale), captioned."""
    plt = require_matplotlib()
    shape = image_shape(weights.shape[1])
    cols = min(10, len(order))
    rows = math.ceil(len(order) / cols)
    figure, grid = plt.subplots(rows, cols, figsize=(1.25 * cols, 1.4 * rows + 0.6), squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, index, caption in zip(grid.flat, order, captions, strict=False):
        picture, colour = _picture(weights[index], shape)
        if colour:
            axes.imshow(picture, interpolation="nearest")
        else:
            axes.imshow(picture, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        axes.set_title(caption, fontsize=7)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return png_bytes(figure)


def selectivity_figure(
    layer: str, rates: np.ndarray, index: np.ndarray, split: str, what: str = "mean theta"
) -> bytes:
    """rates (C, N): mean firing (``what``) per class; index (N,): the selectivity index.
    Left the rates, neurons sorted by preferred class then index; right the index histogram."""
    plt = require_matplotlib()
    preferred = rates.argmax(axis=0)
    order = np.lexsort((-index, preferred))
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 1]}
    )
    image = left.imshow(
        rates[:, order], aspect="auto", cmap="magma", vmin=0, vmax=1, interpolation="nearest"
    )
    left.set_yticks(range(rates.shape[0]))
    left.set_ylabel("class")
    left.set_xlabel("neuron, by preferred class, then selectivity")
    left.set_title(f"{layer}: mean firing per class ({split} split)", fontsize=10)
    figure.colorbar(image, ax=left, fraction=0.03, pad=0.01, label=what)
    right.hist(index, bins=np.linspace(0, 1, 21), color=POSITIVE, alpha=0.8)
    right.axvline(
        float(np.median(index)),
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"median {np.median(index):.2f}",
    )
    right.set_xlabel("selectivity index")
    right.set_ylabel("neurons")
    right.legend(fontsize=8)
    right.set_title("(max - mean of others) / (max + mean of others)", fontsize=8)
    figure.tight_layout()
    return png_bytes(figure)


def self_cosine_figure(distances: Mapping[str, np.ndarray]) -> bytes:
    """Per hidden layer, distances (epochs, N): median over neurons and the 10-90 % band."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(7, 4))
    colours = [POSITIVE, NEGATIVE, NEUTRAL, "#4d9221"]
    positive = True
    for k, (layer, values) in enumerate(distances.items()):
        epochs = np.arange(1, values.shape[0] + 1)
        _band(axes, epochs, values, colours[k % len(colours)], centre="median")
        axes.plot([], [], color=colours[k % len(colours)], label=f"{layer} (median, 10-90 %)")
        positive = positive and bool((values > 0).all())
    if positive:
        axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(_integers())
    axes.set_ylabel("self-cosine distance to the previous epoch")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    axes.set_title("How much the feedforward weights still move (paper eq. 4)")
    figure.tight_layout()
    return png_bytes(figure)
