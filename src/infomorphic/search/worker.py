"""One search worker: ask trials, train them (alone or as a population), tell the results.

Rerunning the same command continues a study until exactly ``trials`` trials have finished:
a trial runs only if fewer than ``trials`` live trials (finished, running or queued) were
created before it, so workers that race at the end never overshoot. A killed worker's trials
stop beating, are failed by the next worker and retried with the same parameters; Ctrl-C fails
the running trials and queues their parameters again before it stops. A trial gets its first
heartbeat as soon as it is asked for; one whose worker died before that (optuna never fails a
trial that has not beaten once, so it would hold its slot for ever) is given a heartbeat by the
next worker, goes stale and is retried like any other (``_adopt_silent``).
"""

from __future__ import annotations

import contextlib
import datetime
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; use PostgreSQL for several local workers
    fcntl = None  # type: ignore[assignment]

from infomorphic.data import Splits
from infomorphic.search.space import GoalSpace
from infomorphic.search.study import count_finished, quiet_optuna, require_optuna
from infomorphic.training.config import TrainConfig

__all__ = ["WorkerReport", "run_worker"]


@dataclass
class WorkerReport:
    """What one worker did: trials it finished, failed, and found already taken."""

    completed: int = 0
    pruned: int = 0
    failed: int = 0
    surplus: int = 0
    #: trials another worker failed as stale while this one held them (their retries run)
    taken: int = 0
    #: what the worker said of them while asking, for its log
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Store:
    """The storage a study was opened on and the study's id in it: heartbeats and the ask lock
    need both, and optuna's ``Study`` exposes neither (``backend`` None: an in-memory study,
    which has no heartbeats and no other process to lock out)."""

    backend: Any
    study_id: int = -1

    @classmethod
    def of(cls, storage: Any, study: Any) -> _Store:
        if storage is None:
            return cls(None)
        return cls(storage, storage.get_study_id_from_name(study.study_name))

    @property
    def heartbeat_s(self) -> int | None:
        return getattr(self.backend, "get_heartbeat_interval", lambda: None)()

    @property
    def url(self) -> str:
        return str(getattr(self.backend, "url", ""))

    def trial_id(self, trial: Any) -> int:
        return self.backend.get_trial_id_from_study_id_trial_number(self.study_id, trial.number)


class _Heartbeat:
    """Records a heartbeat for running trials every ``interval`` seconds, from a thread. A
    trial beats from the moment it is ``add``-ed, right after it is asked for: a worker killed
    at any point after that leaves a trial that goes stale and is retried."""

    def __init__(self, store: _Store) -> None:
        self.interval = store.heartbeat_s
        self.store = store
        self.ids: list[int] = []
        self.stop = threading.Event()
        self.thread = None
        if self.interval:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def add(self, trial: Any) -> None:
        if self.interval:
            trial_id = self.store.trial_id(trial)
            self.store.backend.record_heartbeat(trial_id)
            trial.set_user_attr(_BEATING, trial.number)
            self.ids.append(trial_id)

    def discard(self, trial: Any) -> None:
        if self.interval and (trial_id := self.store.trial_id(trial)) in self.ids:
            self.ids.remove(trial_id)

    def _beat(self) -> None:
        for trial_id in list(self.ids):
            self.store.backend.record_heartbeat(trial_id)

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
#: A trial's user attribute once its heartbeat was recorded (the trial's number as its value:
#: a retry that copies its attributes is still told apart).
_BEATING = "heartbeat_of"


def _adopt_silent(study: Any, store: _Store, now: datetime.datetime | None = None) -> int:
    """Give a heartbeat to each running trial that never had one and started more than three
    heartbeat intervals ago (its worker died between asking for it and its first heartbeat):
    it then goes stale and is failed and retried like any other. How many were adopted."""
    optuna = require_optuna()
    interval = store.heartbeat_s
    if not interval:
        return 0
    now, adopted = now or datetime.datetime.now(), 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.user_attrs.get(_BEATING) == trial.number or trial.datetime_start is None:
            continue
        if (now - trial.datetime_start).total_seconds() < 3 * interval:
            continue
        trial_id = store.trial_id(trial)
        store.backend.record_heartbeat(trial_id)
        try:
            store.backend.set_trial_user_attr(trial_id, _BEATING, trial.number)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # it was not silent after all: it just finished
        adopted += 1
    return adopted


