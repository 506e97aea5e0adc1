"""How much of the gap to the paper's numbers is the training set's size? (issue "the paper as
its authors ran it", the reproductions' differences larger than the seed spread.)

Our reproductions train on 8,000 MNIST digits (the only real MNIST here), the paper on 60,000.
This script measures what the size alone does, with everything else fixed (setup 1 and
backprop, N = 100, the optimised goal, 100 epochs, the paper's protocol otherwise):

a. MNIST, the first 2,000, 4,000 and all 8,000 training digits of mnist-10k (a seeded
   permutation; the same 2,000 test digits every time);
b. Fashion-MNIST (the full set, 60,000 / 10,000), 8,000 training images against all 60,000
   (the same 10,000 test images), the one real data set here at the paper's size.

Each subset is written as standard IDX files into RUNS/data/ and trained like any data set; runs
resume and are reused (``infomorphic.experiments.run_grid``). Writes table.md and results.json
beside this script (or --docs).

    python docs/results/data-size/run.py --mnist-dir DIR --fashion-dir DIR [--runs RUNS]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import struct
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = ("setup1", "backprop")
MNIST_SIZES = (2000, 4000, 8000)
FASHION_SIZES = (8000, 60000)
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def write_idx(path: Path, array: np.ndarray) -> None:
    """``array`` (uint8) as an IDX file: magic (0, 0, type 8 = unsigned byte, dimensions),
    the sizes as big-endian int32, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    tmp = path.with_suffix(".tmp")
    # no time stamp or name in the gzip header: the same subset gives the same bytes
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    tmp.replace(path)


def subset(name: str, source: str, size: int, runs: Path) -> Path:
    """The first ``size`` training images of a seeded permutation (seed 0) of ``name``'s
    training set, and its whole test set, as an IDX folder; the whole set is ``source``
    itself."""
    from infomorphic.data import load_dataset

    folder = runs / "data" / f"{name}-{size}"
    if all((folder / f).is_file() for f in IDX_NAMES.values()):
        return folder
    raw = load_dataset(name, source, download=False)
    if size > len(raw.y_train):
        raise SystemExit(f"{name} has {len(raw.y_train)} training images, not {size}")
    if size == len(raw.y_train):
        return Path(source).resolve()
    keep = np.sort(np.random.default_rng(0).permutation(len(raw.y_train))[:size])
    folder.mkdir(parents=True, exist_ok=True)
    side = int(round(raw.x_train.shape[1] ** 0.5))
    write_idx(folder / IDX_NAMES["train_images"], raw.x_train[keep].reshape(-1, side, side))
    write_idx(folder / IDX_NAMES["train_labels"], raw.y_train[keep])
    write_idx(folder / IDX_NAMES["test_images"], raw.x_test.reshape(-1, side, side))
    write_idx(folder / IDX_NAMES["test_labels"], raw.y_test)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", required=True, help="mnist-10k's IDX folder")
    parser.add_argument("--fashion-dir", required=True, help="Fashion-MNIST's IDX folder")
    parser.add_argument("--runs", type=Path, default=Path("runs/data-size"))
    parser.add_argument("--docs", type=Path, default=HERE)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from infomorphic.data import data_identity, load_dataset
    from infomorphic.experiments import RunSpec, run_grid, run_name
    from infomorphic.training import TrainConfig

    sets = [("mnist", args.mnist_dir, n) for n in MNIST_SIZES]
    sets += [("fashion-mnist", args.fashion_dir, n) for n in FASHION_SIZES]
    folders = {(name, n): subset(name, source, n, args.runs.resolve()) for name, source, n in sets}
    specs, keys = [], []
    for (name, n), folder in folders.items():
        for model in MODELS:
            for seed in range(args.seeds):
                config = TrainConfig(
                    dataset=name,
                    data_dir=str(folder),
                    model=model,
                    hidden=[100],
                    epochs=args.epochs,
                    seed=seed,
                    eval_splits=(),
                ).validate()
                out = args.runs.resolve() / "runs" / f"{name}-{n}" / run_name(config)
                specs.append(RunSpec(config, out, f"{name} {n} {model}"))
                keys.append((name, n, model))

    def progress(state, result) -> None:
        print(state, flush=True)

    results = run_grid(specs, args.workers, args.threads, progress)
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"{r.spec.out.name}: {r.error}")
    rows: dict[tuple[str, int, str], list[float]] = {}
    for key, r in zip(keys, results, strict=True):
        if r.summary is not None:
            rows.setdefault(key, []).append(100 * r.summary["test_accuracy"])
    identities = {
        key: data_identity(load_dataset(key[0], folder, download=False))
        for key, folder in folders.items()
    }
    payload = {
        "epochs": args.epochs,
        "seeds": args.seeds,
        "hidden": 100,
        "goal": "optimized (setup 1's default)",
        "rows": [
            {
                "dataset": name,
                "train_images": n,
                "model": model,
                "data": identities[(name, n)],
                "test": rows.get((name, n, model), []),
            }
            for name, _, n in sets
            for model in MODELS
        ],
        "failed": len(failed),
    }
    args.docs.mkdir(parents=True, exist_ok=True)
    (args.docs / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    (args.docs / "table.md").write_text(table(payload))
    print((args.docs / "table.md").read_text())


def table(payload: dict) -> str:
    """The test accuracy of each (data set, training images, model): median (min..max), and
    the gain over the smallest size of its data set."""
    lines = [
        "| data set | training images (of which 80% train, 20% validation) | model | test "
        "accuracy, % median (min..max) | gain over the smallest size, points | data |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    first: dict[tuple[str, str], float] = {}
    for row in payload["rows"]:
        values = row["test"]
        if not values:
            lines.append(
                f"| {row['dataset']} | {row['train_images']:,} | {row['model']} | "
                f"n/a | | {row['data']} |"
            )
            continue
        median = statistics.median(values)
        base = first.setdefault((row["dataset"], row["model"]), median)
        lines.append(
            f"| {row['dataset']} | {row['train_images']:,} | {row['model']} | {median:.2f} "
            f"({min(values):.2f}..{max(values):.2f}) | {median - base:+.2f} | {row['data']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
