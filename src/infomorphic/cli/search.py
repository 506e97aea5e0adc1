"""``infomorphic search``: goal search with optuna (TPE, CMA-ES, random) on one machine or many.

A thin shell over ``infomorphic.search``: the study lives in an optuna storage (a SQLite file in
the search folder by default; PostgreSQL for workers on several machines), and rerunning the
same command continues it until exactly ``--trials`` trials have finished. ``--cluster`` starts
the workers on a Dask cluster; this process then shows the study's count of finished trials.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import textwrap
from pathlib import Path

from infomorphic.cli.cluster_options import add_cluster_option
from infomorphic.cli.common import network_threads
from infomorphic.cli.pruning_options import add_pruning_options, pruning_settings, settings_pruner
from infomorphic.cli.training_options import add_training_options, config_from_args
from infomorphic.files import atomic_write_text
from infomorphic.locks import hold
from infomorphic.search.study import HEARTBEAT_S, SAMPLERS
from infomorphic.threads import default_threads, torch_threads

DESCRIPTION = (
    "Search the hidden goal: every weight in [-1, 1], named by its atom ({F}{C}, ..., H_res), "
    "one goal shared by every hidden layer or, with --goal-layers, one per layer (hidden2.{F}{C}, "
    "...). The objective is the validation accuracy after the last epoch; each trial's test "
    "accuracy is recorded as a trial attribute and never used to select or prune. Run the same "
    "command on several machines with one --storage to share a study."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search goal space with optuna (TPE, CMA-ES, random), one worker or many",
        description=textwrap.fill(DESCRIPTION, 78),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--sampler",
        choices=SAMPLERS,
        default="tpe",
        help="tpe (multivariate, 100 start-up trials), cmaes (with H_res fixed at 0, as the "
        "paper's CMA-ES runs; see --search-all) or random (default %(default)s)",
    )
    add(
        "--trials",
        type=int,
        required=True,
        metavar="T",
        help="finished trials the study should hold; a rerun continues up to T",
    )
    add(
        "--storage",
        metavar="URL",
        help="optuna storage URL, e.g. postgresql+psycopg://user@host/db (default: sqlite "
        "file study.db in the search folder)",
    )
    add("--study", metavar="NAME", help="study name (default search-<model>-<sampler>)")
    add("--out", metavar="DIR", help="search folder (default runs/<study>)")
    add(
        "--population",
        type=int,
        default=1,
        metavar="P",
        help="trials trained at once as one vectorised model; with cmaes, the sampler's "
        "population (default %(default)s)",
    )
    add(
        "--goal-layers",
        metavar="all|LAYER[,LAYER...]",
        default=None,
        help="search one goal per hidden layer: all of them, or those named (the others keep "
        "their --goal); weights are then named hidden2.{F}{C}, ... (default: one goal shared "
        "by every layer)",
    )
    add(
        "--fixed",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a weight instead of searching it, e.g. H_res=0 (in every searched layer) or "
        "hidden1.H_res=0 (repeatable); cmaes fixes H_res=0 unless it is named here or "
        "--search-all is given",
    )
    add(
        "--search-all",
        action="store_true",
        help="search every weight the sampler would fix by default (cmaes: H_res)",
    )
    add(
        "--enqueue",
        action="append",
        default=[],
        metavar="GOAL",
        help="try a known goal first (a name such as heuristic or optimized, or a goal file; "
        "with --goal-layers, the same goal in every searched layer, or a file of one goal per "
        "layer); once per study (repeatable)",
    )
    add_pruning_options(parser)
    add(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="worker processes on this machine (or on --cluster), each training one trial "
        "or population at a time (default %(default)s)",
    )
    add_cluster_option(
        parser,
        "the --workers search workers (with a --storage every worker "
        "reaches: PostgreSQL; SQLite only with local:N)",
    )
    add(
        "--heartbeat",
        type=int,
        default=HEARTBEAT_S,
        metavar="SECONDS",
        help="heartbeat of running trials; a trial silent for 3x this long is failed and "
        "retried (default %(default)s)",
    )
    add(
        "--dry-run",
        action="store_true",
        help="check the options and say what would be searched, and stop (nothing is opened "
        "or written) (default: off)",
    )
    add_training_options(parser, "search")
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> dict:
    """Everything a worker process needs, as plain values (also the content of search.json)."""
    from infomorphic.search.folder import DATABASE, check_study_name
    from infomorphic.search.space import GoalSpace, parse_fixed
    from infomorphic.search.study import default_fixed

    config = config_from_args(args)
    if args.trials < 1:
        raise ValueError(f"--trials: must be >= 1, got {args.trials}")
    if args.population < 1 or args.workers < 1:
        raise ValueError("--population and --workers must be >= 1")
    if args.heartbeat < 1:
        raise ValueError(f"--heartbeat: must be >= 1 second, got {args.heartbeat}")
    if args.study is not None:
        check_study_name(args.study)
    if args.storage is not None:
        from infomorphic.search.study import check_storage_url

        check_storage_url(args.storage)
    pruning = pruning_settings(args, config.epochs)
    fixed = default_fixed(args.sampler, list(args.fixed), args.search_all)
    space = GoalSpace.for_config(config, args.goal_layers, parse_fixed(fixed))
    for goal in args.enqueue:
        space.params(goal)  # a goal that does not fit the space is refused before any work
    study = args.study or f"search-{config.model}-{args.sampler}"
    out = Path(args.out or f"runs/{study}")
    if args.cluster:
        from infomorphic.experiments.cluster import parse_cluster, require_distributed

        # local:N workers are processes of this machine: the file lock that serialises their
        # asks of a SQLite study (search.worker) works across them; other machines' do not see it
        storage = args.storage or "sqlite:"
        if storage.startswith("sqlite") and not parse_cluster(args.cluster).is_local:
            raise ValueError(
                f"--cluster {args.cluster}: the study is a SQLite file on this machine, which "
                "workers on other machines cannot share; give --storage a database every "
                "worker reaches, e.g. postgresql+psycopg://user@host/db (docs/cluster.md), or "
                "search on this machine (--cluster local:N or no --cluster)"
            )
        require_distributed()  # before the study is created: name the extra first
    return {
        "config": config.to_dict(),
        "trials": args.trials,
        "storage": args.storage,
        "database": None if args.storage else DATABASE,
        "study": study,
        "out": str(out),
        "population": args.population,
        "sampler": args.sampler,
        "goal_layers": list(space.layers) or None,
        "fixed": fixed,
        "enqueue": args.enqueue,
        **pruning,
        "workers": args.workers,
        "threads": args.threads,
        "heartbeat": args.heartbeat,
        "cluster": args.cluster,
    }


def storage_url(settings: dict) -> str:
    """The storage URL of ``settings``: the given one, or the search folder's SQLite file."""
    if settings["storage"]:
        return settings["storage"]
    return f"sqlite:///{(Path(settings['out']) / settings['database']).resolve()}"


