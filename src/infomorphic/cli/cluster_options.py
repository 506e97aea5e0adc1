"""``--cluster``, which reproduce, ablate and search share: their runs (or search workers) go
to a Dask cluster instead of this machine's processes (``infomorphic.experiments.cluster``).

The option's value is checked for its form when parsed; Dask is imported only when a command
opens the cluster, so ``--help`` stays fast and a missing extra is named then (exit 2).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from concurrent.futures import Executor

from infomorphic.cli.common import PROG

__all__ = ["add_cluster_option", "cluster_spec", "executor_for"]


def cluster_spec(text: str) -> str:
    """``local:N``, a scheduler address or a scheduler file (see ``parse_cluster``)."""
    from infomorphic.experiments.cluster import parse_cluster

    try:
        parse_cluster(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_cluster_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--cluster",
        type=cluster_spec,
        default=None,
        metavar="ADDRESS|local:N",
        help=f"send {what} to a Dask cluster: a running scheduler (tcp://host:8786), its "
        "scheduler file (scheduler.json), or local:N worker processes on this machine; every "
        "worker must see the output folder at the same path (docs/cluster.md; needs "
        "pip install 'infomorphic[cluster]'; default: this machine's processes)",
    )


@contextlib.contextmanager
def executor_for(cluster: str | None) -> Iterator[Executor | None]:
    """The cluster's executor for the block; None (this machine's processes) without one."""
    if not cluster:
        yield None
        return
    from infomorphic.experiments.cluster import open_cluster

    with open_cluster(cluster) as executor:
        print(f"{PROG}: the runs go to the Dask cluster {cluster}", file=sys.stderr)
        yield executor
