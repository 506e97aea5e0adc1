"""Fig. 6 (appendix A.6) as a target: six searches of setup 1's goal and the goals trained again.

Three searches with TPE and three with CMA-ES (H_res fixed at 0, as the paper's CMA-ES runs),
each a SQLite study in its own folder (a rerun continues it) with its report (best goals,
importance by mean decrease in impurity); then the six published goals and the six found here
are trained again at two hidden sizes, which tests the paper's remark that the first TPE goal
is the best at larger N.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from infomorphic.experiments.runner import Progress, RunResult, RunSpec, run_grid, run_name
from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.reproduce.runner import Outcome, data_facts
from infomorphic.reproduce.scales import Scale
from infomorphic.training.config import TrainConfig

__all__ = ["SEARCHES", "fig6_plan", "run_fig6"]

#: The six searches of Fig. 6: (label, sampler, repeat); the label names our found goal.
SEARCHES = tuple((f"{s}-{k}", s, k) for s in ("tpe", "cmaes") for k in (1, 2, 3))
FIG6_TITLE = "Six goal searches and their goals trained again (paper Fig. 6)"


def _search_config(base: TrainConfig, scale: Scale) -> TrainConfig:
    epochs = scale.search[1]
    config = replace(base, model="setup1", hidden=[scale.hidden], epochs=epochs, eval_splits=())
    return config.validate()


def _published_goals() -> dict[str, Any]:
    """The six goals of Fig. 6 by name; tpe-1 is setup 1's default (the optimised goal), so its
    runs are fig3c's."""
    from infomorphic.nn.goals import SEARCHED_GOALS

    return {name: None if name == "tpe-1" else name for name in SEARCHED_GOALS}


def _retrain_specs(base: TrainConfig, scale: Scale, goals: dict[str, Any], out: Path):
    """(label, N, spec) for every goal, retraining size and seed."""
    base = replace(base, epochs=scale.epochs, eval_splits=())
    specs = []
    for label, goal in goals.items():
        for n in scale.retrain_sizes:
            for seed in range(scale.seeds):
                config = replace(base, model="setup1", hidden=[n], goal=goal, seed=seed)
                config.validate()
                specs.append((label, n, RunSpec(config, out / "runs" / run_name(config), label)))
    return specs


def fig6_plan(scale: Scale, base: TrainConfig, out: Path):
    """(run specs, runs known only later, [(trial config, trials)], description lines)."""
    trials, epochs = scale.search
    config = _search_config(base, scale)
    lines = [
        f"search {label}: {sampler}, {trials} trials of {epochs} epochs"
        + (" (H_res fixed at 0)" if sampler == "cmaes" else "")
        for label, sampler, _ in SEARCHES
    ]
    specs = [s for _, _, s in _retrain_specs(base, scale, _published_goals(), out)]
    # the searches' best goals are known only afterwards: their runs are counted, not named
    later = [s.config for _, _, s in _retrain_specs(base, scale, {"found": "optimized"}, out)]
    later *= len(SEARCHES)
    lines.append(
        f"retraining: the six published goals (listed) and the six found ({len(later)} runs, "
        f"named when found), N in {list(scale.retrain_sizes)}, {scale.seeds} seeds"
    )
    return specs, later, [(config, trials * len(SEARCHES))], lines


def _run_search(job: dict[str, Any]) -> dict[str, Any]:
    """One search to its trial count, in this process (a pool worker): its summary. The
    caller's thread count is given back afterwards."""
    from infomorphic.threads import torch_threads

    with torch_threads(job["threads"]):
        return _search(job)


