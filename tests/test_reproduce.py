"""Reproduction targets: their grids, and one target end to end on a tiny configuration."""

from __future__ import annotations

import json

import pytest

from infomorphic.reproduce import SCALES, TARGETS, reproduce
from infomorphic.reproduce.targets import Scale
from infomorphic.training.config import TrainConfig


@pytest.mark.parametrize("name", list(TARGETS))
def test_every_target_builds_a_valid_grid(name):
    scale = SCALES["quick"]
    runs = TARGETS[name].runs(TrainConfig(dataset="mnist"), scale)
    assert runs
    for _, _, config in runs:
        config.validate()
    seeds = {config.seed for _, _, config in runs}
    assert seeds == set(range(scale.seeds))


def test_fig3c_covers_every_size_for_every_model():
    runs = TARGETS["fig3c"].runs(TrainConfig(), SCALES["quick"])
    sizes = {(group, x) for group, x, _ in runs}
    assert {x for _, x in sizes} == {100, 200, 500, 1000}
    assert {g for g, _ in sizes} == {"setup 1", "setup 2", "setup 3", "backprop"}


def test_a_target_end_to_end_and_reused(tmp_path):
    tiny = Scale("tiny", seeds=1, epochs=1, sizes=(100,))
    base = TrainConfig(dataset="digits", batch_size=256)
    seen = []
    folder = reproduce("linear", tiny, base, tmp_path, workers=1,
                       on_progress=lambda p, r: seen.append(p))  # fmt: skip
    table = (folder / "table.md").read_text()
    assert "| modulated |" in table and "| linear |" in table and "94.9%" in table
    results = json.loads((folder / "results.json").read_text())
    assert [p["group"] for p in results["points"]] == ["modulated", "linear"]
    assert all(len(p["values"]) == 1 and 0 <= p["values"][0] <= 100 for p in results["points"])
    assert (folder / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert seen[-1].done == 2
    again = []
    reproduce("linear", tiny, base, tmp_path, workers=1, on_progress=lambda p, r: again.append(r))
    assert all(result.reused for result in again)


def test_self_cosine_target_reads_the_history(tmp_path):
    tiny = Scale("tiny", seeds=1, epochs=2, sizes=(8,))
    folder = reproduce("fig5", tiny, TrainConfig(dataset="digits", batch_size=256), tmp_path,
                       workers=1)  # fmt: skip
    points = json.loads((folder / "results.json").read_text())["points"]
    assert {p["group"] for p in points} == {"setup 1", "setup 2"}
    assert all(0 <= p["values"][0] <= 2 for p in points)  # a cosine distance, not a percent


def test_the_searching_and_ablating_targets_run(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    from infomorphic.reproduce import searched

    monkeypatch.setitem(searched.SEARCH_SIZES, "tiny", (3, 1))
    tiny = Scale("tiny", seeds=2, epochs=1, sizes=(100,))
    base = TrainConfig(dataset="digits", batch_size=256)
    report = searched.run_delegated("fig6", tiny, base, tmp_path, workers=1)
    assert report.name == "report.md" and "3 complete" in report.read_text()
    table = searched.run_delegated("table3", tiny, base, tmp_path, workers=1)
    text = table.read_text()
    assert "{F}{C}" in text and "0.98" in text  # ours next to the paper's critical weights
