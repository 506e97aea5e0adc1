"""What --eval-samples does to the test accuracy of trained runs, and to its spread.

Evaluation samples the hidden spikes (the paper's protocol), so evaluating one trained network
again with other spike draws moves its test accuracy. For each finished run folder given, this
evaluates the test split R times with 1 spike sample per image (the paper's protocol) and R
times with K samples averaged per image, each repetition with its own evaluation stream, and
prints the median and range per run and across runs. Default: the quick-scale setup-1 runs
(N = 100, 100 epochs, seeds 0-2) that `infomorphic reproduce fig3b` leaves in
docs/results/reproduce/runs.

    python benchmarks/bench_eval_samples.py
    python benchmarks/bench_eval_samples.py RUN_DIR [RUN_DIR ...] --samples 10 --repeats 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import harness

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUNS = [
    ROOT / "docs/results/reproduce/runs" / f"setup1-default-mnist-N100-e100-seed{seed}"
    for seed in (0, 1, 2)
]


def accuracies(folder: Path, samples: int, repeats: int) -> list[float]:
    import torch

    from infomorphic.training import RunFolder
    from infomorphic.training.evaluation import evaluate
    from infomorphic.training.loop import load_splits

    run = RunFolder(folder)
    config = run.train_config()
    if config.data_dir is None and config.dataset == "mnist":
        config.data_dir = str(harness.MNIST_DIR)
    splits = load_splits(config)
    model = run.load_model()
    torch.set_num_threads(2)
    return [
        100
        * evaluate(model, splits, ["test"], 4096, seed=1000 + r, epoch=0, samples=samples)[
            "test_accuracy"
        ]
        for r in range(repeats)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path, default=DEFAULT_RUNS)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"test accuracy (%) over {args.repeats} evaluations with other spike draws")
    many = f"K = {args.samples}: median (range)"
    print(f"{'run':<48} {'K = 1: median (range)':>24} {many:>26}")
    medians = {1: [], args.samples: []}
    for folder in args.runs:
        cells = []
        for k in (1, args.samples):
            values = accuracies(folder, k, args.repeats)
            medians[k].append(statistics.median(values))
            cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})")
        print(f"{folder.name:<48} {cells[0]:>24} {cells[1]:>26}")
    for k, values in medians.items():
        low, high = min(values), max(values)
        print(
            f"K = {k}: across runs, median {statistics.median(values):.2f}, range "
            f"{low:.2f}..{high:.2f} (spread {high - low:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
