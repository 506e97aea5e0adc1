"""The pruning options of ``infomorphic search`` (a multi-fidelity search: trials report their
validation accuracy after every epoch and a pruner stops the poor ones): which pruner, its
first rung and its reduction factor. Torch-free, as every parser.
"""

from __future__ import annotations

import argparse
from typing import Any

from infomorphic.search.study import PRUNERS, REDUCTION

__all__ = ["add_pruning_options", "pruning_options"]


def add_pruning_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--pruner",
        choices=PRUNERS,
        default=None,
        help="prune trials on their validation accuracy after each epoch: median (optuna's "
        "median rule), sh (asynchronous successive halving) or hyperband; a population's "
        "pruned members leave it and the others train on (default: no pruning)",
    )
    add("--prune", action="store_true", help="the same as --pruner median")
    add(
        "--min-epochs",
        type=int,
        default=None,
        metavar="E",
        help="no trial is pruned before epoch E: sh's and hyperband's first rung, the median "
        "rule's warm-up (default: epochs/25 for sh and hyperband, 1 for median)",
    )
    add(
        "--reduction-factor",
        type=int,
        default=REDUCTION,
        metavar="R",
        help="sh and hyperband keep the best 1/R of the trials at each rung (default %(default)s)",
    )


def pruning_options(args: argparse.Namespace) -> dict[str, Any]:
    """The pruning options as ``search.protocol.search_settings`` takes them (it checks them)."""
    return {
        "pruner": args.pruner,
        "prune": args.prune,
        "min_epochs": args.min_epochs,
        "reduction_factor": args.reduction_factor,
    }
