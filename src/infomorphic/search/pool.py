"""A search's workers: one in this process, N local processes, or tasks of a Dask cluster.

Each worker opens the study itself (``protocol.open_search``) and runs ``worker.run_worker``
until the study holds its trials. Workers report through ``log``, a callable given one line
at a time; it must be picklable (a module's function) to reach a worker in another process.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from infomorphic.search.protocol import SearchSettings, open_search

__all__ = ["Log", "run_workers", "work", "worker_name"]

#: Where workers and the pool say what they do: one line at a time.
Log = Callable[[str], None]


def _quiet(text: str) -> None:
    """The default log: say nothing."""


def worker_name(worker: int | None, workers: int) -> str:
    """How a worker is named in the output: its place among this machine's workers and its
    host and process (what tells workers on several machines apart)."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    return where if worker is None else f"{worker + 1}/{workers} ({where})"


def work(settings: SearchSettings, worker: int | None, log: Log = _quiet) -> int:
    """One worker, in this process or a child; its lines start ``worker <name>:``. Returns
    the exit status."""
    from infomorphic.search.worker import run_worker
    from infomorphic.threads import torch_threads
    from infomorphic.training.loop import load_splits

    name = worker_name(worker, settings.workers)

    def say(text: str) -> None:
        log(f"worker {name}: {text}")

    with torch_threads(settings.threads):
        space, study, storage, _ = open_search(settings, worker, create=False)
        base = settings.train_config
        splits = load_splits(base.validate())
        say(
            f"data {splits.name}: {len(splits.y_train)} training / {len(splits.y_val)} "
            f"validation / {len(splits.y_test)} test images, from {splits.source}"
        )
        report = run_worker(
            study,
            space,
            base,
            settings.trials,
            population=settings.population,
            prune=settings.prune,
            splits=splits,
            storage=storage,
            log=say,
        )
    say(f"{report.completed} completed, {report.pruned} pruned, {report.failed} failed")
    return 0


def _child(settings: SearchSettings, worker: int, log: Log) -> int:
    try:
        return work(settings, worker, log)
    except KeyboardInterrupt:
        return 130


def run_workers(
    settings: SearchSettings, study: Any, log: Log = _quiet, executor: Executor | None = None
) -> int:
    """Run the search's ``settings.workers`` workers until the study holds its trials: as
    tasks of ``executor`` (a Dask cluster's, ``experiments.cluster.open_cluster``), else one
    in this process or several spawned processes of this machine. ``study``: the search's
    study, whose count of finished trials is logged while a cluster works. The highest exit
    status of the workers; KeyboardInterrupt propagates (every finished trial is kept)."""
    if executor is not None:
        return _on_cluster(settings, study, log, executor)
    if settings.workers == 1:
        return work(settings, None, log)
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(settings.workers) as pool:
        codes = pool.starmap(_child, [(settings, w, log) for w in range(settings.workers)])
    return max(codes)


def _on_cluster(settings: SearchSettings, study: Any, log: Log, executor: Executor) -> int:
    """The workers as tasks of the Dask cluster; a line each time the study's count of
    finished trials changes. A worker whose machine dies is started again by Dask, and the
    trials it held are retried after their heartbeat stops."""
    from concurrent.futures import wait

    from infomorphic.search.study import count_finished

    codes = []
    futures = [executor.submit(work, settings, w, log) for w in range(settings.workers)]
    shown, pending = None, set(futures)
    while pending:
        _, pending = wait(pending, timeout=2.0)
        finished = count_finished(study)
        if finished != shown:
            log(f"{finished}/{settings.trials} trials finished")
            shown = finished
    for worker, future in enumerate(futures):
        try:
            codes.append(future.result())
        except Exception as exc:  # its worker died too often, or the scheduler went away
            log(f"worker {worker} stopped: {type(exc).__name__}: {exc}")
            codes.append(1)
    return max(codes)
