"""What one training epoch and one evaluation cost per model and hidden size, one CPU thread:
the numbers behind ``infomorphic.reproduce.estimate`` (benchmarks/README.md, "Compute
estimates").

Each case runs in its own process (harness.py) with one torch thread, as a reproduction's
worker does: mnist-10k (6,400 training images after the hold-out), batch 1024, the model's
default goal; it trains one warm-up epoch, then ``--epochs`` timed epochs (evaluation off), then
times one evaluation of every split (the readout fit on the training split, validation, test).
Printed per case: microseconds per training sample and epoch, microseconds per evaluated sample,
the estimate's own figure for the same size, and the ratio of the measured training cost to
the baseline case (setup 1, N = 100) of the same invocation.

    python benchmarks/bench_epochs.py                         # every model at N = 100, 500, 1000
    python benchmarks/bench_epochs.py --cases setup1:100 setup2:2000 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import harness

BASELINE = "setup1:100"
DEFAULT_CASES = [
    "setup1:100",
    "setup1:500",
    "setup1:1000",
    "setup2:500",
    "setup2:1000",
    "setup3:100",
    "setup3:1000",
    "context-only:100",
    "context-only:1000",
    "lateral-only:100",
    "lateral-only:1000",
    "random-hidden:100",
    "random-hidden:1000",
    "backprop:100",
    "backprop:1000",
    "readout-only:100",
    "deep-feedback:1600,400",
    "setup2:800,200",
]


def worker(args) -> None:
    """Time one case and print one JSON line."""
    import torch

    torch.set_num_threads(1)
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.training import TrainConfig, Trainer

    model, sizes = args.case.split(":")
    splits = prepare_splits(load_dataset("mnist", data_dir=harness.MNIST_DIR, download=False))
    config = TrainConfig(
        dataset="mnist",
        model=model,
        hidden=[int(s) for s in sizes.split(",")],
        epochs=1 + args.epochs,
        eval_splits=(),
    )
    trainer = Trainer(config, splits)
    trainer.train_epoch()  # warm-up
    start = time.perf_counter()
    for _ in range(args.epochs):
        trainer.train_epoch()
    train_s = (time.perf_counter() - start) / args.epochs
    start = time.perf_counter()
    trainer.measure(("train", "val", "test"), 1)
    eval_s = time.perf_counter() - start
    n_train = len(splits.y_train)
    evaluated = n_train + len(splits.y_val) + len(splits.y_test)
    print(json.dumps({"train_us": 1e6 * train_s / n_train, "eval_us": 1e6 * eval_s / evaluated}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=DEFAULT_CASES, metavar="MODEL:N[,N]")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per case")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    from infomorphic.reproduce.estimate import _us_per_sample

    cases = [BASELINE, *(c for c in args.cases if c != BASELINE)]
    print(
        f"one training epoch (batch 1024) and one evaluation per case, mnist-10k, one thread, "
        f"{args.epochs} timed epochs after a warm-up"
    )
    print(f"Machine: {harness.machine_description()}")
    header = (
        f"{'case':<24} {'train us/sample':>16} {'eval us/sample':>15} {'eval/train':>10} "
        f"{'estimate us':>12} {'vs baseline':>12}"
    )
    print(header)
    print("-" * len(header))
    baseline = None
    for case in cases:
        row = harness.run_in_subprocess(__file__, ["--case", case, "--epochs", str(args.epochs)], 1)
        if "error" in row:
            print(f"{case:<24} failed: {row['error']}")
            continue
        baseline = baseline or row["train_us"]
        sizes = [int(s) for s in case.split(":")[1].split(",")]
        sizes = [] if case.startswith("readout-only") else sizes
        print(
            f"{case:<24} {row['train_us']:>16.1f} {row['eval_us']:>15.1f} "
            f"{row['eval_us'] / row['train_us']:>10.2f} {_us_per_sample(sizes):>12.1f} "
            f"{row['train_us'] / baseline:>11.2f}x"
        )
    print("estimate us: infomorphic.reproduce.estimate's figure for the same hidden sizes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
