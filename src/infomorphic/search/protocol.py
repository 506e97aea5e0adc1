"""The search protocol: a search's settings, opening its study, and setting a study up once.

``SearchSettings`` is everything a worker needs, as plain values (and what a search folder's
``search.json`` keeps); ``search_settings`` checks the options before anything is opened.
``open_search`` opens the study a worker works on; ``set_up_study`` applies the rule that
keeps one set of options per study: the process that creates a study enqueues its known goals
and then records the options it was created with (``study.setup_record``, the study's
``infomorphic`` attribute, which ``search-report`` reads); any other finds them recorded and
checks its own against them. ``start_search`` does all of that for a search folder, under the
folder's lock that the caller holds. The workers themselves are ``search.pool``'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from infomorphic.files import atomic_write_text
from infomorphic.search.folder import (
    DATABASE,
    SEARCH_JSON,
    check_same_search,
    check_setup,
    check_study_name,
    lost,
    previous_search,
)
from infomorphic.search.study import (
    HEARTBEAT_S,
    REDUCTION,
    StorageError,
    check_storage_url,
    default_fixed,
    enqueue_goals,
    make_pruner,
    make_sampler,
    make_storage,
    open_study,
    redact,
    setup_record,
    sqlite_file,
    worker_seed,
)
from infomorphic.training.config import TrainConfig

if TYPE_CHECKING:  # the goal space loads torch
    from infomorphic.search.space import GoalSpace

__all__ = [
    "OpenSearch",
    "SearchSettings",
    "check_pruning",
    "open_search",
    "search_settings",
    "set_up_study",
    "settings_pruner",
    "shown_storage",
    "start_search",
    "storage_url",
]


@dataclass(frozen=True)
class SearchSettings:
    """A search's options, checked (``search_settings``), as plain values: what every worker
    process needs, and the content of ``search.json`` (``to_dict``). ``config`` is the trials'
    ``TrainConfig.to_dict``; ``storage`` None: the SQLite file ``database`` in ``out``."""

    config: dict[str, Any]
    trials: int
    storage: str | None
    database: str | None
    study: str
    out: str
    population: int = 1
    sampler: str = "tpe"
    goal_layers: list[str] | None = None
    fixed: list[str] = field(default_factory=list)
    enqueue: list[str] = field(default_factory=list)
    prune: bool = False
    pruner: str | None = None
    min_epochs: int | None = None
    reduction_factor: int = REDUCTION
    workers: int = 1
    threads: int | None = None
    heartbeat: int = HEARTBEAT_S
    cluster: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_dict(self.config)


def check_pruning(
    pruner: str | None,
    prune: bool,
    min_epochs: int | None,
    reduction_factor: int,
    epochs: int,
) -> dict[str, Any]:
    """The pruning options checked, as search.json keeps them (``prune``: whether any;
    ``prune`` alone is the median rule)."""
    if prune and pruner not in (None, "median"):
        raise ValueError(f"--prune is --pruner median; it cannot go with --pruner {pruner}")
    chosen = pruner or ("median" if prune else None)
    if chosen is None and min_epochs is not None:
        raise ValueError("--min-epochs: give a --pruner too")
    make_pruner(chosen, epochs, min_epochs, reduction_factor)  # checks them
    return {
        "prune": chosen is not None,
        "pruner": chosen,
        "min_epochs": min_epochs,
        "reduction_factor": reduction_factor,
    }


def settings_pruner(settings: Mapping[str, Any], epochs: int) -> Any:
    """optuna's pruner of a search's settings (search.json; ``prune`` alone: the median rule,
    as searches before ``--pruner`` wrote it)."""
    name = settings.get("pruner") or ("median" if settings.get("prune") else None)
    reduction = settings.get("reduction_factor") or REDUCTION
    return make_pruner(name, epochs, settings.get("min_epochs"), reduction)


def search_settings(
    config: TrainConfig,
    trials: int,
    *,
    sampler: str = "tpe",
    storage: str | None = None,
    study: str | None = None,
    out: str | Path | None = None,
    population: int = 1,
    goal_layers: str | Sequence[str] | None = None,
    fixed: Sequence[str] = (),
    search_all: bool = False,
    enqueue: Sequence[str] = (),
    pruner: str | None = None,
    prune: bool = False,
    min_epochs: int | None = None,
    reduction_factor: int = REDUCTION,
    workers: int = 1,
    threads: int | None = None,
    heartbeat: int = HEARTBEAT_S,
    cluster: str | None = None,
) -> SearchSettings:
    """A search's options checked before anything is opened or written: a bad value is a
    ValueError (or ``StorageError``) naming its option; a goal to enqueue that does not fit
    the space is refused here. Study: ``search-<model>-<sampler>`` by default, in the search
    folder ``out`` (default ``runs/<study>``); ``cluster``: Dask's distributed must be
    installed, and a SQLite study serves only workers on this machine."""
    from infomorphic.search.space import GoalSpace, parse_fixed

    if trials < 1:
        raise ValueError(f"--trials: must be >= 1, got {trials}")
    if population < 1 or workers < 1:
        raise ValueError("--population and --workers must be >= 1")
    if heartbeat < 1:
        raise ValueError(f"--heartbeat: must be >= 1 second, got {heartbeat}")
    if study is not None:
        check_study_name(study)
    if storage is not None:
        check_storage_url(storage)
    pruning = check_pruning(pruner, prune, min_epochs, reduction_factor, config.epochs)
    fixed_items = default_fixed(sampler, list(fixed), search_all)
    space = GoalSpace.for_config(config, goal_layers, parse_fixed(fixed_items))
    for goal in enqueue:
        space.params(goal)  # a goal that does not fit the space is refused before any work
    name = study or f"search-{config.model}-{sampler}"
    if cluster:
        _check_cluster(cluster, storage)
    return SearchSettings(
        config=config.to_dict(),
        trials=trials,
        storage=storage,
        database=None if storage else DATABASE,
        study=name,
        out=str(Path(out or f"runs/{name}")),
        population=population,
        sampler=sampler,
        goal_layers=list(space.layers) or None,
        fixed=fixed_items,
        enqueue=list(enqueue),
        **pruning,
        workers=workers,
        threads=threads,
        heartbeat=heartbeat,
        cluster=cluster,
    )


def _check_cluster(cluster: str, storage: str | None) -> None:
    from infomorphic.experiments.cluster import parse_cluster, require_distributed

    # local:N workers are processes of this machine: the file lock that serialises their
    # asks of a SQLite study (search.worker) works across them; other machines' do not see it
    url = storage or "sqlite:"
    if url.startswith("sqlite") and not parse_cluster(cluster).is_local:
        raise ValueError(
            f"--cluster {cluster}: the study is a SQLite file on this machine, which "
            "workers on other machines cannot share; give --storage a database every "
            "worker reaches, e.g. postgresql+psycopg://user@host/db (docs/cluster.md), or "
            "search on this machine (--cluster local:N or no --cluster)"
        )
    require_distributed()  # before the study is created: name the extra first


def storage_url(settings: SearchSettings) -> str:
    """The storage URL of ``settings``: the given one, or the search folder's SQLite file."""
    if settings.storage:
        return settings.storage
    return f"sqlite:///{(Path(settings.out) / str(settings.database)).resolve()}"


