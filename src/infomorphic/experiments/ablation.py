"""Goal ablations as experiments (the paper's Fig. 4B/4C and appendix Fig. 9): change a goal's
weights one at a time and train every variant for several seeds beside the unchanged goal.

Four kinds of variant (docs/ablation.md):

- ``zero``: each non-zero weight set to 0 in turn (Fig. 4B);
- ``cumulative``: the non-zero weights set to 0 one after another, least important first, so
  step k has the first k of the removal order at 0 (Fig. 4C);
- ``relative``: each non-zero weight times 0.9 and times 1.1 (Fig. 9);
- ``absolute``: each non-zero weight minus 0.1 and plus 0.1 (Fig. 9).

The removal order comes from ``removal_order``: ascending absolute weight (the default),
``paper`` (the order of the authors' cumulative ablation, ``PAPER_ORDER``), ``measured`` (this
ablation's own zero results, the paper's procedure), a ranking file or a search study's
importance (``order_choice``). Every variant is a plain goal vector, trained through
``run_grid``, one run folder per (goal vector, seed) under ``out/runs``: a rerun reuses
finished runs and resumes interrupted ones. ``run_ablation`` gives the rows (one per variant
and seed); ``infomorphic.reports.ablation`` writes them out as ablation.csv, ablation.md and
the figures.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infomorphic.experiments.runner import Progress, RunResult, RunSpec, run_grid, run_name
from infomorphic.nn.goal_files import is_per_layer, layer_goals
from infomorphic.nn.goals import Goal
from infomorphic.training.config import TrainConfig

__all__ = [
    "ABSOLUTE_STEPS",
    "KINDS",
    "ORDERS",
    "PAPER_ORDER",
    "RELATIVE_FACTORS",
    "REFERENCE",
    "AblationOutcome",
    "AblationPlan",
    "OrderChoice",
    "Variant",
    "ablation_goal",
    "make_variants",
    "measured_order",
    "order_choice",
    "plan_ablation",
    "read_ranking",
    "removal_order",
    "result_rows",
    "run_ablation",
    "run_specs",
    "variant_goal",
    "weight_order",
]

KINDS = ("zero", "cumulative", "relative", "absolute")
ORDERS = ("weight", "paper", "measured")
#: How the report names each order's source.
ORDER_NAMES = {
    "weight": "ascending absolute weight",
    "paper": "the paper's order (Fig. 4C)",
    "measured": "this ablation's zero results, least harmful first",
}
REFERENCE = "reference"
RELATIVE_FACTORS = (0.9, 1.1)
ABSOLUTE_STEPS = (-0.1, 0.1)
#: The removal order of the paper's cumulative ablation (Fig. 4C), least important first, as
#: indices of the 19-vector (atoms in lattice order, H_res last): the order of the individual
#: validation drops of the authors' zero ablation (their base_model.py, ``gamma_update``;
#: SPEC.md section 5): {F}{CL}, {CL}, {FC}{FL}{CL}, {FCL}, {C}{FL}, {L}, {C}, {FC}, H_res,
#: {FL}{CL}, {FC}{CL}, {L}{FC}, {FL}, {C}{L}, {F}, {F}{C}, {F}{C}{L}, {F}{L}, {FC}{FL}.
PAPER_ORDER = (4, 16, 10, 17, 5, 9, 8, 14, 18, 13, 12, 6, 15, 3, 7, 1, 0, 2, 11)


@dataclass(frozen=True)
class Variant:
    """One goal vector of an ablation. ``atom``: the weight changed (for ``cumulative`` the one
    removed at this step; "" for the reference); ``change``: "0", "x0.9", "+0.1", ...;
    ``step``: how many weights a cumulative variant has at 0."""

    kind: str
    atom: str
    change: str
    weights: tuple[float, ...]
    step: int = 0


def _clean(label: str) -> str:
    return "".join(str(label).split())


def weight_order(goal: Goal) -> list[str]:
    """The goal's non-zero weights, smallest absolute weight first (ties in lattice order)."""
    terms = [(abs(w), k, label) for k, (label, w) in enumerate(goal.as_dict().items()) if w != 0]
    return [label for *_, label in sorted(terms)]


