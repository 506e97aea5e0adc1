"""The experiments runner: grids, folder names, reuse, resume, refusal, the process pool."""

from __future__ import annotations

import pytest

from infomorphic.experiments import RunSpec, grid, run_grid, run_name
from infomorphic.training import RunFolder, TrainConfig, train

BASE = TrainConfig(dataset="digits", hidden=[8], batch_size=256, epochs=2)


def test_grid_is_the_product_of_the_axes():
    configs = grid(BASE, model=["setup1", "backprop"], seed=[0, 1, 2])
    assert [(c.model, c.seed) for c in configs] == [
        (m, s) for m in ("setup1", "backprop") for s in (0, 1, 2)
    ]
    assert all(c.hidden == [8] and c.epochs == 2 for c in configs)
    with pytest.raises(ValueError, match="unknown option 'colour'"):
        grid(BASE, colour=["red"])
    with pytest.raises(ValueError, match="seed: must be"):
        grid(BASE, seed=[-1])


def test_run_names_tell_the_runs_apart():
    configs = grid(
        BASE, model=["setup1", "setup2"], goal=[None, "heuristic", [0.0] * 19], seed=[0, 1]
    )
    names = [run_name(c) for c in configs]
    assert len(set(names)) == len(names)
    assert run_name(BASE) == "setup1-default-digits-N8-e2-seed0-b256"


def test_runs_are_reused_resumed_and_never_mixed(tmp_path):
    specs = [RunSpec(c, tmp_path / run_name(c), "x") for c in grid(BASE, seed=[0, 1])]
    seen = []
    first = run_grid(specs, workers=1, on_progress=lambda p, r: seen.append(str(p)))
    assert all(r.error is None and not r.reused for r in first)
    assert seen[-1].startswith("2/2 runs done")
    seen.clear()
    again = run_grid(specs, workers=1, on_progress=lambda p, r: seen.append(str(p)))
    assert all(r.reused for r in again)
    # only reused runs: no training time to estimate the rest by, and the line says so
    assert seen == [
        "1/2 runs done, time left not yet known",
        "2/2 runs done, time left not yet known",
    ]
    assert [r.summary for r in again] == [r.summary for r in first]
    # more epochs: the finished run resumes from its checkpoint instead of starting over
    longer = RunSpec(grid(BASE, seed=[0], epochs=[3])[0], specs[0].out)
    (result,) = run_grid([longer], workers=1)
    assert not result.reused and result.summary["epochs"] == 3
    assert [row["epoch"] for row in RunFolder(specs[0].out).history()] == [1, 2, 3]
    straight = train(longer.config, tmp_path / "straight", progress=False)
    assert straight["test_accuracy"] == result.summary["test_accuracy"]
    # a folder holding another configuration is refused, and the other runs go on
    other = RunSpec(grid(BASE, seed=[7])[0], specs[1].out)
    fine = RunSpec(grid(BASE, seed=[2])[0], tmp_path / "fine")
    refused, ok = run_grid([other, fine], workers=1)
    assert "holds another run" in refused.error and "seed" in refused.error
    assert ok.error is None
    # the same run written otherwise (the model's default goal by its name) is the same run:
    # the grid decides it as resuming does (training.same_run.config_differences)
    named = RunSpec(grid(BASE, seed=[0], epochs=[3], goal=["optimized"])[0], specs[0].out)
    (reused,) = run_grid([named], workers=1)
    assert reused.error is None and reused.reused


def test_a_run_in_this_process_gives_back_the_thread_count(tmp_path):
    import torch

    before = torch.get_num_threads()
    run_grid([RunSpec(grid(BASE, epochs=[1])[0], tmp_path / "one")], workers=1, threads=1)
    assert torch.get_num_threads() == before


def test_two_runs_sharing_a_folder_are_refused(tmp_path):
    spec = RunSpec(BASE, tmp_path / "same")
    with pytest.raises(ValueError, match="share a folder"):
        run_grid([spec, RunSpec(grid(BASE, seed=[1])[0], tmp_path / "same")])


@pytest.mark.slow
def test_the_process_pool_gives_the_same_results_as_one_process(tmp_path):
    configs = grid(BASE, seed=[0, 1])
    pooled = run_grid([RunSpec(c, tmp_path / "a" / run_name(c)) for c in configs], workers=2)
    inline = run_grid([RunSpec(c, tmp_path / "b" / run_name(c)) for c in configs], workers=1)
    assert [r.summary["test_accuracy"] for r in pooled] == [
        r.summary["test_accuracy"] for r in inline
    ]
