"""docs/results/beyond: the retraining table's numbers (hand-derived) and, slow, the whole
experiment plan at its tiny size."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BEYOND = Path(__file__).resolve().parents[1] / "docs" / "results" / "beyond"


def _table():
    spec = importlib.util.spec_from_file_location("beyond_table", BEYOND / "table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_medians_spreads_and_differences(tmp_path):
    table = _table()
    accuracies = {"paper": [0.90, 0.91, 0.92], "found1": [0.95, 0.96, 0.97], "found2": [0.905]}
    for goal, values in accuracies.items():
        for seed, value in enumerate(values):
            run = tmp_path / "g" / goal / f"seed{seed}"
            run.mkdir(parents=True)
            (run / "summary.json").write_text(json.dumps({"test_accuracy": value}))
    (tmp_path / "g" / "paper" / "seed9").mkdir()  # unfinished: no summary, not counted
    runs = table.collect(tmp_path)
    assert runs == {
        "g": {
            "found1": {"seed0": 0.95, "seed1": 0.96, "seed2": 0.97},
            "found2": {"seed0": 0.905},
            "paper": {"seed0": 0.90, "seed1": 0.91, "seed2": 0.92},
        }
    }
    groups = {goal: list(seeds.values()) for goal, seeds in runs["g"].items()}
    groups = {"g": groups}
    better = table.compare(groups["g"]["found1"], groups["g"]["paper"])
    # medians 0.96 and 0.91: +0.05; ranges 0.02 and 0.02; every found seed above every paper seed
    assert better["diff"] == pytest.approx(0.05) and better["spread"] == pytest.approx(0.02)
    assert better["exceeds"] and better["apart"]
    inside = table.compare([0.905], groups["g"]["paper"])
    assert inside["diff"] == pytest.approx(-0.005) and not inside["exceeds"] and not inside["apart"]
    text = table.markdown(runs)
    assert "| g | found1 | 3 | 96.00% | 95.00 - 97.00% | +5.00 pp | yes | yes |" in text
    assert "| g | paper | 3 | 91.00% | 90.00 - 92.00% |  |  |  |" in text


def test_table_keeps_earlier_accuracies_and_lets_new_runs_replace_their_seeds(tmp_path):
    table = _table()
    record = tmp_path / "retraining.json"
    assert table.load(record) == {}
    kept = {"old": {"paper": {"seed0": 0.8}}, "g": {"paper": {"seed0": 0.5, "seed1": 0.6}}}
    table.save(record, kept)
    assert table.load(record) == kept and not list(tmp_path.glob("*.tmp"))
    new = {"g": {"paper": {"seed1": 0.7}, "found1": {"seed0": 0.9}}}
    merged = table.merge(table.load(record), new)
    assert merged == {
        "g": {"found1": {"seed0": 0.9}, "paper": {"seed0": 0.5, "seed1": 0.7}},
        "old": {"paper": {"seed0": 0.8}},
    }
    assert list(merged) == ["g", "old"] and list(merged["g"]) == ["found1", "paper"]
    assert kept["g"]["paper"]["seed1"] == 0.6  # merging leaves its inputs alone


def _run_all():
    spec = importlib.util.spec_from_file_location("beyond_run_all", BEYOND / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def test_a_found_goal_equal_to_the_papers_is_recognised_in_every_layout():
    from infomorphic.nn.goals import Goal

    run_all = _run_all()
    paper = Goal.named("optimized").as_dict()
    other = dict(paper, **{"{F}{C}": 0.5})
    assert run_all.is_paper_goal(paper)
    assert run_all.is_paper_goal({"hidden1": paper, "hidden2": dict(paper)})
    assert not run_all.is_paper_goal(other)
    assert not run_all.is_paper_goal({"hidden1": paper, "hidden2": other})
    assert not run_all.is_paper_goal({"hidden1": paper, "hidden2": None})


@pytest.mark.slow
def test_the_experiment_plan_runs_end_to_end_at_its_tiny_size(tmp_path):
    """Every step of run_all.py (searches, reports, retraining, Fashion-MNIST when installed)."""
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    command = [
        sys.executable,
        str(BEYOND / "run_all.py"),
        "--scale",
        "tiny",
        "--runs",
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    reports = tmp_path / "tiny" / "reports"
    for study in run_all_studies():
        assert (reports / study / "report.md").is_file() and (
            reports / study / "best_goal.json"
        ).is_file()
    table = (reports / "retraining.md").read_text()
    for group in ("layers-setup2-200-100", "fashion-feedback-setup3-100", "setup1-100-hyperband"):
        assert f"| {group} | paper |" in table
    # g's reference is b's: the same runs, linked rather than trained twice
    linked = tmp_path / "tiny" / "retrain" / "feedback-setup3-100-hyperband" / "paper" / "seed0"
    assert linked.is_symlink() and (linked / "summary.json").is_file()
    kept = json.loads((reports / "retraining.json").read_text())
    assert "deep-feedback-200-100-hyperband" in kept
    compute = json.loads((tmp_path / "tiny" / "compute.json").read_text())
    assert set(compute) == set("abcdefghij")


def run_all_studies():
    return list(_run_all().STUDIES.values())
