"""Goal search: the space, studies that end at exactly T trials, kill-safe workers, enqueueing
once, fixed weights, PostgreSQL workers, and population members equal to solo runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
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
    args = [
        "search",
        "--trials",
        "3",
        "--epochs",
        "1",
        "--out",
        str(out),
        *TINY,
        "--fixed",
        "H_res=0",
        "--enqueue",
        "heuristic",
    ]
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
    args = [
        "search",
        "--trials",
        "4",
        "--epochs",
        "1",
        "--population",
        "3",
        "--out",
        str(out),
        *TINY,
    ]
    assert main(args) == 0
    study = load(out)
    assert states(study) == {"COMPLETE": 4}  # 3 at once, then the 1 slot left
    populations = [t.user_attrs["epochs"] for t in study.trials]
    assert populations == [1, 1, 1, 1]


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
    command = [
        sys.executable,
        "-m",
        "infomorphic",
        "search",
        "--trials",
        str(trials),
        "--epochs",
        str(epochs),
        "--out",
        str(out),
        "--heartbeat",
        "1",
        *TINY,
        *extra,
    ]
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


# ----------------------------------------------------------------------- goals per layer


def test_a_per_layer_space_names_each_weight_by_layer_and_atom():
    from infomorphic.training import TrainConfig

    config = TrainConfig(model="setup2", hidden=[20, 10]).validate()
    fixed = parse_fixed(["H_res=0", "hidden1.H_res=0.25", "hidden2.{F}{C}=0.5"])
    space = GoalSpace.for_config(config, "all", fixed)
    assert space.layers == ("hidden1", "hidden2") and len(space.labels) == 38
    assert space.labels[0] == "hidden1.{F}{C}{L}" and space.labels[-1] == "hidden2.H_res"
    assert space.fixed == {"hidden1.H_res": 0.25, "hidden2.{F}{C}": 0.5, "hidden2.H_res": 0.0}
    assert len(space.searched) == 35
    params = {name: 0.125 for name in space.searched}
    goal = space.weights(params)
    assert set(goal) == {"hidden1", "hidden2"} and goal["hidden1"][-1] == 0.25
    assert goal["hidden2"][1] == 0.5 and goal["hidden2"][-1] == 0.0 and goal["hidden2"][0] == 0.125
    # --enqueue optimized: the paper's goal in every searched layer (fixed weights must agree)
    free = GoalSpace.for_config(config, "all")
    enqueued = free.params("optimized")
    assert free.weights(enqueued) == {k: list(Goal.named("optimized").weights) for k in goal}
    # a goal per layer: a mapping or a goal file of one goal per layer
    both = free.params({"hidden1": "optimized", "hidden2": "heuristic"})
    assert both["hidden1.{F}{L}"] == Goal.named("optimized").as_dict()["{F}{L}"]
    assert both["hidden2.{F}{C}"] == 1.0 and both["hidden2.{F}{L}"] == 0.0
    with pytest.raises(ValueError, match="no goal for hidden2"):
        free.params({"hidden1": "optimized"})


def test_goal_layers_search_some_layers_and_the_others_keep_their_goal():
    from infomorphic.training import TrainConfig

    config = TrainConfig(hidden=[20, 10], goal={"hidden1": "heuristic"}).validate()
    space = GoalSpace.for_config(config, "hidden2", {"H_res": 0.0})
    assert space.layers == ("hidden2",) and space.fixed == {"hidden2.H_res": 0.0}
    params = {name: -0.5 for name in space.searched}
    trial = space.trial_goal(config, params)
    assert trial == {"hidden1": "heuristic", "hidden2": [-0.5] * 18 + [0.0]}
    shared = GoalSpace.for_config(TrainConfig(hidden=[20, 10]).validate())
    assert shared.layers == () and shared.labels == Goal.named("optimized").labels
    assert shared.trial_goal(config, {n: 0.0 for n in shared.searched}) == [0.0] * 19


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: GoalSpace.for_config(c, "hidden3"), "hidden3 is no hidden layer with a goal"),
        (lambda c: GoalSpace.for_config(c, None, {"hidden1.H_res": 0}), "shares one goal"),
        (lambda c: GoalSpace.for_config(c, "all", {"hidden3.H_res": 0}), "cannot fix hidden3"),
        (lambda c: GoalSpace.for_config(c, "hidden1,hidden1"), "distinct layer names"),
        (
            lambda c: GoalSpace.for_config(c).params(
                {"hidden1": "optimized", "hidden2": "heuristic"}
            ),
            "differs between layers",
        ),
        (lambda c: GoalSpace.for_config(replace(c, goal="heuristic"), "all"), "--goal: the search"),
    ],
)
def test_per_layer_space_errors_say_what_is_wrong(call, fragment):
    from infomorphic.training import TrainConfig

    with pytest.raises(ValueError, match=re.escape(fragment)):
        call(TrainConfig(hidden=[20, 10]).validate())


SEARCHED = ("{F}{C}", "{F}{L}")


def test_a_per_layer_search_enqueues_reports_and_its_best_goal_trains(tmp_path, capsys):
    """--goal-layers all: weights named by layer and atom, --fixed H_res=0 in every layer,
    --enqueue heuristic in every layer; the report reads each layer's goal and writes the best
    as a goal file of one goal per layer, which trains to the trial's own accuracy."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "layers"
    # a few searched weights keep the report's permutation importance quick
    fixed = [f"--fixed={a}=0" for a in Goal.named("optimized").labels if a not in SEARCHED]
    args = [
        "search",
        "--trials",
        "3",
        "--epochs",
        "1",
        "--out",
        str(out),
        *TINY,
        "--hidden",
        "8,6",
        "--goal-layers",
        "all",
        *fixed,
        "--fixed",
        "hidden2.{F}{L}=0",
        "--enqueue",
        "heuristic",
    ]
    assert main(args) == 0
    study = load(out)
    assert states(study) == {"COMPLETE": 3}
    first = study.trials[0]
    assert first.params["hidden1.{F}{C}"] == 1.0 and first.params["hidden2.{F}{C}"] == 1.0
    assert all(len(t.params) == 3 and "hidden1.H_res" not in t.params for t in study.trials)
    assert "hidden2.{F}{L}" not in first.params and "hidden1.{F}{L}" in first.params
    assert study.user_attrs["infomorphic"]["layers"] == ["hidden1", "hidden2"]
    assert main(["search-report", str(out), "--top", "2"]) == 0
    report = out / "report-search-setup1-random"
    text = (report / "report.md").read_text()
    for fragment in (
        "one per layer: hidden1, hidden2",
        "### hidden2",
        "side by side",
        "| # | atom | hidden1: weight | hidden1: effect | hidden2: weight |",
        "### By layer",
        "Each layer's share of the importance",
        "`hidden2.{F}{C}`",
        "Against the paper's optimised goal",
        "[best_goal.json](best_goal.json)",
    ):
        assert fragment in text, fragment
    data = json.loads((report / "report.json").read_text())
    best = data["top"][0]
    assert set(best["goals"]) == {"hidden1", "hidden2"} and best["goals"]["hidden1"]["H_res"] == 0
    assert set(data["best"]["explanation"]) == {"hidden1", "hidden2"}
    assert set(data["against_paper"]["goals"]) == {"hidden1", "hidden2"}
    files = json.loads((report / "best_goal.json").read_text())
    assert files == best["goals"]
    run = tmp_path / "run"
    argv = [
        "train",
        *TINY[:-2],
        "--hidden",
        "8,6",
        "--epochs",
        "1",
        "--goal",
        str(report / "best_goal.json"),
        "--out",
        str(run),
        "--no-progress",
    ]
    assert main(argv) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["val_accuracy"] == best["val_accuracy"]


