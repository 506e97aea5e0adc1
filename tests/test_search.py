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
    worker = _start(out, 3, 200)  # trials of a few seconds: the kill lands inside one
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if (out / "study.db").is_file():
            try:
                running = [t for t in load(out).trials if t.state.name == "RUNNING"]
            except Exception:  # the study is being created
                continue
            if running:
                break
    else:
        worker.kill()
        pytest.fail("no trial started within two minutes")
    killed = running[0]
    time.sleep(1.0)  # well inside the trial
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert load(out).trials[killed.number].state.name == "RUNNING"  # nobody told it
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
    out = tmp_path / "race"
    workers = [_start(out, 4, 1, "--enqueue", "heuristic") for _ in range(2)]
    told = []
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        told += re.findall(r"^worker [^ ]+: trial (\d+): validation", err, flags=re.MULTILINE)
    study = load(out)
    assert states(study).get("COMPLETE") == 4
    assert sum("enqueued" in t.user_attrs for t in study.trials) == 1
    assert len(told) == 4 and len(set(told)) == 4  # no trial trained by both workers


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
    assert sum("enqueued" in t.user_attrs for t in study.trials) == 1
    assert all("completed" in text for text in outputs)  # both workers reported
