"""How many threads a training process should use on a machine that others share.

Torch's CPU kernels run on an OpenMP team of one thread per core, and GNU OpenMP's threads
spin while they wait for the team's next task. When another process holds one of the cores,
each parallel region waits for its slowest thread, which shares a core with that process, and
the waiting threads spin on the cores that are left: a run became 1.7x slower beside one busy
process, and 8x beside several torch processes (issue 17). Two measures avoid this:

- ``prefer_passive_waiting`` asks OpenMP to sleep, not spin, while it waits
  (``OMP_WAIT_POLICY=PASSIVE``), unless the user set a policy. It must run before torch is
  imported, so only a program that owns its process calls it (the command line does).
- ``default_threads`` counts the cores that are free: those this process may run on (its CPU
  affinity, capped by a cgroup CPU quota) less the cores that other processes kept busy since
  ``CpuClock`` started (the command line's start-up: importing torch and reading the data). Two
  runs started together each see the other busy and take one thread each; alone on the
  machine, a run takes every core.

``torch_threads`` sets torch's thread count for a block and gives the caller's back: library
code never leaves a changed thread count behind. Nothing here imports torch at import time or
any other part of the package.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CpuClock",
    "available_cores",
    "default_threads",
    "prefer_passive_waiting",
    "start_clock",
    "torch_threads",
    "useful_threads",
]

#: Other processes' load (in cores) below which a core still counts as free: a quarter of a
#: core is background noise (an editor, a shell), more is a process that would slow a team.
NOISE_CORES = 0.25
#: Shortest window over which the other processes' load is measured; ``default_threads``
#: waits for the rest of it when it is asked sooner (e.g. by a library user).
MIN_WINDOW_S = 0.2


def prefer_passive_waiting() -> bool:
    """Ask OpenMP threads to sleep while they wait, unless ``OMP_WAIT_POLICY`` is set; whether
    the policy was set here. Has an effect only before torch is first imported."""
    if "OMP_WAIT_POLICY" in os.environ:
        return False
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return True


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return None


def _quota_cores(cgroup_root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in cores (cgroup v2 ``cpu.max``), if any."""
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup CPU quota."""
    affinity = _affinity()
    cores = len(affinity) if affinity else (os.cpu_count() or 1)
    quota = _quota_cores()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _busy_ticks(cpus: set[int] | None, stat: Path = Path("/proc/stat")) -> int | None:
    """Busy clock ticks since boot, summed over ``cpus`` (all when None); None off Linux."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    busy = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in rest.split()]
        # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy;
        # steal (another virtual machine's) is.
        busy += sum(ticks[:8]) - ticks[3] - ticks[4]
    return busy


@dataclass(frozen=True)
class CpuClock:
    """A moment to measure the other processes' CPU use from: the busy ticks of this
    process's cores, this process's own CPU time and the wall clock."""

    busy_ticks: int | None
    own_s: float
    wall_s: float

    @classmethod
    def now(cls) -> CpuClock:
        return cls(_busy_ticks(_affinity()), time.process_time(), time.monotonic())

    def others_busy(self) -> float | None:
        """Cores that other processes kept busy, on average, since this moment (None where
        the system does not say: off Linux). Waits until ``MIN_WINDOW_S`` has passed."""
        if self.busy_ticks is None:
            return None
        wait = MIN_WINDOW_S - (time.monotonic() - self.wall_s)
        if wait > 0:
            time.sleep(wait)
        later = CpuClock.now()
        if later.busy_ticks is None:
            return None
        tick_s = 1 / os.sysconf("SC_CLK_TCK")
        busy_s = (later.busy_ticks - self.busy_ticks) * tick_s
        own_s = later.own_s - self.own_s
        return max(0.0, (busy_s - own_s) / (later.wall_s - self.wall_s))


#: Feedforward weights per torch thread below which one more thread costs more than it gives.
#: On this project's 2 idle cores (benchmarks/bench_threads.py, 100 epochs of setup 1 on
#: mnist-sample), N = 100 (79k weights) trained in 8.8 s on one thread and 11.0 s on two,
#: N = 1000 (794k weights) in 2.6 s and 2.1 s for 3 epochs. Between those sizes the crossover
#: was not measured; 300k weights per thread lies between them.
WEIGHTS_PER_THREAD = 300_000


def useful_threads(weights: int) -> int:
    """The most threads a network of ``weights`` feedforward weights profits from."""
    return max(1, math.ceil(weights / WEIGHTS_PER_THREAD))


_START: CpuClock | None = None


def start_clock() -> CpuClock:
    """The process-wide moment ``default_threads`` measures from: the first call's (the
    command line calls this as it starts)."""
    global _START
    if _START is None:
        _START = CpuClock.now()
    return _START


def default_threads(
    workers: int = 1, since: CpuClock | None = None, most: int | None = None
) -> int:
    """Torch threads for each of ``workers`` processes: the free cores shared among them, at
    least one each and at most ``most`` (``useful_threads`` of the network: a small network is
    faster on one thread). Free: available, less what other processes used since ``since``
    (default: ``start_clock()``), a core counting as taken once they keep more than
    ``NOISE_CORES`` of it busy."""
    cores = available_cores()
    others = (since or start_clock()).others_busy()
    free = cores if others is None else cores - others
    usable = max(1, min(cores, math.floor(free + NOISE_CORES + 1e-9)))
    threads = max(1, usable // max(1, workers))
    return threads if most is None else max(1, min(threads, most))


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Torch's thread count for one block, given back afterwards (None: leave it): a run in
    the caller's process must not change the caller's later arithmetic (thread counts change
    float rounding)."""
    if not threads:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
