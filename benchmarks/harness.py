"""Shared benchmark plumbing: run each case in a fresh process and read its time and peak memory.

A fresh process per case keeps one case's allocations from inflating the next one's peak. On CPU
the peak is the process's peak resident set size minus the value right before the case starts
(after imports and inputs); on CUDA it is ``max_memory_allocated`` minus the memory allocated
before the first run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(step: Callable[[], object], repeats: int, device) -> dict:
    """Median time of ``step`` over ``repeats`` runs after one warm-up, and its peak memory."""
    import torch

    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = peak_rss_mib()
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
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20 if cuda else peak_rss_mib() - base
    return {"median_s": statistics.median(times), "times": times, "peak_mib": peak}, result


def run_in_subprocess(script: str, arguments: list[str], threads: int) -> dict:
    """Run ``script --worker ARGS`` in a new interpreter; it prints one JSON line at the end."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
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
