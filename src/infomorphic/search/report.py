"""A finished (or running) goal search as a report: settings, best goals, importance, figures.

``write_report(study, out)`` writes ``report.md``, ``report.json`` and three figures
(``history.png``, ``importance.png``, ``best_goal.png``, drawn by ``search.figures``). The
numbers come from pure functions of the study: ``study_settings``, ``top_goals`` and
``importances``, the last by two methods on the searched weights: optuna's mean decrease in
impurity (a random forest's impurity reduction, as the paper's section 5.3 does) and, as a
cross-check, scikit-learn's permutation importance of a random forest on held-out trials
(5-fold: each trial is held out once). Test accuracy is read from each trial's attributes and
reported, never used to rank.

``locate`` (in ``search.locate``) finds a study from the command line's STUDY.

To watch a study live while it runs, point optuna-dashboard at its storage::

    pip install optuna-dashboard
    optuna-dashboard sqlite:///runs/<study>/study.db
    optuna-dashboard postgresql+psycopg://user@host/db
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.search.locate import SearchTarget, load_study, locate
from infomorphic.search.space import GoalSpace
from infomorphic.search.study import quiet_optuna, redact, require_optuna, sqlite_file

if TYPE_CHECKING:
    from infomorphic.reports.explain import GoalExplanation

__all__ = [
    "MIN_IMPORTANCE_TRIALS",
    "SearchTarget",
    "importances",
    "load_study",
    "locate",
    "study_ranking",
    "study_settings",
    "top_goals",
    "write_report",
]

MIN_IMPORTANCE_TRIALS = 2
FOLDS, REPEATS, TREES, MDI_TREES, SEED = 5, 10, 200, 64, 0
FIGURES = ("history.png", "importance.png", "best_goal.png")
TEST_NOTE = (
    "Test accuracy is recorded with each trial for reference only: it is never used to select, "
    "prune or rank goals; the ranking is by validation accuracy alone."
)


def _setup(study: Any) -> dict[str, Any]:
    return dict(study.user_attrs.get("infomorphic") or {})


def _space(study: Any) -> GoalSpace:
    setup = _setup(study)
    if not setup.get("sources"):
        raise ValueError(
            f"study {study.study_name!r} was not set up by infomorphic search (no "
            "'infomorphic' study attribute naming its sources)"
        )
    return GoalSpace.from_record(setup)


def _complete(study: Any) -> list[Any]:
    optuna = require_optuna()
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return [t for t in trials if t.value is not None and math.isfinite(t.value)]


def study_settings(study: Any) -> dict[str, Any]:
    """The search's setup (model, data, epochs, sampler, ...) and its trials by state."""
    setup = _setup(study)
    config = dict(setup.get("config") or {})
    counts = {"complete": 0, "pruned": 0, "failed": 0, "surplus": 0, "running": 0, "waiting": 0}
    for trial in study.get_trials(deepcopy=False):
        state = trial.state.name.lower()
        if state == "fail":
            state = "surplus" if trial.user_attrs.get("surplus") else "failed"
        counts[state] = counts.get(state, 0) + 1
    keys = (
        "model",
        "dataset",
        "hidden",
        "activation",
        "epochs",
        "batch_size",
        "val_fraction",
        "seed",
        "device",
    )
    return {
        "study": study.study_name,
        **{key: config.get(key) for key in keys},
        "sampler": setup.get("sampler"),
        "population": setup.get("population"),
        "sources": setup.get("sources"),
        "goal_layers": list(setup.get("layers") or []),
        "pruner": setup.get("pruner") or ("median" if setup.get("prune") else None),
        "fixed": setup.get("fixed") or {},
        "objective": "validation accuracy after the last epoch (maximised)",
        "trials": counts,
        "train_seconds": sum(t.user_attrs.get("seconds") or 0.0 for t in _complete(study)),
    }


def top_goals(study: Any, top: int = 5) -> list[dict[str, Any]]:
    """The ``top`` complete trials by validation accuracy (ties: earlier trial first), each
    with every weight of the goal (fixed ones included) in lattice order (``weights``, by the
    study's names) and each searched layer's goal (``goals``: by layer, ``shared`` for the goal
    of every layer)."""
    space = _space(study)
    ranked = sorted(_complete(study), key=lambda t: (-t.value, t.number))[: max(top, 0)]
    attrs = ("test_accuracy", "train_accuracy", "epochs", "seconds")
    found = []
    for rank, t in enumerate(ranked, 1):
        goals = space.goals(t.params)
        flat = [w for vector in goals.values() for w in vector]
        entry = {
            "rank": rank,
            "trial": t.number,
            "weights": dict(zip(space.labels, flat, strict=True)),
            "goals": {
                k or "shared": dict(zip(space.atoms, v, strict=True)) for k, v in goals.items()
            },
            "val_accuracy": t.value,
            **{key: t.user_attrs.get(key) for key in attrs},
        }
        found.append(entry)
    return found


