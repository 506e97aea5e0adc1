"""The thread policy (``infomorphic.threads``): free cores from the kernel's counters, passive
OpenMP waiting for programs only, and thread counts that library calls give back."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from infomorphic import threads
from infomorphic.cli import main
from infomorphic.threads import CpuClock, default_threads, torch_threads

STAT = """\
cpu  500 0 300 9000 100 0 0 0 0 0
cpu0 100 0 100 4000 50 0 0 0 0 0
cpu1 400 0 200 5000 50 0 0 7 0 0
intr 12345
"""


def test_busy_ticks_sum_the_busy_fields_of_the_processs_cores(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    # busy = user + nice + system + irq + softirq + steal (idle and iowait are not busy)
    assert threads._busy_ticks(None, stat) == (100 + 100) + (400 + 200 + 7)
    assert threads._busy_ticks({1}, stat) == 400 + 200 + 7
    assert threads._busy_ticks({0}, tmp_path / "missing") is None


def test_a_cgroup_quota_caps_the_cores(tmp_path, monkeypatch):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert threads._quota_cores(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert threads._quota_cores(tmp_path) is None
    monkeypatch.setattr(threads, "_affinity", lambda: set(range(8)))
    monkeypatch.setattr(threads, "_quota_cores", lambda: 2.5)
    assert threads.available_cores() == 3
    monkeypatch.setattr(threads, "_quota_cores", lambda: None)
    assert threads.available_cores() == 8


def test_others_busy_is_the_cores_busy_less_this_processs_own_time(monkeypatch):
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    start = CpuClock(busy_ticks=0, own_s=10.0, wall_s=100.0)
    # two seconds later: 3 s of busy time on our cores, 1 s of it ours -> 1 other core busy
    later = CpuClock(busy_ticks=3 * ticks_per_s, own_s=11.0, wall_s=102.0)
    monkeypatch.setattr(CpuClock, "now", classmethod(lambda cls: later))
    monkeypatch.setattr(threads.time, "monotonic", lambda: 102.0)
    assert start.others_busy() == pytest.approx(1.0)
    assert CpuClock(None, 0.0, 100.0).others_busy() is None  # off Linux: unknown


@pytest.mark.parametrize(
    ("cores", "others", "workers", "expected"),
    [
        (2, 0.0, 1, 2),  # idle: every core
        (2, 0.2, 1, 2),  # an editor's noise takes no core
        (2, 0.3, 1, 1),  # more than noise: that core is taken
        (2, 1.0, 1, 1),  # one busy process (a spin loop, another run)
        (2, 3.5, 1, 1),  # busier than the machine: still one thread
        (2, 0.0, 2, 1),  # two workers share the free cores
        (16, 3.6, 1, 12),
        (16, 3.6, 3, 4),
        (2, None, 1, 2),  # load unknown (not Linux): every core, as torch would
    ],
)
def test_default_threads_take_the_free_cores(monkeypatch, cores, others, workers, expected):
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    monkeypatch.setattr(CpuClock, "others_busy", lambda self: others)
    assert default_threads(workers, since=CpuClock(0, 0.0, 0.0)) == expected


@pytest.mark.parametrize(
    ("dataset", "hidden", "most"),
    [
        ("mnist", [100], 1),  # 784*100 + 100*10 = 79,400 weights: one thread is faster
        ("mnist", [1000], 3),  # 784,000 + 10,000 = 794,000: ceil(794,000 / 300,000)
        ("cifar10", [100], 2),  # 3072*100 + 100*10 = 308,200
        ("digits", [800, 200], 1),  # 64*800 + 800*200 + 200*10 = 213,200
    ],
)
def test_a_small_network_takes_fewer_threads(monkeypatch, dataset, hidden, most):
    from infomorphic.cli.common import network_threads

    assert network_threads(dataset, hidden) == most
    monkeypatch.setattr(threads, "available_cores", lambda: 16)
    monkeypatch.setattr(CpuClock, "others_busy", lambda self: 0.0)
    assert default_threads(since=CpuClock(0, 0.0, 0.0), most=most) == most
    assert default_threads(4, since=CpuClock(0, 0.0, 0.0), most=most) == min(4, most)


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux's /proc/stat")
def test_a_busy_process_is_seen_as_busy():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let it start spinning
        clock = CpuClock.now()
        time.sleep(0.5)
        busy = clock.others_busy()
    finally:
        spinner.kill()
        spinner.wait()
    # the spinner alone keeps a core busy (others on a shared machine only add to it)
    assert busy is not None and busy >= 0.5


def test_torch_threads_are_given_back():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_passive_waiting_is_asked_for_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert threads.prefer_passive_waiting() is True
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert threads.prefer_passive_waiting() is False
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_only_the_program_sets_the_wait_policy(monkeypatch, capsys):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert main(["train", "--dataset", "digits", "--dry-run"]) == 0
    assert "OMP_WAIT_POLICY" not in os.environ  # a caller's process is left alone
    assert "threads: the cores free" in capsys.readouterr().out
    code = (
        "import os, sys\nfrom infomorphic.cli import main\n"
        "sys.argv = ['infomorphic', 'train', '--dataset', 'digits', '--dry-run']\nmain()\n"
        "import torch\nprint(os.environ['OMP_WAIT_POLICY'], torch.get_num_threads())"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split()[-2] == "PASSIVE", done.stderr


def test_train_uses_the_threads_asked_for_and_gives_them_back(tmp_path, monkeypatch):
    import infomorphic.training.api as api

    seen = []
    real = api._train

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "_train", spy)
    before = torch.get_num_threads()
    out = tmp_path / "run"
    argv = ["train", "--dataset", "digits", "--hidden", "8", "--epochs", "1", "--no-progress"]
    assert main([*argv, "--threads", "1", "--out", str(out)]) == 0
    assert seen == [1] and torch.get_num_threads() == before