def shown_storage(settings: SearchSettings) -> str:
    """The storage, password hidden, or the search folder's own database file."""
    if settings.storage:
        return redact(settings.storage)
    return str(Path(settings.out) / DATABASE)


class OpenSearch(NamedTuple):
    """A search's study opened: its goal space, the study, the storage it was opened on (the
    one ``run_worker`` takes) and whether this call created the study."""

    space: GoalSpace
    study: Any
    storage: Any
    created: bool


def open_search(settings: SearchSettings, worker: int | None, create: bool = True) -> OpenSearch:
    """Open (or with ``create``, create) the study of ``settings`` with worker ``worker``'s
    own sampler seed (None: one from this host and process)."""
    from infomorphic.search.space import GoalSpace, parse_fixed

    config = settings.train_config
    space = GoalSpace.for_config(config, settings.goal_layers, parse_fixed(settings.fixed))
    storage = make_storage(storage_url(settings), settings.heartbeat, 3 * settings.heartbeat)
    seed = worker_seed(settings.config["seed"], worker)
    sampler = make_sampler(settings.sampler, seed, settings.population)
    pruner = settings_pruner(settings.to_dict(), config.epochs)
    study, created = open_study(settings.study, storage, sampler, pruner, create=create)
    return OpenSearch(space, study, storage, created)


def set_up_study(
    study: Any,
    created: bool,
    record: dict[str, Any],
    space: GoalSpace,
    enqueue: Sequence[str] = (),
) -> None:
    """The one rule by which a study gets its record (``study.setup_record``) and its known
    goals: the creator enqueues on a fresh study and then records it as set up; any other
    process checks its record against the study's (``folder.check_setup``, a ValueError
    listing the differences) and enqueues only on a study that is set up (goals already there
    are skipped), never on a fresh one that another process is still setting up."""
    if created:
        enqueue_goals(study, space, list(enqueue))
        study.set_user_attr("infomorphic", record)
        return
    check_setup(study, record, study.study_name)
    if enqueue and "infomorphic" in study.user_attrs:
        enqueue_goals(study, space, list(enqueue))


def start_search(settings: SearchSettings) -> OpenSearch:
    """Open the search folder's study, creating it (and the folder) on a first run, set it up
    (``set_up_study``) and write the folder's ``search.json``. The caller holds the folder's
    lock (``infomorphic.locks.hold``). A folder that holds another search, or whose study has
    gone from its storage, is refused (``search.folder``)."""
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = previous_search(out)
    if previous is not None:
        check_same_search(previous, settings.study, settings.storage, out)
    file = sqlite_file(storage_url(settings))
    if previous is not None and file is not None and not file.is_file():
        raise lost(out, settings.study, f"{file} does not exist")
    try:
        opened = open_search(settings, None, create=previous is None)
    except StorageError:
        raise
    except ValueError as exc:  # the study is not in its storage
        if previous is None:
            raise
        raise lost(out, settings.study, str(exc)) from None
    record = setup_record(
        settings.train_config, opened.space, settings.sampler, settings.population, settings.pruner
    )
    set_up_study(opened.study, opened.created, record, opened.space, settings.enqueue)
    atomic_write_text(out / SEARCH_JSON, json.dumps(settings.to_dict(), indent=2))
    return opened
