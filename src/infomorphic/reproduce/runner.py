"""Run a target: its grid through the experiments runner, then its table and figure.

Every run lives in ``<out>/runs/<run name>``, shared by all targets, so a run two targets need
is trained once, a finished run is read back and an interrupted reproduction continues where it
stopped. Each target writes ``<out>/<target>/``: ``table.md`` (the paper's number, ours, the
difference and our spread), ``figure.png`` and ``results.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path
from typing import Any

from infomorphic.experiments.runner import Progress, RunResult, RunSpec, run_grid, run_name
from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.reproduce.targets import SCALES, Scale, Target, target
from infomorphic.training.config import TrainConfig

__all__ = ["collect", "reproduce", "results_table", "summary"]


PAPER = "paper (full MNIST, median of 10)"


def _value(result: RunResult, metric: str) -> float | None:
    if result.summary is None:
        return None
    if metric in result.summary:
        return 100 * float(result.summary[metric])
    from infomorphic.training.run_folder import RunFolder

    history = RunFolder(result.spec.out).history()
    return float(history[-1][metric]) if history and metric in history[-1] else None


def collect(spec_target: Target, runs: list[tuple[str, float | None]], results: list[RunResult]):
    """{(group, x): [values]} in the order the target lists its groups and points."""
    values: dict[tuple[str, float | None], list[float]] = {}
    for key, result in zip(runs, results, strict=True):
        value = _value(result, spec_target.metric)
        values.setdefault(key, [])
        if value is not None:
            values[key].append(value)
    return values


def results_table(spec_target: Target, values: dict, scale: str, data: str) -> str:
    """The markdown table: paper, ours (median), difference, spread, runs."""
    percent = spec_target.metric.endswith("accuracy")
    unit = "%" if percent else ""
    lines = [
        f"# {spec_target.title}",
        "",
        f"Scale `{scale}`; data: {data}. Ours: median over seeds, spread min..max. The paper's "
        "numbers: medians of 10 runs on full MNIST (60,000 training images)."
        + (f" {spec_target.note}" if spec_target.note else ""),
        "",
        f"| group | {spec_target.xlabel or 'point'} | paper | ours | difference | spread | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    paper = spec_target.paper or {}

    def number(value: float, sign: bool = False) -> str:
        text = f"{value:+.2f}" if sign else f"{value:.2f}"
        return text if percent else (f"{value:+.3g}" if sign else f"{value:.3g}")

    for (group, x), found in values.items():
        x_text = "" if x is None else f"{x:g}"
        if not found:
            lines.append(f"| {group} | {x_text} | | (no finished run) | | | 0 |")
            continue
        median = statistics.median(found)
        published = paper.get((group, x))
        paper_text = f"{published:.1f}{unit}" if published is not None else ""
        diff = number(median - published, sign=True) if published is not None else ""
        spread = f"{number(min(found))}..{number(max(found))}"
        lines.append(
            f"| {group} | {x_text} | {paper_text} | {number(median)}{unit} | {diff} | "
            f"{spread} | {len(found)} |"
        )
    return "\n".join(lines) + "\n"


def _figure(spec_target: Target, values: dict) -> bytes:
    from infomorphic.reports.plotting import png_bytes, require_matplotlib

    plt = require_matplotlib()
    figure, axis = plt.subplots(figsize=(7, 4))
    paper = spec_target.paper or {}
    groups = list(dict.fromkeys(group for group, _ in values))
    if spec_target.kind == "boxes":
        data = [values.get((g, None), []) for g in groups]
        axis.boxplot([d if d else [float("nan")] for d in data], widths=0.5)
        for k, found in enumerate(data, start=1):
            axis.scatter([k] * len(found), found, s=12, color="#444444", zorder=3)
            published = paper.get((groups[k - 1], None))
            if published is not None:
                first = not axis.get_legend_handles_labels()[1]
                axis.scatter([k], [published], marker="*", s=120, color="#b2182b", zorder=4,
                             label=PAPER if first else None)  # fmt: skip
        axis.set_xticks(range(1, len(groups) + 1), groups, rotation=20, ha="right")
        if paper:
            axis.legend(fontsize=8)
    else:
        for group in groups:
            points = sorted((x, v) for (g, x), v in values.items() if g == group and v)
            xs = [x for x, _ in points]
            line = axis.plot(xs, [statistics.median(v) for _, v in points], marker="o",
                             label=group)[0]  # fmt: skip
            axis.fill_between(xs, [min(v) for _, v in points], [max(v) for _, v in points],
                              color=line.get_color(), alpha=0.2)  # fmt: skip
            for (g, x), published in paper.items():
                if g == group and x is not None:
                    axis.scatter([x], [published], marker="*", s=120, color=line.get_color(),
                                 edgecolor="black", zorder=4)  # fmt: skip
        if spec_target.log_x:
            axis.set_xscale("log")
        if not spec_target.metric.endswith("accuracy"):
            axis.set_yscale("log")  # distances span orders of magnitude
        axis.set_xlabel(spec_target.xlabel)
        if paper:
            axis.scatter([], [], marker="*", s=120, color="white", edgecolor="black", label=PAPER)
        axis.legend(fontsize=8)
    label = spec_target.metric.replace("_", " ")
    axis.set_ylabel(f"{label} (%)" if spec_target.metric.endswith("accuracy") else label)
    axis.set_title(spec_target.title, fontsize=10)
    axis.grid(alpha=0.3)
    return png_bytes(figure)


def reproduce(
    name: str,
    scale: str | Scale,
    base: TrainConfig,
    out: Path,
    workers: int = 2,
    threads: int | None = 1,
    on_progress: Callable[[Progress, RunResult], None] | None = None,
    executor: Executor | None = None,
) -> Path:
    """Run target ``name`` at ``scale`` (a name of ``SCALES`` or a ``Scale``) on ``base``'s data
    and device; its folder. ``executor`` (e.g. a Dask cluster's) runs the grid instead of
    ``workers`` local processes."""
    spec_target = target(name)
    size = scale if isinstance(scale, Scale) else SCALES[scale]
    scale = size.name
    base = replace(base, epochs=size.epochs, eval_splits=())
    runs = spec_target.runs(base, size)
    specs = [
        RunSpec(config.validate(), out / "runs" / run_name(config), label=group)
        for group, _, config in runs
    ]
    results = run_grid(specs, workers, threads, on_progress, executor)
    failed = [r for r in results if r.error]
    for result in failed:
        print(f"{result.spec.out}: {result.error}", file=sys.stderr)
    values = collect(spec_target, [(g, x) for g, x, _ in runs], results)
    folder = out / name
    data = next((r.summary.get("data_source", base.dataset) for r in results if r.summary),
                base.dataset)  # fmt: skip
    atomic_write_text(folder / "table.md", results_table(spec_target, values, scale, data))
    try:
        atomic_write_bytes(folder / "figure.png", _figure(spec_target, values))
    except ImportError as exc:
        print(f"no figure: {exc}", file=sys.stderr)
    payload: dict[str, Any] = {
        "target": name, "scale": scale, "metric": spec_target.metric, "data": data,
        "points": [{"group": g, "x": x, "values": v} for (g, x), v in values.items()],
        "failed": [str(r.spec.out) for r in failed],
    }  # fmt: skip
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2))
    return folder


def summary(out: Path, links_from: Path | None = None) -> str:
    """Every finished target's table under ``out`` in the targets' order, one markdown text
    (README.md's results section is this text); figure links relative to ``links_from``
    (default ``out``)."""
    import os

    from infomorphic.reproduce.targets import TARGETS

    parts = []
    for name in TARGETS:
        table = out / name / "table.md"
        if table.is_file():
            text = table.read_text().replace("# ", f"#### {name}: ", 1)
            link = os.path.relpath(out / name / "figure.png", links_from or out)
            parts.append(f"{text}\n![{name}]({link})\n")
    return "\n".join(parts)