def removal_order(
    goal: Goal, how: str = "weight", ranking: Sequence[str] | None = None
) -> list[str]:
    """The cumulative ablation's order, least important first, over the non-zero weights.

    ``weight``: ascending absolute weight. ``paper``: the order of the paper's cumulative
    ablation (``PAPER_ORDER``, for goals of three sources), its zero weights left out.
    ``ranking`` (most important first, e.g. a search study's importance): its reverse, after
    the non-zero weights it does not name (those first, ascending absolute weight).
    """
    ascending = weight_order(goal)
    if ranking is not None:
        ranked = [_clean(r) for r in dict.fromkeys(ranking)]
        unknown = [r for r in ranked if r not in goal.labels]
        if unknown:
            raise ValueError(
                f"the ranking names {', '.join(unknown)}, which the goal lacks; its "
                f"weights are {', '.join(goal.labels)}"
            )
        ranked = [r for r in ranked if r in ascending]
        return [w for w in ascending if w not in ranked] + ranked[::-1]
    if how == "weight":
        return ascending
    if how == "paper":
        if goal.n_sources != 3:
            raise ValueError(
                f"the paper's order is for goals of three sources (F, C, L); this goal has "
                f"{goal.n_sources} ({', '.join(goal.source_names)})"
            )
        return [goal.labels[k] for k in PAPER_ORDER if goal.weights[k] != 0]
    raise ValueError(f"unknown order {how!r}; choose from weight, paper, a file or a study")


def measured_order(goal: Goal, zero_changes: Mapping[str, float]) -> list[str]:
    """Least harmful first by the zero ablation's median change (a missing or NaN change counts
    as none; ties by ascending absolute weight): the paper's order for Fig. 4C."""

    def effect(label: str) -> float:
        change = zero_changes.get(label, 0.0)
        return 0.0 if change is None or math.isnan(change) else -change

    ascending = weight_order(goal)
    return sorted(ascending, key=lambda label: (effect(label), ascending.index(label)))


def read_ranking(path: str | Path) -> list[str]:
    """Atom labels, most important first, from a JSON file: a list of labels, an object with
    ``"ranking"`` (such a list), or a search report's report.json (its importance rows in
    their order, by mean decrease in impurity)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ranking file {path} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"ranking file {path} is no JSON ({exc})") from None
    if isinstance(data, Mapping):
        importance = data.get("importance")
        if "ranking" in data:
            data = data["ranking"]
        elif isinstance(importance, Mapping) and "rows" in importance:
            rows = sorted(importance["rows"], key=lambda r: r.get("mdi_rank", 0))
            data = [row["name"] for row in rows]
        elif isinstance(importance, Mapping) and "skipped" in importance:
            raise ValueError(f"{path} holds no importance: {importance['skipped']}")
    if not isinstance(data, list) or not data or not all(isinstance(x, str) for x in data):
        raise ValueError(
            f"ranking file {path}: want a JSON list of atom labels, most important "
            "first, or a report.json of infomorphic search-report"
        )
    return data


def _vector(goal: Goal, changes: Mapping[int, float]) -> tuple[float, ...]:
    return tuple(round(changes.get(k, w), 12) for k, w in enumerate(goal.weights))


def make_variants(goal: Goal, kinds: Sequence[str], order: Sequence[str] = ()) -> list[Variant]:
    """The reference, then each kind's variants; zero weights are never changed."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown ablation kinds {unknown}; choose from {', '.join(KINDS)}")
    index = {label: k for k, label in enumerate(goal.labels)}
    nonzero = [label for label, w in goal.as_dict().items() if w != 0]
    out = [Variant(REFERENCE, "", "none", _vector(goal, {}))]
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == "zero":
            out += [Variant(kind, a, "0", _vector(goal, {index[a]: 0.0})) for a in nonzero]
        elif kind == "cumulative":
            if sorted(order) != sorted(nonzero):
                raise ValueError("a cumulative order must name each non-zero weight once")
            for step, atom in enumerate(order, 1):
                zeros = {index[a]: 0.0 for a in order[:step]}
                out.append(Variant(kind, atom, "0", _vector(goal, zeros), step))
        else:
            changes = RELATIVE_FACTORS if kind == "relative" else ABSOLUTE_STEPS
            for atom in nonzero:
                w = goal.weights[index[atom]]
                for c in changes:
                    new = w * c if kind == "relative" else w + c
                    text = f"x{c:g}" if kind == "relative" else f"{c:+g}"
                    out.append(Variant(kind, atom, text, _vector(goal, {index[atom]: new})))
    return out


