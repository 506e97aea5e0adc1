"""The figures of a goal ablation, in the style of the paper's Fig. 4B, Fig. 4C and Fig. 9.

Accuracy changes are drawn in percentage points, one box per weight (the seeds' changes against
the reference of the same seed, every seed also as a dot); the cumulative curve shows the
train, validation and test error on a log scale, the median over seeds with a min..max band, as
the authors' figure code for Fig. 4C does. Each function returns PNG bytes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from infomorphic.reports.plotting import (
    HIGHLIGHT,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    png_bytes,
    require_matplotlib,
)

__all__ = ["change_figure", "cumulative_figure", "zero_figure"]


def _finite(values: Sequence[float], scale: float = 100.0) -> list[float]:
    return [scale * v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def _boxes(axes, positions, data, colour: str, width: float) -> None:
    """One box per position (skipping empty ones) with the values as dots on top."""
    kept = [(p, d) for p, d in zip(positions, data, strict=True) if d]
    if not kept:
        return
    parts = axes.boxplot(
        [d for _, d in kept],
        positions=[p for p, _ in kept],
        widths=width,
        patch_artist=True,
        showfliers=False,
        medianprops={"color": "black"},
    )
    for box in parts["boxes"]:
        box.set_facecolor(colour)
        box.set_alpha(0.55)
    for p, d in kept:
        axes.scatter([p] * len(d), d, s=9, color=colour, edgecolor="black", linewidth=0.3, zorder=3)


def _label_axis(axes, labels: Sequence[str]) -> None:
    axes.set_xticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=90, family="monospace")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.grid(axis="y", alpha=0.3)
    axes.set_xlim(-0.7, len(labels) - 0.3)


def zero_figure(
    labels: Sequence[str],
    changes: Sequence[Sequence[float]],
    critical: set[str],
    spread: float | None,
) -> bytes:
    """Fig. 4B: each weight set to 0, the change in validation accuracy per seed; critical
    weights highlighted, the reference's spread as a dashed line."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 2), 4.5))
    for k, (label, values) in enumerate(zip(labels, changes, strict=True)):
        _boxes(axes, [k], [_finite(values)], HIGHLIGHT if label in critical else POSITIVE, 0.6)
    _label_axis(axes, labels)
    if spread is not None:
        axes.axhline(
            -100 * spread,
            color=NEGATIVE,
            linestyle="--",
            linewidth=1,
            label=f"minus the reference's spread ({100 * spread:.2f} pp)",
        )
        axes.legend(loc="lower left", fontsize=8)
    axes.set_ylabel("change in validation accuracy (pp)")
    axes.set_title("Each weight set to 0 (critical weights in red)")
    figure.tight_layout()
    return png_bytes(figure)


def _error_band(axes, x, runs: Sequence[Sequence[float]], colour: str, label: str) -> None:
    """Error (100 - accuracy, %) per step: the median as a line, min..max as a band."""
    values = [[100.0 - v for v in _finite(r)] for r in runs]
    pairs = [(xi, v) for xi, v in zip(x, values, strict=True) if v]
    if not pairs:
        return
    xs = [p for p, _ in pairs]
    axes.plot(
        xs,
        [statistics.median(v) for _, v in pairs],
        color=colour,
        marker="o",
        markersize=3,
        label=f"{label} (median, min..max)",
    )
    lows, highs = [min(v) for _, v in pairs], [max(v) for _, v in pairs]
    axes.fill_between(xs, lows, highs, color=colour, alpha=0.2, linewidth=0)


def cumulative_figure(
    removed: Sequence[str],
    val: Sequence[Sequence[float]],
    test: Sequence[Sequence[float]],
    train: Sequence[Sequence[float]] | None = None,
) -> bytes:
    """Fig. 4C as the authors draw it: the error of train, validation and test (log scale)
    against the number of weights set to 0 (``val[0]``: the reference; ``val[k]``: with the
    first k of ``removed`` at 0), median and min..max over seeds. ``train``: the authors'
    train accuracy (``train_batch_accuracy``), left out where no run has it."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(max(6.0, 0.42 * len(removed) + 2.5), 4.5))
    x = list(range(len(removed) + 1))
    if train is not None:
        _error_band(axes, x, train, HIGHLIGHT, "train")
    _error_band(axes, x, val, POSITIVE, "validation")
    _error_band(axes, x, test, NEUTRAL, "test")
    axes.set_yscale("log")
    axes.set_xticks(x)
    axes.set_xticklabels(["none", *(f"+ {a}" for a in removed)], rotation=90, family="monospace")
    axes.set_xlabel("weights set to 0, one after another (least important first)")
    axes.set_ylabel("error (%, log scale)")
    axes.grid(alpha=0.3, which="both")
    axes.legend(loc="best", fontsize=8)
    axes.set_title("Cumulative ablation")
    figure.tight_layout()
    return png_bytes(figure)


def change_figure(
    kind: str, labels: Sequence[str], data: Mapping[str, Sequence[Sequence[float]]]
) -> bytes:
    """Fig. 9: per weight one box per change (x0.9 / x1.1, or -0.1 / +0.1), the change in
    validation accuracy over seeds."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(max(6.0, 0.55 * len(labels) + 2), 4.5))
    changes = list(data)
    width = 0.8 / max(len(changes), 1)
    colours = [NEGATIVE, POSITIVE, NEUTRAL, HIGHLIGHT]
    for j, change in enumerate(changes):
        offset = (j - (len(changes) - 1) / 2) * width
        colour = colours[j % len(colours)]
        positions = [k + offset for k in range(len(labels))]
        _boxes(axes, positions, [_finite(v) for v in data[change]], colour, width * 0.85)
        axes.plot([], [], color=colour, linewidth=6, alpha=0.55, label=change)
    _label_axis(axes, labels)
    axes.legend(title="weight changed by", fontsize=8, loc="lower left")
    axes.set_ylabel("change in validation accuracy (pp)")
    what = "relative (x0.9, x1.1)" if kind == "relative" else "absolute (-0.1, +0.1)"
    axes.set_title(f"Each weight changed, {what}")
    figure.tight_layout()
    return png_bytes(figure)
