"""``infomorphic inspect RUN_DIR``: a run folder as one HTML page with figures, opened from disk.

A thin shell over ``infomorphic.reports.inspection.inspect_run``. The module is not called
``inspect`` so that it never stands in for the standard library's module of that name.
"""

from __future__ import annotations

import argparse
import textwrap

DESCRIPTION = (
    "Inspect a run folder written by infomorphic train: a self-contained HTML page (index.html, "
    "with the PNG figures beside it; opens from disk, no server, no network) showing the "
    "accuracy per epoch, each layer's atoms over training (mean and 10-90% band across neurons) "
    "and per neuron at the last epoch, the hidden neurons' receptive fields and class "
    "selectivity, the self-cosine distance of their weights, the goal in words and the "
    "configuration. What the run lacks (a backprop run has no atoms) the page says."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="a run folder as an HTML page: accuracy, atoms, receptive fields, selectivity",
        description=textwrap.fill(DESCRIPTION, 78),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("run_dir", metavar="RUN_DIR", help="run folder (holding config.json)")
    add(
        "--out", metavar="DIR", help="where to write the page and figures (default RUN_DIR/inspect)"
    )
    add(
        "--format",
        choices=("html", "png"),
        default="html",
        help="html: the page and its figures; png: the figures only (default %(default)s)",
    )
    add(
        "--sort-by",
        metavar="ATOM",
        help="sort the hidden neurons (receptive fields, heatmap) by this atom at the last "
        "epoch, e.g. '{F}{C}' (default: the goal's atom of largest positive weight)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infomorphic.reports.inspection import inspect_run

    written = inspect_run(args.run_dir, args.out, fmt=args.format, sort_by=args.sort_by)
    for path in written:
        print(path)
    return 0