def _permutation(x: Any, y: Any, seed: int) -> tuple[Any, Any, int]:
    """Held-out permutation importance: per fold, a forest fit on the other folds, its
    increase in squared error when one weight is shuffled on the held-out trials."""
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import KFold

    folds = min(FOLDS, len(y))
    parts = []
    for k, (fit, held) in enumerate(KFold(folds, shuffle=True, random_state=seed).split(x)):
        forest = RandomForestRegressor(n_estimators=TREES, random_state=seed, n_jobs=1)
        forest.fit(x[fit], y[fit])
        result = permutation_importance(
            forest,
            x[held],
            y[held],
            scoring="neg_mean_squared_error",
            n_repeats=REPEATS,
            random_state=seed + k,
        )
        parts.append(result.importances)
    scores = np.concatenate(parts, axis=1)
    return scores.mean(axis=1), scores.std(axis=1), folds


def importances(study: Any, seed: int = SEED) -> dict[str, Any]:
    """Both importances of the searched weights, ranked by MDI; ``skipped`` says why not."""
    import numpy as np

    optuna = require_optuna()
    trials, names = _complete(study), list(_space(study).searched)
    trials = [t for t in trials if all(n in t.params for n in names)]
    if len(trials) < MIN_IMPORTANCE_TRIALS:
        return {
            "skipped": f"importance needs at least {MIN_IMPORTANCE_TRIALS} complete trials "
            f"with every searched weight; the study has {len(trials)}"
        }
    y = np.array([t.value for t in trials])
    if np.ptp(y) == 0:
        return {
            "skipped": f"all {len(trials)} complete trials have the same validation "
            "accuracy: no weight explains any difference"
        }
    evaluator = optuna.importance.MeanDecreaseImpurityImportanceEvaluator(
        n_trees=MDI_TREES, seed=seed
    )
    # Sorted names: optuna 5 pairs the given names, in the given order, with importances it
    # computes in sorted order, so any other order mislabels them.
    mdi = optuna.importance.get_param_importances(study, evaluator=evaluator, params=sorted(names))
    x = np.array([[t.params[n] for n in names] for t in trials])
    mean, std, folds = _permutation(x, y, seed)
    total = float(np.clip(mean, 0, None).sum()) or 1.0
    rows: list[dict[str, Any]] = [
        {
            "name": n,
            "mdi": float(mdi.get(n, 0.0)),
            "permutation": max(float(m), 0.0) / total,
            "permutation_std": float(s) / total,
            "permutation_mse": float(m),
            "permutation_mse_std": float(s),
        }
        for n, m, s in zip(names, mean, std, strict=True)
    ]
    by_permutation = sorted(rows, key=lambda r: -r["permutation_mse"])
    for rank, row in enumerate(by_permutation, 1):
        row["permutation_rank"] = rank
    rows.sort(key=lambda r: (-r["mdi"], r["permutation_rank"]))
    for rank, row in enumerate(rows, 1):
        row["mdi_rank"] = rank
    return {
        "trials": len(trials),
        "mdi_method": "optuna.importance.MeanDecreaseImpurityImportanceEvaluator "
        f"(random forest of {MDI_TREES} trees on all {len(trials)} complete trials, seed {seed}), "
        "normalised to sum to 1",
        "permutation_method": f"sklearn.inspection.permutation_importance on held-out trials: "
        f"{folds}-fold cross-fitting (each trial held out once), a RandomForestRegressor of "
        f"{TREES} trees (seed {seed}) fit on the other folds, {REPEATS} shuffles per weight, "
        "scored by the increase in mean squared error of the validation accuracy; shares are "
        "the positive increases normalised to sum to 1",
        "rows": rows,
    }


