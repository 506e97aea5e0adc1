"""A run folder in pandas: the history per epoch, every neuron's atoms in long format, a summary.

``RunFolder`` reads the files ``infomorphic train`` writes (and refuses damaged ones with a
``CorruptRunError`` naming the file); the rest is plain pandas. Without a run folder, a small
run on the built-in digits is trained first.

    python examples/run_to_pandas.py runs/setup1-mnist-sample-100-seed0
    python examples/run_to_pandas.py                # trains a 5-epoch run into a temp folder
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from infomorphic.training import RunFolder, TrainConfig, train


def history_frame(folder: RunFolder) -> pd.DataFrame:
    """One row per epoch: accuracies, each layer's mean atoms and goal, seconds."""
    return pd.DataFrame(folder.history()).set_index("epoch")


def atoms_frame(folder: RunFolder) -> pd.DataFrame:
    """One row per (layer, epoch, neuron, atom) with the atom's value in bits."""
    arrays = folder.atoms()
    frames = []
    for key in arrays:
        if not key.endswith("_atoms"):
            continue
        layer = key.removesuffix("_atoms")
        values = arrays[key]  # (epochs, neurons, atoms + 1), H_res last
        labels = [str(label) for label in arrays[f"{layer}_labels"]]
        index = pd.MultiIndex.from_product(
            [range(1, values.shape[0] + 1), range(values.shape[1]), labels],
            names=["epoch", "neuron", "atom"],
        )
        frame = index.to_frame(index=False)  # rows in the array's own (C) order
        frame.insert(0, "layer", layer)
        frame["bits"] = values.ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run folder (default: train one)")
    parser.add_argument("--epochs", type=int, default=5, help="for the run trained here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        run_dir = args.run_dir
        if run_dir is None:
            run_dir = Path(scratch) / "run"
            config = TrainConfig(dataset="digits", hidden=[32], epochs=args.epochs, batch_size=128)
            train(config, run_dir, progress=False)
        folder = RunFolder(run_dir)
        history, atoms = history_frame(folder), atoms_frame(folder)
        config, summary = folder.config(), folder.summary()

    print(
        f"{summary['model']} on {summary['dataset']}: test accuracy {summary['test_accuracy']:.3f}"
    )
    print(history.filter(like="accuracy").tail())
    last = atoms[atoms.epoch == atoms.epoch.max()]
    table = last.pivot_table(
        index="atom", columns="layer", values="bits", aggfunc="mean", sort=False
    )
    print("\nmean atoms of the last epoch (bits):")
    print(table.round(4))
    hidden = last[(last.layer == "hidden1") & (last.atom != "H_res")]
    largest = hidden.groupby("atom", sort=False).bits.mean().idxmax()
    print(f"\nlargest mean atom of hidden1: {largest}; {len(atoms):,} rows in long format")
    print(f"hidden layers: {config['hidden']}, epochs {len(history)}")


if __name__ == "__main__":
    main()
