"""The targets that search or ablate rather than train a grid: fig6 and table3.

fig6 (paper Fig. 6): a TPE search of setup 1's goal and its importance, through
``infomorphic.search`` in a SQLite study inside the target's folder (a rerun continues it),
then the search report. table3 (paper Table 3): the zero ablation of the optimised goal, through
``infomorphic.reports.ablation``, with the critical weights next to the paper's four.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace
from pathlib import Path

from infomorphic.reproduce.targets import Scale
from infomorphic.training.config import TrainConfig

__all__ = ["SEARCH_SIZES", "run_delegated", "run_fig6", "run_table3"]

#: (trials, epochs per trial) of the fig6 search at each scale; the paper ran 1,000 trials of
#: 100 epochs per search.
SEARCH_SIZES = {"quick": (150, 10), "paper": (1000, 100)}


def run_fig6(base: TrainConfig, scale: Scale, out: Path) -> Path:
    """Search, then report; the report's path."""
    from infomorphic.search.report import write_report
    from infomorphic.search.space import GoalSpace
    from infomorphic.search.study import make_sampler, make_storage, open_study
    from infomorphic.search.worker import run_worker

    trials, epochs = SEARCH_SIZES.get(scale.name, (max(2, scale.seeds), scale.epochs))
    folder = out / "fig6"
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(folder / 'study.db').resolve()}"
    study, created = open_study(f"fig6-{scale.name}", make_storage(url), make_sampler("tpe", 0))
    config = replace(base, model="setup1", hidden=[100], epochs=epochs).validate()
    space = GoalSpace.for_model("setup1")
    if created:
        study.set_user_attr("infomorphic", {
            "config": config.to_dict(), "sources": list(space.source_names), "fixed": {},
            "sampler": "tpe", "population": 1,
        })  # fmt: skip
    run_worker(study, space, config, trials)
    return write_report(study, folder, top=5, storage=url)


def run_table3(
    base: TrainConfig,
    scale: Scale,
    out: Path,
    workers: int = 2,
    executor: Executor | None = None,
) -> Path:
    """The zero ablation of the optimised goal (setup 1, N = 100) for the scale's seeds; the
    path of ablation.md, whose critical weights stand next to the paper's four. ``executor``
    (e.g. a Dask cluster's) trains the runs instead of ``workers`` local processes."""
    from infomorphic.nn.goals import Goal
    from infomorphic.reports.ablation import run_ablation

    config = replace(base, model="setup1", hidden=[100], epochs=scale.epochs, goal=None)
    outcome = run_ablation(
        config.validate(), Goal.named("optimized"), ["zero"], list(range(scale.seeds)),
        out / "table3", workers=workers, executor=executor,
    )  # fmt: skip
    return next(path for path in outcome.files if path.name == "ablation.md")


def run_delegated(
    name: str,
    scale: str | Scale,
    base: TrainConfig,
    out: Path,
    workers: int,
    executor: Executor | None = None,
):
    """fig6 or table3 at ``scale``; the path of its report. fig6's search runs in this
    process (its study is a SQLite file in the target's folder); ``executor`` trains table3's
    runs."""
    from infomorphic.reproduce.targets import SCALES

    size = scale if isinstance(scale, Scale) else SCALES[scale]
    if name == "fig6":
        return run_fig6(base, size, out)
    if name == "table3":
        return run_table3(base, size, out, workers, executor)
    raise ValueError(f"{name} is not a searching or ablating target")
