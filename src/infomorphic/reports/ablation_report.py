"""An ablation's results as ``ablation.md`` with figures: the setting, the reference, the
critical weights next to the paper's four, one table per kind (the numbers come from
``ablation_stats``, whose names this module also exports)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.nn.goals import Goal
from infomorphic.reports.ablation_stats import (
    NAN,
    CriticalWeights,
    ReferenceStats,
    VariantSummary,
    critical_weights,
    cumulative_drops,
    reference_stats,
    summarise,
)
from infomorphic.reports.ablation_stats import stats as _stats
from infomorphic.training.config import TrainConfig

__all__ = [
    "CriticalWeights",
    "ReferenceStats",
    "VariantSummary",
    "critical_markdown",
    "critical_weights",
    "cumulative_drops",
    "markdown",
    "reference_stats",
    "summarise",
    "write_report",
]

FIGURES = {
    "zero": "ablation_zero.png",
    "cumulative": "ablation_cumulative.png",
    "relative": "ablation_relative.png",
    "absolute": "ablation_absolute.png",
}


def _pp(value: float, sign: bool = True) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    value = round(100 * value, 2) + 0.0  # + 0.0: no "-0.00"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def _span(median: float, low: float, high: float, sign: bool = True) -> str:
    return f"{_pp(median, sign)} ({_pp(low, sign)}..{_pp(high, sign)})"


def _weight(value: float | None) -> str:
    return "" if value is None else f"{value:+.3f}"


def _variant_table(summaries: Sequence[VariantSummary], with_change: bool) -> list[str]:
    head = "| atom | weight |" + (" change |" if with_change else "")
    lines = [
        head + " validation change, pp: median (min..max) | test change, pp: median (min..max) "
        "| seeds |",
        "|---|---:|" + ("---|" if with_change else "") + "---:|---:|---:|",
    ]
    for s in sorted(summaries, key=lambda s: (math.isnan(s.val_median), s.val_median)):
        change = f" {s.change} |" if with_change else ""
        lines.append(
            f"| `{s.atom}` | {_weight(s.weight)} |{change} "
            f"{_span(s.val_median, s.val_min, s.val_max)} | "
            f"{_span(s.test_median, s.test_min, s.test_max)} | {s.n} |"
        )
    return lines


def _critical_section(critical: CriticalWeights, goal: Goal, zero: Sequence[VariantSummary]):
    from infomorphic.reports.ablation import PAPER_CRITICAL

    lines = [
        "## Critical weights",
        "",
        f"The paper's verdict (section 5, Table 3): the *critical* weights are the "
        f"{critical.k} whose setting to 0 lowers the median validation accuracy most (each "
        "seed against the reference run of the same seed); the cumulative ablation "
        "confirms them when the accuracy holds until they go. Beside it, as a check "
        "against noise: whether the drop is larger than the reference's seed-to-seed "
        "spread, the range (max - min) of the unchanged goal's validation accuracy over "
        "the seeds (docs/ablation.md).",
        "",
    ]
    if not zero:
        return [*lines, "No zero ablation was run: no weight is named critical.", ""]
    verdict = ", ".join(f"`{a}`" for a in critical.labels)
    lines.append(
        f"Critical here: {verdict}."
        if critical.labels
        else "Critical here: none (no weight's zeroing lowers the validation accuracy)."
    )
    if critical.spread is None:
        lines += [
            "",
            "With fewer than two seeds of the reference there is no spread to compare "
            "the drops with (run --seeds 2 or more).",
            "",
        ]
    else:
        beyond = ", ".join(f"`{a}`" for a in critical.beyond_spread) or "none"
        lines += [
            "",
            f"Reference spread: {_pp(critical.spread, False)} pp. Drops beyond it: {beyond}.",
            "",
        ]
    by_atom = {s.atom: s for s in zero}
    weights = goal.as_dict()
    has_cumulative = bool(critical.cumulative)
    lines += [
        "Next to the paper's four critical weights (its Table 3, section 5):",
        "",
        "| weight | paper (Table 3) | this goal | validation change when zeroed, pp "
        "| drop when removed in the cumulative ablation, pp | beyond the seed spread "
        "| critical here |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    others = [a for a in critical.labels if a not in PAPER_CRITICAL]
    for atom in [*PAPER_CRITICAL, *others]:
        s = by_atom.get(atom)
        paper = f"{PAPER_CRITICAL[atom]:+.2f}" if atom in PAPER_CRITICAL else "not critical"
        here = "yes" if atom in critical.labels else "no"
        beyond = (
            "n/a" if critical.spread is None else "yes" if atom in critical.beyond_spread else "no"
        )
        change = _span(s.val_median, s.val_min, s.val_max) if s else "not ablated (weight 0)"
        drop = (
            _pp(critical.cumulative[atom])
            if atom in critical.cumulative
            else ("not run" if not has_cumulative else "not removed")
        )
        if atom not in weights:
            change, here, beyond, drop = "not in this goal", "n/a", "n/a", "n/a"
        elif weights[atom] == 0:
            here, beyond, drop = "n/a", "n/a", "n/a"
        lines.append(
            f"| `{atom}` | {paper} | {_weight(weights.get(atom))} | {change} | {drop} "
            f"| {beyond} | {here} |"
        )
    return [*lines, ""]


def critical_markdown(rows: Sequence[Mapping[str, Any]], goal: Goal, k: int = 4) -> str:
    """The critical-weights section of ablation.md on its own (the table3 target's table)."""
    zero = [s for s in summarise(rows) if s.kind == "zero"]
    return "\n".join(_critical_section(critical_weights(rows, k), goal, zero))


def _where(layer: str | None, base: TrainConfig) -> str:
    if layer is None:
        return "every hidden layer" if len(base.hidden) > 1 else "the hidden layer"
    return f"{layer} alone (the other layers keep their goals)"


def markdown(
    rows: Sequence[Mapping[str, Any]],
    goal: Goal,
    base: TrainConfig,
    order: Sequence[str],
    order_source: str,
    figures: Sequence[str] = (),
    critical: int = 4,
    layer: str | None = None,
) -> str:
    """ablation.md: setup, reference, critical weights (the ``critical`` largest zero drops),
    then one section per kind."""
    ref, summaries = reference_stats(rows), summarise(rows)
    seeds = sorted({int(r["seed"]) for r in rows})
    failed = sum(bool(r.get("error")) for r in rows)
    kinds = [k for k in FIGURES if any(s.kind == k for s in summaries)]
    ref_val = _span(ref.val_median, ref.val_min, ref.val_max, False)
    ref_test = _span(ref.test_median, ref.test_min, ref.test_max, False)
    lines = [
        f"# Goal ablation: {goal.name}",
        "",
        "| setting | value |",
        "|---|---|",
        f"| goal | {goal.name}: {sum(w != 0 for w in goal.weights)} non-zero of "
        f"{len(goal.weights)} weights |",
        f"| ablated in | {_where(layer, base)} |",
        f"| model, data | {base.model}, {base.dataset} |",
        f"| hidden, epochs, batch size | {base.hidden}, {base.epochs}, {base.batch_size} |",
        f"| seeds | {', '.join(map(str, seeds))} |",
        f"| kinds | {', '.join(kinds) or 'none'} |",
        f"| runs failed | {failed} of {len(rows)} rows |",
        "",
        "Changes are in percentage points (pp) of accuracy, each run against the reference run "
        "(the unchanged goal) of the same seed; median over the seeds, with the min..max.",
        "",
        "## Reference",
        "",
        f"The unchanged goal: validation accuracy {ref_val} %, test accuracy {ref_test} % "
        f"(median (min..max) over {ref.n} seeds).",
        "",
    ]
    zero = [s for s in summaries if s.kind == "zero"]
    lines += _critical_section(critical_weights(rows, critical), goal, zero)
    titles = {
        "zero": "Zero ablation (each weight set to 0; the paper's Fig. 4B)",
        "cumulative": "Cumulative ablation (the paper's Fig. 4C)",
        "relative": "Relative changes, x0.9 and x1.1 (the paper's Fig. 9)",
        "absolute": "Absolute changes, -0.1 and +0.1 (the paper's Fig. 9)",
    }
    for kind in kinds:
        lines += [f"## {titles[kind]}", ""]
        if FIGURES[kind] in figures:
            lines += [f"![{kind} ablation]({FIGURES[kind]})", ""]
        members = [s for s in summaries if s.kind == kind]
        if kind != "cumulative":
            lines += [*_variant_table(members, kind != "zero"), ""]
            continue
        train = _train_medians(rows)
        lines += [
            f"Removal order, least important first ({order_source}): "
            f"{', '.join(f'`{a}`' for a in order)}.",
            "",
            "Train accuracy is the authors' measure (`train_batch_accuracy`: each "
            "training batch's accuracy on its own training pass, averaged over the last "
            "epoch).",
            "",
            "| weights at 0 | last removed | validation accuracy, % (median) | validation "
            "change, pp | test change, pp | train accuracy, % (median) | seeds |",
            "|---:|---|---:|---:|---:|---:|---:|",
            f"| 0 | (reference) | {_pp(ref.val_median, False)} | | | "
            f"{_pp(train.get(0, NAN), False)} | {ref.n} |",
        ]
        for s in sorted(members, key=lambda s: s.step):
            lines.append(
                f"| {s.step} | `{s.atom}` | {_pp(s.accuracy_median, False)} | "
                f"{_span(s.val_median, s.val_min, s.val_max)} | "
                f"{_span(s.test_median, s.test_min, s.test_max)} | "
                f"{_pp(train.get(s.step, NAN), False)} | {s.n} |"
            )
        lines.append("")
    return "\n".join(lines)


def _train_medians(rows: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """The cumulative ablation's median train_batch_accuracy per step (0: the reference)."""
    steps: dict[int, list[float]] = {}
    for row in rows:
        if row["kind"] in ("reference", "cumulative"):
            step = 0 if row["kind"] == "reference" else int(row["step"])
            steps.setdefault(step, []).append(row.get("train_batch_accuracy", NAN))
    return {step: _stats(values)[0] for step, values in steps.items()}


def draw(rows: Sequence[Mapping[str, Any]], goal: Goal, critical: int = 4) -> dict[str, bytes]:
    """The figures of the kinds present, by file name."""
    from infomorphic.reports import ablation_figures as fig

    def values(kind: str, atom: str, change: str | None = None, key: str = "val_change"):
        return [
            r[key]
            for r in rows
            if r["kind"] == kind and r["atom"] == atom and (change is None or r["change"] == change)
        ]

    summaries, images = summarise(rows), {}
    kinds = {s.kind for s in summaries}
    labels = [
        a for a in goal.labels if any(s.atom == a and s.kind != "cumulative" for s in summaries)
    ]
    if "zero" in kinds:
        verdict = critical_weights(rows, critical)
        zeroed = [a for a in labels if any(s.kind == "zero" and s.atom == a for s in summaries)]
        images[FIGURES["zero"]] = fig.zero_figure(
            zeroed, [values("zero", a) for a in zeroed], set(verdict.labels), verdict.spread
        )
    if "cumulative" in kinds:
        steps = sorted((s for s in summaries if s.kind == "cumulative"), key=lambda s: s.step)
        ref = [r for r in rows if r["kind"] == "reference"]
        keys = ("val_accuracy", "test_accuracy", "train_batch_accuracy")
        acc = {k: [[r.get(k, NAN) for r in ref]] for k in keys}
        for s in steps:
            for k in acc:
                acc[k].append(values("cumulative", s.atom, key=k))
        images[FIGURES["cumulative"]] = fig.cumulative_figure(
            [s.atom for s in steps],
            acc["val_accuracy"],
            acc["test_accuracy"],
            acc["train_batch_accuracy"],
        )
    for kind in ("relative", "absolute"):
        if kind in kinds:
            changes = sorted(
                {s.change for s in summaries if s.kind == kind}, key=lambda c: float(c.lstrip("x"))
            )
            varied = [a for a in labels if any(s.kind == kind and s.atom == a for s in summaries)]
            data = {c: [values(kind, a, c) for a in varied] for c in changes}
            images[FIGURES[kind]] = fig.change_figure(kind, varied, data)
    return images


def write_report(
    rows: Sequence[Mapping[str, Any]],
    goal: Goal,
    base: TrainConfig,
    order: Sequence[str],
    order_source: str,
    out: Path,
    figures: bool = True,
    critical: int = 4,
    layer: str | None = None,
) -> list[Path]:
    """Write ablation.md and the figures into ``out`` (stale figures of kinds not run are
    removed); the paths written. ``layer``: the hidden layer whose goal was ablated (None:
    the goal of every layer)."""
    images = draw(rows, goal, critical) if figures else {}
    written = []
    for name in FIGURES.values():
        if name in images:
            atomic_write_bytes(out / name, images[name])
            written.append(out / name)
        else:
            (out / name).unlink(missing_ok=True)
    path = out / "ablation.md"
    text = markdown(rows, goal, base, order, order_source, list(images), critical, layer)
    atomic_write_text(path, text + "\n")
    return [path, *written]
