"""``infomorphic search`` end to end: studies that end at exactly T trials, killed workers,
enqueueing once, fixed weights, PostgreSQL workers, goals per layer and for the feedback
networks, and pruners. The library's parts have their own files: ``test_search_space``,
``test_search_worker``, ``test_search_protocol``, ``test_search_pool``, ``test_study``."""

from __future__ import annotations

import json
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
from infomorphic.search.space import GoalSpace  # noqa: E402

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


# ----------------------------------------------------------------------- goals per layer


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


# ------------------------------------------------------------------------------ pruning


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
