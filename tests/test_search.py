"""Goal search: the space, studies that end at exactly T trials, kill-safe workers, enqueueing
once, fixed weights, PostgreSQL workers, and population members equal to solo runs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from infomorphic.cli import main  # noqa: E402
from infomorphic.nn.goals import Goal  # noqa: E402
from infomorphic.search.space import GoalSpace, parse_fixed  # noqa: E402

TINY = ["--dataset", "digits", "--hidden", "8", "--batch-size", "256", "--sampler", "random"]
POSTGRES_URL = os.environ.get("INFOMORPHIC_TEST_POSTGRES")


def load(out: Path, name: str = "search-setup1-random"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{out / 'study.db'}")


def enqueued(study) -> int:
    """Trials of an enqueued goal, its retries (a trial failed as stale and queued again with
    its attributes) not counted."""
    return sum(
        "enqueued" in t.user_attrs and "failed_trial" not in t.system_attrs for t in study.trials
    )


def states(study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


# ------------------------------------------------------------------------------------ space


def test_space_names_every_weight_by_its_atom():
    space = GoalSpace.for_model("setup1")
    assert space.labels == Goal.named("optimized").labels and len(space.labels) == 19
    assert GoalSpace.for_model("context-only").labels == ("{F}", "{C}", "{F}{C}", "{FC}", "H_res")
    fixed = GoalSpace.for_model("setup1", parse_fixed(["H_res=0", "{F}{C} = 0.5"]))
    assert len(fixed.searched) == 17 and "H_res" not in fixed.searched
    params = {name: 0.25 for name in fixed.searched}
    weights = fixed.weights(params)
    assert weights[-1] == 0.0 and weights[fixed.labels.index("{F}{C}")] == 0.5
    heuristic = GoalSpace.for_model("setup1", {"H_res": 0.0}).params("heuristic")
    assert heuristic["{F}{C}"] == 1.0 and sum(heuristic.values()) == 1.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: parse_fixed(["H_res"]), "NAME=VALUE"),
        (lambda: parse_fixed(["H_res=abc"]), "not a number"),
        (lambda: GoalSpace.for_model("setup1", {"{F}{X}": 0}), "cannot fix {F}{X}"),
        (lambda: GoalSpace.for_model("backprop"), "no hidden goal"),
        (lambda: GoalSpace.for_model("setup1", {"H_res": 0.5}).params("optimized"), "fixes it"),
    ],
)
def test_space_errors_say_what_is_wrong(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


# ---------------------------------------------------------------------------------- studies


def test_a_study_ends_at_exactly_t_trials_and_a_rerun_continues(tmp_path, capsys):
    out = tmp_path / "search"
    args = ["search", "--trials", "3", "--epochs", "1", "--out", str(out), *TINY,
            "--fixed", "H_res=0", "--enqueue", "heuristic"]  # fmt: skip
    assert main(args) == 0
    study = load(out)
    assert states(study) == {"COMPLETE": 3}
    first = study.trials[0]
    assert first.user_attrs["enqueued"] == "heuristic" and first.params["{F}{C}"] == 1.0
    for trial in study.trials:
        assert "H_res" not in trial.params  # fixed, not searched
        assert 0 <= trial.user_attrs["test_accuracy"] <= 1  # recorded, never the objective
        assert trial.value == pytest.approx(trial.value)  # a number
    assert main(args) == 0  # done already: nothing more
    assert states(load(out)) == {"COMPLETE": 3}
    args[args.index("3")] = "5"
    assert main(args) == 0
    study = load(out)
    assert states(study) == {"COMPLETE": 5}
    assert sum("enqueued" in t.user_attrs for t in study.trials) == 1


def test_population_trials_and_missing_pieces(tmp_path):
    out = tmp_path / "pop"
    args = ["search", "--trials", "4", "--epochs", "1", "--population", "3", "--out", str(out),
            *TINY]  # fmt: skip
    assert main(args) == 0
    study = load(out)
    assert states(study) == {"COMPLETE": 4}  # 3 at once, then the 1 slot left
    populations = [t.user_attrs["epochs"] for t in study.trials]
    assert populations == [1, 1, 1, 1]
    assert main([*args, "--prune"]) == 2  # pruning needs one trial at a time


def test_cmaes_fixes_h_res_at_zero_unless_told_otherwise(tmp_path):
    """The paper's CMA-ES runs fixed the H_res weight at 0: the default of --sampler cmaes."""
    pytest.importorskip("cmaes")
    tiny = [*TINY[:-2], "--sampler", "cmaes", "--epochs", "1", "--trials", "2"]
    out = tmp_path / "cmaes"
    assert main(["search", *tiny, "--out", str(out)]) == 0
    study = load(out, "search-setup1-cmaes")
    assert study.user_attrs["infomorphic"]["fixed"] == {"H_res": 0.0}
    assert all("H_res" not in t.params and len(t.params) == 18 for t in study.trials)
    free = tmp_path / "free"
    assert main(["search", *tiny, "--out", str(free), "--search-all"]) == 0
    assert all("H_res" in t.params for t in load(free, "search-setup1-cmaes").trials)
    chosen = tmp_path / "chosen"
    assert main(["search", *tiny, "--out", str(chosen), "--fixed", "H_res=0.1"]) == 0
    assert load(chosen, "search-setup1-cmaes").user_attrs["infomorphic"]["fixed"] == {"H_res": 0.1}


