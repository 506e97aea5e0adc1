"""Many training runs: a grid of configurations, each in its own run folder, in a process pool.

The shared engine of the accuracy benchmark, goal search, ablations and the paper's figures.
Each run is keyed by its folder: a finished run is read back, an interrupted one resumes from
its checkpoint, and a folder that holds a different configuration is refused, so a grid can
be stopped and started again without losing or mixing anything. Runs go one thread each to a
pool of processes (two runs on two cores beat one run with two threads at N = 100), or to any
``concurrent.futures.Executor`` given, such as a Dask cluster's (``experiments.cluster``).
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from infomorphic.experiments.naming import run_name
from infomorphic.locks import hold
from infomorphic.training.config import TrainConfig

__all__ = ["Progress", "RunResult", "RunSpec", "grid", "run_name", "run_grid", "run_one"]


@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: its configuration, its folder and a label to group results by.

    ``requires``: history columns the grid reads; a finished run without them (written by a
    version that did not record them) is trained again from the start, its configuration
    unchanged, so that it gains them.
    """

    config: TrainConfig
    out: Path
    label: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """A run's summary, or the error that ended it (other runs of the grid go on)."""

    spec: RunSpec
    summary: dict[str, Any] | None
    error: str | None = None
    reused: bool = False


@dataclass(frozen=True)
class Progress:
    """How far a grid is: runs done (reused included), failed, total, and the time left."""

    done: int
    failed: int
    total: int
    elapsed_s: float
    eta_s: float | None

    def __str__(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        if self.eta_s is None:
            # only reused runs so far: nothing to time the rest by
            return f"{self.done}/{self.total} runs done{failed}, time left not yet known"
        return f"{self.done}/{self.total} runs done{failed}, about {self.eta_s / 60:.1f} min left"


def grid(base: TrainConfig, **axes: Sequence[Any]) -> list[TrainConfig]:
    """Every combination of the values of ``axes`` (option name -> values) over ``base``."""
    names = list(axes)
    for name in names:
        if not hasattr(base, name):
            raise ValueError(f"unknown option {name!r} in the grid")
    return [
        replace(base, **dict(zip(names, values, strict=True))).validate()
        for values in itertools.product(*(axes[n] for n in names))
    ]


def run_one(spec: RunSpec, threads: int | None = 1) -> RunResult:
    """Train ``spec`` unless its folder already holds it finished; resume if interrupted. The
    folder is locked throughout: a run another process is writing is an error, not a reuse."""
    with hold(spec.out, "run folder"):
        return _run_one(spec, threads)


def _run_one(spec: RunSpec, threads: int | None) -> RunResult:
    from infomorphic.training.api import train
    from infomorphic.training.run_folder import RunFolder
    from infomorphic.training.same_run import config_differences

    folder = RunFolder(spec.out)
    if folder.file(RunFolder.CONFIG).is_file():
        differing = config_differences(folder.train_config(), spec.config)
        if differing:
            raise ValueError(
                f"{spec.out} holds another run (differs in {', '.join(differing)}); "
                "choose another folder"
            )
        if folder.is_finished and folder.summary().get("epochs") == spec.config.epochs:
            history = folder.history() if spec.requires else []
            if not [c for c in spec.requires if not history or c not in history[-1]]:
                return RunResult(spec, folder.summary(), reused=True)
            # finished, but without a column the grid reads: trained again
            summary = train(spec.config, spec.out, overwrite=True, progress=False, threads=threads)
            return RunResult(spec, summary)
    # A folder with this configuration but no checkpoint crashed before its first save: start
    # it again (the configuration was checked above).
    resume = folder.has_checkpoint
    # a resumed run continues with the thread count it recorded: the same rounding
    summary = train(
        spec.config,
        spec.out,
        resume=resume,
        overwrite=not resume,
        progress=False,
        threads=None if resume else threads,
    )
    return RunResult(spec, summary)


def _run_safely(spec: RunSpec, threads: int | None) -> RunResult:
    try:
        return run_one(spec, threads)
    except Exception as exc:  # one failed run must not end the grid
        return RunResult(spec, None, f"{type(exc).__name__}: {exc}")


def _run_elsewhere(spec: RunSpec, threads: int | None) -> RunResult:
    """``_run_safely`` on a worker that may be another machine: the grid's process made the
    folder's parent, so a worker that cannot see it is not on the grid's file system."""
    if not spec.out.parent.is_dir():
        return RunResult(
            spec,
            None,
            f"{spec.out.parent} does not exist on the worker that took this run (host "
            f"{socket.gethostname()}): runs on a cluster need a run folder every worker sees at "
            "the same path (a shared file system)",
        )
    return _run_safely(spec, threads)


def _lost(spec: RunSpec, exc: BaseException) -> RunResult:
    """The result of a run the executor lost (Dask: its worker died more often than the
    scheduler allows); the checkpoint stays, so running the grid again resumes it."""
    return RunResult(
        spec,
        None,
        f"{type(exc).__name__}: {exc}; the run folder keeps its last checkpoint: run the grid "
        "again to resume it",
    )


def run_grid(
    specs: Iterable[RunSpec],
    workers: int = 2,
    threads: int | None = 1,
    on_progress: Callable[[Progress, RunResult], None] | None = None,
    executor: Executor | None = None,
) -> list[RunResult]:
    """Run every spec (``workers`` processes, ``threads`` torch threads each; ``workers=1``
    runs in this process) and return the results in the order of ``specs``.

    ``executor`` (a ``concurrent.futures.Executor``, e.g. ``experiments.cluster.open_cluster``'s
    Dask executor) runs them instead of a pool, ``workers`` ignored; its workers must see the
    run folders at the same absolute paths. The caller owns the executor."""
    specs = list(specs)
    folders = [s.out.resolve() for s in specs]
    if len(set(folders)) < len(folders):
        raise ValueError("two runs of the grid share a folder; give each its own out")
    start = time.monotonic()
    results: dict[int, RunResult] = {}
    trained = 0

    def report(index: int, result: RunResult) -> None:
        nonlocal trained
        result = replace(result, spec=specs[index])  # the caller's spec (its folder as given)
        results[index] = result
        trained += not result.reused
        if on_progress is None:
            return
        elapsed = time.monotonic() - start
        remaining = len(specs) - len(results)
        # finished runs per second so far; reused runs take no time and do not count
        eta = elapsed / trained * remaining if trained else None
        failed = sum(r.error is not None for r in results.values())
        on_progress(Progress(len(results), failed, len(specs), elapsed, eta), result)

    if executor is None and workers <= 1:
        for index, spec in enumerate(specs):
            report(index, _run_safely(spec, threads))
        return [results[i] for i in range(len(specs))]
    if executor is None:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run_safely, spec, threads): i for i, spec in enumerate(specs)}
            _collect(futures, specs, report)
        return [results[i] for i in range(len(specs))]
    # Another machine's worker has another working directory: it gets absolute folders, and
    # their parents exist before it looks (so that it can tell a folder it cannot see).
    for folder in folders:
        folder.parent.mkdir(parents=True, exist_ok=True)
    futures = {
        executor.submit(_run_elsewhere, replace(spec, out=folder), threads): i
        for i, (spec, folder) in enumerate(zip(specs, folders, strict=True))
    }
    _collect(futures, specs, report)
    return [results[i] for i in range(len(specs))]


def _collect(
    futures: dict[Future[RunResult], int],
    specs: list[RunSpec],
    report: Callable[[int, RunResult], None],
) -> None:
    """Report each future's result as it finishes."""
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            index = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the executor lost the run, not the run that failed
                result = _lost(specs[index], exc)
            report(index, result)
