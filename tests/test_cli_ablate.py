"""``infomorphic ablate`` end to end: the dry run's listing, the files written, finished runs
reused on a rerun, failed runs, and one layer's goal ablated."""

from __future__ import annotations

import json

from conftest import PAPER_ORDER_LABELS

from infomorphic.cli import main
from infomorphic.nn.goals import Goal
from infomorphic.training.config import TrainConfig


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
    from infomorphic.experiments.ablation import ablation_goal, make_variants, run_specs

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
