"""Goal ablations as experiments (``infomorphic.experiments.ablation``): the variants, the
removal orders, the measured order's numbers and ``--order``'s choices."""

from __future__ import annotations

import json
import math

import pytest
from conftest import PAPER_ORDER_LABELS

from infomorphic.experiments.ablation import (
    make_variants,
    measured_order,
    order_choice,
    read_ranking,
    removal_order,
    zero_changes,
)
from infomorphic.nn.goals import Goal
from infomorphic.reports.ablation import PAPER_CRITICAL
from infomorphic.reports.ablation_stats import summarise

FCL = ("F", "C", "L")


@pytest.fixture
def goal() -> Goal:
    return Goal.from_dict({"{F}{C}": 1.0, "{F}{L}": -0.5, "H_res": 0.2}, FCL, "small")


def _weights(goal: Goal, vector) -> dict[str, float]:
    return dict(zip(goal.labels, vector, strict=True))


def test_zero_variants_change_each_nonzero_weight_and_nothing_else(goal):
    variants = make_variants(goal, ["zero"])
    assert [(v.kind, v.atom) for v in variants] == [
        ("reference", ""),
        ("zero", "{F}{C}"),
        ("zero", "{F}{L}"),
        ("zero", "H_res"),
    ]
    assert variants[0].weights == goal.weights
    for variant in variants[1:]:
        changed = {
            label
            for label, w in _weights(goal, variant.weights).items()
            if w != goal.as_dict()[label]
        }
        assert changed == {variant.atom}
        assert _weights(goal, variant.weights)[variant.atom] == 0.0


def test_cumulative_variants_remove_in_order_least_important_first(goal):
    order = removal_order(goal, "weight")
    assert order == ["H_res", "{F}{L}", "{F}{C}"]  # ascending |weight|
    steps = [v for v in make_variants(goal, ["cumulative"], order) if v.kind == "cumulative"]
    assert [(v.step, v.atom) for v in steps] == [(1, "H_res"), (2, "{F}{L}"), (3, "{F}{C}")]
    assert _weights(goal, steps[0].weights)["{F}{L}"] == -0.5
    assert _weights(goal, steps[1].weights) == {**goal.as_dict(), "H_res": 0.0, "{F}{L}": 0.0}
    assert not any(steps[2].weights)
    with pytest.raises(ValueError, match="each non-zero weight once"):
        make_variants(goal, ["cumulative"], order[:2])


def test_relative_and_absolute_values(goal):
    variants = make_variants(goal, ["relative", "absolute"])
    values = {(v.kind, v.atom, v.change): _weights(goal, v.weights)[v.atom] for v in variants[1:]}
    assert values[("relative", "{F}{L}", "x0.9")] == pytest.approx(-0.45)
    assert values[("relative", "{F}{L}", "x1.1")] == pytest.approx(-0.55)
    assert values[("absolute", "{F}{C}", "-0.1")] == pytest.approx(0.9)
    assert values[("absolute", "H_res", "+0.1")] == pytest.approx(0.3)
    assert len(variants) == 1 + 3 * 2 * 2  # three non-zero weights, two changes, two kinds
    with pytest.raises(ValueError, match="unknown ablation kinds"):
        make_variants(goal, ["half"])


def test_paper_order_is_the_authors_cumulative_order():
    optimized = Goal.named("optimized")
    assert removal_order(optimized, "paper") == PAPER_ORDER_LABELS
    assert set(PAPER_ORDER_LABELS[-4:]) == set(PAPER_CRITICAL)  # the four critical ones last
    # zero weights are never removed; the rest keep the paper's order
    assert removal_order(Goal.named("critical-4"), "paper") == PAPER_ORDER_LABELS[-4:]
    with pytest.raises(ValueError, match="three sources"):
        removal_order(Goal.named("output"), "paper")


def test_ranking_and_measured_orders(goal, tmp_path):
    # unranked non-zero weights first (ascending |w|), then the ranking from least important
    assert removal_order(goal, ranking=["{F}{C}", "{F}{L}"]) == ["H_res", "{F}{L}", "{F}{C}"]
    assert removal_order(goal, ranking=["{F}{L}"]) == ["H_res", "{F}{C}", "{F}{L}"]
    with pytest.raises(ValueError, match="lacks"):
        removal_order(goal, ranking=["{X}"])
    changes = {"{F}{C}": -0.05, "{F}{L}": 0.01, "H_res": float("nan")}
    assert measured_order(goal, changes) == ["{F}{L}", "H_res", "{F}{C}"]

    listed = tmp_path / "ranking.json"
    listed.write_text(json.dumps(["{F}{C}", "{F} {L}"]))
    assert read_ranking(listed) == ["{F}{C}", "{F} {L}"]
    report = tmp_path / "report.json"
    rows = [{"name": "{F}{L}", "mdi_rank": 2}, {"name": "{F}{C}", "mdi_rank": 1}]
    report.write_text(json.dumps({"importance": {"rows": rows}}))
    assert read_ranking(report) == ["{F}{C}", "{F}{L}"]
    report.write_text(json.dumps({"importance": {"skipped": "too few trials"}}))
    with pytest.raises(ValueError, match="too few trials"):
        read_ranking(report)


def test_zero_changes_are_the_medians_the_report_gives():
    """The measured order ranks by each zeroed weight's median validation change: the same
    numbers as the report's summaries (a failed seed left out; no finite change: NaN)."""

    def row(kind, atom, val_change):
        return {"kind": kind, "atom": atom, "change": "0", "step": 0, "val_change": val_change}

    nan = float("nan")
    rows = [row("reference", "", 0.0), row("reference", "", 0.0)]
    rows += [row("zero", "{F}{C}", v) for v in (-0.05, -0.01, -0.03)]
    rows += [row("zero", "{F}{L}", v) for v in (0.02, nan)]
    rows += [row("zero", "H_res", v) for v in (nan, nan)]
    rows += [row("relative", "{F}{C}", -0.5)]  # other kinds do not count
    changes = zero_changes(rows)
    assert changes["{F}{C}"] == pytest.approx(-0.03)  # median of three
    assert changes["{F}{L}"] == pytest.approx(0.02)  # the NaN seed left out
    assert math.isnan(changes["H_res"])
    for summary in summarise([{**r, "test_change": 0.0, "val_accuracy": 0.9} for r in rows]):
        if summary.kind == "zero" and not math.isnan(summary.val_median):
            assert changes[summary.atom] == pytest.approx(summary.val_median)


def test_order_choice_names_each_source(tmp_path):
    assert order_choice("weight").source == "ascending absolute weight"
    assert order_choice("paper").source == "the paper's order (Fig. 4C)"
    assert order_choice("measured").ranking is None
    listed = tmp_path / "ranking.json"
    listed.write_text(json.dumps(["{F}{C}"]))
    choice = order_choice(str(listed))
    assert (choice.order, choice.ranking) == ("ranking", ["{F}{C}"])
    assert choice.source == f"ranking in {listed}"
    study = order_choice("study:sqlite:///s.db#s", lambda name: [name])
    assert study.ranking == ["sqlite:///s.db#s"]
    assert study.source == "importance of study sqlite:///s.db#s"
    with pytest.raises(ValueError, match="no order name"):
        order_choice("sideways")
    with pytest.raises(ValueError, match="no order name"):
        order_choice("study:x#y")  # no reader of studies given
