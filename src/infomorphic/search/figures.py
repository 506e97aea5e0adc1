"""The figures of a search report (matplotlib, Agg backend when pyplot is not yet loaded).

``history_figure`` is optuna's optimisation history; ``importance_figure`` puts the two
importances side by side; ``goal_figure`` draws a goal as the paper's Fig. 4A / Fig. 6 do: one
bar per weight in lattice order (H_res last), labelled by atom, positive and negative weights in
two colours. Each returns the PNG as bytes; ``search.report`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "goal_figure",
    "history_figure",
    "importance_figure",
    "layer_goals_figure",
    "require_matplotlib",
]

from infomorphic.reports.plotting import png_bytes, require_matplotlib

POSITIVE, NEGATIVE, FIXED = "#2166ac", "#b2182b", "#9e9e9e"
DPI = 120


def history_figure(study: Any) -> bytes:
    """optuna's optimisation history: every complete trial's validation accuracy and the best
    so far."""
    from optuna.visualization.matplotlib import plot_optimization_history

    plt = require_matplotlib()
    from matplotlib.figure import Figure

    with plt.rc_context():  # optuna switches the style to ggplot for good: keep it in here
        axes = plot_optimization_history(study, target_name="validation accuracy")
        axes.set_title(f"Optimisation history of {study.study_name}")
        figure = axes.figure
        assert isinstance(figure, Figure)  # optuna draws on a figure of its own
        figure.set_size_inches(8, 4.5)
        return png_bytes(figure, DPI)


def importance_figure(rows: Sequence[Mapping[str, Any]], top: int = 20) -> bytes:
    """Two panels sharing the weights' axis (ranked by MDI, largest on top): optuna's mean
    decrease in impurity and the held-out permutation importance, each as shares of 1."""
    plt = require_matplotlib()
    rows = list(rows)[:top]
    names = [row["name"] for row in rows][::-1]
    height = 1.2 + 0.32 * len(rows)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, height), sharey=True)
    left.barh(names, [row["mdi"] for row in rows][::-1], color=POSITIVE)
    left.set_title("mean decrease in impurity (optuna)")
    right.barh(
        names,
        [row["permutation"] for row in rows][::-1],
        xerr=[row["permutation_std"] for row in rows][::-1],
        color="#4d9221",
        ecolor="#333333",
        capsize=2,
    )
    right.set_title("permutation, held out (scikit-learn)")
    for axes in (left, right):
        axes.set_xlabel("share of importance")
        axes.axvline(0, color="black", linewidth=0.6)
        axes.grid(axis="x", alpha=0.3)
    figure.suptitle("Which weights matter for the validation accuracy")
    figure.tight_layout()
    return png_bytes(figure, DPI)


def goal_figure(
    labels: Sequence[str],
    weights: Sequence[float],
    title: str,
    fixed: Sequence[str] = (),
) -> bytes:
    """A goal as bars in lattice order; fixed (not searched) weights in grey."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 1.5), 4.2))
    colours = [
        FIXED if name in fixed else POSITIVE if w >= 0 else NEGATIVE
        for name, w in zip(labels, weights, strict=True)
    ]
    positions = range(len(labels))
    axes.bar(positions, weights, color=colours, width=0.75)
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xticks(list(positions))
    axes.set_xticklabels(
        [f"{name} (fixed)" if name in fixed else name for name in labels],
        rotation=90,
        family="monospace",
    )
    largest = max((abs(w) for w in weights), default=0.0) or 1.0
    axes.set_ylim(-1.1 * largest, 1.1 * largest)
    axes.set_ylabel("weight")
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return png_bytes(figure, DPI)


def layer_goals_figure(
    labels: Sequence[str],
    goals: Mapping[str, Sequence[float]],
    title: str,
    fixed: Sequence[str] = (),
) -> bytes:
    """One goal per layer as panels of bars in lattice order, one above the other on one
    scale; fixed weights (``<layer>.<atom>``) in grey."""
    plt = require_matplotlib()
    width = max(6.0, 0.45 * len(labels) + 1.5)
    figure, panels = plt.subplots(
        len(goals), 1, figsize=(width, 1.0 + 2.6 * len(goals)), sharex=True, squeeze=False
    )
    largest = max((abs(w) for ws in goals.values() for w in ws), default=0.0) or 1.0
    positions = list(range(len(labels)))
    for (layer, weights), (axes,) in zip(goals.items(), panels, strict=True):
        colours = [
            FIXED if f"{layer}.{name}" in fixed else POSITIVE if w >= 0 else NEGATIVE
            for name, w in zip(labels, weights, strict=True)
        ]
        axes.bar(positions, weights, color=colours, width=0.75)
        axes.axhline(0, color="black", linewidth=0.8)
        axes.set_ylim(-1.1 * largest, 1.1 * largest)
        axes.set_ylabel(f"{layer}\nweight")
        axes.grid(axis="y", alpha=0.3)
    axes = panels[-1][0]
    axes.set_xticks(positions)
    axes.set_xticklabels(list(labels), rotation=90, family="monospace")
    figure.suptitle(title)
    figure.tight_layout()
    return png_bytes(figure, DPI)
