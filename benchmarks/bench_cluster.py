"""A grid on a Dask LocalCluster against the local process pool: time per grid, overhead per run.

The same grid (``--runs`` runs of setup 1, seeds 0, 1, ..., each in a fresh run folder so that
nothing is reused) goes once through ``run_grid``'s process pool of ``--workers`` processes and
once through ``--cluster local:W`` (a LocalCluster of W worker processes, one thread each), each
engine in a fresh interpreter, the engines alternating over ``--repeats``. Both train one torch
thread per run; the numbers of the runs are the same (tests/test_cluster.py), so the difference
is the engine's: the cluster's start (scheduler, worker processes) shown apart, and the per-run
cost of sending a run to a worker and its result back.

    python benchmarks/bench_cluster.py                      # 8 runs, N = 100, 5 epochs, mnist-10k
    python benchmarks/bench_cluster.py --runs 4 --epochs 2 --dataset digits --hidden 8 --repeats 1

Columns: ``start s`` (the cluster's start; the pool starts inside its grid), ``grid s`` (median
wall time of the grid), ``s / run`` (grid s / runs), ``overhead / run`` (grid s minus the
pool's, per run; the pool's row is 0), ``ratio`` (grid s over the pool's), ``worker peak MiB``
(the largest resident set of one worker process), ``main peak MiB`` (the grid's own process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness


def worker(args: argparse.Namespace) -> None:
    """One grid on one engine; prints its times and peak memory as one JSON line."""
    from infomorphic.experiments import RunSpec, grid, run_grid, run_name
    from infomorphic.training.config import TrainConfig

    base = TrainConfig(
        dataset=args.dataset, data_dir=args.data_dir, hidden=[args.hidden], epochs=args.epochs
    )
    configs = grid(base, seed=list(range(args.runs)))
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        specs = [RunSpec(c, Path(folder) / run_name(c)) for c in configs]
        with contextlib.ExitStack() as stack:
            start = time.perf_counter()
            executor = None
            if args.engine == "cluster":
                from infomorphic.experiments.cluster import open_cluster

                executor = stack.enter_context(open_cluster(f"local:{args.workers}"))
            started = time.perf_counter()
            results = run_grid(specs, args.workers, threads=1, executor=executor)
            done = time.perf_counter()
        failed = [r.error for r in results if r.error]
        if failed:
            raise SystemExit(f"{len(failed)} runs failed: {failed[0]}")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, reaped workers
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "start_s": started - start,
                "grid_s": done - started,
                "worker_peak_mib": children / 1024,
                "main_peak_mib": own / 1024,
                "test": [r.summary["test_accuracy"] for r in results],
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default=str(harness.MNIST_DIR))
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=("pool", "cluster"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    common = [
        "--runs",
        str(args.runs),
        "--workers",
        str(args.workers),
        "--dataset",
        args.dataset,
        "--data-dir",
        args.data_dir,
        "--hidden",
        str(args.hidden),
        "--epochs",
        str(args.epochs),
    ]
    measured: dict[str, list[dict]] = {"pool": [], "cluster": []}
    for repeat in range(args.repeats):
        order = ("pool", "cluster") if repeat % 2 == 0 else ("cluster", "pool")
        for engine in order:
            found = harness.run_in_subprocess(__file__, [*common, "--engine", engine], 1)
            if "error" in found:
                print(f"{engine}: {found['error']}", file=sys.stderr)
                return 1
            measured[engine].append(found)
    if measured["pool"][0]["test"] != measured["cluster"][0]["test"]:
        print("the engines' runs differ in test accuracy", file=sys.stderr)
        return 1
    pool_s = statistics.median(m["grid_s"] for m in measured["pool"])
    print(
        f"{args.runs} runs of setup 1 (N = {args.hidden}, {args.epochs} epochs, "
        f"{args.dataset}), {args.workers} worker processes x 1 thread, median of "
        f"{args.repeats}; machine: {harness.machine_description()}"
    )
    print()
    print(
        "| engine | start s | grid s | s / run | overhead / run | ratio | worker peak MiB "
        "| main peak MiB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for engine, label in (
        ("pool", f"process pool x{args.workers}"),
        ("cluster", f"--cluster local:{args.workers}"),
    ):
        rows = measured[engine]
        grid_s = statistics.median(m["grid_s"] for m in rows)
        start_s = statistics.median(m["start_s"] for m in rows)
        worker_mib = max(m["worker_peak_mib"] for m in rows)
        main_mib = max(m["main_peak_mib"] for m in rows)
        print(
            f"| {label} | {start_s:.2f} | {grid_s:.2f} | {grid_s / args.runs:.2f} | "
            f"{(grid_s - pool_s) / args.runs:+.3f} | {grid_s / pool_s:.2f} | "
            f"{worker_mib:.0f} | {main_mib:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