# ------------------------------------------------------------------ goals for feedback


def test_searches_of_the_feedback_networks(tmp_path):
    """Setup 3 (feedback as context) seeded with the setup-1 goal, and the deep feedback
    network per layer, both as populations."""
    pytest.importorskip("matplotlib")
    optimized = Goal.named("optimized").as_dict()
    fixed = [f"--fixed={a}={w!r}" for a, w in optimized.items() if a not in SEARCHED]
    setup3 = tmp_path / "setup3"
    args = [
        "search",
        "--model",
        "setup3",
        "--trials",
        "3",
        "--epochs",
        "1",
        "--population",
        "2",
        "--enqueue",
        "optimized",
        "--out",
        str(setup3),
        *TINY,
        *fixed,
    ]
    assert main(args) == 0
    study = load(setup3, "search-setup3-random")
    assert states(study) == {"COMPLETE": 3}
    assert study.trials[0].params == {a: optimized[a] for a in SEARCHED}
    assert main(["search-report", str(setup3)]) == 0
    deep = tmp_path / "deep"
    args = [
        "search",
        "--model",
        "deep-feedback",
        "--trials",
        "2",
        "--epochs",
        "1",
        "--population",
        "2",
        "--goal-layers",
        "all",
        "--enqueue",
        "optimized",
        "--out",
        str(deep),
        *TINY,
        "--hidden",
        "8,6",
        *fixed,
    ]
    assert main(args) == 0
    study = load(deep, "search-deep-feedback-random")
    assert states(study) == {"COMPLETE": 2} and len(study.trials[1].params) == 4
    assert main(["search-report", str(deep)]) == 0
    assert (
        "one per layer: hidden1, hidden2"
        in (deep / "report-search-deep-feedback-random" / "report.md").read_text()
    )


# ------------------------------------------------------------ pruning with populations


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


def test_pruners_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "hyperband"
    args = [
        "search",
        "--trials",
        "4",
        "--epochs",
        "3",
        "--population",
        "2",
        "--out",
        str(out),
        *TINY,
        "--pruner",
        "hyperband",
        "--min-epochs",
        "1",
    ]
    assert main(args) == 0
    study = load(out)
    assert sum(states(study).values()) == 4 and set(states(study)) <= {"COMPLETE", "PRUNED"}
    assert study.user_attrs["infomorphic"]["pruner"] == "hyperband"
    for trial in study.trials:
        assert trial.intermediate_values  # reported after every epoch
    for bad, fragment in (
        (["--prune", "--pruner", "sh"], "--prune is --pruner median"),
        (["--min-epochs", "2"], "give a --pruner too"),
        (["--pruner", "sh", "--min-epochs", "9"], "--min-epochs: want 1..3"),
        (["--pruner", "sh", "--reduction-factor", "1"], "--reduction-factor"),
    ):
        argv = ["search", "--trials", "1", "--epochs", "3", "--out", str(tmp_path / "x"), *bad]
        assert main(argv) == 2, bad
        assert fragment in capsys.readouterr().err
