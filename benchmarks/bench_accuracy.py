"""Accuracy of the paper's MNIST models on real data: several models x seeds, as a table.

Default workload: ../shared/data/mnist-10k (8,000 training / 2,000 test real MNIST
digits; 20% of the training part held out for validation), N = 100 hidden neurons, 100 epochs,
seeds 0, 1, 2. Each run writes its own run folder under --out through
``infomorphic.experiments``: a run that already finished is read back, and an interrupted one
resumes from its checkpoint, so the script can be stopped and started again without losing
anything.

    python benchmarks/bench_accuracy.py                       # the full table
    python benchmarks/bench_accuracy.py --epochs 5 --seeds 0  # a quick look
    python benchmarks/bench_accuracy.py --models setup1 --compile  # the one-graph step
    python benchmarks/bench_accuracy.py --cluster tcp://host:8786  # on a Dask cluster
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import harness

from infomorphic.experiments import RunSpec, grid, run_grid, run_name
from infomorphic.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]

# (row name, model, hidden goal)
CONFIGS = [
    ("setup 1, optimised goal", "setup1", "optimized"),
    ("setup 1, heuristic goal", "setup1", "heuristic"),
    ("context-only (bivariate), heuristic", "context-only", "context-heuristic"),
    ("context-only (bivariate), optimised", "context-only", "context-optimized"),
    ("lateral-only (bivariate), heuristic", "lateral-only", "lateral-heuristic"),
    ("lateral-only (bivariate), optimised", "lateral-only", "lateral-optimized"),
    ("random fixed hidden layer", "random-hidden", "optimized"),
    ("backprop (the paper's baseline)", "backprop", "optimized"),
    ("mlp (plain sigmoid network, cross-entropy)", "mlp", "optimized"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--data-dir", default=str(harness.MNIST_DIR))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="all", help="comma-separated model names or 'all'")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument(
        "--compile", action="store_true", help="train with the compiled fixed-shape step"
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "accuracy"))
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS|local:N",
        help="train on a Dask cluster (a scheduler's address, its scheduler file, or local:N); "
        "--out and --data-dir must be paths every worker sees",
    )
    args = parser.parse_args(argv)

    seeds = [int(s) for s in args.seeds.split(",")]
    configs = [c for c in CONFIGS if args.models == "all" or c[1] in args.models.split(",")]
    if args.compile:
        configs = [c for c in configs if c[1] != "backprop"]  # backprop always runs eagerly
    base = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        hidden=[args.hidden],
        epochs=args.epochs,
        compile=args.compile,
    )
    specs = [
        RunSpec(run, Path(args.out) / run_name(run), label=name)
        for name, model, goal in configs
        for run in grid(base, model=[model], goal=[goal], seed=seeds)
    ]
    with contextlib.ExitStack() as stack:
        executor = None
        if args.cluster:
            from infomorphic.experiments.cluster import open_cluster

            executor = stack.enter_context(open_cluster(args.cluster))
        start = time.perf_counter()
        results = run_grid(
            specs,
            args.workers,
            args.threads,
            on_progress=lambda p, r: print(p, file=sys.stderr, flush=True),
            executor=executor,
        )
        wall = time.perf_counter() - start
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"{r.spec.out}: {r.error}", file=sys.stderr)
    if failed:
        return 1
    rows: dict[str, list[dict]] = {}
    for result in results:
        rows.setdefault(result.spec.label, []).append(result.summary)
    summaries = [r.summary for r in results]
    lines = [
        f"Data: {summaries[0]['data_source']}",
        f"N = {args.hidden}, {args.epochs} epochs, seeds {args.seeds}; accuracies in % "
        "(test accuracy at the last epoch)" + ("; compiled step" if args.compile else ""),
        "",
        "| model | test (per seed) | test median | val median | train median | s / run |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, runs in rows.items():
        test = [100 * r["test_accuracy"] for r in runs]
        val = [100 * r["val_accuracy"] for r in runs]
        train_acc = [100 * r["train_accuracy"] for r in runs]
        secs = statistics.median(r["seconds"] for r in runs)
        lines.append(
            f"| {name} | {', '.join(f'{t:.2f}' for t in test)} | {statistics.median(test):.2f} "
            f"| {statistics.median(val):.2f} | {statistics.median(train_acc):.2f} | {secs:.0f} |"
        )
    lines.append("")
    where = f"cluster {args.cluster}" if args.cluster else f"{args.workers} workers"
    lines.append(
        f"{len(results)} runs, {where} x {args.threads} thread(s), "
        f"wall time {wall:.0f} s, machine: {os.cpu_count()} CPUs"
    )
    table = "\n".join(lines)
    print(table)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    name = "table-compiled.md" if args.compile else "table.md"
    (Path(args.out) / name).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
