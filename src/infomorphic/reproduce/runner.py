"""Run a target: its grid through the experiments runner, then its table and figures.

Every run lives in ``<out>/runs/<run name>``, shared by all targets, so a run two targets need
is trained once, a finished run is read back and an interrupted reproduction continues where it
stopped. Each target writes ``<out>/<target>/``: ``table.md`` (the paper's number, ours, the
difference and our spread, and whether the paper's shape holds), ``figure.png``
(``figure_curves.png`` where the target draws epochs) and ``results.json``; nothing when no run
finished. Results name the data by set, size and checksum, never by a path of the machine.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infomorphic.experiments.runner import Progress, RunResult, RunSpec, run_grid, run_name
from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.reproduce.estimate import Estimate, estimate_runs
from infomorphic.reproduce.tables import results_table
from infomorphic.reproduce.targets import (
    SCALES,
    TARGET_NAMES,
    Scale,
    Target,
    target,
)
from infomorphic.training.config import TrainConfig

__all__ = [
    "Outcome",
    "collect",
    "data_facts",
    "dry_run",
    "plan",
    "reproduce",
    "resolve_scale",
    "results_table",
    "summary",
]

#: Where a target that could not draw its figure says so (the command line shows warnings).
LOG = logging.getLogger(__name__)

Run = tuple[str, float | None, TrainConfig]
#: History columns that versions before them did not record: a finished run without one that
#: a target reads is trained again (``RunSpec.requires``).
NEW_COLUMNS = ("train_batch_accuracy",)


@dataclass
class Outcome:
    """What a target did: its folder (None when no run finished, so nothing was written), every
    run's result, and the distinct errors of the failed runs with how many runs each ended."""

    name: str
    folder: Path | None
    results: list[RunResult] = field(default_factory=list)
    report: Path | None = None

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if r.error]

    @property
    def errors(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.failed:
            error = str(result.error)  # failed: it has one
            counts[error] = counts.get(error, 0) + 1
        return counts


def resolve_scale(scale: str | Scale) -> Scale:
    if isinstance(scale, Scale):
        return scale
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
    return SCALES[scale]


def plan(spec: Target, scale: Scale, base: TrainConfig) -> list[Run]:
    """The target's runs at ``scale`` on ``base``'s data and device, validated."""
    base = replace(base, epochs=scale.epochs, eval_splits=())
    return [(group, x, config.validate()) for group, x, config in spec.runs(base, scale)]


def data_facts(config: TrainConfig, download: bool = True) -> tuple[str, tuple[int, int]]:
    """The data set of ``config`` named by set, sizes and checksum, and (training images before
    the validation hold-out, test images); a DataUnavailableError when it cannot be read (or
    downloaded, if ``download``)."""
    from infomorphic.data import data_identity, load_dataset

    raw = load_dataset(config.dataset, data_dir=config.data_dir, download=download)
    return data_identity(raw), (len(raw.y_train), len(raw.y_test))


def _specs(spec: Target, runs: Sequence[Run], out: Path) -> list[RunSpec]:
    columns = (spec.metric, *spec.extra)
    requires = tuple(c for c in NEW_COLUMNS if c in columns)
    return [
        RunSpec(config, out / "runs" / run_name(config), label=group, requires=requires)
        for group, _, config in runs
    ]


def _unique(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """One spec per folder (a run two groups share, such as setup 2 = setup 1 at N <= 100)."""
    return list({s.out: s for s in specs}.values())


def _metric_value(result: RunResult, metric: str) -> float | None:
    """The metric from the summary or the last epoch of the history; percent for accuracies."""
    if result.summary is None:
        return None
    scale = 100.0 if metric.endswith("accuracy") else 1.0
    if metric in result.summary:
        return scale * float(result.summary[metric])
    from infomorphic.training.run_folder import RunFolder

    history = RunFolder(result.spec.out).history()
    value = history[-1].get(metric) if history else None
    return None if value is None or value != value else scale * float(value)


def _curve(result: RunResult, column: str) -> list[float]:
    if result.summary is None:
        return []
    from infomorphic.training.run_folder import RunFolder

    scale = 100.0 if column.endswith("accuracy") else 1.0
    found = (row.get(column) for row in RunFolder(result.spec.out).history())
    return [scale * float(v) for v in found if v is not None and v == v]  # v != v: NaN


def collect(spec: Target, runs: Sequence[Run], results: Sequence[RunResult]):
    """({metric: {(group, x): [value per finished seed]}}, {(group, x): [curve per seed]}) in
    the order the target lists its groups and points."""
    values: dict[str, dict[tuple[str, float | None], list[float]]] = {}
    curves: dict[tuple[str, float | None], list[list[float]]] = {}
    for (group, x, _), result in zip(runs, results, strict=True):
        for metric in (spec.metric, *spec.extra):
            found = values.setdefault(metric, {}).setdefault((group, x), [])
            value = _metric_value(result, metric)
            if value is not None:
                found.append(value)
        if spec.curve:
            curves.setdefault((group, x), [])
            if result.summary is not None:
                curves[group, x].append(_curve(result, spec.curve))
    return values, curves


def _progress_done(specs: Sequence[RunSpec]) -> list[bool]:
    """Whether each run is finished in its folder already (it then costs nothing)."""
    from infomorphic.training.run_folder import RunFolder

    done = []
    for spec in specs:
        folder = RunFolder(spec.out)
        try:
            finished = folder.is_finished and folder.summary().get("epochs") == spec.config.epochs
            if finished and spec.requires:
                history = folder.history()
                finished = bool(history) and all(c in history[-1] for c in spec.requires)
        except (OSError, ValueError):
            finished = False
        done.append(finished)
    return done


def dry_run(name: str, scale: str | Scale, base: TrainConfig, out: Path) -> tuple[str, Estimate]:
    """The runs of target ``name`` (each marked when already finished under ``out``), its
    search trials, and the estimate of what is left, as text; nothing is trained."""
    from infomorphic.reproduce.searched import SEARCHING, searched_plan

    size = resolve_scale(scale)
    later: list[TrainConfig] = []
    if name in SEARCHING:
        specs, later, trials, lines = searched_plan(name, size, base, out)
    else:
        spec = target(name)
        specs, trials, lines = _unique(_specs(spec, plan(spec, size, base), out)), [], []
    first = specs[0].config if specs else base
    try:
        data, sizes = data_facts(first, download=False)
        data_sizes = {first.dataset: sizes}
    except Exception as exc:  # no data here: the estimate takes the set's standard size
        data, data_sizes = f"not readable here ({type(exc).__name__}); standard sizes assumed", {}
    done = _progress_done(specs)
    for spec_, finished in zip(specs, done, strict=True):
        lines.append(f"  {spec_.out.name}{'  (finished)' if finished else ''}")
    configs = [s.config for s in specs] + later
    estimate = estimate_runs(configs, data_sizes, done + [False] * len(later), trials)
    head = f"{name} at scale {size.name} ({size.summary}): {len(configs)} runs"
    if trials:
        head += f" and {sum(count for _, count in trials)} search trials"
    text = "\n".join([head, f"data: {data}", *lines, f"estimate: {estimate}"])
    return text, estimate


def _write(
    spec: Target,
    values: dict,
    curves: dict,
    scale: Scale,
    data: str,
    folder: Path,
    failed: Sequence[RunResult],
    out: Path,
    epochs: int,
) -> None:
    from infomorphic.reproduce.shapes import shape_sentence

    shape = shape_sentence(spec.name, spec.shape, values)
    table = results_table(spec, values, scale, data, len(failed), shape, epochs)
    atomic_write_text(folder / "table.md", table)
    try:
        from infomorphic.reproduce.figures import curves_figure, target_figure

        atomic_write_bytes(folder / "figure.png", target_figure(spec, values))
        if spec.curve and any(any(r) for r in curves.values()):
            atomic_write_bytes(folder / "figure_curves.png", curves_figure(spec, curves))
    except ImportError as exc:
        LOG.warning("no figure: %s", exc)  # matplotlib missing: the tables are written
    payload: dict[str, Any] = {
        "target": spec.name,
        "scale": scale.name,
        "metric": spec.metric,
        "average": spec.average,
        "data": data,
        "shape": shape,
        "points": [
            {
                "group": g,
                "x": x,
                "values": v,
                **{m: values.get(m, {}).get((g, x), []) for m in spec.extra},
            }
            for (g, x), v in values.get(spec.metric, {}).items()
        ],
        "failed": sorted({str(r.spec.out.relative_to(out)) for r in failed}),
    }
    if spec.curve:
        payload["curve"] = spec.curve
        payload["curves"] = [{"group": g, "x": x, "runs": c} for (g, x), c in curves.items()]
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2))


