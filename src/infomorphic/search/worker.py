"""One search worker: ask trials, train them (alone or as a population), tell the results.

Rerunning the same command continues a study until exactly ``trials`` trials have finished:
a trial runs only if fewer than ``trials`` live trials (finished, running or queued) were
created before it, so workers that race at the end never overshoot. A killed worker's trials
stop beating, are failed by the next worker and retried with the same parameters; Ctrl-C fails
the running trials and queues their parameters again before it stops.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; use PostgreSQL for several local workers
    fcntl = None

from infomorphic.data import Splits
from infomorphic.search.space import GoalSpace
from infomorphic.search.study import count_finished, require_optuna
from infomorphic.training.config import TrainConfig

__all__ = ["WorkerReport", "run_worker"]


@dataclass
class WorkerReport:
    """What one worker did: trials it finished, failed, and found already taken."""

    completed: int = 0
    pruned: int = 0
    failed: int = 0
    surplus: int = 0


class _Heartbeat:
    """Records a heartbeat for running trials every ``interval`` seconds, from a thread."""

    def __init__(self, study: Any, trials: list[Any]) -> None:
        storage = study._storage
        self.interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
        self.storage, self.ids = storage, [t._trial_id for t in trials]
        self.stop = threading.Event()
        self.thread = None
        if self.interval:
            self._beat()
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _beat(self) -> None:
        for trial_id in self.ids:
            self.storage.record_heartbeat(trial_id)

    def _run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self._beat()
            except Exception:  # a lost connection: the trial will look stale and be retried
                return

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()


_LIVE = ("COMPLETE", "PRUNED", "RUNNING", "WAITING")


def _live(study: Any) -> list[Any]:
    optuna = require_optuna()
    states = tuple(getattr(optuna.trial.TrialState, name) for name in _LIVE)
    return study.get_trials(deepcopy=False, states=states)


@contextlib.contextmanager
def _asking(study: Any) -> Iterator[None]:
    """Serialise asking between the processes of one machine when the study is a SQLite file:
    SQLite ignores the row lock with which optuna hands a queued trial to one worker, so two
    workers asking at once could both take it (PostgreSQL needs no such lock)."""
    url = str(getattr(study._storage, "url", ""))
    if not url.startswith("sqlite:///") or fcntl is None:
        yield
        return
    with open(url.removeprefix("sqlite:///") + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ask(study: Any, space: GoalSpace, trials: int, count: int, report: WorkerReport) -> list[Any]:
    """Up to ``count`` trials, each with a slot: fewer than ``trials`` live trials (finished,
    running or queued) were created before it. None when every slot is taken."""
    with _asking(study):
        return _ask_unlocked(study, space, trials, count, report)


def _ask_unlocked(
    study: Any, space: GoalSpace, trials: int, count: int, report: WorkerReport
) -> list[Any]:
    optuna = require_optuna()
    free = trials - sum(t.state.name != "WAITING" for t in _live(study))
    asked = []
    for _ in range(min(count, free)):
        trial = study.ask()
        space.suggest(trial)
        earlier = [t for t in _live(study) if t.number < trial.number]
        if len(earlier) >= trials:  # another worker took the last slot first
            trial.set_user_attr("surplus", True)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            report.surplus += 1
            break
        asked.append(trial)
    return asked


def _train(
    asked: list[Any],
    space: GoalSpace,
    base: TrainConfig,
    splits: Splits,
    prune: bool,
) -> list[dict[str, Any]]:
    """Train the asked trials; one summary each (with ``pruned`` or ``error`` when so)."""
    optuna = require_optuna()
    # The objective is the last epoch's validation accuracy: per-epoch validation only when
    # pruning needs it (a third of a trial's time at N = 100 goes to evaluation).
    splits_per_epoch = ("val",) if prune else ()
    configs = [
        replace(base, goal=space.weights(t.params), eval_splits=splits_per_epoch) for t in asked
    ]
    from infomorphic.training.api import train
    from infomorphic.training.hooks import Hook
    from infomorphic.training.loop import Trainer, TrainingDiverged

    class Report(Hook):
        """Each trial's validation accuracy after every epoch (pruning a lone trial)."""

        def on_epoch_end(self, trainer, row):
            rows = row if isinstance(row, list) else [row]
            for trial, values in zip(asked, rows, strict=True):
                if "val_accuracy" in values:
                    trial.report(values["val_accuracy"], values["epoch"])
            if prune and len(asked) == 1 and asked[0].should_prune():
                raise optuna.TrialPruned()

    if len(asked) > 1:  # one population: the same loop, one summary per member
        return Trainer(configs, splits, [Report()]).fit()
    try:
        return [train(configs[0], splits=splits, progress=False, hooks=[Report()])]
    except optuna.TrialPruned:
        return [{"pruned": True}]
    except TrainingDiverged as exc:
        return [{"error": str(exc)}]


def run_worker(
    study: Any,
    space: GoalSpace,
    base: TrainConfig,
    trials: int,
    *,
    population: int = 1,
    prune: bool = False,
    splits: Splits | None = None,
    log: Callable[[str], None] = lambda text: None,
    idle_wait_s: float = 5.0,
) -> WorkerReport:
    """Work on ``study`` until ``trials`` trials have finished; what this worker did."""
    optuna = require_optuna()
    if prune and population > 1:
        raise ValueError("pruning needs one trial at a time (population 1)")
    if splits is None:
        from infomorphic.training.loop import load_splits

        splits = load_splits(base.validate())
    report = WorkerReport()
    while True:
        optuna.storages.fail_stale_trials(study)
        finished = count_finished(study)
        if finished >= trials:
            return report
        asked = _ask(study, space, trials, population, report)
        if not asked:  # every slot is taken by running trials: wait for them or their retries
            time.sleep(idle_wait_s)
            continue
        heartbeat = _Heartbeat(study, asked)
        try:
            summaries = _train(asked, space, base, splits, prune)
        except KeyboardInterrupt:
            for trial in asked:  # the rerun retries them with the same parameters
                trial.set_user_attr("interrupted", True)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
            raise
        finally:
            heartbeat.close()
        for trial, summary in zip(asked, summaries, strict=True):
            if summary.get("pruned"):
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                report.pruned += 1
                continue
            value = summary.get("val_accuracy", float("nan"))
            if summary.get("error") or not math.isfinite(value):
                trial.set_user_attr("error", summary.get("error", "no validation accuracy"))
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                report.failed += 1
                continue
            for key in ("test_accuracy", "train_accuracy", "epochs", "seconds"):
                trial.set_user_attr(key, summary[key])
            study.tell(trial, value)
            report.completed += 1
            log(f"trial {trial.number}: validation accuracy {value:.4f}")
