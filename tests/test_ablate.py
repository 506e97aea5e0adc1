"""Goal ablations: the variants, the removal orders, the critical-weight rule, and the command
end to end (files written, finished runs reused on a rerun)."""

from __future__ import annotations

import json
import math

import pytest

from infomorphic.cli import main
from infomorphic.nn.goals import Goal
from infomorphic.reports.ablation import (
    PAPER_CRITICAL,
    make_variants,
    measured_order,
    read_ranking,
    removal_order,
)
from infomorphic.reports.ablation_report import (
    critical_weights,
    markdown,
    reference_stats,
    summarise,
)
from infomorphic.training.config import TrainConfig

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


# The paper's cumulative order, least important first (SPEC.md section 5: indices 4, 16, 10,
# 17, 5, 9, 8, 14, 18, 13, 12, 6, 15, 3, 7, 1, 0, 2, 11 of the 19-vector), typed as labels.
PAPER_ORDER_LABELS = [
    "{F}{CL}",
    "{CL}",
    "{FC}{FL}{CL}",
    "{FCL}",
    "{C}{FL}",
    "{L}",
    "{C}",
    "{FC}",
    "H_res",
    "{FL}{CL}",
    "{FC}{CL}",
    "{L}{FC}",
    "{FL}",
    "{C}{L}",
    "{F}",
    "{F}{C}",
    "{F}{C}{L}",
    "{F}{L}",
    "{FC}{FL}",
]


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


def test_dry_run_lists_the_variants(capsys, tmp_path):
    goal = tmp_path / "g.json"
    goal.write_text(json.dumps({"{F}{C}": 1.0, "{F}{L}": -0.5}))
    assert (
        main(
            [
                "ablate",
                "--goal",
                str(goal),
                "--dataset",
                "digits",
                "--seeds",
                "3",
                "--kinds",
                "zero,relative",
                "--dry-run",
            ]
        )
        == 0
    )
    assert "7 variants, 21 runs of 3 seeds" in capsys.readouterr().out
    assert main(["ablate", "--goal", str(goal), "--kinds", "zero,half", "--dry-run"]) == 2
    assert main(["ablate", "--model", "backprop", "--dry-run"]) == 2
    assert (
        main(
            [
                "ablate",
                "--goal",
                "optimized",
                "--order",
                "paper",
                "--kinds",
                "cumulative",
                "--dry-run",
            ]
        )
        == 0
    )
    listed = capsys.readouterr().out
    assert f"removal order (the paper's order (Fig. 4C)): {', '.join(PAPER_ORDER_LABELS)}" in listed
    assert "20 variants, 60 runs of 3 seeds" in listed


def test_ablation_end_to_end_writes_its_files_and_reuses_finished_runs(tmp_path, capsys):
    goal = tmp_path / "two.json"
    goal.write_text(json.dumps({"{F}{C}": 1.0, "{F}{L}": -0.5}))
    out = tmp_path / "ablation"
    argv = [
        "ablate",
        "--goal",
        str(goal),
        "--dataset",
        "digits",
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "128",
        "--seeds",
        "2",
        "--kinds",
        "zero",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert "6 runs trained, 0 reused, 0 failed" in first.err
    for name in ("ablation.csv", "ablation.md", "ablation_zero.png"):
        assert (out / name).is_file(), name
    assert not (out / "ablation_cumulative.png").exists()
    lines = (out / "ablation.csv").read_text().splitlines()
    assert lines[0].startswith("kind,atom,change,step,seed,")
    assert len(lines) == 1 + 3 * 2  # reference and two zero variants, two seeds each
    text = (out / "ablation.md").read_text()
    assert "![zero ablation](ablation_zero.png)" in text and "Reference spread" in text
    runs = sorted((out / "runs").iterdir())
    assert len(runs) == 6
    stamps = {p: p.stat().st_mtime_ns for run in runs for p in run.iterdir()}

    assert main(argv) == 0
    assert "0 runs trained, 6 reused, 0 failed" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for run in runs for p in run.iterdir()} == stamps


def test_failed_runs_say_their_error_once_and_write_no_table(tmp_path, capsys):
    out = tmp_path / "ablation"
    argv = [
        "ablate",
        "--goal",
        "heuristic",
        "--dataset",
        "mnist",
        "--data-dir",
        str(tmp_path / "nowhere"),
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--seeds",
        "2",
        "--kinds",
        "zero",
        "--out",
        str(out),
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "0 runs trained, 0 reused, 4 failed" in err
    assert err.count("error (4 runs):") == 1  # one message for the four runs
    assert not (out / "ablation.md").exists() and not (out / "ablation.csv").exists()


def test_ablate_one_layers_goal_and_keep_the_others(tmp_path, capsys):
    """--layer varies one layer's goal; the other layers keep theirs in every run."""
    from infomorphic.reports.ablation import ablation_goal, run_specs

    goals = tmp_path / "layers.json"
    goals.write_text(json.dumps({"hidden1": "heuristic", "hidden2": {"{F}{C}": 1, "{F}{L}": -1}}))
    argv = [
        "ablate",
        "--goal",
        str(goals),
        "--hidden",
        "8,6",
        "--dataset",
        "digits",
        "--kinds",
        "zero",
        "--dry-run",
    ]
    assert main(argv) == 2  # the layers' goals differ: which one?
    assert "choose the goal to ablate with --layer" in capsys.readouterr().err
    assert main([*argv, "--layer", "hidden3"]) == 2
    assert main([*argv, "--layer", "hidden2", "--seeds", "2"]) == 0
    assert "3 variants, 6 runs of 2 seeds into ablation-setup1-layers-hidden2-digits" in (
        capsys.readouterr().out
    )
    base = TrainConfig(dataset="digits", hidden=[8, 6], goal=str(goals)).validate()
    goal = ablation_goal(base, "hidden2")
    assert goal.as_dict()["{F}{L}"] == -1.0
    specs = run_specs(base, make_variants(goal, ["zero"]), [0], tmp_path / "runs", "hidden2")
    for (weights, _), spec in specs.items():
        assert spec.config.goal == {"hidden1": "heuristic", "hidden2": list(weights)}
    shared = TrainConfig(dataset="digits", hidden=[8, 6], goal="heuristic").validate()
    assert ablation_goal(shared).name == "heuristic"  # one goal in every layer: no --layer needed
    (spec,) = run_specs(shared, make_variants(ablation_goal(shared), []), [0], tmp_path).values()
    assert spec.config.goal == list(Goal.named("heuristic").weights)  # as before: every layer
