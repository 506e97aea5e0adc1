"""Grids and searches on a Dask cluster: the same numbers as the local pool, a worker killed in a
run loses nothing, searches on PostgreSQL (or SQLite on local:N) end at exactly T trials, and
--cluster without the extra or with a SQLite study on remote workers is refused."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import pytest
import torch

from infomorphic.cli import main
from infomorphic.experiments import RunSpec, grid, run_grid, run_name
from infomorphic.experiments.cluster import ClusterSpec, parse_cluster
from infomorphic.training import RunFolder, TrainConfig

try:
    import distributed
except ImportError:  # the tests that need no cluster still run
    distributed = None

needs_dask = pytest.mark.skipif(distributed is None, reason="needs infomorphic[cluster]")
BASE = TrainConfig(dataset="digits", hidden=[8], batch_size=256, epochs=2)
SEARCH = ["--dataset", "digits", "--hidden", "8", "--batch-size", "256", "--sampler", "random"]
POSTGRES_URL = os.environ.get("INFOMORPHIC_TEST_POSTGRES")


def _plain(row: dict) -> dict:
    """A summary or history row without its wall-clock time."""
    return {k: v for k, v in row.items() if k != "seconds"}


def assert_same_run(a: Path, b: Path) -> None:
    """Two run folders hold the same training, number for number: summary, history, atoms
    and the final weights (the wall-clock seconds aside)."""
    first, second = RunFolder(a), RunFolder(b)
    assert _plain(first.summary()) == _plain(second.summary())
    assert [_plain(r) for r in first.history()] == [_plain(r) for r in second.history()]
    atoms_a, atoms_b = first.atoms(), second.atoms()
    assert atoms_a.keys() == atoms_b.keys()
    assert all(np.array_equal(atoms_a[k], atoms_b[k]) for k in atoms_a)
    weights_a, weights_b = first.checkpoint()["model"], second.checkpoint()["model"]
    assert weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)


# ------------------------------------------------------------------ without a cluster at all


def test_cluster_specs_are_parsed_or_refused():
    assert parse_cluster("local:3") == ClusterSpec("local:3", local_workers=3)
    assert parse_cluster("local:3").is_local
    assert parse_cluster("tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"
    assert parse_cluster("node7:8786").address == "node7:8786"
    assert not parse_cluster("node7:8786").is_local
    assert parse_cluster("run/scheduler.json").scheduler_file == "run/scheduler.json"
    for wrong in ("local:0", "local:x", "local", "node7", "8786"):
        with pytest.raises(ValueError, match="local:N"):
            parse_cluster(wrong)


@pytest.mark.parametrize(
    "command",
    [
        ["reproduce", "linear", "--dataset", "digits"],
        ["ablate", "--kinds", "zero", "--seeds", "1", "--epochs", "1", "--dataset", "digits"],
        ["search", "--trials", "2", "--epochs", "1", *SEARCH],
    ],
    ids=["reproduce", "ablate", "search"],
)
def test_cluster_without_the_extra_names_it(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code = main([*command, "--out", str(tmp_path / "out"), "--cluster", "local:2"])
    assert code == 2
    assert "pip install 'infomorphic[cluster]'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "runs").exists()  # nothing was trained


def test_bad_cluster_values_exit_2(capsys):
    assert main(["reproduce", "linear", "--cluster", "local:0"]) == 2
    assert "local:N" in capsys.readouterr().err


def test_sqlite_is_refused_when_the_workers_are_remote(tmp_path, capsys):
    args = ["search", "--trials", "2", "--epochs", "1", *SEARCH, "--out", str(tmp_path / "s")]
    assert main([*args, "--cluster", "tcp://127.0.0.1:8786"]) == 2
    err = capsys.readouterr().err
    assert "SQLite" in err and "postgresql" in err
    assert not (tmp_path / "s" / "study.db").exists()


class _LosesTheFirstRun(Executor):
    """An executor that loses its first task (as Dask does when the run's worker died more
    often than the scheduler allows) and runs the others here."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        future: Future = Future()
        if self.submitted == 1:
            future.set_exception(RuntimeError("worker died"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_run_the_executor_loses_is_an_error_and_the_grid_goes_on(tmp_path):
    specs = [RunSpec(c, tmp_path / run_name(c)) for c in grid(BASE, seed=[0, 1], epochs=[1])]
    lost, fine = run_grid(specs, executor=_LosesTheFirstRun())
    assert lost.summary is None and "worker died" in lost.error and "resume" in lost.error
    assert fine.error is None and fine.summary["epochs"] == 1
    assert lost.spec is specs[0] and fine.spec is specs[1]


def test_a_worker_that_cannot_see_the_run_folder_says_so(tmp_path):
    from infomorphic.experiments.runner import _run_elsewhere

    result = _run_elsewhere(RunSpec(BASE, tmp_path / "not-shared" / "run"), 1)
    assert result.summary is None and "shared file system" in result.error
    assert not (tmp_path / "not-shared").exists()


@needs_dask
def test_a_scheduler_that_is_not_there_is_named(tmp_path):
    from infomorphic.experiments.cluster import open_cluster

    with pytest.raises(FileNotFoundError, match="dask scheduler --scheduler-file"):
        with open_cluster(str(tmp_path / "scheduler.json")):
            pass
    with pytest.raises(OSError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        with open_cluster("tcp://127.0.0.1:9", connect_timeout_s=0.5):
            pass


# ------------------------------------------------------------------ on a real LocalCluster


@pytest.fixture(scope="module")
def local2():
    """An executor on a LocalCluster of two worker processes (one thread each)."""
    from infomorphic.experiments.cluster import open_cluster

    with open_cluster("local:2") as executor:
        yield executor


@needs_dask
def test_a_grid_on_a_local_cluster_equals_the_local_pool(tmp_path, monkeypatch, local2):
    monkeypatch.chdir(tmp_path)  # relative folders: the workers get absolute ones
    configs = grid(BASE, model=["setup1", "backprop"], seed=[0, 1])[:3]
    pooled = run_grid([RunSpec(c, Path("pool") / run_name(c)) for c in configs], workers=2)
    specs = [RunSpec(c, Path("cluster") / run_name(c), label=c.model) for c in configs]
    seen = []
    clustered = run_grid(specs, executor=local2, on_progress=lambda p, r: seen.append(str(p)))
    assert [r.error for r in clustered] == [None] * 3
    assert [r.spec for r in clustered] == specs  # the caller's specs, relative folders kept
    assert [_plain(r.summary) for r in clustered] == [_plain(r.summary) for r in pooled]
    for a, b in zip(pooled, clustered, strict=True):
        assert_same_run(a.spec.out, b.spec.out)
    assert [s.split(" runs")[0] for s in seen] == ["1/3", "2/3", "3/3"]
    again = run_grid(specs, executor=local2)
    assert all(r.reused for r in again)
    assert [r.summary for r in again] == [r.summary for r in clustered]


@needs_dask
def test_a_target_reproduced_on_the_cluster_shows_its_progress(tmp_path, local2):
    from infomorphic.reproduce import reproduce
    from infomorphic.reproduce.targets import Scale

    tiny = Scale("tiny", seeds=1, epochs=1, sizes=(8,))
    base = TrainConfig(dataset="digits", batch_size=256)
    seen = []
    folder = reproduce(
        "linear", tiny, base, tmp_path, on_progress=lambda p, r: seen.append(p), executor=local2
    ).folder
    assert [(p.done, p.total) for p in seen] == [(1, 2), (2, 2)]
    assert "| modulated |" in (folder / "table.md").read_text()


@pytest.mark.slow
@needs_dask
def test_a_grid_through_a_scheduler_file(tmp_path):
    """``--cluster FILE.json``: the file a scheduler wrote (``dask scheduler --scheduler-file``)
    names its address; the grid runs there."""
    from infomorphic.experiments.cluster import open_cluster

    path = tmp_path / "scheduler.json"
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        scheduler_kwargs={"scheduler_file": str(path)},
    ):
        assert path.is_file()
        with open_cluster(str(path)) as executor:
            (result,) = run_grid([RunSpec(BASE, tmp_path / "run")], executor=executor)
    assert result.error is None and result.summary["epochs"] == 2


@pytest.mark.slow
@needs_dask
def test_ablate_on_a_local_cluster_equals_ablate_here(tmp_path, capfd):
    """The command line end to end: ``ablate --cluster local:2`` trains the same runs, number
    for number, and writes the same table as the local pool."""
    import json

    goal = tmp_path / "two.json"
    goal.write_text(json.dumps({"{F}{C}": 1.0, "{F}{L}": -0.5}))
    argv = [
        "ablate",
        "--goal",
        str(goal),
        "--dataset",
        "digits",
        "--hidden",
        "8",
        "--epochs",
        "2",
        "--batch-size",
        "128",
        "--seeds",
        "1",
        "--kinds",
        "zero",
    ]
    assert main([*argv, "--out", str(tmp_path / "here"), "--workers", "2"]) == 0
    assert main([*argv, "--out", str(tmp_path / "cluster"), "--cluster", "local:2"]) == 0
    err = capfd.readouterr().err
    assert "the runs go to the Dask cluster local:2" in err
    assert err.count("3 runs trained, 0 reused, 0 failed") == 2
    runs = sorted(p.name for p in (tmp_path / "here" / "runs").iterdir())
    assert runs == sorted(p.name for p in (tmp_path / "cluster" / "runs").iterdir())
    for name in runs:
        assert_same_run(tmp_path / "here" / "runs" / name, tmp_path / "cluster" / "runs" / name)
    tables = [(tmp_path / d / "ablation.md").read_text() for d in ("here", "cluster")]
    assert tables[0].replace(str(tmp_path / "here"), str(tmp_path / "cluster")) == tables[1]


# ------------------------------------------------------------------ a worker killed in a run


def _log(path: str, line: str) -> None:
    with open(path, "a") as handle:  # O_APPEND: lines of several processes do not mix
        handle.write(line + "\n")


def _counted(log: str, fn, spec: RunSpec, threads):
    """Run ``fn(spec, threads)`` on a worker, logging its start (and whether the folder had a
    checkpoint to resume) and its end (trained or reused) with the worker's pid."""
    resumes = (spec.out / RunFolder.CHECKPOINT).is_file()
    _log(log, f"start {spec.out.name} {os.getpid()} {'resume' if resumes else 'new'}")
    result = fn(spec, threads)
    _log(log, f"end {spec.out.name} {os.getpid()} {'reused' if result.reused else 'trained'}")
    return result


class _Counting(Executor):
    """Submits each run through ``_counted``: the log counts the trainings."""

    def __init__(self, inner: Executor, log: Path) -> None:
        self.inner, self.log = inner, str(log)

    def submit(self, fn, /, *args, **kwargs):
        return self.inner.submit(_counted, self.log, fn, *args, **kwargs)


def _events(log: Path) -> list[list[str]]:
    """The log's whole lines, split (a line being written has no newline yet)."""
    return [line.split() for line in log.read_text().split("\n")[:-1]] if log.is_file() else []


@pytest.mark.slow
@needs_dask
def test_a_worker_killed_in_a_run_loses_nothing(tmp_path):
    """SIGKILL to the worker process in the middle of a run (after its first checkpoint):
    Dask reschedules the run, it resumes from the checkpoint, and the grid ends with every run
    trained to completion exactly once, bit-identical to an undisturbed grid."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # _counted runs on workers
    # runs of a few seconds (40 epochs of 50-150 ms), so that the kill lands inside one
    configs = grid(BASE, epochs=[40], seed=[0, 1, 2, 3])
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor(pure=False)
        quiet_log = tmp_path / "quiet.log"
        quiet = run_grid(
            [RunSpec(c, tmp_path / "quiet" / run_name(c)) for c in configs],
            executor=_Counting(executor, quiet_log),
        )
        assert [r.error for r in quiet] == [None] * 4

        log = tmp_path / "killed.log"
        specs = [RunSpec(c, tmp_path / "killed" / run_name(c)) for c in configs]
        results: list = []
        grid_thread = threading.Thread(
            target=lambda: results.extend(run_grid(specs, executor=_Counting(executor, log)))
        )
        grid_thread.start()
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            time.sleep(0.05)
            ended = {e[1] for e in _events(log) if e[0] == "end"}
            for event in _events(log):
                folder = RunFolder(tmp_path / "killed" / event[1])
                if event[0] == "start" and event[1] not in ended and folder.has_checkpoint:
                    epochs = len(folder.history())
                    if 2 <= epochs < 30 and not folder.is_finished:
                        victim = event[1], int(event[2]), epochs
                        os.kill(victim[1], signal.SIGKILL)
                        break
        grid_thread.join(timeout=600)
        assert victim is not None, "no run was caught between its first checkpoint and its end"
        assert not grid_thread.is_alive()
    name, pid, epochs_at_kill = victim
    assert [r.error for r in results] == [None] * 4
    events = _events(log)
    # every run trained to completion exactly once (Dask may run a finished run's task again
    # when its result was lost with the worker: the run is then read back, not trained); the
    # victim started twice and resumed the second time
    for spec in specs:
        ends = [e[3] for e in events if e[0] == "end" and e[1] == spec.out.name]
        assert ends.count("trained") == 1 and set(ends) <= {"trained", "reused"}, events
    starts = [e for e in events if e[0] == "start" and e[1] == name]
    assert [(int(e[2]) == pid, e[3]) for e in starts] == [(True, "new"), (False, "resume")]
    assert not [e for e in events if e[0] == "end" and int(e[2]) == pid and e[1] == name]
    # the resumed run continued from its checkpoint and equals the undisturbed one bit for bit
    assert 2 <= epochs_at_kill < 40
    for a, b in zip(quiet, results, strict=True):
        assert_same_run(a.spec.out, b.spec.out)


# ------------------------------------------------------------------ searches on a cluster


def states(study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def _study(storage: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=storage)


@pytest.mark.slow
@needs_dask
def test_a_search_on_local_workers_shares_its_sqlite_study(tmp_path, capfd):
    """local:N workers are processes of this machine: the SQLite file lock that serialises
    their asks works across them, and the study ends at exactly T trials."""
    pytest.importorskip("optuna")
    out = tmp_path / "s"
    args = ["search", "--trials", "6", "--epochs", "1", *SEARCH, "--out", str(out)]
    assert main([*args, "--workers", "2", "--cluster", "local:2"]) == 0
    err = capfd.readouterr().err
    study = _study(f"sqlite:///{out / 'study.db'}", "search-setup1-random")
    assert states(study)["COMPLETE"] == 6
    # a worker that asks when the last slot is taken fails its trial as surplus, untrained
    assert all(t.state.name == "COMPLETE" or t.user_attrs.get("surplus") for t in study.trials)
    assert "6/6 trials finished" in err
    assert err.count(" completed, ") == 2  # both workers ran and reported


@pytest.mark.slow
@needs_dask
@pytest.mark.skipif(not POSTGRES_URL, reason="set INFOMORPHIC_TEST_POSTGRES to a PostgreSQL URL")
def test_two_cluster_workers_share_a_postgresql_study(tmp_path, capfd):
    """Through a scheduler's address (as a remote cluster is reached): two search workers on
    one PostgreSQL study end at exactly T finished trials."""
    pytest.importorskip("optuna")
    name = f"cluster-{os.getpid()}-{int(time.time())}"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        code = main(
            [
                "search",
                "--trials",
                "5",
                "--epochs",
                "1",
                *SEARCH,
                "--out",
                str(tmp_path / "s"),
                "--storage",
                POSTGRES_URL,
                "--study",
                name,
                "--enqueue",
                "heuristic",
                "--workers",
                "2",
                "--cluster",
                cluster.scheduler_address,
            ]
        )
    err = capfd.readouterr().err
    assert code == 0, err
    study = _study(POSTGRES_URL, name)
    assert states(study)["COMPLETE"] == 5
    assert all(t.state.name == "COMPLETE" or t.user_attrs.get("surplus") for t in study.trials)
    assert sum("enqueued" in t.user_attrs for t in study.trials) == 1
    assert "5/5 trials finished" in err and err.count(" completed, ") == 2
