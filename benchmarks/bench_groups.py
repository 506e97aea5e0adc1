"""How many distinct joint bin keys a batch holds per neuron: what the I_sx estimator works on.

The estimator's antichain work scales with the number of (neuron, joint bin key) groups G, not
with the B * N samples. This script trains setup 1 (N = 100, optimised goal) on real MNIST
(../shared/data/mnist-10k) and prints G / (B * N) and the distinct bins per source for one
training batch of 1,024 digits, before training and after --epochs epochs.

    python benchmarks/bench_groups.py              # 100 epochs, seed 0 (about 20 s)
"""

from __future__ import annotations

import argparse
import sys

import harness
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.networks import InfomorphicNetwork
from infomorphic.pid.batched import group_structure
from infomorphic.training import TrainConfig, Trainer


def group_stats(model: InfomorphicNetwork, x: torch.Tensor, y: torch.Tensor) -> list[str]:
    onehot = torch.nn.functional.one_hot(y, model.config.n_classes).to(x.dtype)
    with torch.no_grad():
        states = model.run(x, onehot, torch.Generator().manual_seed(0))
    rows = []
    pairs = [("hidden", model.hidden[0], states.hidden[0]), ("output", model.output, states.output)]
    for name, layer, state in pairs:
        bins = layer.bins(state)
        groups = group_structure(bins, layer.n_bins, torch.float32)
        fraction = groups.group_neuron.numel() / (bins.shape[1] * bins.shape[2])
        distinct = [
            sum(len(torch.unique(bins[s, :, j])) for j in range(bins.shape[2])) / bins.shape[2]
            for s in range(bins.shape[0])
        ]
        per_source = ", ".join(
            f"{src} {d:.1f}" for src, d in zip(layer.sources, distinct, strict=True)
        )
        rows.append(f"{name:<7} G/(B*N) = {100 * fraction:5.2f}%   distinct bins: {per_source}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(harness.MNIST_DIR))
    args = parser.parse_args()
    splits = prepare_splits(load_dataset("mnist", data_dir=args.data_dir), 0.2, args.seed)
    x, y = splits.x_train[:1024], splits.y_train[:1024]
    config = TrainConfig(
        dataset="mnist", data_dir=args.data_dir, model="setup1", epochs=args.epochs, seed=args.seed
    )
    trainer = Trainer(config, splits=splits)  # no hooks: nothing is written
    print(f"setup 1, N = 100, optimised goal, seed {args.seed}, one batch of 1,024 digits")
    print("untrained:")
    for row in group_stats(trainer.model, x, y):
        print("  " + row)
    summary = trainer.fit()
    print(f"after {args.epochs} epochs (test accuracy {summary['test_accuracy']:.4f}):")
    for row in group_stats(trainer.model, x, y):
        print("  " + row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