def _search(job: dict[str, Any]) -> dict[str, Any]:
    from infomorphic.search.protocol import set_up_study
    from infomorphic.search.space import GoalSpace
    from infomorphic.search.study import (
        SAMPLER_FIXED,
        make_sampler,
        make_storage,
        open_study,
        setup_record,
    )
    from infomorphic.search.worker import run_worker

    folder = Path(job["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    config = TrainConfig.from_dict(job["config"])
    fixed = SAMPLER_FIXED.get(job["sampler"], {})
    space = GoalSpace.for_model("setup1", fixed)
    storage = make_storage(f"sqlite:///{(folder / 'study.db').resolve()}")
    sampler = make_sampler(job["sampler"], job["seed"])
    study, created = open_study(job["study"], storage, sampler)
    try:
        # the record search-report reads, as ``infomorphic search`` writes it
        set_up_study(study, created, setup_record(config, space, job["sampler"], 1), space)
        report = run_worker(study, space, config, job["trials"], storage=storage)
    except Exception as exc:  # one search failing must not end the others
        return {"label": job["label"], "error": f"{type(exc).__name__}: {exc}"}
    return {"label": job["label"], "completed": report.completed, "failed": report.failed}


def _best(folder: Path, study_name: str, label: str, data: str) -> dict[str, Any]:
    """The search's report (written into ``folder/report``) and its best goal."""
    from infomorphic.search.report import SearchTarget, load_study, write_report

    url = f"sqlite:///{(folder / 'study.db').resolve()}"
    study = load_study(SearchTarget(url, study_name))
    # the report names the study by its path relative to itself, and the data by its identity
    path = write_report(study, folder / "report", top=5, storage=url, data=data)
    report = json.loads((path.parent / "report.json").read_text())
    best = report["top"][0]
    rows = report["importance"].get("rows", [])
    return {
        "label": label,
        "weights": best["weights"],
        "val_accuracy": best["val_accuracy"],
        "test_accuracy": best.get("test_accuracy"),
        "trials": report["settings"]["trials"]["complete"],
        "fixed": report["settings"]["fixed"],
        "importance": [{"name": r["name"], "mdi": r["mdi"]} for r in rows],
        "report": f"{label}/report/report.md",
    }


def run_fig6(
    scale: Scale,
    base: TrainConfig,
    out: Path,
    workers: int,
    threads: int | None,
    on_progress: Callable[[Progress, RunResult], None] | None,
    executor: Executor | None = None,
) -> Outcome:
    """The six searches (on this machine), their reports, and the goals trained again
    (``executor``, e.g. a Dask cluster's, or ``workers`` local processes)."""
    folder = out / "fig6"
    config = _search_config(base, scale)
    data, _ = data_facts(config)
    trials, _ = scale.search
    jobs: list[dict[str, Any]] = [
        {
            "label": label,
            "sampler": sampler,
            "seed": k,
            "study": f"fig6-{label}",
            "folder": str(folder / label),
            "config": config.to_dict(),
            "trials": trials,
            "threads": threads,
        }
        for label, sampler, k in SEARCHES
    ]
    if workers <= 1:
        done = [_run_search(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_run_search, jobs))
    searches, errors = [], []
    for job, result in zip(jobs, done, strict=True):
        if "error" in result:
            errors.append(RunResult(RunSpec(config, Path(job["folder"])), None, result["error"]))
            continue
        try:
            searches.append(_best(Path(job["folder"]), job["study"], job["label"], data))
        except ValueError as exc:  # no complete trial
            errors.append(RunResult(RunSpec(config, Path(job["folder"])), None, str(exc)))
    goals = _published_goals()
    goals |= {f"found {s['label']}": list(s["weights"].values()) for s in searches}
    retrain = _retrain_specs(base, scale, goals, out)
    results = run_grid([s for *_, s in retrain], workers, threads, on_progress, executor)
    outcome = Outcome("fig6", None, errors + results)
    if not searches and all(r.error for r in results):
        return outcome
    points: dict[tuple[str, int], dict[str, list[float]]] = {}
    for (label, n, _), run in zip(retrain, results, strict=True):
        point = points.setdefault((label, n), {"val": [], "test": []})
        if run.summary is not None:
            point["val"].append(100 * run.summary["val_accuracy"])
            point["test"].append(100 * run.summary["test_accuracy"])
    folder.mkdir(parents=True, exist_ok=True)
    failed = sum(r.error is not None for r in outcome.results)
    atomic_write_text(folder / "table.md", _fig6_table(scale, data, searches, points, failed))
    try:
        atomic_write_bytes(folder / "figure.png", _fig6_figure(searches, points, scale))
    except ImportError:
        pass
    payload = {
        "target": "fig6",
        "scale": scale.name,
        "data": data,
        "searches": searches,
        "retrain": [
            {"goal": g, "hidden": n, "val": p["val"], "test": p["test"]}
            for (g, n), p in points.items()
        ],
        "failed": failed,
    }
    atomic_write_text(folder / "results.json", json.dumps(payload, indent=2))
    outcome.folder = folder
    return outcome


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _fig6_table(scale: Scale, data: str, searches, points, failed: int) -> str:
    trials, epochs = scale.search
    sizes = sorted({n for _, n in points})
    lines = [
        f"# {FIG6_TITLE}",
        "",
        f"Scale `{scale.name}`; data: {data}. Six searches of setup 1's goal (N = "
        f"{scale.hidden}), {trials} trials of {epochs} epochs each (the paper: 1,000 trials of "
        "100 epochs, full MNIST): three with TPE, three with CMA-ES with H_res fixed at 0 "
        "(appendix A.6). Each search's report (best goals, importance by mean decrease in "
        "impurity and by permutation, figures) is in its folder.",
        "",
    ]
    if failed:
        lines += [f"{failed} runs or searches failed and are left out.", ""]
    lines += [
        "| search | trials | best validation accuracy, % | its test accuracy, % | most "
        "important weights (MDI) | report |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for s in searches:
        top = ", ".join(f"`{r['name']}` {r['mdi']:.2f}" for r in s["importance"][:3]) or "n/a"
        test = None if s["test_accuracy"] is None else 100 * s["test_accuracy"]
        lines.append(
            f"| {s['label']} | {s['trials']} | {100 * s['val_accuracy']:.2f} | "
            f"{_pct(test)} | {top} | [{s['report']}]({s['report']}) |"
        )
    lines += [
        "",
        f"Every goal trained again: setup 1, {scale.epochs} epochs, {scale.seeds} "
        "seeds; validation and test accuracy, median (min..max). The published goals "
        "(`tpe-1` = the optimised goal of the paper's main results) are the authors' "
        "(docs/protocol.md); `found ...` are this page's searches' best goals.",
        "",
        "| goal | " + " | ".join(f"N = {n}: validation | N = {n}: test" for n in sizes) + " |",
        "| --- |" + " ---: | ---: |" * len(sizes),
    ]
    labels = list(dict.fromkeys(g for g, _ in points))
    for label in labels:
        cells = []
        for n in sizes:
            p = points.get((label, n), {"val": [], "test": []})
            for key in ("val", "test"):
                v = p[key]
                cells.append(
                    f"{_pct(_median(v))} ({_pct(min(v) if v else None)}.."
                    f"{_pct(max(v) if v else None)})"
                )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", _remark(points, sizes), ""]
    return "\n".join(lines)


def _remark(points, sizes: Sequence[int]) -> str:
    """The paper's remark (appendix A.6): of its six goals, the first TPE goal has the best
    median validation accuracy at larger sizes; checked at the largest retraining size, then
    against every goal, the ones found here too, with the lead weighed against the seeds."""
    if not sizes:
        return "The paper's remark on larger sizes: no runs finished."
    n = sizes[-1]
    medians = {
        g: median
        for (g, m), p in points.items()
        if m == n and (median := _median(p["val"])) is not None
    }
    if not medians:
        return f"The paper's remark on larger sizes: no run finished at N = {n}."
    published = {g: m for g, m in medians.items() if not g.startswith("found ")}
    text = (
        "The paper: of its six goals, the first TPE goal (`tpe-1`) has the best median "
        f"validation accuracy at larger layer sizes. Here, at N = {n}: "
    )
    if published:
        first = max(published, key=lambda g: published[g])
        verdict = "Holds" if first == "tpe-1" else "Does not hold"
        text += f"{verdict}: of the published goals, best is `{first}` with {published[first]:.2f}%"
    best = max(medians, key=lambda g: medians[g])
    if best == "tpe-1" or "tpe-1" not in medians:
        return text + "."
    top, first_values = points[(best, n)]["val"], points[("tpe-1", n)]["val"]
    gap = medians[best] - medians["tpe-1"]
    spread = max(max(top) - min(top), max(first_values) - min(first_values))
    within = "within" if gap <= spread else "larger than"
    return (
        f"{text}. Of all goals, the ones found here too, best is `{best}` with "
        f"{medians[best]:.2f}% against {medians['tpe-1']:.2f}% for `tpe-1`: "
        f"a difference of {gap:.2f} points, {within} the seed spread ({spread:.2f} points, "
        "the larger min..max range of the two)."
    )


def _fig6_figure(searches, points, scale: Scale) -> bytes:
    """The goals as rows of a heatmap (Fig. 6's goal panels), and each goal's median
    validation accuracy at the retraining sizes."""
    from infomorphic.nn.goals import SEARCHED_GOALS, Goal
    from infomorphic.reports.plotting import png_bytes, require_matplotlib

    plt = require_matplotlib()
    rows = [(g, list(Goal.named(g).weights)) for g in SEARCHED_GOALS]
    rows += [(f"found {s['label']}", list(s["weights"].values())) for s in searches]
    labels = Goal.named("optimized").labels
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(14, 0.45 * len(rows) + 2.5), gridspec_kw={"width_ratios": [3, 1]}
    )
    image = left.imshow([w for _, w in rows], cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    left.set_yticks(range(len(rows)), [g for g, _ in rows])
    left.set_xticks(range(len(labels)), labels, rotation=90, family="monospace", fontsize=8)
    figure.colorbar(image, ax=left, fraction=0.03, label="weight")
    left.set_title("goals: the paper's six (top) and this search's best", fontsize=10)
    for k, n in enumerate(sorted({n for _, n in points})):
        ys, xs = [], []
        for y, (g, _) in enumerate(rows):
            m = _median(points.get((g, n), {"val": []})["val"])
            if m is not None:
                ys.append(y)
                xs.append(m)
        right.scatter(xs, ys, label=f"N = {n}", marker="os^"[k % 3])
    right.set_yticks(range(len(rows)), [g for g, _ in rows])
    right.invert_yaxis()
    right.set_xlabel("validation accuracy (%), median")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    figure.tight_layout()
    return png_bytes(figure)