def ablation_goal(config: TrainConfig, layer: str | None = None) -> Goal:
    """The goal an ablation varies: ``layer``'s, or (None) the one goal every hidden layer of
    ``config``'s network shares; a ValueError says which layers differ or have none."""
    spec = config.network(1, 2)
    goals = {
        lay.name: Goal.resolve(lay.goal, tuple(lay.sources))
        for lay in spec.layers
        if lay.goal is not None
    }
    if not goals:
        raise ValueError(f"--model: {config.model} has no hidden goal to ablate")
    if layer is not None:
        if layer not in goals:
            known = ", ".join(goals)
            raise ValueError(f"--layer: {layer} is no layer with a goal; choose from {known}")
        return goals[layer]
    first = next(iter(goals.values()))
    if any(g.weights != first.weights for g in goals.values()):
        named = ", ".join(f"{name}: {g.name}" for name, g in goals.items())
        raise ValueError(
            f"the hidden layers' goals differ ({named}): choose the goal to ablate with --layer"
        )
    return first


def variant_goal(base: TrainConfig, weights: Sequence[float], layer: str | None = None) -> Any:
    """A configuration's goal with the ablated weights: in every hidden layer (``layer``
    None), or in ``layer`` alone, the others keeping the goals ``base`` gives them."""
    if layer is None:
        return list(weights)
    given = layer_goals(base.goal, base.layer_names)
    per_layer = dict(given) if is_per_layer(given) else dict.fromkeys(base.layer_names, given)
    return {**per_layer, layer: list(weights)}


def run_specs(
    base: TrainConfig,
    variants: Sequence[Variant],
    seeds: Sequence[int],
    runs_dir: Path,
    layer: str | None = None,
) -> dict[tuple[tuple[float, ...], int], RunSpec]:
    """One run per distinct (goal vector, seed), named by ``run_name`` (a hash of the vector):
    variants with the same vector (zero and cumulative step 1) share their runs. ``layer``:
    the layer whose goal the variants change (None: every layer's)."""
    specs: dict[tuple[tuple[float, ...], int], RunSpec] = {}
    for variant in variants:
        for seed in seeds:
            if (variant.weights, seed) not in specs:
                goal = variant_goal(base, variant.weights, layer)
                config = replace(base, goal=goal, seed=seed, eval_splits=())
                config.validate()
                label = f"{variant.kind} {variant.atom} {variant.change}".strip()
                specs[variant.weights, seed] = RunSpec(config, runs_dir / run_name(config), label)
    return specs


