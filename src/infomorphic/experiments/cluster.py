"""Runs and search workers on a Dask cluster instead of this machine's process pool.

``open_cluster`` connects to a running Dask scheduler (``tcp://host:8786``, or the scheduler
file a Slurm job wrote) or starts a ``LocalCluster`` of N worker processes (``local:N``) and
yields Dask's ``concurrent.futures`` executor, the interface ``run_grid`` takes, so the runner
knows nothing of Dask. Dask reschedules a task whose worker died (up to the scheduler's
``distributed.scheduler.allowed-failures``, 3 by default); a rescheduled run finds its run
folder's checkpoint and resumes, and a run that already finished is read back. docs/cluster.md
says how to start a cluster on a few machines or on Slurm.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EXTRA", "ClusterSpec", "open_cluster", "parse_cluster", "require_distributed"]

#: What to install for ``--cluster``.
EXTRA = "pip install 'infomorphic[cluster]'"

_HOST_PORT = re.compile(r"(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+")


@dataclass(frozen=True)
class ClusterSpec:
    """Where runs go: ``local_workers`` processes here, or the scheduler at ``address`` or
    named in ``scheduler_file``."""

    text: str
    local_workers: int | None = None
    address: str | None = None
    scheduler_file: str | None = None

    @property
    def is_local(self) -> bool:
        """Every worker is a process of this machine (it sees this machine's files)."""
        return self.local_workers is not None


def parse_cluster(text: str) -> ClusterSpec:
    """``local:N``, a scheduler address (``tcp://host:8786``, ``host:8786``) or a scheduler
    file (``*.json``, as ``dask scheduler --scheduler-file`` writes it)."""
    text = text.strip()
    if text.startswith("local"):
        count = text.removeprefix("local").removeprefix(":")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(
                f"cluster {text!r}: want local:N, N >= 1 worker processes on this machine "
                "(e.g. local:4)"
            )
        return ClusterSpec(text, local_workers=int(count))
    if text.endswith(".json"):
        return ClusterSpec(text, scheduler_file=text)
    if "://" in text or _HOST_PORT.fullmatch(text):
        return ClusterSpec(text, address=text)
    raise ValueError(
        f"cluster {text!r}: want local:N (N worker processes here), a Dask scheduler's address "
        "(tcp://host:8786) or its scheduler file (scheduler.json)"
    )


def require_distributed() -> Any:
    """``distributed`` (Dask's cluster package), or an ImportError naming the extra."""
    try:
        import distributed
    except ImportError:
        raise ImportError(f"--cluster needs Dask distributed: {EXTRA}") from None
    return distributed


@contextlib.contextmanager
def open_cluster(cluster: str | ClusterSpec, connect_timeout_s: float = 30.0) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` whose tasks run on the cluster's workers; the client
    (and a local cluster) close when the block ends."""
    spec = parse_cluster(cluster) if isinstance(cluster, str) else cluster
    distributed = require_distributed()
    with contextlib.ExitStack() as stack:
        if spec.is_local:
            # one thread per worker process: a run trains with one torch thread, and two runs
            # in two processes beat one run with two threads; the scheduler's web server on a
            # free port (8787 may be another cluster's)
            local = distributed.LocalCluster(
                n_workers=spec.local_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
            stack.enter_context(local)
            client = stack.enter_context(distributed.Client(local))
        else:
            if spec.scheduler_file and not Path(spec.scheduler_file).is_file():
                raise FileNotFoundError(
                    f"cluster: the scheduler file {spec.scheduler_file} does not exist (start "
                    "the scheduler with dask scheduler --scheduler-file FILE; docs/cluster.md)"
                )
            try:
                client = distributed.Client(
                    spec.address, scheduler_file=spec.scheduler_file, timeout=connect_timeout_s
                )
            except OSError as exc:
                raise OSError(
                    f"cannot reach the Dask scheduler {spec.text} ({exc}); start it with "
                    "`dask scheduler` and its workers with `dask worker ADDRESS` "
                    "(docs/cluster.md)"
                ) from None
            stack.enter_context(client)
        yield client.get_executor(pure=False)
