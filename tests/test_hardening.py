"""Hardening: nothing computed is overwritten, interruptions save and resume, damaged files and
bad values give messages (never tracebacks), resuming from the folder alone, the first hour's
messages, ``infomorphic predict`` / ``load_run``, start-up imports, configuration files."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SMALL

from infomorphic.cli import build_parser, main
from infomorphic.cli import train as train_cli
from infomorphic.nn.goals import Goal
from infomorphic.pid.batched import isx_pid_batched
from infomorphic.training import (
    RunFolder,
    TrainConfig,
    Trainer,
    load_run,
    loop,
    train,
)
from infomorphic.training.api import RunExistsError
from infomorphic.training.loop import Terminated
from infomorphic.training.run_folder import CorruptRunError

REPO = Path(__file__).resolve().parents[1]
# seed 0: the data split of the `digits` fixture, so that runs of the command line (which split
# by the run's seed) and of the library on the fixture are the same runs
# --threads: the library's runs here use torch's thread count, and float rounding depends on it
SMALL_ARGS = [
    "--dataset",
    "digits",
    "--hidden",
    "12",
    "--batch-size",
    "256",
    "--seed",
    "0",
    "--threads",
    str(torch.get_num_threads()),
]


def config(epochs: int, **changes) -> TrainConfig:
    return TrainConfig(**{**SMALL, "epochs": epochs, **changes})


def same_run(a: Path, b: Path) -> None:
    """Two run folders hold the same run: history, final weights and atoms."""
    ha, hb = RunFolder(a).history(), RunFolder(b).history()
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in ha] == [
        {k: v for k, v in r.items() if k != "seconds"} for r in hb
    ]
    wa, wb = RunFolder(a).checkpoint()["model"], RunFolder(b).checkpoint()["model"]
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    xa, xb = RunFolder(a).atoms(), RunFolder(b).atoms()
    assert xa.keys() == xb.keys() and all(np.array_equal(xa[k], xb[k]) for k in xa)


def copy_run(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(source, target)
    return target


# -- 1. nothing computed is replaced without --force ------------------------------------------
def test_library_refuses_a_folder_with_results_and_no_checkpoint(finished, digits, tmp_path):
    out = copy_run(finished[0], tmp_path)
    (out / "checkpoint.pt").unlink()
    before = {name: (out / name).read_bytes() for name in RunFolder(out).run_files()}
    with pytest.raises(RunExistsError, match="already holds a run .*config.json.*history.csv"):
        train(config(1), out, splits=digits, progress=False)
    assert {name: (out / name).read_bytes() for name in RunFolder(out).run_files()} == before
    # overwrite=True replaces every run file: a backprop run leaves no infomorphic atoms behind
    summary = train(config(1, model="backprop"), out, overwrite=True, splits=digits, progress=False)
    assert summary["model"] == "backprop" and not (out / "atoms.npz").exists()
    assert RunFolder(out).summary()["epochs"] == 1
    with pytest.raises(ValueError, match="exclude each other"):
        train(config(1), out, resume=True, overwrite=True, splits=digits, progress=False)


@pytest.mark.parametrize("kept", [["history.csv"], ["summary.json"], ["config.json"]])
def test_cli_refuses_any_run_file_and_force_names_what_it_replaces(
    finished, tmp_path, capsys, kept
):
    out = copy_run(finished[0], tmp_path)
    for name in RunFolder.RUN_FILES:
        if name not in kept:
            (out / name).unlink()
    before = (out / kept[0]).read_bytes()
    argv = ["train", *SMALL_ARGS, "--epochs", "1", "--out", str(out), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{out} already holds a run ({kept[0]})" in err and "--force" in err
    assert (out / kept[0]).read_bytes() == before
    assert main([*argv, "--force"]) == 0
    assert f"--force: replacing {out}'s {kept[0]}" in capsys.readouterr().err
    assert RunFolder(out).summary()["epochs"] == 1


def test_the_cli_knows_the_run_files():
    assert train_cli.RUN_FILES == RunFolder.RUN_FILES


# -- 2. interruptions save the last completed epoch --------------------------------------------
def interrupt_at_evaluation(monkeypatch, call: int, exception: type[BaseException]) -> None:
    real_evaluate, calls = loop.evaluate, []

    def evaluate(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise exception
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(loop, "evaluate", evaluate)


@pytest.mark.parametrize("epoch", [0, 2])
def test_an_interrupted_run_saves_its_last_completed_epoch(
    finished, digits, tmp_path, monkeypatch, epoch
):
    """Ctrl-C in epoch `epoch + 1` (long checkpoint interval): the checkpoint, history and
    atoms are those of epoch `epoch` (the untrained model for 0), and resuming ends exactly
    like the uninterrupted run."""
    out = tmp_path / "cut"
    interrupt_at_evaluation(monkeypatch, epoch + 1, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt) as caught:
        train(config(4), out, splits=digits, progress=False, checkpoint_interval_s=1e9)
    assert caught.value.saved_epoch == epoch
    assert RunFolder(out).checkpoint()["epoch"] == epoch
    assert len(RunFolder(out).history()) == epoch if epoch else not (out / "history.csv").exists()
    if epoch:
        assert RunFolder(out).atoms()["hidden1_atoms"].shape[0] == epoch
    monkeypatch.undo()
    train(config(4), out, resume=True, splits=digits, progress=False)
    same_run(finished[1], out)


def test_cli_interruption_prints_the_resume_command_and_exits_130_or_143(
    finished, tmp_path, monkeypatch, capsys
):
    for exception, status in ((KeyboardInterrupt, 130), (Terminated, 143)):
        out = tmp_path / f"cut{status}"
        interrupt_at_evaluation(monkeypatch, 3, exception)
        argv = ["train", *SMALL_ARGS, "--epochs", "4", "--out", str(out), "--no-progress"]
        assert main(argv) == status
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert err.splitlines()[-1] == (
            f"infomorphic: {'terminated (SIGTERM)' if status == 143 else 'interrupted'}: "
            f"{out} keeps epoch 2; continue with: infomorphic train --out {out} --resume"
        )
        monkeypatch.undo()
        assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
        same_run(finished[1], out)


def wait_for_rows(out: Path, rows: int, process: subprocess.Popen, limit: float = 300) -> None:
    history = out / "history.csv"
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if history.is_file() and len(history.read_text().splitlines()) > rows:
            return
        time.sleep(0.02)
    raise AssertionError(f"{history} did not reach {rows} rows")


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_real_signal_mid_run_saves_and_resumes_identically(digits, tmp_path, sig, status):
    """A separate process gets SIGINT or SIGTERM mid-run: it saves the last completed epoch,
    prints the resume command and exits 130 or 143; `--out DIR --resume` then ends exactly as
    the uninterrupted run."""
    epochs = 30
    straight, out = tmp_path / "straight", tmp_path / "cut"
    # as a terminal would: SIGINT raises KeyboardInterrupt even if this test's parent ignores it
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from infomorphic.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = [
        "train",
        *SMALL_ARGS,
        "--epochs",
        str(epochs),
        "--eval-splits",
        "val",
        "--checkpoint-every",
        "1e9",
        "--out",
        str(out),
        "--no-progress",
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_rows(out, 2, process)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == status, err
    assert "Traceback" not in err
    saved = RunFolder(out).checkpoint()["epoch"]
    assert 2 <= saved < epochs and len(RunFolder(out).history()) == saved
    assert err.splitlines()[-1].endswith(
        f"{out} keeps epoch {saved}; continue with: infomorphic train --out {out} --resume"
    )
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    train(config(epochs, eval_splits=("val",)), straight, splits=digits, progress=False)
    same_run(straight, out)


# -- 3. messages instead of tracebacks ---------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "option"),
    [(["--device", "foo"], "--device"), (["--seed", "-3"], "--seed")],
)
def test_bad_options_are_named(tmp_path, capsys, argv, option):
    assert main(["train", *argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"infomorphic: error: {option}") and "Traceback" not in err


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "random":
        path.write_bytes(np.random.default_rng(0).bytes(max(len(data), 64)))
    else:  # truncated in the middle of a line / an archive
        cut = len(data) // 2
        while data[cut - 1 : cut] == b"\n":
            cut -= 1
        path.write_bytes(data[:cut])


@pytest.mark.parametrize("how", ["empty", "random", "truncated"])
def test_a_damaged_checkpoint_with_resume_is_named(finished, digits, tmp_path, capsys, how):
    out = copy_run(finished[0], tmp_path)
    damage(out / "checkpoint.pt", how)
    assert main(["train", "--out", str(out), "--resume", "--epochs", "3", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'checkpoint.pt'} is damaged" in err and "--force" in err
    assert "Traceback" not in err and "Errno" not in err
    with pytest.raises(CorruptRunError, match="checkpoint.pt is damaged"):
        train(config(3), out, resume=True, splits=digits, progress=False)


@pytest.mark.parametrize("n_bins", [3.7, 0, -1, True, "20", None])
def test_n_bins_must_be_a_positive_integer(n_bins):
    bins = torch.zeros(3, 4, 2, dtype=torch.long)
    probs = torch.full((4, 2, 2), 0.5)
    with pytest.raises(ValueError, match="n_bins must be a positive integer"):
        isx_pid_batched(bins, probs, n_bins)
    assert isx_pid_batched(bins, probs, np.int64(3)).atoms.shape == (2, 18)


def test_a_goal_file_with_a_string_weight_names_the_file_and_the_entry(tmp_path, capsys):
    vector = tmp_path / "goal.json"
    vector.write_text(json.dumps([0.0] * 5 + ["abc"] + [0.0] * 13))
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"{F}{C}": "x"}))
    with pytest.raises(ValueError, match=rf"goal file {vector}: goal weight 6 is 'abc'"):
        Goal.from_file(vector, "FCL")
    with pytest.raises(ValueError, match=r"labels.json: goal weight of \{F\}\{C\} is 'x'"):
        Goal.from_file(labels, "FCL")
    argv = [
        "train",
        *SMALL_ARGS,
        "--goal",
        str(vector),
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"goal file {vector}: goal weight 6 is 'abc', not a number" in err


# -- 4. every file of a run folder, damaged, is named ------------------------------------------
READERS = {
    "config.json": ["config", "train_config", "load_model"],
    "history.csv": ["history"],
    "atoms.npz": ["atoms"],
    "checkpoint.pt": ["checkpoint", "load_model"],
    "summary.json": ["summary"],
}


@pytest.mark.parametrize("how", ["empty", "random", "truncated"])
@pytest.mark.parametrize("name", list(READERS))
def test_every_reader_names_a_damaged_file(finished, tmp_path, name, how):
    out = copy_run(finished[0], tmp_path)
    damage(out / name, how)
    folder = RunFolder(out)
    for reader in READERS[name]:
        with pytest.raises(CorruptRunError, match=f"{out / name} is damaged"):
            getattr(folder, reader)()
    for other, readers in READERS.items():  # the other files still read
        if other != name:
            getattr(folder, readers[0])()
    if name in ("config.json", "checkpoint.pt"):
        with pytest.raises(CorruptRunError, match=f"{out / name} is damaged"):
            load_run(out)


@pytest.mark.parametrize("name", ["config.json", "atoms.npz"])
def test_resume_names_a_damaged_file(finished, tmp_path, capsys, name):
    out = copy_run(finished[0], tmp_path)
    damage(out / name, "truncated")
    assert main(["train", "--out", str(out), "--resume", "--epochs", "3", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{out / name} is damaged" in err and "Traceback" not in err


def test_resume_rewrites_a_damaged_history_from_the_checkpoint(finished, tmp_path, capsys):
    out = copy_run(finished[0], tmp_path)
    damage(out / "history.csv", "truncated")
    with pytest.raises(CorruptRunError, match="--resume` rewrites it from the checkpoint"):
        RunFolder(out).history()
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert [row["epoch"] for row in RunFolder(out).history()] == [1, 2]


# -- 5. resuming from the folder alone ---------------------------------------------------------
def test_resume_from_the_folder_alone_and_only_extend(finished, tmp_path, capsys):
    out = copy_run(finished[0], tmp_path)
    # nothing typed again but the folder and more epochs; equal options are fine, among them
    # the goal setup 1 has by default
    argv = ["train", "--out", str(out), "--resume", "--no-progress"]
    assert main([*argv, "--epochs", "4", "--seed", "0", "--goal", "optimized"]) == 0
    same_run(finished[1], out)
    assert RunFolder(out).train_config() == config(4)  # the goal stays the model's default
    capsys.readouterr()
    assert main([*argv, "--seed", "6", "--hidden", "12,3", "--goal", "heuristic"]) == 2
    err = capsys.readouterr().err
    assert "--seed 6 (the run has 0)" in err and "--hidden 12,3 (the run has 12)" in err
    assert "--goal heuristic (the run has optimized, setup1's default)" in err


def test_resume_of_a_folder_without_a_run_is_refused(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "holds no run to resume" in capsys.readouterr().err


# -- 6. the first hour -------------------------------------------------------------------------
def test_every_train_option_has_help_with_its_default():
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = action.choices["train"]
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert action.help and "default" in action.help, action.option_strings


def test_start_and_end_say_what_and_where(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", *SMALL_ARGS, "--epochs", "1", "--out", str(out), "--no-progress"]
    assert main([*argv, "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[:2] == [
        f"run folder: {out}",
        "data: digits, 1150 training / 288 validation / 359 test images; 1 epochs; 1 thread",
    ]
    assert captured.out.splitlines()[-1] == f"show them with: infomorphic inspect {out}"


# -- 7. predict: tests/test_inference.py; a run without per-epoch splits ------------------------


def test_a_run_without_per_epoch_splits_saves_the_fitted_readout(digits, tmp_path):
    """With eval_splits=() the readout is first fitted by the final measurement, after the
    last epoch's save; the checkpoint must hold the network the summary measured."""
    from infomorphic.training import RunFolderWriter

    trainer = Trainer(config(1, eval_splits=()), digits, [RunFolderWriter(RunFolder(tmp_path))])
    trainer.fit()
    saved = RunFolder(tmp_path).checkpoint()["model"]["polarity"]
    assert torch.equal(saved, trainer.model.polarity)