def result_rows(
    goal: Goal,
    variants: Sequence[Variant],
    seeds: Sequence[int],
    results: Mapping[tuple[tuple[float, ...], int], RunResult],
) -> list[dict[str, Any]]:
    """One row per (variant, seed): accuracies and their change against the reference of the
    same seed (NaN where a run failed)."""
    weights = goal.as_dict()
    labels = goal.labels

    def accuracy(result: RunResult, split: str) -> float:
        value = (result.summary or {}).get(f"{split}_accuracy")
        return float("nan") if value is None else float(value)

    def train(result: RunResult) -> float:  # the authors' measure; absent in older runs
        value = (result.summary or {}).get("train_batch_accuracy")
        return float("nan") if value is None else float(value)

    reference = {s: results[variants[0].weights, s] for s in seeds}
    rows = []
    for variant in variants:
        for seed in seeds:
            result = results[variant.weights, seed]
            row: dict[str, Any] = {
                "kind": variant.kind,
                "atom": variant.atom,
                "change": variant.change,
                "step": variant.step,
                "seed": seed,
                "weight": weights.get(variant.atom, ""),
                "new_weight": variant.weights[labels.index(variant.atom)] if variant.atom else "",
            }
            for split in ("val", "test"):
                row[f"{split}_accuracy"] = accuracy(result, split)
                row[f"{split}_change"] = row[f"{split}_accuracy"] - accuracy(reference[seed], split)
            row["train_batch_accuracy"] = train(result)
            row.update(run=result.spec.out.name, error=result.error or "")
            rows.append(row)
    return rows


def zero_changes(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Each zeroed weight's median validation change over its seeds (finite changes only;
    NaN where none): what the measured order ranks by."""
    changes: dict[str, list[float]] = {}
    for row in rows:
        if row["kind"] == "zero":
            changes.setdefault(row["atom"], []).append(row["val_change"])
    kept = {a: [v for v in c if math.isfinite(v)] for a, c in changes.items()}
    return {a: statistics.median(v) if v else math.nan for a, v in kept.items()}


@dataclass(frozen=True)
class OrderChoice:
    """A removal order as the command line names it: ``order`` (weight, paper, measured or
    ranking), the ``ranking`` it follows (most important first) and how the report names its
    ``source``."""

    order: str
    ranking: list[str] | None
    source: str


def order_choice(spec: str, study_ranking: Callable[[str], list[str]] | None = None) -> OrderChoice:
    """``--order``'s value: an order name, a ranking file, or ``study:URL#NAME`` (a search
    study's importance, read by ``study_ranking``: experiments know nothing of searches, so
    the caller passes ``infomorphic.search.report.study_ranking``)."""
    if spec in ORDERS:
        return OrderChoice(spec, None, ORDER_NAMES[spec])
    if spec.startswith("study:") and study_ranking is not None:
        study = spec[len("study:") :]
        return OrderChoice("ranking", study_ranking(study), f"importance of study {study}")
    if Path(spec).is_file():
        return OrderChoice("ranking", read_ranking(spec), f"ranking in {spec}")
    raise ValueError(
        f"--order: {spec!r} is no order name (weight, paper, measured), file or study:URL#NAME"
    )


@dataclass(frozen=True)
class AblationPlan:
    """What an ablation will train: the goal and the layer whose goal it is, the kinds, the
    removal order, the seeds and the output folder."""

    config: TrainConfig
    goal: Goal
    kinds: list[str]
    layer: str | None
    order: OrderChoice
    seeds: list[int]
    out: Path

    def preview(self) -> tuple[list[Variant], list[str], int]:
        """(variants, removal order, number of runs) without training; the measured order is
        shown by weight, since it is decided after the zero runs."""
        name = "weight" if self.order.order == "measured" else self.order.order
        cumulative = "cumulative" in self.kinds
        removal = removal_order(self.goal, name, self.order.ranking) if cumulative else []
        variants = make_variants(self.goal, self.kinds, removal)
        return variants, removal, len({v.weights for v in variants}) * len(self.seeds)


def plan_ablation(
    config: TrainConfig,
    kinds: Sequence[str],
    n_seeds: int,
    order: str = "weight",
    layer: str | None = None,
    out: str | Path | None = None,
    study_ranking: Callable[[str], list[str]] | None = None,
) -> AblationPlan:
    """Check an ablation's request and plan it: seeds ``config.seed`` .. + ``n_seeds`` - 1;
    ``out`` (None: ``ablation-<model>-<goal>[-<layer>]-<dataset>``, the goal named by its
    file's stem or its name). A ValueError names the option that was wrong."""
    from infomorphic.networks.presets import model_preset

    preset = model_preset(config.model)
    if preset.kind != "infomorphic" or preset.hidden_goal is None:
        raise ValueError(f"--model: {config.model} has no hidden goal to ablate")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"--kinds: choose from {', '.join(KINDS)}, got {', '.join(kinds)}")
    goal = ablation_goal(config, layer)
    choice = order_choice(order, study_ranking)
    seeds = list(range(config.seed, config.seed + n_seeds))
    given = config.goal
    tag = Path(given).stem if isinstance(given, str) and Path(given).is_file() else goal.name
    tag += f"-{layer}" if layer else ""
    folder = Path(out or f"ablation-{config.model}-{tag}-{config.dataset}")
    return AblationPlan(config, goal, list(kinds), layer, choice, seeds, folder)