def _live(study: Any) -> list[Any]:
    optuna = require_optuna()
    states = tuple(getattr(optuna.trial.TrialState, name) for name in _LIVE)
    return study.get_trials(deepcopy=False, states=states)


@contextlib.contextmanager
def _asking(store: _Store) -> Iterator[None]:
    """Serialise asking between the processes of one machine when the study is a SQLite file:
    SQLite ignores the row lock with which optuna hands a queued trial to one worker, so two
    workers asking at once could both take it (PostgreSQL needs no such lock)."""
    url = store.url
    if not url.startswith("sqlite:///") or fcntl is None:
        yield
        return
    with open(url.removeprefix("sqlite:///") + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ask(
    study: Any,
    space: GoalSpace,
    trials: int,
    count: int,
    report: WorkerReport,
    heartbeat: _Heartbeat,
) -> list[Any]:
    """Up to ``count`` trials, each with a slot: fewer than ``trials`` live trials (finished,
    running or queued) were created before it. None when every slot is taken."""
    with _asking(heartbeat.store):
        return _ask_unlocked(study, space, trials, count, report, heartbeat)


def _ask_unlocked(
    study: Any,
    space: GoalSpace,
    trials: int,
    count: int,
    report: WorkerReport,
    heartbeat: _Heartbeat,
) -> list[Any]:
    optuna = require_optuna()
    free = trials - sum(t.state.name != "WAITING" for t in _live(study))
    asked = []
    for _ in range(min(count, free)):
        trial = study.ask()
        try:
            heartbeat.add(trial)  # at once: a worker killed from here on loses nothing
            space.suggest(trial)
        except optuna.exceptions.UpdateFinishedTrialError:  # failed as stale meanwhile
            heartbeat.discard(trial)
            report.taken += 1
            report.notes.append(_taken([trial.number]))
            continue
        earlier = [t for t in _live(study) if t.number < trial.number]
        if len(earlier) >= trials:  # another worker took the last slot first
            heartbeat.discard(trial)
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
    """Train the asked trials; one summary each (with ``pruned`` or ``error`` when so).

    With ``prune``, each trial reports its validation accuracy after every epoch and the
    study's pruner decides: a lone trial stops; a population's pruned members leave it (their
    weights and optimiser state dropped) and the others train on, each exactly as alone.
    """
    optuna = require_optuna()
    # The objective is the last epoch's validation accuracy: per-epoch validation only when
    # pruning needs it (a third of a trial's time at N = 100 goes to evaluation).
    splits_per_epoch = ("val",) if prune else ()
    configs = [
        replace(base, goal=space.trial_goal(base, t.params), eval_splits=splits_per_epoch)
        for t in asked
    ]
    from infomorphic.training.api import train
    from infomorphic.training.hooks import Hook
    from infomorphic.training.loop import Trainer, TrainingDiverged

    live = list(range(len(asked)))  # the asked trials still training, in population order

    class Report(Hook):
        """Each trial's validation accuracy after every epoch; the pruner's verdicts."""

        def on_epoch_end(self, trainer, row):
            rows = row if isinstance(row, list) else [row]
            for k, values in zip(live, rows, strict=True):
                if "val_accuracy" in values:
                    asked[k].report(values["val_accuracy"], values["epoch"])
            if not prune:
                return
            gone = [place for place, k in enumerate(live) if asked[k].should_prune()]
            if len(gone) == len(live):
                raise optuna.TrialPruned()
            if gone:
                trainer.drop_members(gone)
                live[:] = [k for place, k in enumerate(live) if place not in gone]

    if len(asked) > 1:  # one population: the same loop, one summary per member
        results: list[dict[str, Any]] = [{"pruned": True} for _ in asked]
        try:
            summaries = Trainer(configs, splits, [Report()]).fit()
        except optuna.TrialPruned:
            return results
        assert isinstance(summaries, list)  # a population's: one per member
        for k, summary in zip(live, summaries, strict=True):
            results[k] = summary
        return results
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
    storage: Any = None,
    log: Callable[[str], None] = lambda text: None,
    idle_wait_s: float = 5.0,
) -> WorkerReport:
    """Work on ``study`` until ``trials`` trials have finished; what this worker did.

    ``storage``: the one ``study`` was opened on (``search.study.make_storage``): its
    heartbeats retry a killed worker's trials and, for a SQLite file, a file lock serialises
    asking among this machine's workers. None only for an in-memory study."""
    with quiet_optuna():  # optuna's notes on each trial and on heartbeats with ask-and-tell
        store = _Store.of(storage, study)
        return _run_worker(
            study, store, space, base, trials, population, prune, splits, log, idle_wait_s
        )


