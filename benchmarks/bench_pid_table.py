"""Benchmark: ``infomorphic pid`` on tables with large alphabets (the support path).

Two count tables of 20,000 random rows, written to a temporary folder as CSV:

- 3 sources of 1,000 values and a binary target (the dense PMF: 2 x 10^9 cells, 14.9 GiB);
- 4 sources and a target of 100 values (the dense PMF: 10^10 cells, 74.5 GiB).

Before the support path, ``infomorphic pid`` was killed by the kernel on the first (after two
minutes, at 23 GB) and ended in numpy's "Unable to allocate 74.5 GiB" on the second. Each case
runs in its own process (``harness.run_in_subprocess``):

- ``library``: the calls behind the command, ``rows_from_table`` then ``isx_pid_rows``, timed
  with ``harness.measure`` (median of ``--repeats`` after one warm-up; peak: resident memory the
  step adds over the process before it, and the whole process's peak);
- ``library --pointwise``: the same with the local atoms of every realisation;
- ``cli``: ``python -m infomorphic pid FILE`` end to end (interpreter start, imports, reading,
  decomposing, printing) in a child process, its wall time (median) and peak resident memory.

Last, the dense and the support computations are compared on small random tables (with zeros)
where both fit: the largest difference of any atom and of any local atom.

    python benchmarks/bench_pid_table.py
    python benchmarks/bench_pid_table.py --repeats 5
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

ROWS = 20_000
CASES = {
    "3 x 1000 values, binary target": (3, 1000, 2),
    "4 x 100 values, 100-value target": (4, 100, 100),
}
METHODS = ("library", "library --pointwise", "cli")


def write_table(path: Path, n_sources: int, n_values: int, n_target: int, seed: int = 0) -> None:
    """``ROWS`` random rows with a count each; the target depends on the first two sources."""
    import numpy as np

    rng = np.random.default_rng(seed)
    values = rng.integers(0, n_values, size=(ROWS, n_sources))
    target = (values[:, 0] + values[:, 1] + rng.integers(0, 2, ROWS)) % n_target
    counts = rng.integers(1, 4, ROWS)
    names = [f"X{i}" for i in range(1, n_sources + 1)]
    lines = [",".join([*names, "Y", "count"])]
    lines += [
        ",".join(map(str, [*row, t, c])) for row, t, c in zip(values, target, counts, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


# --- one case, in its own process -------------------------------------------------------------


def worker(args) -> None:
    if args.method == "cli":
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), harness.SRC) if p)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "infomorphic", "pid", args.file],
                capture_output=True,
                text=True,
                env=env,
            )
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(done.stderr.strip().splitlines()[-1])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        mi = next(line for line in done.stdout.splitlines() if line.startswith("I(Y"))
        print(json.dumps({"median_s": statistics.median(times), "peak_mib": peak, "mi": mi}))
        return

    import torch

    from infomorphic.pid import isx_pid_rows
    from infomorphic.pid.table import rows_from_table

    torch.set_num_threads(args.threads)
    pointwise = args.method.endswith("--pointwise")

    def step():
        table = rows_from_table(args.file)
        return isx_pid_rows(
            table.values,
            table.probabilities,
            table.sources,
            pointwise=pointwise,
            target_name=table.target,
        )

    # the imports and a tiny table first, so that lazily loaded parts are in the baseline
    tiny = Path(args.file).with_name("tiny.csv")
    tiny.write_text("a,b,t,count\n0,0,0,1\n0,1,1,1\n1,0,1,1\n1,1,0,1\n")
    with contextlib.redirect_stdout(io.StringIO()):
        isx_pid_rows([[0, 0, 0], [1, 1, 1]], [0.5, 0.5], pointwise=True)
    gc.collect()
    stats, result = harness.measure(step, args.repeats, "cpu")
    stats["mi"] = f"I(Y : ...) = {result.mutual_information:.6f}"
    print(json.dumps(stats))


# --- dense and support on small tables ----------------------------------------------------------


def agreement(n_tables: int = 40) -> tuple[float, float]:
    """Largest |atom| and |local atom| difference between the dense and the support paths over
    random tables with 2 to 4 sources of 2 to 4 values and about half the cells zero."""
    import numpy as np

    from infomorphic.pid import isx_pid

    rng = np.random.default_rng(1)
    worst_atom = worst_local = 0.0
    for _ in range(n_tables):
        n = int(rng.integers(2, 5))
        shape = tuple(int(s) for s in rng.integers(2, 5, size=n + 1))
        p = rng.random(shape) ** 2 * (rng.random(shape) > 0.5)
        if p.sum() == 0:
            continue
        p /= p.sum()
        dense = isx_pid(p, method="dense", pointwise=True)
        support = isx_pid(p, method="support", pointwise=True)
        diff = (dense.atoms_tensor - support.atoms_tensor).abs().max().item()
        worst_atom = max(worst_atom, diff)
        local = np.abs(dense.pointwise.atoms - support.pointwise.atoms).max()
        worst_local = max(worst_local, float(local))
    return worst_atom, worst_local


# --- the parent ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    print(f"infomorphic pid on {ROWS:,}-row count tables; {harness.machine_description()}")
    print(f"{args.threads} torch threads, median of {args.repeats} runs")
    header = (
        f"{'table':<33} {'dense PMF':>10}  {'what is timed':<20} {'time s':>7} "
        f"{'peak MiB':>9} {'process MiB':>12}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name, (n_sources, n_values, n_target) in CASES.items():
            path = Path(tmp) / f"{n_sources}-{n_values}.csv"
            write_table(path, n_sources, n_values, n_target)
            dense_gib = n_values**n_sources * n_target * 8 / 2**30
            for method in METHODS:
                arguments = ["--method", method, "--file", str(path)]
                arguments += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
                run = harness.run_in_subprocess(__file__, arguments, args.threads)
                label = f"{name:<33} {dense_gib:>6.1f} GiB  {method:<20}"
                if "error" in run:
                    print(f"{label} failed: {run['error']}", flush=True)
                    continue
                process = run.get("process_peak_mib")
                process = f"{process:>12.0f}" if process is not None else f"{'(= peak)':>12}"
                print(
                    f"{label} {run['median_s']:>7.2f} {run['peak_mib']:>9.0f} {process}",
                    flush=True,
                )
    atom, local = agreement()
    print()
    print(
        "dense vs support on 40 random tables (2-4 sources, 2-4 values, ~half the cells zero): "
        f"max |d atom| = {atom:.1e} bits, max |d local atom| = {local:.1e} bits"
    )


if __name__ == "__main__":
    main()
