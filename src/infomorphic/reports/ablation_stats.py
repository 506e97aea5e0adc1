"""An ablation's numbers: each variant against the reference, and the critical weights.

Pure functions of the rows that ``experiments.ablation.result_rows`` makes (one per variant and
seed): ``summarise`` gives each variant's median change against the reference of the same
seed, with its min..max over seeds; ``critical_weights`` gives the paper's verdict
(docs/ablation.md): the k weights whose zeroing lowers the median validation accuracy most,
each with the drop the cumulative ablation shows when it goes, and, as a check against noise,
whether the zero drop is larger than the reference's seed-to-seed range. ``ablation_report``
writes them out.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NAN",
    "CriticalWeights",
    "ReferenceStats",
    "VariantSummary",
    "critical_weights",
    "cumulative_drops",
    "reference_stats",
    "stats",
    "summarise",
]

NAN = float("nan")


def stats(values: Sequence[float]) -> tuple[float, float, float, int]:
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
        val = stats([r["val_change"] for r in members])
        test = stats([r["test_change"] for r in members])
        weight = members[0].get("weight")
        out.append(
            VariantSummary(
                kind,
                atom,
                change,
                step,
                weight if isinstance(weight, (int, float)) else None,
                val[3],
                *val[:3],
                *test[:3],
                stats([r["val_accuracy"] for r in members])[0],
            )
        )
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
    val = stats([r["val_accuracy"] for r in members])
    test = stats([r["test_accuracy"] for r in members])
    return ReferenceStats(val[3], *val[:3], *test[:3])


@dataclass(frozen=True)
class CriticalWeights:
    """The paper's verdict: ``labels``, the (at most) k weights whose zero ablation lowers the
    median validation accuracy most, most harmful first (only drops: a median change below 0).
    Beside it, the noise check ``beyond_spread``: the zeroed weights whose median drop is
    larger than the reference's seed range ``spread`` (none with fewer than two reference
    seeds), and ``cumulative``: each weight's median drop in the cumulative ablation at the
    step it is removed (against the step before, per seed)."""

    spread: float | None
    labels: tuple[str, ...]
    changes: dict[str, float]  # each zeroed weight's median validation change
    beyond_spread: tuple[str, ...] = ()
    cumulative: dict[str, float] = field(default_factory=dict)
    k: int = 4


def cumulative_drops(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """For each weight the cumulative ablation removes: the median over seeds of the validation
    accuracy at its step minus that at the step before (step 0: the reference)."""
    accuracy: dict[tuple[int, int], float] = {}
    removed: dict[int, str] = {}
    for row in rows:
        if row["kind"] == "reference":
            accuracy[0, int(row["seed"])] = row["val_accuracy"]
        elif row["kind"] == "cumulative":
            accuracy[int(row["step"]), int(row["seed"])] = row["val_accuracy"]
            removed[int(row["step"])] = row["atom"]
    out = {}
    for step, atom in sorted(removed.items()):
        seeds = {s for k, s in accuracy if k == step}
        drops = [
            accuracy[step, s] - accuracy[step - 1, s] for s in seeds if (step - 1, s) in accuracy
        ]
        out[atom] = stats(drops)[0]
    return out


def critical_weights(rows: Sequence[Mapping[str, Any]], k: int = 4) -> CriticalWeights:
    """The k largest zero-ablation drops (the paper's verdict), with the noise check and the
    cumulative curve's drops beside them."""
    spread = reference_stats(rows).spread
    zero = [s for s in summarise(rows) if s.kind == "zero" and s.n]
    zero.sort(key=lambda s: s.val_median)
    changes = {s.atom: s.val_median for s in zero}
    labels = tuple(s.atom for s in zero if s.val_median < 0)[: max(k, 0)]
    beyond = () if spread is None else tuple(s.atom for s in zero if s.val_median < -spread)
    return CriticalWeights(spread, labels, changes, beyond, cumulative_drops(rows), k)