def _start(out: Path, trials: int, epochs: int, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "infomorphic", "search", "--trials", str(trials),
               "--epochs", str(epochs), "--out", str(out), "--heartbeat", "1",
               *TINY, *extra]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing(tmp_path):
    """kill -9 in the middle of a trial; the rerun fails the silent trial, retries its
    parameters, and the study ends with exactly T complete trials."""
    out = tmp_path / "kill"
    searched = len(GoalSpace.for_model("setup1").searched)
    worker = _start(out, 3, 200)  # trials of a few seconds: the kill lands inside one
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if (out / "study.db").is_file():
            try:
                trials = load(out).trials
            except Exception:  # the study is being created
                continue
            # a trial is asked for, then its weights are stored one by one: wait for all
            running = [t for t in trials if t.state.name == "RUNNING"]
            if running and len(running[0].params) == searched:
                break
    else:
        worker.kill()
        pytest.fail("no trial started within two minutes")
    time.sleep(1.0)  # well inside the trial
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed = load(out).trials[running[0].number]  # as stored when the worker died
    assert killed.state.name == "RUNNING"  # nobody told it
    assert len(killed.params) == searched
    rerun = _start(out, 3, 200)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    study = load(out)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3
    assert study.trials[killed.number].state.name == "FAIL"
    retried = [t for t in complete if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params


@pytest.mark.slow
def test_two_workers_starting_at_once_enqueue_once(tmp_path):
    """Two commands on one machine share a SQLite study, each with its own search folder (a
    folder has one writer at a time)."""
    out = tmp_path / "race"
    out.mkdir()
    storage = ["--storage", f"sqlite:///{out / 'study.db'}", "--study", "search-setup1-random"]
    workers = [
        _start(tmp_path / f"w{k}", 4, 1, "--enqueue", "heuristic", *storage) for k in range(2)
    ]
    told = []
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        told += re.findall(r"^worker [^ ]+: trial (\d+): validation", err, flags=re.MULTILINE)
    study = load(out)
    assert states(study).get("COMPLETE") == 4
    assert enqueued(study) == 1
    assert sorted(told) == sorted(set(told))  # no trial trained by both workers


@pytest.mark.slow
@pytest.mark.skipif(not POSTGRES_URL, reason="set INFOMORPHIC_TEST_POSTGRES to a PostgreSQL URL")
def test_two_workers_share_a_study_on_postgresql(tmp_path):
    name = f"pg-{os.getpid()}-{int(time.time())}"
    common = ["--storage", POSTGRES_URL, "--study", name, "--enqueue", "heuristic"]
    workers = [_start(tmp_path / f"w{k}", 5, 1, *common) for k in range(2)]
    outputs = []
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        outputs.append(err)
    study = optuna.load_study(study_name=name, storage=POSTGRES_URL)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 5
    assert enqueued(study) == 1
    assert all("completed" in text for text in outputs)  # both workers reported


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_retried(tmp_path):
    """optuna never fails a running trial that has not beaten once; a worker killed between
    asking for a trial and its first heartbeat must not hold that trial's slot for ever."""
    import datetime

    from infomorphic.search.study import make_storage
    from infomorphic.search.worker import _adopt_silent

    storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_s=1, grace_s=1)
    study = optuna.create_study(study_name="s", storage=storage)
    silent = study.ask({"x": optuna.distributions.FloatDistribution(-1, 1)})  # no heartbeat
    optuna.storages.fail_stale_trials(study)
    assert study.trials[0].state.name == "RUNNING"  # optuna alone would wait for ever
    assert _adopt_silent(study) == 0  # too young: its worker may be about to beat
    later = datetime.datetime.now() + datetime.timedelta(seconds=10)
    assert _adopt_silent(study, now=later) == 1
    assert _adopt_silent(study, now=later) == 0  # adopted once only
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
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)

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
    report = worker.run_worker(study, space, TrainConfig(), 1, splits=object(), log=said.append)
    assert (report.taken, report.completed) == (2, 1)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL", "COMPLETE"]
    assert sum("failed by another worker" in line for line in said) == 2
