"""Search throughput: trials per hour of setup 1 (N = 100) on mnist-10k, one trial at a time
against population training, and the memory each population member costs.

Each mode runs in fresh processes (see harness.py) and trains what a search trial without
pruning trains: setup 1, the trial's goal (random weights in [-1, 1], the same for every mode),
and the validation and test accuracy once, after the last epoch. Modes:

- solo x1: one process with 2 threads trains the trials one after another;
- solo x2: two processes with 1 thread each share the trials (two at a time);
- pop P: one process with 2 threads trains P trials as one vectorised model;
- pop P x2: two processes with 1 thread each, a population of P each.

    python benchmarks/bench_search.py                      # 100 epochs per trial
    python benchmarks/bench_search.py --epochs 10 --modes solo1,pop8
    python benchmarks/bench_search.py --model setup2 --hidden 200,100 --epochs 25
    python benchmarks/bench_search.py --model setup3 --epochs 25

``--model`` and ``--hidden`` measure other networks (deep members: setup 2 at 200-100, the
per-layer searches' network; setup 3, the feedback searches'); every hidden layer of a member
gets the member's goal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import harness

MODES = {  # name -> (processes, threads per process, population per process)
    "solo1": (1, 2, 1),
    "solo2": (2, 1, 1),
    "pop8": (1, 2, 8),
    "pop16": (1, 2, 16),
    "pop8x2": (2, 1, 8),
}


def goals(count: int, offset: int) -> list[list[float]]:
    import numpy as np

    rng = np.random.default_rng(1234)
    all_goals = rng.uniform(-1, 1, (offset + count, 19))
    return [list(map(float, g)) for g in all_goals[offset:]]


def worker(args) -> None:
    """Train ``--count`` trials (``--population`` at a time) and print time and peak memory."""
    import torch

    torch.set_num_threads(args.threads)
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.training import TrainConfig, Trainer, train

    splits = prepare_splits(load_dataset("mnist", data_dir=harness.MNIST_DIR, download=False))
    hidden = [int(n) for n in args.hidden.split(",")]
    configs = [
        TrainConfig(
            dataset="mnist",
            model=args.model,
            hidden=hidden,
            epochs=args.epochs,
            goal=g,
            eval_splits=(),
        )
        for g in goals(args.count, args.offset)
    ]
    harness.reset_peak_rss()
    start = time.perf_counter()
    results = []
    for begin in range(0, len(configs), args.population):
        chunk = configs[begin : begin + args.population]
        if args.population == 1:
            results += [train(chunk[0], splits=splits, progress=False)]
        else:
            results += Trainer(chunk, splits).fit()  # one population, one summary each
    seconds = time.perf_counter() - start
    with open("/proc/self/status") as status:
        peak = next(float(line.split()[1]) for line in status if line.startswith("VmHWM"))
    val = [r["val_accuracy"] for r in results]
    print(
        json.dumps(
            {"seconds": seconds, "trials": len(results), "peak_mib": peak / 1024, "val": val}
        )
    )


def run_mode(name: str, epochs: int, trials_per_process: int, network: list[str]) -> dict:
    processes, threads, population = MODES[name]
    count = max(trials_per_process, population)

    def one(index: int) -> dict:
        arguments = [
            "--epochs",
            str(epochs),
            "--count",
            str(count),
            "--offset",
            str(index * count),
            "--population",
            str(population),
            "--threads",
            str(threads),
            *network,
        ]
        return harness.run_in_subprocess(__file__, arguments, threads)

    start = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        parts = list(pool.map(one, range(processes)))
    wall = time.perf_counter() - start
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        return {"error": errors[0]}
    trials = sum(p["trials"] for p in parts)
    train_s = max(p["seconds"] for p in parts)
    return {
        "trials": trials,
        "train_s": train_s,
        "wall_s": wall,
        "per_hour": 3600 * trials / train_s,
        "peak_mib": max(p["peak_mib"] for p in parts),
        "val_median": sorted(v for p in parts for v in p["val"])[trials // 2],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--solo-trials",
        type=int,
        default=2,
        help="trials per process in the solo modes (default 2)",
    )
    parser.add_argument("--model", default="setup1", help="setup1, setup2, setup3, ...")
    parser.add_argument("--hidden", default="100", help="hidden sizes, e.g. 200,100")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--population", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    print(
        f"{args.model}, N = {args.hidden}, mnist-10k (6,400 training images), {args.epochs} "
        "epochs per trial, evaluated after the last; random goals (numpy seed 1234)"
    )
    print(f"Machine: {harness.machine_description()}")
    header = (
        f"{'mode':<8} {'procs x threads':>15} {'pop':>4} {'trials':>6} {'train s':>8} "
        f"{'trials/h':>9} {'vs best solo':>12} {'peak MiB':>9} {'MiB/member':>10}"
    )
    print(header)
    print("-" * len(header))
    rows = {}
    for name in args.modes.split(","):
        network = ["--model", args.model, "--hidden", args.hidden]
        rows[name] = run_mode(name, args.epochs, args.solo_trials, network)
    solo = [r["per_hour"] for n, r in rows.items() if n.startswith("solo") and "error" not in r]
    best_solo = max(solo) if solo else float("nan")
    base_peak = rows.get("solo1", {}).get("peak_mib")
    for name, row in rows.items():
        processes, threads, population = MODES[name]
        if "error" in row:
            print(f"{name:<8} failed: {row['error']}")
            continue
        per_member = (
            (row["peak_mib"] - base_peak) / (population - 1)
            if base_peak and population > 1
            else float("nan")
        )
        print(
            f"{name:<8} {f'{processes} x {threads}':>15} {population:>4} {row['trials']:>6} "
            f"{row['train_s']:>8.1f} {row['per_hour']:>9.0f} "
            f"{row['per_hour'] / best_solo:>11.2f}x {row['peak_mib']:>9.0f} "
            f"{per_member:>10.1f}"
        )
    print("trials/h: trials over the slowest process's training time (data loading excluded);")
    print("MiB/member: (peak of the mode - peak of solo x1) / (population - 1), per process.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
