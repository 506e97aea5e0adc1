"""``infomorphic reproduce TARGET``: regenerate one of the paper's figures or tables.

A thin shell over ``infomorphic.reproduce``: the target's runs go through the experiments
runner (finished runs are reused, an interrupted target continues), here or on a Dask cluster
(``--cluster``), progress shows the runs done, left and the time left, and the target's folder
gets table.md, figure.png and results.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infomorphic.cli.cluster_options import add_cluster_option, executor_for
from infomorphic.cli.common import positive_int

TARGET_NAMES = (
    "fig3b", "fig3c", "fig4", "fig5", "fig6", "fig8", "fig10", "fig11", "table3", "deep",
    "linear", "cifar", "all", "summary",
)  # fmt: skip


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="regenerate a figure or table of the paper beside the published numbers",
        description=(
            "Run what a figure or table of the paper needs (10 seeds at paper scale, 3 at "
            "quick scale), reusing finished runs, and write its table (paper, ours, "
            "difference, spread) and figure."
        ),
    )
    parser.add_argument("target", choices=TARGET_NAMES, metavar="TARGET",
                        help="one of: %(choices)s")  # fmt: skip
    parser.add_argument("--scale", choices=("quick", "paper"), default="quick",
                        help="quick: 3 seeds, N up to 1000, for 2 CPU cores; paper: the full "
                        "protocol (default %(default)s)")  # fmt: skip
    parser.add_argument(
        "--dataset",
        default="mnist",
        help="data set of the runs (default %(default)s; cifar uses cifar10)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the data set's files (default: the data search path)",
    )
    parser.add_argument("--device", default="cpu", help="torch device (default %(default)s)")
    parser.add_argument(
        "--out",
        default="reproduce",
        metavar="DIR",
        help="folder of the runs and the targets' reports (default %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="runs at a time, one process each (default %(default)s; with --cluster, the "
        "cluster's worker threads)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="torch threads of each run (default: the cores that other processes leave free "
        "as the command starts, shared among the workers)",
    )
    add_cluster_option(parser, "the runs (table3's too; fig6 searches here)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infomorphic.reproduce import DELEGATED, TARGETS, reproduce
    from infomorphic.training.config import TrainConfig

    if args.target == "summary":  # the finished targets' tables, as README.md shows them
        from infomorphic.files import atomic_write_text
        from infomorphic.reproduce.runner import summary

        atomic_write_text(Path(args.out) / "summary.md", summary(Path(args.out)))
        print(summary(Path(args.out), links_from=Path.cwd()))  # links that work from here
        return 0
    base = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, device=args.device)
    names = [*TARGETS, *DELEGATED] if args.target == "all" else [args.target]
    from infomorphic.threads import default_threads

    threads = args.threads
    if threads is None and not args.device.startswith("cuda"):
        # a cluster's workers are processes with one thread each; here, the cores free
        threads = 1 if args.cluster else default_threads(args.workers)

    def progress(state, result) -> None:
        print(f"\r{state}", end="", file=sys.stderr, flush=True)

    with executor_for(args.cluster) as executor:
        for name in names:
            if name in DELEGATED:
                from infomorphic.reproduce.searched import run_delegated

                print(f"{name}: {DELEGATED[name]}", file=sys.stderr)
                print(run_delegated(name, args.scale, base, Path(args.out), args.workers, executor))
                continue
            print(f"{name}: {TARGETS[name].title}", file=sys.stderr)
            folder = reproduce(
                name, args.scale, base, Path(args.out), args.workers, threads, progress, executor
            )
            print(file=sys.stderr)
            print((folder / "table.md").read_text())
    return 0
