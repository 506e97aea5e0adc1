"""The targets that search or ablate rather than train one grid: fig6 and table3.

fig6 (paper Fig. 6) lives in ``reproduce.fig6``. table3 (paper Table 3, Fig. 4B-C): the zero and
cumulative ablation of the optimised goal in the paper's order, through
``infomorphic.experiments.ablation`` and ``infomorphic.reports.ablation``, with the critical
weights next to the paper's four.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path

from infomorphic.experiments.runner import Progress, RunResult, RunSpec
from infomorphic.files import atomic_write_text
from infomorphic.reproduce.fig6 import fig6_plan, run_fig6
from infomorphic.reproduce.runner import Outcome, data_facts
from infomorphic.reproduce.scales import Scale
from infomorphic.training.config import TrainConfig

__all__ = ["SEARCHING", "run_searched", "searched_plan"]

SEARCHING = ("fig6", "table3")
TABLE3_TITLE = "Critical weights of the optimised goal (paper Table 3, Fig. 4B-C)"


def _table3_specs(base: TrainConfig, scale: Scale, out: Path) -> list[RunSpec]:
    from infomorphic.experiments.ablation import make_variants, removal_order, run_specs
    from infomorphic.nn.goals import Goal

    goal = Goal.named("optimized")
    variants = make_variants(goal, ["zero", "cumulative"], removal_order(goal, "paper"))
    config = _table3_config(base, scale)
    return list(run_specs(config, variants, range(scale.seeds), out / "table3" / "runs").values())


def _table3_config(base: TrainConfig, scale: Scale) -> TrainConfig:
    return replace(base, model="setup1", hidden=[scale.hidden], epochs=scale.epochs, goal=None)


def searched_plan(name: str, scale: Scale, base: TrainConfig, out: Path):
    """(run specs, runs known only later, [(trial config, trials)], description lines) of
    fig6 or table3."""
    if name == "fig6":
        return fig6_plan(scale, base, out)
    if name != "table3":
        raise ValueError(f"{name} is not a searching or ablating target")
    specs = _table3_specs(base, scale, out)
    lines = [
        f"zero and cumulative ablation (paper order) of the optimised goal, {scale.seeds} seeds"
    ]
    return specs, [], [], lines


# ---------------------------------------------------------------------------------- table3


def _table3(
    scale: Scale,
    base: TrainConfig,
    out: Path,
    workers: int,
    threads: int | None,
    on_progress: Callable[[Progress, RunResult], None] | None,
    executor: Executor | None = None,
) -> Outcome:
    from infomorphic.experiments.ablation import run_ablation
    from infomorphic.nn.goals import Goal
    from infomorphic.reports.ablation import PAPER_CRITICAL, write_ablation
    from infomorphic.reports.ablation_report import critical_markdown, critical_weights
    from infomorphic.reports.plotting import require_matplotlib

    config = _table3_config(base, scale).validate()
    data, _ = data_facts(config)
    goal = Goal.named("optimized")
    folder = out / "table3"
    require_matplotlib()  # before any training: the figures are part of the result
    result = run_ablation(
        config,
        goal,
        ["zero", "cumulative"],
        list(range(scale.seeds)),
        folder,
        order="paper",
        workers=workers,
        threads=threads,
        on_progress=on_progress,
        executor=executor,
    )
    outcome = Outcome("table3", None, result.results)
    if not write_ablation(result):
        return outcome
    verdict = critical_weights(result.rows)
    same = [a for a in verdict.labels if a in PAPER_CRITICAL]
    holds = "Holds" if len(same) == len(PAPER_CRITICAL) else "Does not hold"
    lines = [
        f"# {TABLE3_TITLE}",
        "",
        f"Scale `{scale.name}` ({scale.seeds} seeds); data: {data}. The zero ablation (each "
        "weight of the optimised goal set to 0) and the cumulative ablation in the paper's "
        f"order, setup 1, N = {scale.hidden}, {scale.epochs} epochs. Every table: "
        "[ablation.md](ablation.md).",
        "",
        f"The paper: the four critical weights are {{F}}{{C}}, {{F}}{{L}}, {{F}}{{C}}{{L}} and "
        f"{{FC}}{{FL}}. Here: {holds}: the four largest drops are "
        f"{', '.join(f'`{a}`' for a in verdict.labels) or 'none'} ({len(same)} of the paper's "
        "four).",
        "",
        critical_markdown(result.rows, goal),
    ]
    atomic_write_text(folder / "table.md", "\n".join(lines) + "\n")
    outcome.folder = folder
    outcome.report = folder / "ablation.md"
    return outcome


def run_searched(
    name: str,
    scale: Scale,
    base: TrainConfig,
    out: Path,
    workers: int = 2,
    threads: int | None = 1,
    on_progress: Callable[[Progress, RunResult], None] | None = None,
    executor: Executor | None = None,
) -> Outcome:
    """fig6 or table3 at ``scale``; ``executor`` (e.g. a Dask cluster's) trains the runs
    (fig6's searches run on this machine: their studies are SQLite files)."""
    if name == "fig6":
        return run_fig6(scale, base, out, workers, threads, on_progress, executor)
    if name == "table3":
        return _table3(scale, base, out, workers, threads, on_progress, executor)
    raise ValueError(f"{name} is not a searching or ablating target")
