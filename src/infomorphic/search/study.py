"""Studies: storage, samplers, creating a study once, enqueueing known goals, counting trials.

Storage is any optuna storage URL; a SQLite file in the search folder by default, PostgreSQL
(``postgresql+psycopg://...``) for workers on several machines. Storages with a database get a
heartbeat: a trial whose worker died (kill -9, a lost machine) stops beating, is marked failed
by the next worker and retried with the same parameters.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import time
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the goal space loads torch; the command line reads SAMPLERS without it
    from infomorphic.search.space import GoalSpace

__all__ = [
    "FINISHED",
    "SAMPLERS",
    "SAMPLER_FIXED",
    "default_fixed",
    "count_finished",
    "enqueue_goals",
    "make_sampler",
    "make_storage",
    "open_study",
    "require_optuna",
    "worker_seed",
]

SAMPLERS = ("tpe", "cmaes", "random")
#: Weights a sampler fixes unless asked to search every weight: the paper's CMA-ES runs fixed
#: the H_res weight at 0 (appendix A.6; the authors' optuna_sweep.yaml ends its goal with 0).
SAMPLER_FIXED: dict[str, dict[str, float]] = {"cmaes": {"H_res": 0.0}}
HEARTBEAT_S = 30
GRACE_S = 90


def require_optuna():
    """optuna, or an ImportError that names the extra to install."""
    try:
        import optuna
    except ImportError:
        raise ImportError("goal search needs optuna: pip install 'infomorphic[search]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats with ask-and-tell are this package's own loop (search.worker): optuna's notes
    # that they are experimental or meant for Study.optimize say nothing to our users.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
    return optuna


def _finished_states():
    optuna = require_optuna()
    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


FINISHED = ("COMPLETE", "PRUNED")


def default_fixed(sampler: str, fixed: list[str], search_all: bool = False) -> list[str]:
    """The ``--fixed`` items of a search: those given, then the sampler's own defaults
    (``SAMPLER_FIXED``) for weights not named there, unless ``search_all``."""
    named = {item.partition("=")[0].strip().replace(" ", "") for item in fixed}
    defaults = {} if search_all else SAMPLER_FIXED.get(sampler, {})
    return [*fixed, *(f"{name}={value:g}" for name, value in defaults.items() if name not in named)]


def make_storage(url: str, heartbeat_s: int = HEARTBEAT_S, grace_s: int = GRACE_S) -> Any:
    """An optuna storage for ``url``; databases get heartbeats and retry stale trials."""
    optuna = require_optuna()
    if not url.startswith(("sqlite:", "postgresql", "mysql")):
        return optuna.storages.get_storage(url)
    if url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ImportError(
                "a PostgreSQL storage needs psycopg: pip install 'infomorphic[postgres]'"
            ) from None
    kwargs: dict[str, Any] = {"heartbeat_interval": heartbeat_s, "grace_period": grace_s}
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry is not None:  # optuna >= 5
        kwargs["heartbeat_stale_trial_callback"] = retry(max_retry=3)
    else:
        kwargs["failed_trial_callback"] = optuna.storages.RetryFailedTrialCallback(max_retry=3)
    engine = {"pool_pre_ping": True} if url.startswith("postgresql") else None
    for attempt in range(8):  # concurrent first use of an empty database races on the schema
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, **kwargs)
        except Exception:
            if attempt == 7:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


def worker_seed(seed: int, worker: int | None) -> int:
    """A sampler seed of its own for each worker: from (seed, worker) when the worker index is
    given, else from the seed, the host and the process (workers started alike on several
    machines must not propose the same trials)."""
    key = (
        f"{seed}:{worker}" if worker is not None else f"{seed}:{socket.gethostname()}:{os.getpid()}"
    )
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little")


def make_sampler(name: str, seed: int, population: int = 1) -> Any:
    """The samplers as the authors configured them (TPE: multivariate, 100 start-up trials,
    100 candidates; their magic clip and endpoint settings are what optuna >= 4.9 always does,
    and passing them is deprecated; CMA-ES with its population) and a random sampler for a
    baseline."""
    optuna = require_optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(
            n_startup_trials=100, n_ei_candidates=100, multivariate=True, seed=seed,
        )  # fmt: skip
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ImportError("CMA-ES needs cmaes: pip install 'infomorphic[search]'") from None
        return optuna.samplers.CmaEsSampler(popsize=population if population > 1 else None,
                                            seed=seed)  # fmt: skip
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")


def open_study(name: str, storage: Any, sampler: Any) -> tuple[Any, bool]:
    """Load study ``name`` or create it; (study, created by this call). Creation is attempted
    once; a worker that loses the race loads what the winner created."""
    optuna = require_optuna()
    for attempt in range(8):
        try:
            study = optuna.create_study(
                study_name=name, storage=storage, sampler=sampler, direction="maximize"
            )
            return study, True
        except optuna.exceptions.DuplicatedStudyError:
            return optuna.load_study(study_name=name, storage=storage, sampler=sampler), False
        except Exception:
            if attempt == 7:
                raise
            time.sleep(0.2 + random.random())
    raise AssertionError("unreachable")


def enqueue_goals(study: Any, space: GoalSpace, goals: list[str]) -> int:
    """Enqueue known goals (names, files, vectors) once per study; returns how many were new.

    Only the worker that created the study enqueues on a fresh study, so workers that start at
    once cannot enqueue twice; on a study that exists, goals already tried are skipped.
    """
    added = 0
    for goal in goals:
        params = space.params(goal)
        before = len(study.get_trials(deepcopy=False))
        study.enqueue_trial(params, user_attrs={"enqueued": str(goal)}, skip_if_exists=True)
        added += len(study.get_trials(deepcopy=False)) > before
    return added


def count_finished(study: Any) -> int:
    return len(study.get_trials(deepcopy=False, states=_finished_states()))
