"""The PID of your own data: from NumPy samples, and from a CSV table.

Samples of two binary sources and a target become a distribution (counts of each observed row),
which ``isx_pid_rows`` decomposes without building a dense array; a CSV table with a ``count``
(or ``p``) column is read by ``pmf_from_table`` and decomposed by ``isx_pid``, as
``infomorphic pid FILE.csv`` does on the command line.

    python examples/pid_of_your_data.py
    python examples/pid_of_your_data.py --samples 2000 --noise 0.1 --csv my_counts.csv
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from infomorphic.pid import isx_pid, isx_pid_rows
from infomorphic.pid.table import pmf_from_table


def samples(n: int, noise: float, seed: int) -> np.ndarray:
    """(n, 3) integer rows: two fair coins a, b and t = a XOR b, flipped with prob. ``noise``."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    t = (a ^ b) ^ (rng.random(n) < noise)
    return np.stack([a, b, t], axis=1).astype(np.int64)


def from_numpy(rows: np.ndarray) -> None:
    distinct, counts = np.unique(rows, axis=0, return_counts=True)  # the empirical distribution
    result = isx_pid_rows(distinct, counts / counts.sum(), source_names=["a", "b"], target_name="t")
    print(f"From {len(rows)} NumPy samples (target last column):")
    print(result)
    atoms = result.atoms  # {label: bits}
    print(f"synergy {atoms['{ab}']:.3f} bits of I(t : a, b) = {result.mutual_information:.3f}\n")


def from_csv(rows: np.ndarray, path: Path) -> None:
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    lines = ["a,b,t,count"]
    lines += [f"{a},{b},{t},{c}" for (a, b, t), c in zip(distinct, counts, strict=True)]
    path.write_text("\n".join(lines) + "\n")  # one row per observed value, with its count
    table = pmf_from_table(path)  # the target: the last column that is not the count
    print(f"From {path.name} (sources {', '.join(table.sources)}, target {table.target}):")
    result = isx_pid(table.pmf, source_names=table.sources, target_name=table.target)
    print(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--noise", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, help="where to write the CSV (default: a temp file)")
    args = parser.parse_args()

    rows = samples(args.samples, args.noise, args.seed)
    from_numpy(rows)
    if args.csv:
        from_csv(rows, args.csv)
    else:
        with tempfile.TemporaryDirectory() as folder:
            from_csv(rows, Path(folder) / "counts.csv")


if __name__ == "__main__":
    main()