def reproduce(
    name: str,
    scale: str | Scale,
    base: TrainConfig,
    out: Path,
    workers: int = 2,
    threads: int | None = 1,
    on_progress: Callable[[Progress, RunResult], None] | None = None,
    executor: Executor | None = None,
) -> Outcome:
    """Run target ``name`` at ``scale`` (a name of ``SCALES`` or a ``Scale``) on ``base``'s data
    and device; write its table, figures and results unless no run finished. ``executor``
    (e.g. a Dask cluster's) runs the grid instead of ``workers`` local processes."""
    from infomorphic.reproduce.searched import SEARCHING, run_searched

    size = resolve_scale(scale)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if name in SEARCHING:
        return run_searched(name, size, base, out, workers, threads, on_progress, executor)
    spec = target(name)
    runs = plan(spec, size, base)
    data, _ = data_facts(runs[0][2])  # a missing data set stops here, once, before any run
    specs = _specs(spec, runs, out)
    unique = _unique(specs)
    done = dict(
        zip(
            [s.out for s in unique],
            run_grid(unique, workers, threads, on_progress, executor),
            strict=True,
        )
    )
    results = [done[s.out] for s in specs]
    outcome = Outcome(name, None, list(done.values()))
    if all(r.error for r in results):
        return outcome  # a table of nothing is no result
    values, curves = collect(spec, runs, results)
    folder = out / name
    failed = [done[s.out] for s in unique if done[s.out].error]
    epochs = max(config.epochs for _, _, config in runs)
    _write(spec, values, curves, size, data, folder, failed, out, epochs)
    outcome.folder = folder
    return outcome


def summary(out: Path, links_from: Path | None = None) -> str:
    """Every finished target's table under ``out`` in the targets' order, one markdown text
    (README.md's results section is this text); figure links relative to ``links_from``
    (default ``out``)."""
    import os

    parts = []
    for name in TARGET_NAMES:
        folder = out / name
        table = folder / "table.md"
        if not table.is_file():
            continue
        text = table.read_text().replace("# ", f"#### {name}: ", 1)

        def into_folder(match: re.Match[str], folder: Path = folder) -> str:
            return f"]({os.path.relpath(folder / match.group(1), links_from or out)})"

        # the table's own links (table3's to ablation.md) point into its folder
        text = re.sub(r"\]\((?![a-z]+:|/|#)([^)]+)\)", into_folder, text)
        figures = sorted(folder.glob("*.png"), key=lambda p: (p.name != "figure.png", p.name))
        for figure in figures:
            link = os.path.relpath(figure, links_from or out)
            text += f"\n![{name}]({link})\n"
        parts.append(text)
    return "\n".join(parts)