def _run_worker(
    study: Any,
    store: _Store,
    space: GoalSpace,
    base: TrainConfig,
    trials: int,
    population: int,
    prune: bool,
    splits: Splits | None,
    log: Callable[[str], None],
    idle_wait_s: float,
) -> WorkerReport:
    optuna = require_optuna()
    if splits is None:
        from infomorphic.training.loop import load_splits

        splits = load_splits(base.validate())
    report = WorkerReport()
    while True:
        _adopt_silent(study, store)
        optuna.storages.fail_stale_trials(study)
        finished = count_finished(study)
        if finished >= trials:
            return report
        heartbeat = _Heartbeat(store)
        try:
            asked = _ask(study, space, trials, population, report, heartbeat)
            while report.notes:
                log(report.notes.pop(0))
            if not asked:  # every slot is taken by running trials: wait for them or retries
                time.sleep(idle_wait_s)
                continue
            try:
                summaries = _train(asked, space, base, splits, prune)
            except KeyboardInterrupt:
                for trial in asked:  # the rerun retries them with the same parameters
                    with _unless_taken(trial, report, log):
                        trial.set_user_attr("interrupted", True)
                        study.tell(trial, state=optuna.trial.TrialState.FAIL)
                        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
                raise
            except optuna.exceptions.UpdateFinishedTrialError:  # reporting a pruning step
                report.taken += len(asked)
                log(_taken([t.number for t in asked]))
                continue
        finally:
            heartbeat.close()
        for trial, summary in zip(asked, summaries, strict=True):
            with _unless_taken(trial, report, log):
                _tell(study, trial, summary, report, log)


def _taken(numbers: list[int]) -> str:
    """What happened to trials that another worker failed while this one held them."""
    which = f"trial {numbers[0]}" if len(numbers) == 1 else f"trials {numbers}"
    return (
        f"{which}: failed by another worker while this one held it (its heartbeat looked "
        "stale: this worker stalled for longer than the grace period); its retry runs it again"
    )


@contextlib.contextmanager
def _unless_taken(trial: Any, report: WorkerReport, log: Callable[[str], None]) -> Iterator[None]:
    """Go on when another worker failed ``trial`` as stale meanwhile (its retry runs it)."""
    optuna = require_optuna()
    try:
        yield
    except optuna.exceptions.UpdateFinishedTrialError:
        report.taken += 1
        log(_taken([trial.number]))


def _tell(
    study: Any,
    trial: Any,
    summary: dict[str, Any],
    report: WorkerReport,
    log: Callable[[str], None],
) -> None:
    """Tell the study one trial's outcome: pruned, failed, or its validation accuracy."""
    optuna = require_optuna()
    if summary.get("pruned"):
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        report.pruned += 1
        return
    value = summary.get("val_accuracy", float("nan"))
    if summary.get("error") or not math.isfinite(value):
        trial.set_user_attr("error", summary.get("error", "no validation accuracy"))
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        report.failed += 1
        return
    for key in ("test_accuracy", "train_accuracy", "epochs", "seconds"):
        trial.set_user_attr(key, summary[key])
    study.tell(trial, value)
    report.completed += 1
    log(f"trial {trial.number}: validation accuracy {value:.4f}")
