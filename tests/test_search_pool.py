"""``search.pool``: a search's workers in this process or as tasks of an executor (a Dask
cluster's in use; a thread pool here), reporting through the ``log`` they are given."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

optuna = pytest.importorskip("optuna")

from infomorphic.search.pool import run_workers, worker_name  # noqa: E402
from infomorphic.search.protocol import search_settings, start_search  # noqa: E402
from infomorphic.training.config import TrainConfig  # noqa: E402

TINY = TrainConfig(dataset="digits", hidden=[8], epochs=1, batch_size=256).validate()


def test_a_worker_is_named_by_its_place_host_and_process():
    assert re.fullmatch(r"2/3 \([^:]+:\d+\)", worker_name(1, 3))
    assert re.fullmatch(r"[^:]+:\d+", worker_name(None, 3))


def test_workers_on_an_executor_log_the_study_s_finished_trials(tmp_path):
    settings = search_settings(TINY, 2, sampler="random", out=tmp_path, workers=1, threads=1)
    study = start_search(settings).study
    said: list[str] = []
    with ThreadPoolExecutor(1) as executor:
        assert run_workers(settings, study, said.append, executor) == 0
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert said[-1] == "2/2 trials finished"
    worker = [line for line in said if line.startswith("worker 1/1 (")]
    assert "data digits" in worker[0] and "0 pruned, 0 failed" in worker[-1]
    assert sum(": trial " in line for line in worker) == 2
    assert run_workers(settings, study, said.append) == 0  # in this process: nothing left


def test_a_worker_that_stops_on_the_executor_is_named_and_fails_the_run(tmp_path):
    """A worker whose study cannot be opened (here: never created) ends the run with 1."""
    settings = search_settings(TINY, 1, sampler="random", out=tmp_path, threads=1)
    said: list[str] = []
    with ThreadPoolExecutor(1) as executor:
        code = run_workers(settings, optuna.create_study(), said.append, executor)
    assert code == 1
    assert said[-1].startswith("worker 0 stopped: ValueError: the storage ")
    assert "holds no study 'search-setup1-random'" in said[-1]