def _plain(value: Any) -> Any:
    """JSON-safe: non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def shown_storage(storage: str, out: str | Path) -> str:
    """The storage as a report shows it: a SQLite file by its path relative to the report's
    folder (a committed report names no path of the machine that wrote it), any other URL with
    its password hidden."""
    import os

    file = sqlite_file(storage)
    if file is None:
        return redact(storage)
    relative = os.path.relpath(file.resolve(), Path(out).resolve())
    return f"sqlite:///{relative} (relative to this report's folder)"


def write_report(
    study: Any, out: str | Path, top: int = 5, storage: str | None = None, data: str | None = None
) -> Path:
    """Write report.md, report.json and the figures into ``out``; the path of report.md.
    ``storage`` (the URL; a SQLite file is shown relative to ``out``, other URLs with any
    password hidden) and ``data`` (the data set named by ``infomorphic.data.data_identity``)
    are for the text only."""
    with quiet_optuna():  # optuna's figures and importance evaluators are experimental
        return _write_report(study, out, top, storage, data)


def _write_report(
    study: Any, out: str | Path, top: int, storage: str | None, data: str | None
) -> Path:
    from infomorphic.nn.goal_files import write_goal_file
    from infomorphic.reports.explain import explain_weights
    from infomorphic.search import figures
    from infomorphic.search.report_layers import against_paper
    from infomorphic.search.report_markdown import markdown

    figures.require_matplotlib()  # before any work: the figures are part of the report
    if top < 1:
        raise ValueError(f"--top: must be >= 1, got {top}")
    settings = study_settings(study)
    if settings["trials"]["complete"] == 0 or not _complete(study):
        t = settings["trials"]
        raise ValueError(
            f"study {study.study_name!r} has no complete trial to report yet ({t['failed']} "
            f"failed, {t['pruned']} pruned, {t['running']} running)"
        )
    space, goals = _space(study), top_goals(study, top)
    best = goals[0]
    layers = list(space.layers)
    keys: list[str | None] = list(layers) if layers else [None]
    explanations: dict[str | None, GoalExplanation] = {
        layer: explain_weights(
            best["goals"][layer or "shared"],
            space.source_names,
            name=f"trial {best['trial']}" + (f", {layer}" if layer else ""),
        )
        for layer in keys
    }
    importance = importances(study)
    payload: dict[str, Any] = {
        "storage": shown_storage(storage, out) if storage else None,
        "data": data,
        "settings": settings,
        "top": goals,
        "test_accuracy_note": TEST_NOTE,
        "best": {
            **best,
            "explanation": (
                explanations[None].to_dict()
                if not layers
                else {k: v.to_dict() for k, v in explanations.items()}
            ),
        },
        "importance": importance,
        "against_paper": against_paper(best["goals"], space.source_names),
        "notes": [f"importance skipped: {importance['skipped']}"]
        if "skipped" in importance
        else [],
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"Best goal: trial {best['trial']}, validation accuracy {best['val_accuracy']:.4f}"
    if not layers:
        best_png = figures.goal_figure(
            list(best["weights"]), list(best["weights"].values()), title, tuple(space.fixed)
        )
    else:
        best_png = figures.layer_goals_figure(
            space.atoms,
            {layer: list(best["goals"][layer].values()) for layer in layers},
            title,
            tuple(space.fixed),
        )
    images = {"history.png": figures.history_figure(study), "best_goal.png": best_png}
    if "rows" in importance:
        images["importance.png"] = figures.importance_figure(importance["rows"])
    else:
        (out / "importance.png").unlink(missing_ok=True)  # from an earlier report
    payload["figures"] = [name for name in FIGURES if name in images]
    for name, png in images.items():
        atomic_write_bytes(out / name, png)
    payload["goal_files"] = []
    for g in goals:  # each listed goal as a file train, ablate and explain read
        name = "best_goal.json" if g["rank"] == 1 else f"goal_rank{g['rank']}.json"
        per_layer = {k: v for k, v in g["goals"].items() if k != "shared"}
        write_goal_file(out / name, per_layer or {None: g["goals"]["shared"]})
        payload["goal_files"].append(name)
    for stale in out.glob("goal_rank*.json"):  # from an earlier report with a larger --top
        if stale.name not in payload["goal_files"]:
            stale.unlink()
    atomic_write_text(out / "report.json", json.dumps(_plain(payload), indent=2) + "\n")
    path = out / "report.md"
    atomic_write_text(path, markdown(payload, explanations))
    return path


def study_ranking(spec: str) -> list[str]:
    """The importance ranking of a search study: ``URL#NAME`` or a search folder."""
    url, sep, name = spec.rpartition("#")
    importance = importances(load_study(locate(name, url) if sep else locate(spec)))
    if "skipped" in importance:
        raise ValueError(f"study {spec}: no importance ({importance['skipped']})")
    return [row["name"] for row in importance["rows"]]
