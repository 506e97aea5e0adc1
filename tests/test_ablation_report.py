"""An ablation's report (``infomorphic.reports.ablation_stats`` and ``ablation_report``): the
critical-weight rule, the cumulative drops and the Markdown, from hand-made rows."""

from __future__ import annotations

import math

import pytest

from infomorphic.nn.goals import Goal
from infomorphic.reports.ablation import PAPER_CRITICAL
from infomorphic.reports.ablation_report import (
    critical_weights,
    markdown,
    reference_stats,
    summarise,
)
from infomorphic.training.config import TrainConfig

FCL = ("F", "C", "L")


def _row(kind, atom, seed, val, ref_val, test=0.5, ref_test=0.5, step=0, train=0.6):
    return {
        "kind": kind,
        "atom": atom,
        "change": "0" if atom else "none",
        "step": step,
        "seed": seed,
        "weight": 1.0 if atom else "",
        "val_accuracy": val,
        "test_accuracy": test,
        "train_batch_accuracy": train,
        "val_change": val - ref_val,
        "test_change": test - ref_test,
        "run": f"r{seed}",
        "error": "",
    }


def _table(reference, drops):
    rows = [_row("reference", "", s, v, v) for s, v in enumerate(reference)]
    for atom, deltas in drops.items():
        rows += [
            _row("zero", atom, s, reference[s] + d, reference[s]) for s, d in enumerate(deltas)
        ]
    return rows


def test_critical_weights_are_the_largest_drops_with_the_spread_beside_them():
    rows = _table(
        [0.90, 0.91, 0.92],
        {  # spread: 0.92 - 0.90 = 0.02
            "{F}{C}": [-0.05, -0.06, -0.04],  # median -0.05: beyond the spread
            "{F}{L}": [-0.01, -0.03, 0.00],  # median -0.01: within the spread
            "{F}{C}{L}": [-0.02, -0.02, -0.02],  # exactly the spread: not beyond it
            "{FC}{FL}": [-0.10, -0.10, float("nan")],  # a failed seed is left out
            "{C}": [0.01, 0.0, 0.02],  # no drop: never critical
        },
    )
    critical = critical_weights(rows)  # the paper's verdict: the four largest drops
    assert critical.spread == pytest.approx(0.02)
    assert critical.labels == ("{FC}{FL}", "{F}{C}", "{F}{C}{L}", "{F}{L}")  # most harmful first
    assert critical.beyond_spread == ("{FC}{FL}", "{F}{C}")
    assert critical_weights(rows, k=2).labels == ("{FC}{FL}", "{F}{C}")
    assert critical_weights(rows, k=6).labels == critical.labels  # {C} costs nothing
    assert critical.changes["{F}{L}"] == pytest.approx(-0.01)
    summary = {s.atom: s for s in summarise(rows)}
    assert summary["{FC}{FL}"].n == 2
    assert (summary["{F}{C}"].val_min, summary["{F}{C}"].val_max) == pytest.approx((-0.06, -0.04))
    assert reference_stats(rows).val_median == pytest.approx(0.91)


def test_one_seed_names_the_largest_drops_without_a_spread():
    critical = critical_weights(_table([0.9], {"{F}{C}": [-0.3]}))
    assert critical.spread is None and critical.labels == ("{F}{C}",)
    assert critical.beyond_spread == ()


def test_cumulative_drops_are_each_steps_loss_against_the_step_before():
    rows = [_row("reference", "", s, v, v) for s, v in enumerate([0.90, 0.92])]
    accuracies = {"{C}": [0.90, 0.91], "{F}{C}": [0.70, 0.75], "{F}{L}": [0.20, 0.15]}
    for step, (atom, values) in enumerate(accuracies.items(), 1):
        rows += [_row("cumulative", atom, s, v, 0.9, step=step) for s, v in enumerate(values)]
    drops = critical_weights(rows).cumulative
    assert drops["{C}"] == pytest.approx(-0.005)  # median of 0.00 and -0.01
    assert drops["{F}{C}"] == pytest.approx(-0.18)  # median of -0.20 and -0.16
    assert drops["{F}{L}"] == pytest.approx(-0.55)  # median of -0.50 and -0.60


def test_markdown_names_the_critical_weights_next_to_the_papers_four():
    rows = _table([0.90, 0.92], {"{F}{C}": [-0.2, -0.2], "{C}": [0.0, 0.01]})
    goal = Goal.from_dict({"{F}{C}": 1.0, "{C}": 0.5}, FCL, "g")
    text = markdown(rows, goal, TrainConfig(), [], "")
    assert "Critical here: `{F}{C}`." in text and "Drops beyond it: `{F}{C}`." in text
    for label in PAPER_CRITICAL:
        assert f"| `{label}` |" in text
    assert "| `{F}{L}` | -0.99 | +0.000 | not ablated (weight 0) | n/a | n/a | n/a |" in text
    assert "| `{F}{C}` | +0.98 | +1.000 | -20.00 (-20.00..-20.00) | not run | yes | yes |" in text
    assert "-20.00 (-20.00..-20.00)" in text  # percentage points
    assert not math.isnan(reference_stats(rows).val_median)
