"""The pruning options of ``infomorphic search`` (a multi-fidelity search: trials report their
validation accuracy after every epoch and a pruner stops the poor ones): which pruner, its
first rung and its reduction factor. Torch-free, as every parser.
"""

from __future__ import annotations

import argparse
from typing import Any

from infomorphic.search.study import PRUNERS, REDUCTION

__all__ = ["add_pruning_options", "pruning_settings", "settings_pruner"]


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


def pruning_settings(args: argparse.Namespace, epochs: int) -> dict[str, Any]:
    """The pruning options checked, as search.json keeps them (``prune``: whether any)."""
    from infomorphic.search.study import make_pruner

    if args.prune and args.pruner not in (None, "median"):
        raise ValueError(f"--prune is --pruner median; it cannot go with --pruner {args.pruner}")
    pruner = args.pruner or ("median" if args.prune else None)
    if pruner is None and args.min_epochs is not None:
        raise ValueError("--min-epochs: give a --pruner too")
    make_pruner(pruner, epochs, args.min_epochs, args.reduction_factor)  # checks them
    return {
        "prune": pruner is not None,
        "pruner": pruner,
        "min_epochs": args.min_epochs,
        "reduction_factor": args.reduction_factor,
    }


def settings_pruner(settings: dict[str, Any], epochs: int) -> Any:
    """optuna's pruner of a search's settings (search.json; ``prune`` alone: the median rule,
    as searches before ``--pruner`` wrote it)."""
    from infomorphic.search.study import make_pruner

    name = settings.get("pruner") or ("median" if settings.get("prune") else None)
    reduction = settings.get("reduction_factor") or REDUCTION
    return make_pruner(name, epochs, settings.get("min_epochs"), reduction)
