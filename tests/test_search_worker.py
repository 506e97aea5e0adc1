"""``search.worker``: the kill-safe worker loop: the SQLite ask lock, trials whose worker died
before their first heartbeat, trials failed as stale by another worker, and pruned population
members that never change a survivor."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

optuna = pytest.importorskip("optuna")

from infomorphic.search.space import GoalSpace  # noqa: E402


def test_asking_a_sqlite_study_holds_a_file_lock_that_other_processes_wait_for(tmp_path):
    """SQLite ignores the row lock with which optuna hands a queued trial to one worker: the
    workers of one machine ask under an exclusive lock on ``<study file>.lock``, taken on the
    storage a real worker opens (optuna wraps it in a cache that hides its URL)."""
    import fcntl
    import subprocess
    import sys

    from infomorphic.search.study import make_storage, open_study
    from infomorphic.search.worker import _asking, _Store

    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study, _ = open_study("s", storage, optuna.samplers.RandomSampler(seed=0))
    probe = (
        "import fcntl, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    try:\n"
        "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    except BlockingIOError:\n"
        "        sys.exit(3)\n"
    )
    lock = tmp_path / "study.db.lock"

    def probe_code() -> int:  # another process trying to ask now
        return subprocess.run([sys.executable, "-c", probe, str(lock)]).returncode

    with _asking(_Store.of(storage, study)):
        assert lock.exists()
        assert probe_code() == 3  # held: the other process would wait
    assert probe_code() == 0  # released after asking
    assert fcntl is not None
    with _asking(_Store.of(None, study)):  # an in-memory study locks nothing
        pass


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_retried(tmp_path):
    """optuna never fails a running trial that has not beaten once; a worker killed between
    asking for a trial and its first heartbeat must not hold that trial's slot for ever."""
    import datetime

    from infomorphic.search.study import make_storage
    from infomorphic.search.worker import _adopt_silent, _Store

    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_s=1, grace_s=1)
    study = optuna.create_study(study_name="s", storage=storage)
    store = _Store.of(storage, study)
    silent = study.ask({"x": optuna.distributions.FloatDistribution(-1, 1)})  # no heartbeat
    optuna.storages.fail_stale_trials(study)
    assert study.trials[0].state.name == "RUNNING"  # optuna alone would wait for ever
    assert _adopt_silent(study, store) == 0  # too young: its worker may be about to beat
    later = datetime.datetime.now() + datetime.timedelta(seconds=10)
    assert _adopt_silent(study, store, now=later) == 1
    assert _adopt_silent(study, store, now=later) == 0  # adopted once only
    deadline = time.monotonic() + 15  # past the grace period of the heartbeat given to it
    while study.trials[0].state.name == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)  # SQLite's clock counts whole seconds
        optuna.storages.fail_stale_trials(study)
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "WAITING"]  # failed, and queued again with its parameters
    assert study.trials[1].params == silent.params


def test_a_worker_goes_on_when_another_failed_its_trial_as_stale(tmp_path, monkeypatch):
    """A worker stalled past the grace period finds its trial failed by another worker (and
    retried there): it says so and goes on, whether that happened while it was setting the
    trial up or while it trained it."""
    from infomorphic.search import worker
    from infomorphic.search.study import make_storage
    from infomorphic.training.config import TrainConfig

    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_s=60)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    space = GoalSpace.for_model("setup1")

    def fail_as_stale(trial) -> None:  # what another worker's fail_stale_trials does
        trial_id = worker._Store.of(storage, study).trial_id(trial)
        storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL)

    real_suggest, calls = GoalSpace.suggest, []

    def suggest(self, trial):
        calls.append(trial.number)
        if len(calls) == 1:
            fail_as_stale(trial)  # stalled while its weights were being suggested
        return real_suggest(self, trial)

    def train(asked, *args):
        if asked[0].number == 1:
            fail_as_stale(asked[0])  # stalled while it trained
        summary = {"val_accuracy": 0.5, "test_accuracy": 0.5, "train_accuracy": 0.5}
        return [{**summary, "epochs": 1, "seconds": 0.1} for _ in asked]

    monkeypatch.setattr(GoalSpace, "suggest", suggest)
    monkeypatch.setattr(worker, "_train", train)
    said = []
    report = worker.run_worker(
        study, space, TrainConfig(), 1, splits=object(), storage=storage, log=said.append
    )
    assert (report.taken, report.completed) == (2, 1)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL", "COMPLETE"]
    assert sum("failed by another worker" in line for line in said) == 2


def test_pruned_members_leave_the_population_and_never_change_a_survivor(tmp_path):
    """A pruner that prunes odd trials after their first epoch: they end PRUNED with one
    intermediate value; the even ones, trained beside them, end with the validation accuracy
    of their solo runs."""
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.search.worker import run_worker
    from infomorphic.training import TrainConfig, Trainer

    class PruneOdd(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return trial.number % 2 == 1 and (trial.last_step or 0) >= 1

    digits = prepare_splits(load_dataset("digits"), 0.2, 0)
    base = TrainConfig(dataset="digits", hidden=[10, 6], epochs=3, batch_size=256).validate()
    space = GoalSpace.for_config(base, "all")
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3), pruner=PruneOdd()
    )
    report = run_worker(study, space, base, 4, population=4, prune=True, splits=digits)
    assert (report.completed, report.pruned) == (2, 2)
    for trial in study.trials:
        if trial.number % 2:
            assert trial.state.name == "PRUNED" and list(trial.intermediate_values) == [1]
            continue
        assert trial.state.name == "COMPLETE" and list(trial.intermediate_values) == [1, 2, 3]
        goal = space.trial_goal(base, trial.params)
        solo = Trainer(replace(base, goal=goal, eval_splits=("val",)), digits)
        assert solo.fit()["val_accuracy"] == trial.value
        assert [r["val_accuracy"] for r in solo.history] == list(trial.intermediate_values.values())