def _open(settings: dict, worker: int | None, create: bool = True):
    from infomorphic.search.space import GoalSpace, parse_fixed
    from infomorphic.search.study import make_sampler, make_storage, open_study, worker_seed
    from infomorphic.training.config import TrainConfig

    config = TrainConfig.from_dict(settings["config"])
    fixed = parse_fixed(settings["fixed"])
    space = GoalSpace.for_config(config, settings.get("goal_layers"), fixed)
    storage = make_storage(storage_url(settings), settings["heartbeat"], 3 * settings["heartbeat"])
    seed = worker_seed(settings["config"]["seed"], worker)
    sampler = make_sampler(settings["sampler"], seed, settings["population"])
    pruner = settings_pruner(settings, config.epochs)
    study, created = open_study(settings["study"], storage, sampler, pruner, create=create)
    return space, study, storage, created


def worker_name(worker: int | None, workers: int) -> str:
    """How a worker is named in the output: its place among this machine's workers and its
    host and process (what tells workers on several machines apart)."""
    where = f"{socket.gethostname()}:{os.getpid()}"
    return where if worker is None else f"{worker + 1}/{workers} ({where})"


def _work(settings: dict, worker: int | None) -> int:
    """One worker; runs in this process or a child. Returns the exit status."""
    from infomorphic.search.worker import run_worker
    from infomorphic.training.config import TrainConfig
    from infomorphic.training.loop import load_splits

    name = worker_name(worker, settings["workers"])

    def say(text: str) -> None:
        print(f"worker {name}: {text}", file=sys.stderr, flush=True)

    with torch_threads(settings["threads"]):
        space, study, storage, _ = _open(settings, worker, create=False)
        base = TrainConfig.from_dict(settings["config"])
        splits = load_splits(base.validate())
        say(
            f"data {splits.name}: {len(splits.y_train)} training / {len(splits.y_val)} "
            f"validation / {len(splits.y_test)} test images, from {splits.source}"
        )
        report = run_worker(
            study,
            space,
            base,
            settings["trials"],
            population=settings["population"],
            prune=settings["prune"],
            splits=splits,
            storage=storage,
            log=say,
        )
    say(f"{report.completed} completed, {report.pruned} pruned, {report.failed} failed")
    return 0


def _child(settings: dict, worker: int) -> int:
    try:
        return _work(settings, worker)
    except KeyboardInterrupt:
        return 130