@dataclass(frozen=True)
class AblationOutcome:
    """What ``run_ablation`` did: its rows (one per variant and seed), the removal order used
    and how to name its source, what was ablated, and each run's result and counts."""

    rows: list[dict[str, Any]]
    order: list[str]
    order_source: str
    goal: Goal
    base: TrainConfig
    out: Path
    layer: str | None
    reused: int
    trained: int
    failed: int
    results: list[RunResult] = field(default_factory=list)


def run_ablation(
    base: TrainConfig,
    goal: Goal,
    kinds: Sequence[str],
    seeds: Sequence[int],
    out: str | Path,
    order: str = "weight",
    ranking: Sequence[str] | None = None,
    order_source: str = "",
    workers: int = 1,
    threads: int | None = 1,
    on_progress: Callable[[Progress, RunResult], None] | None = None,
    executor: Executor | None = None,
    layer: str | None = None,
) -> AblationOutcome:
    """Train every variant for every seed into ``out/runs`` (reusing finished runs) and give
    the rows; ``infomorphic.reports.ablation.write_ablation`` writes them out. ``order``:
    weight, paper or measured (the zero ablation's results, trained first); ``ranking``
    overrides it. ``executor`` (e.g. a Dask cluster's) trains the runs instead of ``workers``
    local processes. ``layer``: the hidden layer whose goal is ablated (None: the goal every
    layer shares)."""
    out = Path(out)
    kinds = [k for k in KINDS if k in kinds]
    if not seeds:
        raise ValueError("an ablation needs at least one seed")
    if not any(w != 0 for w in goal.weights):
        raise ValueError("the goal has no non-zero weight to ablate")
    if order == "measured" and ranking is None and "cumulative" in kinds and "zero" not in kinds:
        raise ValueError("the measured order comes from the zero ablation: add zero to the kinds")
    measured = order == "measured" and ranking is None
    first = [k for k in kinds if not (measured and k == "cumulative")]
    cumulative = "cumulative" in kinds
    removal = removal_order(goal, order, ranking) if cumulative and not measured else []
    variants = make_variants(goal, first, removal)
    results: dict[tuple[tuple[float, ...], int], RunResult] = {}

    def train(todo: Sequence[Variant]) -> None:
        specs = run_specs(base, todo, seeds, out / "runs", layer)
        fresh = {k: s for k, s in specs.items() if k not in results}
        done = run_grid(fresh.values(), workers, threads, on_progress, executor)
        results.update(zip(fresh, done, strict=True))

    train(variants)
    if measured and cumulative:
        removal = measured_order(goal, zero_changes(result_rows(goal, variants, seeds, results)))
        variants += make_variants(goal, ["cumulative"], removal)[1:]
        train(variants)
    rows = result_rows(goal, variants, seeds, results)
    used = dict.fromkeys((v.weights, s) for v in variants for s in seeds)
    kept = [results[k] for k in used]
    return AblationOutcome(
        rows,
        removal,
        order_source or ("ranking" if ranking is not None else order),
        goal,
        base,
        out,
        layer,
        reused=sum(r.reused for r in kept),
        trained=sum(not r.reused and r.error is None for r in kept),
        failed=sum(r.error is not None for r in kept),
        results=kept,
    )
