"""The figures of the reproduction targets, each returned as PNG bytes.

``figure.png`` of every target: boxes per group (Fig. 3B, 4A, ...), a metric against x per
group (Fig. 3C, 5, 10, 11) or, for Fig. 8, train and test error against N in two panels as the
authors' figure code draws it (bivariate left, trivariate right, the baselines in both, log
axes). ``figure_curves.png`` for targets with a per-epoch curve: the metric over the epochs for
each point (Fig. 5's distances, Fig. 10 and 11's convergence). The paper's numbers are stars; a
published range is a bar.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from infomorphic.reports.plotting import png_bytes, require_matplotlib
from infomorphic.reproduce.targets import FIG8_GROUPS, PaperValue, Target

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import ColorType

__all__ = ["curves_figure", "target_figure"]

PAPER = "the paper"
Values = Mapping[tuple[str, float | None], Sequence[float]]


def _average(values: Sequence[float], how: str) -> float:
    return statistics.fmean(values) if how == "mean" else statistics.median(values)


def _mark_paper(
    axis: Axes, x: float, value: PaperValue, colour: ColorType, label: str | None
) -> None:
    if isinstance(value, tuple):  # a published range
        axis.plot([x, x], value, color=colour, linewidth=4, alpha=0.6, label=label, zorder=4)
        return
    axis.scatter(
        [x], [value], marker="*", s=120, color=colour, edgecolor="black", zorder=4, label=label
    )


def _boxes(axis: Axes, spec: Target, values: Values) -> None:
    groups = list(dict.fromkeys(group for group, _ in values))
    data = [values.get((g, None), []) for g in groups]
    axis.boxplot([d if d else [float("nan")] for d in data], widths=0.5)
    labelled = False
    for k, found in enumerate(data, start=1):
        axis.scatter([k] * len(found), found, s=12, color="#444444", zorder=3)
        published = spec.paper.get((groups[k - 1], None))
        if published is not None:
            _mark_paper(axis, k, published, "#b2182b", None if labelled else PAPER)
            labelled = True
    axis.set_xticks(range(1, len(groups) + 1), groups, rotation=20, ha="right")
    if labelled:
        axis.legend(fontsize=8)


def _lines(axis: Axes, spec: Target, values: Values) -> None:
    groups = list(dict.fromkeys(group for group, _ in values))
    for group in groups:
        points = sorted(
            (x, v) for (g, x), v in values.items() if g == group and v and x is not None
        )
        xs = [x for x, _ in points]
        middle = [_average(v, spec.average) for _, v in points]
        line = axis.plot(xs, middle, marker="o", label=group)[0]
        axis.fill_between(
            xs,
            [min(v) for _, v in points],
            [max(v) for _, v in points],
            color=line.get_color(),
            alpha=0.2,
        )
        for (g, x), published in spec.paper.items():
            if g == group and x is not None:
                _mark_paper(axis, x, published, line.get_color(), None)
    if spec.log_x:
        axis.set_xscale("log")
    if not spec.metric.endswith("accuracy"):
        axis.set_yscale("log")  # distances span orders of magnitude
    if spec.paper:
        axis.scatter([], [], marker="*", s=120, color="white", edgecolor="black", label=PAPER)
    axis.set_xlabel(spec.xlabel)
    axis.legend(fontsize=8)


def _label(metric: str) -> str:
    return f"{metric.replace('_', ' ')} (%)" if metric.endswith("accuracy") else metric


def target_figure(spec: Target, values: Mapping[str, Values]) -> bytes:
    """figure.png: ``values`` by metric, then by (group, x)."""
    if spec.kind == "panels":
        return _panels(spec, values)
    plt = require_matplotlib()
    figure, axis = plt.subplots(figsize=(7, 4))
    (_boxes if spec.kind == "boxes" else _lines)(axis, spec, values[spec.metric])
    word = "mean" if spec.average == "mean" else "median"
    axis.set_ylabel(_label(spec.metric) + ("" if spec.kind == "boxes" else f", {word}"))
    axis.set_title(spec.title, fontsize=10)
    axis.grid(alpha=0.3)
    return png_bytes(figure)


def _panels(spec: Target, values: Mapping[str, Values]) -> bytes:
    """Fig. 8 as the authors draw it: rows train and test error, columns the bivariate and the
    trivariate models, the baselines in both, median with a min..max band, log-log."""
    plt = require_matplotlib()
    figure, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    rows = [("train_batch_accuracy", "train error (%)"), (spec.metric, "test error (%)")]
    columns = {"bivariate": 0, "trivariate": 1}
    colours = plt.get_cmap("tab10")
    for row, (metric, ylabel) in enumerate(rows):
        found = values.get(metric, {})
        for index, (panel, group, _, _) in enumerate(FIG8_GROUPS):
            cols = [columns[panel]] if panel in columns else [0, 1]
            colour = "black" if index >= 10 else colours(index)  # readout only: black
            style = "--" if "heuristic" in group else "-"
            for col in cols:
                axis = axes[row, col]
                single = found.get((group, None))
                if single:  # no hidden layer: a line across the panel
                    middle = 100 - statistics.median(single)
                    axis.axhline(middle, color=colour, linestyle=":", label=group)
                    axis.axhspan(100 - max(single), 100 - min(single), color=colour, alpha=0.15)
                    continue
                points = sorted((x, v) for (g, x), v in found.items() if g == group and v)
                if not points:
                    continue
                xs = [x for x, _ in points]
                errors = [[100 - a for a in v] for _, v in points]
                axis.plot(
                    xs,
                    [statistics.median(e) for e in errors],
                    color=colour,
                    linestyle=style,
                    marker="o",
                    markersize=3,
                    label=group,
                )
                axis.fill_between(
                    xs,
                    [min(e) for e in errors],
                    [max(e) for e in errors],
                    color=colour,
                    alpha=0.15,
                    linewidth=0,
                )
                if metric == spec.metric:
                    for (g, x), published in spec.paper.items():
                        if g == group and x is not None and not isinstance(published, tuple):
                            axis.scatter(
                                [x],
                                [100 - published],
                                marker="*",
                                s=110,
                                color=colour,
                                edgecolor="black",
                                zorder=4,
                            )
        axes[row, 0].set_ylabel(ylabel)
    for (row, col), axis in zip([(0, 0), (0, 1), (1, 0), (1, 1)], axes.flat, strict=True):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.grid(alpha=0.3, which="both")
        if row == 1:
            axis.set_xlabel(spec.xlabel)
        if row == 0:
            axis.set_title("bivariate models" if col == 0 else "trivariate models", fontsize=10)
            axis.legend(fontsize=7, loc="upper right")
    figure.suptitle(spec.title + " (stars: the paper's test accuracy)", fontsize=10)
    figure.tight_layout()
    return png_bytes(figure)


def curves_figure(spec: Target, curves: Mapping[tuple[str, float | None], list[list[float]]]):
    """figure_curves.png: ``spec.curve`` over the epochs, one panel per group, one line per x
    (median over seeds with a min..max band)."""
    plt = require_matplotlib()
    groups = list(dict.fromkeys(group for group, _ in curves))
    figure, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4), squeeze=False)
    percent = spec.curve is not None and spec.curve.endswith("accuracy")
    for axis, group in zip(axes[0], groups, strict=True):
        for (g, x), runs in sorted(curves.items(), key=lambda item: item[0][1] or 0):
            runs = [r for r in runs if r]
            if g != group or not runs:
                continue
            length = min(len(r) for r in runs)
            epochs = list(range(1, length + 1))
            by_epoch = [[r[k] for r in runs] for k in range(length)]
            line = axis.plot(
                epochs,
                [statistics.median(v) for v in by_epoch],
                label=f"{spec.xlabel} {x:g}" if x is not None else group,
            )[0]
            if len(runs) > 1:
                axis.fill_between(
                    epochs,
                    [min(v) for v in by_epoch],
                    [max(v) for v in by_epoch],
                    color=line.get_color(),
                    alpha=0.15,
                    linewidth=0,
                )
        if max((len(r) for runs in curves.values() for r in runs), default=0) > 50:
            axis.set_xscale("log")  # long runs: the early epochs, where they differ, visible
        axis.set_xlabel("epoch")
        axis.set_ylabel(_label(spec.curve or "") + ", median over seeds")
        if not percent:
            axis.set_yscale("log")
        axis.set_title(f"{spec.title}: {group}", fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    return png_bytes(figure)
