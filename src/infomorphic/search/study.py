"""Studies: storage, samplers, creating a study once, enqueueing known goals, counting trials.

Storage is any optuna storage URL; a SQLite file in the search folder by default, PostgreSQL
(``postgresql+psycopg://...``) for workers on several machines. Storages with a database get a
heartbeat: a trial whose worker died (kill -9, a lost machine) stops beating, is marked failed
by the next worker and retried with the same parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import socket
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infomorphic.errors import InfomorphicError
from infomorphic.training.config import TrainConfig

if TYPE_CHECKING:  # the goal space loads torch; the command line reads SAMPLERS without it
    from infomorphic.search.space import GoalSpace

__all__ = [
    "CHANGEABLE",
    "FINISHED",
    "PRUNERS",
    "REDUCTION",
    "SAMPLERS",
    "StorageError",
    "check_storage_url",
    "SAMPLER_FIXED",
    "default_fixed",
    "count_finished",
    "default_min_epochs",
    "enqueue_goals",
    "make_pruner",
    "make_sampler",
    "make_storage",
    "open_study",
    "quiet_optuna",
    "record_differences",
    "require_optuna",
    "setup_record",
    "worker_seed",
]

SAMPLERS = ("tpe", "cmaes", "random")
#: Pruners of a multi-fidelity search (the fidelity: epochs trained): optuna's median rule,
#: asynchronous successive halving and Hyperband.
PRUNERS = ("median", "sh", "hyperband")
#: Successive halving and Hyperband keep the best 1/REDUCTION of the trials at each rung.
REDUCTION = 3
#: Weights a sampler fixes unless asked to search every weight: the paper's CMA-ES runs fixed
#: the H_res weight at 0 (appendix A.6; the authors' optuna_sweep.yaml ends its goal with 0).
SAMPLER_FIXED: dict[str, dict[str, float]] = {"cmaes": {"H_res": 0.0}}
HEARTBEAT_S = 30
GRACE_S = 90


def require_optuna() -> Any:
    """optuna, or an ImportError that names the extra to install."""
    try:
        import optuna
    except ImportError:
        raise ImportError("goal search needs optuna: pip install 'infomorphic[search]'") from None
    return optuna


@contextlib.contextmanager
def quiet_optuna() -> Iterator[Any]:
    """optuna without its notes for the block, its global settings given back on leaving: its
    log lines below warnings (a study created, each trial finished), and its warnings that
    heartbeats with ask-and-tell are experimental or meant for ``Study.optimize`` (this
    package's own worker loop, ``search.worker``), say nothing to our users."""
    optuna = require_optuna()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            yield optuna
    finally:
        optuna.logging.set_verbosity(verbosity)


def _finished_states():
    optuna = require_optuna()
    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


FINISHED = ("COMPLETE", "PRUNED")

#: The storage URLs a study may live in (optuna's relational storages).
STORAGE_EXAMPLES = "sqlite:///FILE.db or postgresql+psycopg://USER@HOST/DB"
_SCHEME = re.compile(r"^(sqlite|postgresql|mysql)(\+[A-Za-z0-9_]+)?://")
#: Errors of a first use that a retry can get past: workers creating one database's schema at
#: once, a SQLite file locked for a moment.
_TRANSIENT = re.compile(r"already exists|locked|duplicate key|UniqueViolation|UNIQUE constraint")


class StorageError(InfomorphicError, ValueError):
    """An optuna storage that cannot be used: a bad URL, an unreachable server, a damaged
    database; the message names it (password hidden) and says why."""


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    return re.sub(r"(://[^/:@]*:)[^@/]*@", r"\1***@", url)


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL (None for other URLs and in-memory databases)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def check_storage_url(url: str) -> None:
    """Refuse a URL that is no relational storage, or a SQLite file in a missing folder."""
    if not isinstance(url, str) or not _SCHEME.match(url):
        raise StorageError(f"{url!r} is not a storage URL; give {STORAGE_EXAMPLES}")
    file = sqlite_file(url)
    if file is not None and not file.parent.is_dir():
        raise StorageError(f"the SQLite storage {file} lies in a folder that does not exist")


def _storage_error(url: str, exc: Exception) -> StorageError:
    """What went wrong opening ``url``, in one line."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    file = sqlite_file(url)
    if file is not None and "not a database" in reason:
        return StorageError(
            f"{file} is not an SQLite database of optuna (damaged, or another kind of file: "
            f"{reason}); restore it from a copy, or move it away to start a new study"
        )
    if "connect" in reason.lower() or "refused" in reason.lower():
        return StorageError(f"cannot connect to the storage {redact(url)}: {reason}")
    return StorageError(f"cannot open the storage {redact(url)}: {reason}")


def default_fixed(sampler: str, fixed: list[str], search_all: bool = False) -> list[str]:
    """The ``--fixed`` items of a search: those given, then the sampler's own defaults
    (``SAMPLER_FIXED``) for weights not named there, unless ``search_all``."""
    named = {item.partition("=")[0].strip().replace(" ", "") for item in fixed}
    defaults = {} if search_all else SAMPLER_FIXED.get(sampler, {})
    return [*fixed, *(f"{name}={value:g}" for name, value in defaults.items() if name not in named)]


def make_storage(url: str, heartbeat_s: int = HEARTBEAT_S, grace_s: int = GRACE_S) -> Any:
    """An optuna storage for ``url``, with heartbeats that fail and retry stale trials;
    ``StorageError`` when the URL is bad or the storage cannot be opened."""
    with quiet_optuna():  # heartbeat arguments are experimental in optuna
        return _make_storage(url, heartbeat_s, grace_s)


def _make_storage(url: str, heartbeat_s: int, grace_s: int) -> Any:
    optuna = require_optuna()
    check_storage_url(url)
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
        except ImportError:
            raise
        except Exception as exc:
            if attempt == 7 or not _TRANSIENT.search(str(exc)):
                raise _storage_error(url, exc) from None
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
    with quiet_optuna():  # multivariate TPE is experimental in optuna
        return _make_sampler(name, seed, population)


def _make_sampler(name: str, seed: int, population: int) -> Any:
    optuna = require_optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(
            n_startup_trials=100,
            n_ei_candidates=100,
            multivariate=True,
            seed=seed,
        )
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ImportError("CMA-ES needs cmaes: pip install 'infomorphic[search]'") from None
        return optuna.samplers.CmaEsSampler(
            popsize=population if population > 1 else None, seed=seed
        )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")


def default_min_epochs(pruner: str | None, epochs: int) -> int:
    """The first epoch at which a trial may be pruned: 1 for the median rule (optuna's
    default), a 25th of the epochs for successive halving and Hyperband (4 of 100: rungs at 4,
    12, 36 epochs with a reduction factor of 3)."""
    if pruner in ("sh", "hyperband"):
        return max(1, epochs // 25)
    return 1


def make_pruner(
    name: str | None, epochs: int, min_epochs: int | None = None, reduction: int = REDUCTION
) -> Any:
    """optuna's pruner ``name`` for trials of ``epochs`` epochs, none pruned before
    ``min_epochs`` (default ``default_min_epochs``); None: no pruning (optuna's
    ``NopPruner``)."""
    optuna = require_optuna()
    if name is None:
        return optuna.pruners.NopPruner()
    if name not in PRUNERS:
        raise ValueError(f"unknown pruner {name!r}; choose from {', '.join(PRUNERS)}")
    first = default_min_epochs(name, epochs) if min_epochs is None else min_epochs
    if not 1 <= first <= max(epochs, 1):
        raise ValueError(f"--min-epochs: want 1..{epochs} (the epochs of a trial), got {first}")
    if reduction < 2:
        raise ValueError(f"--reduction-factor: want an integer >= 2, got {reduction}")
    if name == "median":
        return optuna.pruners.MedianPruner(n_warmup_steps=first - 1)
    if name == "sh":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=first, reduction_factor=reduction
        )
    return optuna.pruners.HyperbandPruner(
        min_resource=first, max_resource=max(epochs, first), reduction_factor=reduction
    )


def open_study(
    name: str, storage: Any, sampler: Any, pruner: Any = None, create: bool = True
) -> tuple[Any, bool]:
    """Load study ``name`` or create it; (study, created by this call). Creation is attempted
    once; a worker that loses the race loads what the winner created. With ``create=False`` a
    missing study is a ValueError (a search folder whose study was deleted or emptied).
    ``pruner``: what ``trial.should_prune`` asks (None: nothing is pruned)."""
    with quiet_optuna():  # optuna logs each study it creates
        return _open_study(name, storage, sampler, pruner, create)


def _open_study(
    name: str, storage: Any, sampler: Any, pruner: Any, create: bool
) -> tuple[Any, bool]:
    optuna = require_optuna()
    pruner = pruner if pruner is not None else optuna.pruners.NopPruner()
    if not create:
        try:
            loaded = optuna.load_study(
                study_name=name, storage=storage, sampler=sampler, pruner=pruner
            )
            return loaded, False
        except KeyError:
            url = redact(str(getattr(storage, "url", storage)))
            raise ValueError(f"the storage {url} holds no study {name!r}") from None
    for attempt in range(8):
        try:
            study = optuna.create_study(
                study_name=name,
                storage=storage,
                sampler=sampler,
                pruner=pruner,
                direction="maximize",
            )
            return study, True
        except optuna.exceptions.DuplicatedStudyError:
            loaded = optuna.load_study(
                study_name=name, storage=storage, sampler=sampler, pruner=pruner
            )
            return loaded, False
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


# -- what a study was created with -----------------------------------------------------------
#: Options that may differ between the runs of one study: how many trials, how they are run
#: and where, not what a trial is. Every other option (model, sizes, data set, epochs, seed,
#: batch size, activation, passes, bins, sampler, fixed weights) must be the study's own.
CHANGEABLE = (
    "trials",
    "workers",
    "threads",
    "heartbeat",
    "enqueue",
    "prune",
    "pruner",
    "min_epochs",
    "reduction_factor",
    "population",
    "device",
    "data_dir",
    "compile",
    "cluster",
)
#: TrainConfig fields a search does not take from its options (set per trial, or how it runs).
_NOT_COMPARED = ("device", "data_dir", "compile", "eval_splits", "eval_batch_size", "goal")


def setup_record(
    config: TrainConfig,
    space: GoalSpace,
    sampler: str,
    population: int,
    pruner: str | None = None,
) -> dict[str, Any]:
    """What a study records of the search that created it (its ``infomorphic`` attribute,
    which ``search-report`` reads; ``search.protocol.set_up_study`` writes it): the trials'
    options, the space's sources, fixed weights and searched layers (``GoalSpace.to_record``),
    the sampler, the population and the pruner. Where the data lies (``data_dir``) is no part
    of what a trial is: it is left out, so a study holds no path of the machine it ran on."""
    return {
        "config": {k: v for k, v in config.to_dict().items() if k != "data_dir"},
        **space.to_record(),
        "sampler": sampler,
        "population": population,
        "pruner": pruner,
    }


def _fixed_text(fixed: Mapping[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in sorted(fixed.items())) or "none"


def record_differences(recorded: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """How ``wanted`` (a ``setup_record``) differs from the ``recorded`` one in what a trial
    is, one ``--option NEW (the study has OLD)`` each; [] when a rerun may continue it."""
    from infomorphic.training.api import config_differences

    differences = []
    old_config = TrainConfig.from_dict(dict(recorded.get("config") or {}))
    new_config = TrainConfig.from_dict(dict(wanted["config"]))
    for field in config_differences(old_config, new_config, ignore=_NOT_COMPARED):
        old, new = getattr(old_config, field), getattr(new_config, field)
        differences.append(
            f"--{field.replace('_', '-')} {_shown(new)} (the study has {_shown(old)})"
        )
    if recorded.get("sampler") not in (None, wanted["sampler"]):
        differences.append(f"--sampler {wanted['sampler']} (the study has {recorded['sampler']})")
    old_layers, new_layers = list(recorded.get("layers") or []), list(wanted.get("layers") or [])
    if old_layers != new_layers:
        differences.append(
            f"--goal-layers {','.join(new_layers) or 'none'} (the study has "
            f"{','.join(old_layers) or 'none: one goal shared by every layer'})"
        )
    old_fixed = {k: float(v) for k, v in dict(recorded.get("fixed") or {}).items()}
    if old_fixed != dict(wanted["fixed"]):
        differences.append(
            f"--fixed {_fixed_text(wanted['fixed'])} (the study has {_fixed_text(old_fixed)})"
        )
    return differences


def _shown(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "the model's own" if value is None else str(value)