# -- 8. start-up: nothing is imported that was not asked for -----------------------------------
def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_does_not_import_torch():
    out = run_python(
        "import sys, contextlib, io\n"
        "from infomorphic.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    codes = [main(['--help']), main(['train', '--help']), main(['predict', '--help'])]\n"
        "print(codes, 'torch' in sys.modules)\n"
    )
    assert out.strip() == "[0, 0, 0] False"


def test_plain_eager_training_does_not_import_dynamo(tmp_path):
    out = run_python(
        "import sys\n"
        "from infomorphic.cli import main\n"
        f"code = main(['train', *{SMALL_ARGS!r}, '--epochs', '1', '--out', "
        f"{str(tmp_path / 'run')!r}, '--no-progress'])\n"
        "print(code, sorted(m for m in sys.modules if m.startswith(('torch._dynamo', "
        "'torch._inductor', 'matplotlib', 'optuna'))))\n"
    )
    assert out.splitlines()[-1] == "0 []"


# -- 9. configuration files --------------------------------------------------------------------
def test_config_file_options_and_precedence(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text(
        'dataset = "digits"\nhidden = [12]\nbatch_size = 256\nseed = 0\nepochs = 3\n'
        'eval-splits = ["val", "test"]\ncheckpoint-every = 0\nno_progress = true\n'
    )
    assert main(["train", "--config", str(path), "--epochs", "1", "--print-config"]) == 0
    printed = capsys.readouterr().out
    for line in (
        'dataset = "digits"',
        "hidden = [12]",
        "batch-size = 256",
        "epochs = 1",
        'eval-splits = ["val", "test"]',
        "checkpoint-every = 0.0",
        "no-progress = true",
        "# goal = (not set)",
    ):
        assert line in printed.splitlines(), line
    # the printed configuration is a configuration file giving the same options
    again = tmp_path / "again.toml"
    again.write_text(printed)
    assert main(["train", "--config", str(again), "--print-config"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == printed.splitlines()[1:]
    out = tmp_path / "run"
    assert main(["train", "--config", str(path), "--epochs", "1", "--out", str(out)]) == 0
    assert RunFolder(out).train_config() == config(1, eval_splits=("val", "test"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 3\n", "unknown option colour; the keys of 'infomorphic train' are "),
        ("epochs = 2.5\n", "epochs: want a whole number, got '2.5'"),
        ('hidden = "a"\n', "hidden: want sizes like 100"),
        ("no-progress = 1\n", "no-progress: want true or false"),
        ('model = "nope"\n', "model: 'nope' is not one of setup1"),
        ("epochs = [", "not a valid TOML file"),
    ],
)
def test_bad_config_files_are_refused_with_a_message(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and f"--config {path}" in err
    if "unknown" in message:
        assert "batch-size" in err and "eval-splits" in err


def test_every_command_takes_a_config_file(tmp_path, capsys):
    path = tmp_path / "search.toml"
    path.write_text("trials = 7\nsampler = 'random'\n")  # --trials is required otherwise
    assert main(["search", "--config", str(path), "--print-config"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "trials = 7" in printed and 'sampler = "random"' in printed
    xor = tmp_path / "xor.csv"
    xor.write_text("F,C,T,p\n0,0,0,0.25\n0,1,1,0.25\n1,0,1,0.25\n1,1,0,0.25\n")
    (tmp_path / "pid.toml").write_text("json = true\n")
    assert main(["pid", str(xor), "--config", str(tmp_path / "pid.toml")]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "T"


def test_toml_needs_python_311_or_tomli(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    path = tmp_path / "c.toml"
    path.write_text("epochs = 1\n")
    assert main(["train", "--config", str(path)]) == 2
    assert "Python >= 3.11 or the tomli package (pip install tomli)" in capsys.readouterr().err


def test_trainer_keeps_no_copies_unless_a_hook_asks(digits):
    trainer = Trainer(config(1), digits)
    trainer.fit()
    assert trainer.completed_state() is None