def _on_cluster(settings: dict, study) -> int:
    """The workers as tasks of the Dask cluster; a line each time the study's count of
    finished trials changes. A worker whose machine dies is started again by Dask, and the
    trials it held are retried after their heartbeat stops."""
    from concurrent.futures import wait

    from infomorphic.cli.cluster_options import executor_for
    from infomorphic.search.study import count_finished

    codes = []
    with executor_for(settings["cluster"]) as executor:
        assert executor is not None  # --cluster was given
        futures = [executor.submit(_work, settings, w) for w in range(settings["workers"])]
        shown, pending = None, set(futures)
        while pending:
            _, pending = wait(pending, timeout=2.0)
            finished = count_finished(study)
            if finished != shown:
                print(
                    f"{finished}/{settings['trials']} trials finished", file=sys.stderr, flush=True
                )
                shown = finished
        for worker, future in enumerate(futures):
            try:
                codes.append(future.result())
            except Exception as exc:  # its worker died too often, or the scheduler went away
                print(f"worker {worker} stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
                codes.append(1)
    return max(codes)


def _dry_run(settings: dict) -> int:
    config = settings["config"]
    where = _shown_storage(settings)
    threads = settings["threads"] or "the cores free as the search starts, shared by its workers"
    print(
        f"would search study {settings['study']} in {where} until {settings['trials']} trials "
        f"have finished: {config['model']} {','.join(map(str, config['hidden']))} on "
        f"{config['dataset']}, {config['epochs']} epochs each, sampler {settings['sampler']}, "
        f"{settings['workers']} worker(s), threads: {threads}; search folder {settings['out']}"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.dry_run:
        return _dry_run(settings)
    out = Path(settings["out"])
    with hold(out, "search folder"):
        return _run(settings, out)


def _run(settings: dict, out: Path) -> int:
    from infomorphic.search.folder import (
        SEARCH_JSON,
        check_same_search,
        check_setup,
        lost,
        previous_search,
    )
    from infomorphic.search.study import StorageError, sqlite_file

    previous = previous_search(out)
    if previous is not None:
        check_same_search(previous, settings["study"], settings["storage"], out)
    file = sqlite_file(storage_url(settings))
    if previous is not None and file is not None and not file.is_file():
        raise lost(out, settings["study"], f"{file} does not exist")
    try:
        space, study, _, created = _open(settings, None, create=previous is None)
    except StorageError:
        raise
    except ValueError as exc:  # the study is not in its storage
        if previous is None:
            raise
        raise lost(out, settings["study"], str(exc)) from None
    from infomorphic.search.study import enqueue_goals, setup_record
    from infomorphic.training.config import TrainConfig

    record = setup_record(
        TrainConfig.from_dict(settings["config"]),
        space,
        settings["sampler"],
        settings["population"],
        settings.get("pruner"),
    )
    # The creator enqueues on a fresh study and then marks it set up; other workers enqueue
    # only on a study that is set up (goals already there are skipped), never on a fresh one.
    if created:
        enqueue_goals(study, space, settings["enqueue"])
        study.set_user_attr("infomorphic", record)
    else:
        check_setup(study, record, settings["study"])
        if settings["enqueue"] and "infomorphic" in study.user_attrs:
            enqueue_goals(study, space, settings["enqueue"])
    atomic_write_text(out / SEARCH_JSON, json.dumps(settings, indent=2))
    # a cluster's workers are processes with one thread each; here, the cores free
    most = network_threads(settings["config"]["dataset"], settings["config"]["hidden"])
    threads = 1 if settings["cluster"] else default_threads(settings["workers"], most=most)
    # the workers' copy: absolute paths (a cluster's workers start in other folders)
    settings = {**settings, "threads": settings["threads"] or threads, "out": str(out.resolve())}
    config = settings["config"]
    where = f" from {config['data_dir']}" if config.get("data_dir") else ""
    print(
        f"study {settings['study']} in {_shown_storage(settings)}; data set {config['dataset']}"
        f"{where}; {settings['workers']} worker(s) on this machine",
        file=sys.stderr,
    )
    try:
        if settings["cluster"]:
            return _on_cluster(settings, study)
        if settings["workers"] == 1:
            return _work(settings, None)
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with context.Pool(settings["workers"]) as pool:
            codes = pool.starmap(_child, [(settings, w) for w in range(settings["workers"])])
        return max(codes)
    except KeyboardInterrupt:
        print(
            f"interrupted: the study keeps every finished trial; rerun the same command to "
            f"continue to {settings['trials']} trials",
            file=sys.stderr,
        )
        return 130


def _shown_storage(settings: dict) -> str:
    """The storage, password hidden, or the search folder's own database file."""
    from infomorphic.search.folder import DATABASE
    from infomorphic.search.study import redact

    if settings["storage"]:
        return redact(settings["storage"])
    return str(Path(settings["out"]) / DATABASE)
