"""One writer per run folder and search folder (``infomorphic.locks``): a second writer is
refused naming the holder, a killed holder's lock is taken over with a warning, and a record
that names a live process is honoured where flock is not. Real second processes throughout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import pytest

from infomorphic.cli import main
from infomorphic.locks import LOCK_FILE, FolderLock, FolderLockedError, StaleLockWarning, hold

TRAIN = ["--dataset", "digits", "--hidden", "8", "--batch-size", "256", "--no-progress"]


def wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the first writer ended: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the first writer did not get going in time")
        time.sleep(0.1)


def sleeper(code: str = "") -> subprocess.Popen:
    """A live second process (it prints 'ready' once ``code`` has run)."""
    script = f"import sys, time\n{code}\nprint('ready', flush=True)\ntime.sleep(120)"
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def end(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


def record_of(pid: int, **changes) -> str:
    from infomorphic.locks import _start_ticks

    record = {
        "pid": pid,
        "pid_start": _start_ticks(pid),
        "host": socket.gethostname(),
        "started": "2025-01-01 00:00:00",
        "command": "infomorphic train --out x",
    }
    return json.dumps({**record, **changes})


# -- the lock itself ---------------------------------------------------------------------------
def test_a_lock_records_its_holder_nests_and_leaves_nothing_behind(tmp_path):
    folder = tmp_path / "new" / "run"
    with hold(folder, "run folder") as lock:
        holder = lock.holder()
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with hold(folder):  # the same process again: nested, not refused
            pass
        assert (folder / LOCK_FILE).is_file()  # the outer hold still holds it
    assert not folder.exists()  # made for the lock, nothing written: removed
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    with hold(folder):
        pass
    assert sorted(p.name for p in folder.iterdir()) == ["config.json"]


def test_a_second_process_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    code = f"from infomorphic.locks import FolderLock\nFolderLock({str(folder)!r}).acquire()"
    holder = sleeper(code)
    try:
        with pytest.raises(FolderLockedError, match=rf"process {holder.pid} on host") as caught:
            FolderLock(folder, "run folder").acquire()
        assert "is writing this run folder" in str(caught.value)
        assert f"kill {holder.pid}" in str(caught.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (folder / LOCK_FILE).is_file()  # left behind by kill -9
    with pytest.warns(StaleLockWarning, match=f"process {holder.pid} .* it no longer runs"):
        with hold(folder) as lock:
            assert lock.holder()["pid"] == os.getpid()


def test_where_flock_is_not_honoured_a_live_holder_record_still_refuses(tmp_path):
    """A record naming a live process of this host refuses even when flock itself succeeds
    (flock missing, or a file system that does not honour it); a dead one is stale."""
    folder = tmp_path / "run"
    folder.mkdir()
    other = sleeper()  # holds no flock: only its record speaks for it
    try:
        (folder / LOCK_FILE).write_text(record_of(other.pid))
        with pytest.raises(FolderLockedError, match=f"process {other.pid}"):
            FolderLock(folder).acquire()
        # the same number, but another process (its start time differs): reused, not alive
        (folder / LOCK_FILE).write_text(record_of(other.pid, pid_start=1))
        with pytest.warns(StaleLockWarning, match="no longer runs"), hold(folder):
            pass
    finally:
        end(other)
    (folder / LOCK_FILE).write_text(record_of(other.pid))  # it has ended now
    with pytest.warns(StaleLockWarning, match="no longer runs"), hold(folder):
        pass


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("not json", "unreadable lock record"), (record_of(1, host="elsewhere"), "its lock was free")],
)
def test_other_stale_records_are_taken_over_with_a_warning(tmp_path, content, fragment):
    (tmp_path / LOCK_FILE).write_text(content)
    with pytest.warns(StaleLockWarning, match=fragment), hold(tmp_path):
        pass


def test_a_free_lock_takes_no_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with hold(tmp_path):
            pass
        with hold(tmp_path):
            pass


# -- the commands ------------------------------------------------------------------------------
def test_a_second_train_into_one_folder_is_refused_then_takes_over_after_kill(tmp_path, capsys):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "infomorphic",
        "train",
        *TRAIN,
        "--epochs",
        "100000",
        "--checkpoint-every",
        "0",
        "--out",
        str(out),
    ]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (out / "checkpoint.pt").is_file(), first)
        for extra in (["--force"], ["--resume"], []):
            assert main(["train", *TRAIN, "--epochs", "1", "--out", str(out), *extra]) == 2
            err = capsys.readouterr().err
            assert f"{out} is in use: infomorphic train" in err, err
            assert f"process {first.pid} on host {socket.gethostname()}" in err
            assert "Traceback" not in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert main(["train", *TRAIN, "--epochs", "1", "--out", str(out), "--force"]) == 0
    err = capsys.readouterr().err
    assert f"infomorphic: warning: {out}: taking over the lock left by infomorphic train" in err
    assert json.loads((out / "summary.json").read_text())["epochs"] == 1


def test_a_grid_run_held_by_another_process_fails_naming_it(tmp_path):
    from infomorphic.experiments import RunSpec, run_grid
    from infomorphic.training import TrainConfig

    folder = tmp_path / "run"
    holder = sleeper(
        f"from infomorphic.locks import FolderLock\nFolderLock({str(folder)!r}).acquire()"
    )
    try:
        config = TrainConfig(dataset="digits", hidden=[8], batch_size=256, epochs=1)
        (result,) = run_grid([RunSpec(config, folder)], workers=1)
    finally:
        end(holder)
    assert result.summary is None and f"process {holder.pid}" in result.error
    assert not (folder / "config.json").exists()


@pytest.mark.slow
def test_a_second_search_of_one_folder_is_refused(tmp_path, capsys):
    pytest.importorskip("optuna")
    out = tmp_path / "search"
    command = [
        sys.executable,
        "-m",
        "infomorphic",
        "search",
        "--dataset",
        "digits",
        "--hidden",
        "8",
        "--sampler",
        "random",
        "--trials",
        "1",
        "--epochs",
        "100000",
        "--out",
        str(out),
    ]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (out / "search.json").is_file(), first)
        argv = [
            "search",
            "--dataset",
            "digits",
            "--hidden",
            "8",
            "--sampler",
            "random",
            "--trials",
            "1",
            "--epochs",
            "1",
            "--out",
            str(out),
        ]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "is writing this search folder" in err and f"process {first.pid}" in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
