"""Shared benchmark plumbing: run each case in a fresh process and read its time and peak memory.

A fresh process per case keeps one case's allocations from inflating the next one's peak. On CPU
the peak is the process's peak resident set size minus the value right before the case starts
(after imports and inputs); on CUDA it is ``max_memory_allocated`` minus the memory allocated
before the first run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
# The real MNIST subset every benchmark reads (../shared/data/mnist-10k beside the repository);
# INFOMORPHIC_MNIST_DIR points elsewhere, e.g. on the device machine.
_SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-10k"
MNIST_DIR = Path(os.environ.get("INFOMORPHIC_MNIST_DIR", _SHARED_MNIST))


def _status_kib(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False where not supported."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measure(step: Callable[[], object], repeats: int, device) -> tuple[dict, object]:
    """Median time of ``step`` over ``repeats`` runs after one warm-up, and its peak memory.

    ``peak_mib``: memory the step adds at its peak over what the process held just before (GPU:
    allocated tensors; CPU: resident set). ``process_peak_mib`` (CPU): the whole process's
    peak resident set during the step, runtime and data included.
    """
    import torch

    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        reset_peak_rss()
        base = _status_kib("VmRSS")
    result = step()
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    stats = {"median_s": statistics.median(times), "times": times}
    if cuda:
        stats["peak_mib"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = _status_kib("VmHWM")
        stats["peak_mib"] = (peak - base) / 1024
        stats["process_peak_mib"] = peak / 1024
    return stats, result


def repeat_ms(
    fn: Callable[[], object],
    repeats: int,
    warmups: int = 1,
    reduce: Callable[[list[float]], float] = statistics.median,
) -> float:
    """``reduce`` (median, or min) of ``repeats`` timed calls after ``warmups`` untimed ones, in
    ms, for CPU work inside one process (``measure`` also syncs CUDA and reads memory)."""
    for _ in range(warmups):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * reduce(times)


def run_in_subprocess(script: str, arguments: list[str], threads: int) -> dict:
    """Run ``script --worker ARGS`` in a new interpreter; it prints one JSON line at the end."""
    env = dict(os.environ)
    # The caller's PYTHONPATH comes first, so that PYTHONPATH=OTHER/src times another version
    # of the package (an A/B comparison); this checkout's src only fills in when it is unset.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), SRC) if p)
    env["OMP_NUM_THREADS"] = str(threads)
    done = subprocess.run(
        [sys.executable, script, "--worker", *arguments], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_description() -> str:
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    text = f"{os.cpu_count()} CPUs ({cpu}), torch {torch.__version__}"
    if torch.cuda.is_available():
        text += f", GPU {torch.cuda.get_device_name(0)}"
    return text
