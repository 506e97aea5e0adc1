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
    groups = table.collect(tmp_path)
    assert groups == {
        "g": {"found1": [0.95, 0.96, 0.97], "found2": [0.905], "paper": [0.90, 0.91, 0.92]}
    }
    better = table.compare(groups["g"]["found1"], groups["g"]["paper"])
    # medians 0.96 and 0.91: +0.05; ranges 0.02 and 0.02; every found seed above every paper seed
    assert better["diff"] == pytest.approx(0.05) and better["spread"] == pytest.approx(0.02)
    assert better["exceeds"] and better["apart"]
    inside = table.compare([0.905], groups["g"]["paper"])
    assert inside["diff"] == pytest.approx(-0.005) and not inside["exceeds"] and not inside["apart"]
    text = table.markdown(groups)
    assert "| g | found1 | 3 | 96.00% | 95.00 - 97.00% | +5.00 pp | yes | yes |" in text
    assert "| g | paper | 3 | 91.00% | 90.00 - 92.00% |  |  |  |" in text


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
    for study in ("layers-setup2-200-100", "feedback-setup3-100", "setup1-100-hyperband"):
        assert (reports / study / "report.md").is_file() and (
            reports / study / "best_goal.json"
        ).is_file()
    table = (reports / "retraining.md").read_text()
    for group in ("layers-setup2-200-100", "fashion-feedback-setup3-100", "setup1-100-hyperband"):
        assert f"| {group} | paper |" in table
    compute = json.loads((tmp_path / "tiny" / "compute.json").read_text())
    assert set(compute) == set("abcdef")
