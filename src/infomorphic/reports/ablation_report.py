"""An ablation's results as a table, its critical weights and ``ablation.md`` with figures.

Pure functions of the rows that ``ablation.result_rows`` makes (one per variant and seed):
``summarise`` gives each variant's median change against the reference of the same seed, with
its min..max over seeds; ``critical_weights`` applies the rule of docs/ablation.md: a weight is
critical when zeroing it lowers the median validation accuracy by more than the reference's
seed-to-seed range (max - min of the unchanged goal's validation accuracy over the seeds).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.nn.goals import Goal
from infomorphic.training.config import TrainConfig

__all__ = [
    "CriticalWeights",
    "ReferenceStats",
    "VariantSummary",
    "critical_weights",
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
NAN = float("nan")


def _stats(values: Sequence[float]) -> tuple[float, float, float, int]:
    """Median, min, max and count of the finite values (NaN, NaN, NaN, 0 if none)."""
    kept = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not kept:
        return NAN, NAN, NAN, 0
    return statistics.median(kept), min(kept), max(kept), len(kept)


@dataclass(frozen=True)
class VariantSummary:
    """One variant over its seeds: median change of validation and test accuracy against the
    reference of the same seed, with min and max; ``n`` seeds with a result."""

    kind: str
    atom: str
    change: str
    step: int
    weight: float | None
    n: int
    val_median: float
    val_min: float
    val_max: float
    test_median: float
    test_min: float
    test_max: float
    accuracy_median: float  # the validation accuracy itself (for the cumulative curve)


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, int]:
    return row["kind"], row["atom"], row["change"], int(row["step"])


def summarise(rows: Sequence[Mapping[str, Any]]) -> list[VariantSummary]:
    """Each variant but the reference, in the order of the rows."""
    groups: dict[tuple[str, str, str, int], list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["kind"] != "reference":
            groups.setdefault(_key(row), []).append(row)
    out = []
    for (kind, atom, change, step), members in groups.items():
        val = _stats([r["val_change"] for r in members])
        test = _stats([r["test_change"] for r in members])
        weight = members[0].get("weight")
        out.append(VariantSummary(
            kind, atom, change, step, weight if isinstance(weight, (int, float)) else None,
            val[3], *val[:3], *test[:3], _stats([r["val_accuracy"] for r in members])[0],
        ))  # fmt: skip
    return out


@dataclass(frozen=True)
class ReferenceStats:
    """The unchanged goal over its seeds; ``spread``: the range (max - min) of its validation
    accuracy, None with fewer than two seeds."""

    n: int
    val_median: float
    val_min: float
    val_max: float
    test_median: float
    test_min: float
    test_max: float

    @property
    def spread(self) -> float | None:
        return self.val_max - self.val_min if self.n >= 2 else None


def reference_stats(rows: Sequence[Mapping[str, Any]]) -> ReferenceStats:
    members = [r for r in rows if r["kind"] == "reference"]
    val = _stats([r["val_accuracy"] for r in members])
    test = _stats([r["test_accuracy"] for r in members])
    return ReferenceStats(val[3], *val[:3], *test[:3])


@dataclass(frozen=True)
class CriticalWeights:
    """The weights whose zero ablation's median validation change is below -spread (most
    harmful first); none when the spread is unknown (fewer than two reference seeds)."""

    spread: float | None
    labels: tuple[str, ...]
    changes: dict[str, float]  # each zeroed weight's median validation change


def critical_weights(rows: Sequence[Mapping[str, Any]]) -> CriticalWeights:
    spread = reference_stats(rows).spread
    zero = sorted((s for s in summarise(rows) if s.kind == "zero"), key=lambda s: s.val_median)
    changes = {s.atom: s.val_median for s in zero}
    if spread is None:
        return CriticalWeights(None, (), changes)
    labels = tuple(s.atom for s in zero if s.n and s.val_median < -spread)
    return CriticalWeights(spread, labels, changes)


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
        lines.append(f"| `{s.atom}` | {_weight(s.weight)} |{change} "
                     f"{_span(s.val_median, s.val_min, s.val_max)} | "
                     f"{_span(s.test_median, s.test_min, s.test_max)} | {s.n} |")  # fmt: skip
    return lines


def _critical_section(critical: CriticalWeights, goal: Goal, zero: Sequence[VariantSummary]):
    from infomorphic.reports.ablation import PAPER_CRITICAL

    lines = ["## Critical weights", "",
             "A weight is *critical* when setting it to 0 lowers the median validation accuracy "
             "(over seeds, each against the reference run of the same seed) by more than the "
             "reference's seed-to-seed spread: the range, max - min, of the unchanged goal's "
             "validation accuracy over the seeds (docs/ablation.md).", ""]  # fmt: skip
    if not zero:
        return [*lines, "No zero ablation was run: no weight is named critical.", ""]
    if critical.spread is None:
        lines += ["With fewer than two seeds of the reference there is no spread: no weight is "
                  "named critical (run --seeds 2 or more).", ""]  # fmt: skip
    else:
        found = ", ".join(f"`{a}`" for a in critical.labels) or "none"
        lines += [f"Reference spread: {_pp(critical.spread, False)} pp. Critical here: "
                  f"{found}.", ""]  # fmt: skip
    by_atom = {s.atom: s for s in zero}
    weights = goal.as_dict()
    lines += ["Next to the paper's four critical weights (its Table 3, section 5):", "",
              "| weight | paper (Table 3) | this goal | validation change when zeroed, pp "
              "| critical here |", "|---|---:|---:|---:|---|"]  # fmt: skip
    others = [a for a in critical.labels if a not in PAPER_CRITICAL]
    for atom in [*PAPER_CRITICAL, *others]:
        s = by_atom.get(atom)
        paper = f"{PAPER_CRITICAL[atom]:+.2f}" if atom in PAPER_CRITICAL else "not critical"
        here = "yes" if atom in critical.labels else "n/a" if critical.spread is None else "no"
        change = _span(s.val_median, s.val_min, s.val_max) if s else "not ablated (weight 0)"
        if atom not in weights:
            change, here = "not in this goal", "n/a"
        elif weights[atom] == 0:
            here = "n/a"
        lines.append(f"| `{atom}` | {paper} | {_weight(weights.get(atom))} | {change} | "
                     f"{here} |")  # fmt: skip
    return [*lines, ""]


def markdown(
    rows: Sequence[Mapping[str, Any]],
    goal: Goal,
    base: TrainConfig,
    order: Sequence[str],
    order_source: str,
    figures: Sequence[str] = (),
) -> str:
    """ablation.md: setup, reference, critical weights, then one section per kind."""
    ref, summaries = reference_stats(rows), summarise(rows)
    seeds = sorted({int(r["seed"]) for r in rows})
    failed = sum(bool(r.get("error")) for r in rows)
    kinds = [k for k in FIGURES if any(s.kind == k for s in summaries)]
    ref_val = _span(ref.val_median, ref.val_min, ref.val_max, False)
    ref_test = _span(ref.test_median, ref.test_min, ref.test_max, False)
    lines = [
        f"# Goal ablation: {goal.name}", "",
        "| setting | value |", "|---|---|",
        f"| goal | {goal.name}: {sum(w != 0 for w in goal.weights)} non-zero of "
        f"{len(goal.weights)} weights |",
        f"| model, data | {base.model}, {base.dataset} |",
        f"| hidden, epochs, batch size | {base.hidden}, {base.epochs}, {base.batch_size} |",
        f"| seeds | {', '.join(map(str, seeds))} |",
        f"| kinds | {', '.join(kinds) or 'none'} |",
        f"| runs failed | {failed} of {len(rows)} rows |", "",
        "Changes are in percentage points (pp) of accuracy, each run against the reference run "
        "(the unchanged goal) of the same seed; median over the seeds, with the min..max.", "",
        "## Reference", "",
        f"The unchanged goal: validation accuracy {ref_val} %, test accuracy {ref_test} % "
        f"(median (min..max) over {ref.n} seeds).", "",
    ]  # fmt: skip
    zero = [s for s in summaries if s.kind == "zero"]
    lines += _critical_section(critical_weights(rows), goal, zero)
    titles = {"zero": "Zero ablation (each weight set to 0; the paper's Fig. 4B)",
              "cumulative": "Cumulative ablation (the paper's Fig. 4C)",
              "relative": "Relative changes, x0.9 and x1.1 (the paper's Fig. 9)",
              "absolute": "Absolute changes, -0.1 and +0.1 (the paper's Fig. 9)"}  # fmt: skip
    for kind in kinds:
        lines += [f"## {titles[kind]}", ""]
        if FIGURES[kind] in figures:
            lines += [f"![{kind} ablation]({FIGURES[kind]})", ""]
        members = [s for s in summaries if s.kind == kind]
        if kind != "cumulative":
            lines += [*_variant_table(members, kind != "zero"), ""]
            continue
        lines += [f"Removal order, least important first ({order_source}): "
                  f"{', '.join(f'`{a}`' for a in order)}.", "",
                  "| weights at 0 | last removed | validation accuracy, % (median) | validation "
                  "change, pp | test change, pp | seeds |", "|---:|---|---:|---:|---:|---:|",
                  f"| 0 | (reference) | {_pp(ref.val_median, False)} | | | {ref.n} |"]  # fmt: skip
        for s in sorted(members, key=lambda s: s.step):
            lines.append(f"| {s.step} | `{s.atom}` | {_pp(s.accuracy_median, False)} | "
                         f"{_span(s.val_median, s.val_min, s.val_max)} | "
                         f"{_span(s.test_median, s.test_min, s.test_max)} | {s.n} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def draw(rows: Sequence[Mapping[str, Any]], goal: Goal) -> dict[str, bytes]:
    """The figures of the kinds present, by file name."""
    from infomorphic.reports import ablation_figures as fig

    def values(kind: str, atom: str, change: str | None = None, key: str = "val_change"):
        return [r[key] for r in rows if r["kind"] == kind and r["atom"] == atom
                and (change is None or r["change"] == change)]  # fmt: skip

    summaries, images = summarise(rows), {}
    kinds = {s.kind for s in summaries}
    labels = [a for a in goal.labels if any(s.atom == a and s.kind != "cumulative"
                                            for s in summaries)]  # fmt: skip
    if "zero" in kinds:
        critical = critical_weights(rows)
        zeroed = [a for a in labels if any(s.kind == "zero" and s.atom == a for s in summaries)]
        images[FIGURES["zero"]] = fig.zero_figure(
            zeroed, [values("zero", a) for a in zeroed], set(critical.labels), critical.spread
        )
    if "cumulative" in kinds:
        steps = sorted((s for s in summaries if s.kind == "cumulative"), key=lambda s: s.step)
        ref = [r for r in rows if r["kind"] == "reference"]
        acc = {k: [[r[f"{k}_accuracy"] for r in ref]] for k in ("val", "test")}
        for s in steps:
            for k in acc:
                acc[k].append(values("cumulative", s.atom, key=f"{k}_accuracy"))
        images[FIGURES["cumulative"]] = fig.cumulative_figure(
            [s.atom for s in steps], acc["val"], acc["test"]
        )
    for kind in ("relative", "absolute"):
        if kind in kinds:
            changes = sorted({s.change for s in summaries if s.kind == kind},
                             key=lambda c: float(c.lstrip("x")))  # fmt: skip
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
) -> list[Path]:
    """Write ablation.md and the figures into ``out`` (stale figures of kinds not run are
    removed); the paths written."""
    images = draw(rows, goal) if figures else {}
    written = []
    for name in FIGURES.values():
        if name in images:
            atomic_write_bytes(out / name, images[name])
            written.append(out / name)
        else:
            (out / name).unlink(missing_ok=True)
    path = out / "ablation.md"
    atomic_write_text(path, markdown(rows, goal, base, order, order_source, list(images)) + "\n")
    return [path, *written]
