"""The thread policy on a shared machine: `infomorphic train` with 1, 2 and the default number
of threads, beside 0, 1 and 2 busy processes, at N = 100 and N = 1000.

Busy processes are a pure CPU spin loop (`spin`) or another `infomorphic train` (`torch`, a
neighbour's run with its own default threads). Each case runs `infomorphic train` as a fresh
process (so the default policy sees exactly what a user's run sees: passive OpenMP waiting and
the cores free as it starts) and reads the training seconds from its summary.json; `wall` is
the whole command, start-up included. Two more rows per N start two runs together, both with
the default or both with one thread (`pair`: the slower of the two).

    python benchmarks/bench_threads.py            # the table (about 10 minutes on 2 cores)
    python benchmarks/bench_threads.py --quick    # a check that it runs (11 tiny commands)

What issue 17 asks, read from the table: with one core held (`spin x1`), default / best <= 1.5;
the pair of defaults / the pair of one-thread runs <= 1.2; idle, default / best <= 1.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import SRC

LOADS = (
    ("idle", None, 0),
    ("spin x1", "spin", 1),
    ("spin x2", "spin", 2),
    ("torch x1", "torch", 1),
    ("torch x2", "torch", 2),
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), SRC) if p)
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS"):
        env.pop(name, None)  # the policy under test decides
    return env


def _train_command(out: Path, hidden: int, epochs: int, dataset: str, threads: int | None):
    command = [
        sys.executable,
        "-m",
        "infomorphic",
        "train",
        "--dataset",
        dataset,
        "--hidden",
        str(hidden),
        "--epochs",
        str(epochs),
        "--out",
        str(out),
        "--no-progress",
    ]
    return command + (["--threads", str(threads)] if threads else [])


def _start_busy(kind: str, count: int, folder: Path, dataset: str) -> list[subprocess.Popen]:
    busy = []
    for k in range(count):
        if kind == "spin":
            command = [sys.executable, "-c", "while True: pass"]
        else:  # a neighbour's long run with its own defaults
            command = _train_command(folder / f"busy{k}", 100, 100000, dataset, None)
        busy.append(
            subprocess.Popen(
                command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    time.sleep(3.0 if kind == "torch" else 0.5)  # the neighbours are busy before we start
    return busy


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)
    for process in processes:
        process.wait()


def _wait(process: subprocess.Popen, out: Path, started: float) -> dict:
    err = process.stderr.read() if process.stderr else ""  # to its end: the run has ended
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = status = os.waitstatus_to_exitcode(status)
    if status != 0:
        return {"error": (err.strip().splitlines() or ["?"])[-1]}
    threads = re.search(r"; (\d+) threads?$", err, flags=re.MULTILINE)
    summary = json.loads((out / "summary.json").read_text())
    return {
        "train_s": summary["seconds"],
        "wall_s": wall,
        "peak_mib": usage.ru_maxrss / 1024,
        "threads": int(threads.group(1)) if threads else None,
    }


def _runs(folder: Path, hidden: int, epochs: int, dataset: str, threads: list[int | None]):
    """Start one run per entry of ``threads`` at once; their results."""
    started, processes = time.perf_counter(), []
    for k, count in enumerate(threads):
        out = folder / f"run-{time.monotonic_ns()}-{k}"
        command = _train_command(out, hidden, epochs, dataset, count)
        process = subprocess.Popen(
            command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        processes.append((process, out))
    return [_wait(process, out, started) for process, out in processes]


def _cell(result: dict) -> str:
    if "error" in result:
        return "error"
    return f"{result['train_s']:.1f} ({result['wall_s']:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs",
        type=int,
        nargs=2,
        default=(20, 3),
        metavar=("E100", "E1000"),
        help="epochs at N = 100 and N = 1000 (default 20 3)",
    )
    parser.add_argument("--dataset", default="mnist-sample", help="(default %(default)s)")
    parser.add_argument("--sizes", type=int, nargs="+", default=(100, 1000))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a check that it runs: digits, N = 8, 2 epochs, "
        "idle and one busy process of each kind",
    )
    args = parser.parse_args()
    sizes, epochs, dataset = list(args.sizes), list(args.epochs), args.dataset
    loads = LOADS
    if args.quick:
        sizes, epochs, dataset, loads = [8], [2], "digits", LOADS[:2] + LOADS[3:4]
    print(
        f"# bench_threads: {os.cpu_count()} CPUs, dataset {dataset}; cells: training seconds "
        "from summary.json (whole command in brackets); ratio: default / best of 1 and 2"
    )
    print(
        "| N | epochs | load | 1 thread | 2 threads | default (threads) | default / best "
        "| peak MiB (default) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        folder = Path(tmp)
        for hidden, count in zip(sizes, epochs, strict=False):
            for label, kind, busy_count in loads:
                busy = _start_busy(kind, busy_count, folder, dataset) if kind else []
                try:
                    one, two, auto = (
                        _runs(folder, hidden, count, dataset, [t])[0] for t in (1, 2, None)
                    )
                finally:
                    _stop(busy)
                best = min(r.get("train_s", float("inf")) for r in (one, two))
                ratio = auto.get("train_s", float("nan")) / best
                print(
                    f"| {hidden} | {count} | {label} | {_cell(one)} | {_cell(two)} | "
                    f"{_cell(auto)} ({auto.get('threads')}) | {ratio:.2f} | "
                    f"{auto.get('peak_mib', float('nan')):.0f} |",
                    flush=True,
                )
            pair_one = _runs(folder, hidden, count, dataset, [1, 1])
            pair_auto = _runs(folder, hidden, count, dataset, [None, None])
            slow_one = max(r.get("train_s", float("nan")) for r in pair_one)
            slow_auto = max(r.get("train_s", float("nan")) for r in pair_auto)
            chosen = ",".join(str(r.get("threads")) for r in pair_auto)
            print(
                f"| {hidden} | {count} | pair started together | {slow_one:.1f} | - | "
                f"{slow_auto:.1f} ({chosen}) | {slow_auto / slow_one:.2f} (vs 1+1) | - |",
                flush=True,
            )


if __name__ == "__main__":
    main()
