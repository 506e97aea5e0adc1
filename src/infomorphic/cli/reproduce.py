"""``infomorphic reproduce TARGET``: regenerate one of the paper's figures or tables.

A thin shell over ``infomorphic.reproduce``: the target's runs go through the experiments
runner (finished runs are reused, an interrupted target continues), here or on a Dask cluster
(``--cluster``), progress shows the runs done, left and the time left, and the target's folder
gets table.md, figure.png and results.json. ``--dry-run`` lists the runs and estimates the
compute instead. The target and scale choices are the library's (``infomorphic.reproduce
.targets``, torch-free).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infomorphic.cli.cluster_options import add_cluster_option, executor_for
from infomorphic.cli.common import positive_int, print_distinct_errors
from infomorphic.errors import ConfigError
from infomorphic.reproduce.targets import SCALES, TARGET_NAMES

PSEUDO_TARGETS = ("all", "summary")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce",
        help="regenerate a figure or table of the paper beside the published numbers",
        description=(
            "Run what a figure or table of the paper needs, reusing finished runs, and write "
            "its table (paper, ours, difference, spread, whether the paper's shape holds) and "
            "figure. Scales: "
            + "; ".join(f"{name}: {scale.summary}" for name, scale in SCALES.items())
            + ". --dry-run lists the runs and estimates the compute first."
        ),
    )
    parser.add_argument(
        "target",
        choices=(*TARGET_NAMES, *PSEUDO_TARGETS),
        metavar="TARGET",
        help="one of: %(choices)s",
    )
    parser.add_argument(
        "--scale",
        choices=tuple(SCALES),
        default="quick",
        help="smoke: a minute's look at a target; quick: 3 seeds, N up to 1000, for 2 CPU "
        "cores; paper: the full protocol (default %(default)s)",
    )
    parser.add_argument(
        "--dataset",
        default=None,
        help="data set of the runs (default mnist; the smoke scale's built-in mnist-sample "
        "without --dataset or --data-dir; cifar uses cifar10)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the data set's files (default: the data search path)",
    )
    parser.add_argument(
        "--trials",
        type=positive_int,
        default=None,
        metavar="T",
        help="trials of each of fig6's six searches (default: the scale's; quick: 200): "
        "fewer for a shorter look, more to continue the searches",
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
        type=positive_int,
        default=2,
        metavar="W",
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
    add_cluster_option(parser, "the runs (table3's and fig6's retraining too; fig6 searches here)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list the runs (finished ones marked) and estimate the hours on 2 CPU cores and "
        "on one GPU; train nothing",
    )
    parser.set_defaults(func=run)


def _base(args: argparse.Namespace):
    from infomorphic.training.config import TrainConfig

    scale = SCALES[args.scale]
    dataset = args.dataset
    if dataset is None:
        given = args.data_dir is not None
        dataset = scale.dataset if scale.dataset and not given else "mnist"
    config = TrainConfig(dataset=dataset, data_dir=args.data_dir, device=args.device)
    return config.validate()


def run(args: argparse.Namespace) -> int:
    from infomorphic.reproduce import dry_run, reproduce, summary

    out = Path(args.out)
    if args.target == "summary":  # the finished targets' tables, as README.md shows them
        from infomorphic.files import atomic_write_text

        atomic_write_text(out / "summary.md", summary(out))
        print(summary(out, links_from=Path.cwd()))  # links that work from here
        return 0
    base = _base(args)
    names = list(TARGET_NAMES) if args.target == "all" else [args.target]
    scale = _scale(args, names)
    if args.dry_run:
        for name in names:
            text, _ = dry_run(name, scale, base, out)
            print(text)
        return 0
    from infomorphic.threads import default_threads

    threads = args.threads
    if threads is None and not args.device.startswith("cuda"):
        # a cluster's workers are processes with one thread each; here, the cores free
        threads = 1 if args.cluster else default_threads(args.workers)

    # a terminal redraws one line; a log file gets a line per run
    redraw = sys.stderr.isatty()

    def progress(state, result) -> None:
        print(
            f"\r{state}" if redraw else state,
            end="" if redraw else "\n",
            file=sys.stderr,
            flush=True,
        )

    status = 0
    with executor_for(args.cluster) as executor:
        for name in names:
            print(f"{name}: reproducing at scale {args.scale}", file=sys.stderr)
            outcome = reproduce(name, scale, base, out, args.workers, threads, progress, executor)
            status = max(status, _report(name, outcome))
    return status


def _scale(args: argparse.Namespace, names: list[str]):
    """The scale asked for, with fig6's trials per search when --trials gives them."""
    from dataclasses import replace

    scale = SCALES[args.scale]
    if args.trials is None:
        return scale
    if "fig6" not in names:
        raise ConfigError(
            "--trials",
            f"sets the trials of fig6's searches; target {args.target} has no "
            "search: leave --trials out",
        )
    trials, epochs = args.trials, scale.search[1]
    told = f"{scale.summary}; fig6 here: {trials} trials x {epochs} epochs per search"
    return replace(scale, search=(trials, epochs), summary=told)


def _report(name: str, outcome) -> int:
    """Say what a target did (each distinct error once) and print its table; 1 when a run
    failed."""
    print(file=sys.stderr)
    status = 0
    if outcome.failed:
        status = 1
        print(
            f"{name}: {len(outcome.failed)} of {len(outcome.results)} runs failed", file=sys.stderr
        )
        print_distinct_errors(outcome.errors)
    if outcome.folder is None:
        print(f"{name}: no run finished, so no table was written", file=sys.stderr)
    else:
        print((outcome.folder / "table.md").read_text())
    return status
