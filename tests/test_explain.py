"""A goal as a table (``infomorphic.reports.explain``): the rows in lattice order, the dominant
weights, the residual's effect, Markdown, and GOAL read by name (docs/goals.md)."""

from __future__ import annotations

import pytest
from conftest import TABLE_2

from infomorphic.nn.goals import Goal
from infomorphic.reports import explain_goal, explain_weights
from infomorphic.reports.explain import goal_from_spec

# The four weights the paper's Table 3 rounds.
TABLE_3 = {"{F}{C}": 0.98, "{F}{L}": -0.99, "{F}{C}{L}": 0.33, "{FC}{FL}": -0.97}


def test_optimized_table_in_lattice_order_with_published_weights():
    goal = Goal.named("optimized")
    explanation = explain_goal(goal)
    assert [row.label for row in explanation.rows] == list(TABLE_2)
    assert [row.index for row in explanation.rows] == list(range(1, 20))
    assert explanation.weights == goal.weights
    by_label = {row.label: row for row in explanation.rows}
    for label, weight in TABLE_3.items():
        assert by_label[label].weight == pytest.approx(weight, abs=0.005)
    assert by_label["{F}{C}"].effect == "strongly encode"
    assert by_label["{F}{L}"].effect == "strongly suppress"
    assert by_label["{F}{C}{L}"].effect == "moderately encode"
    assert "keep this out of its output" in by_label["{FC}{FL}"].push
    residual = by_label["H_res"]
    assert residual.kind == "residual" and "do not explain" in residual.meaning
    text = explanation.to_text()
    assert all(label in text for label in TABLE_2)


def test_dominant_weights():
    heuristic = explain_goal(Goal.named("heuristic"))
    assert [row.label for row in heuristic.dominant] == ["{F}{C}"]
    assert heuristic.covered == 1.0
    assert heuristic.summary.startswith("Mostly: encode {F}{C} (1 of 19 weights")
    optimized = explain_goal(Goal.named("optimized"))
    dominant = [row.label for row in optimized.dominant]
    assert dominant[:2] == ["{F}{L}", "{F}{C}"]
    assert optimized.covered >= 0.5
    # the fewest: without the last one the share is not reached
    assert optimized.covered - abs(optimized.dominant[-1].weight) / optimized.total_abs_weight < 0.5
    assert len(explain_goal(Goal.named("optimized"), share=1.0).dominant) == 19
    zero = explain_weights([0.0] * 5, ("F", "C"))
    assert zero.dominant == () and "zero" in zero.summary


def test_residual_effect_and_hook_for_bare_weights():
    explanation = explain_weights({"{F}": 1.0, "H_res": -0.5}, ("F", "L"), name="trial 3")
    assert explanation.name == "trial 3"
    assert explanation.rows[-1].effect == "moderately reduce noise"
    assert "determined by the inputs" in explanation.rows[-1].push
    noisy = explain_weights([0, 0, 0, 0, 1.0], ("F", "C"))
    assert "beyond what the inputs explain" in noisy.rows[-1].push


def test_markdown_table():
    text = explain_goal(Goal.named("output")).to_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 5 and all(row.count("|") == 6 for row in rows)


def test_goal_from_spec_names_and_aliases():
    assert goal_from_spec("optimised") == Goal.named("optimized")
    assert goal_from_spec("[1, 0, 0, 0, 0]").source_names == ("F", "C")
    assert goal_from_spec("lateral-heuristic").source_names == ("F", "L")
