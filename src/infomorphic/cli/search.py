"""``infomorphic search``: goal search with optuna (TPE, CMA-ES, random) on one machine or many.

A thin shell over ``infomorphic.search``: the study lives in an optuna storage (a SQLite file in
the search folder by default; PostgreSQL for workers on several machines), and rerunning the
same command continues it until exactly ``--trials`` trials have finished. ``--cluster`` starts
the workers on a Dask cluster; this process then shows the study's count of finished trials.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from infomorphic.cli.cluster_options import add_cluster_option, executor_for
from infomorphic.cli.common import network_threads
from infomorphic.cli.pruning_options import add_pruning_options, pruning_options
from infomorphic.cli.training_options import add_training_options, config_from_args
from infomorphic.locks import hold
from infomorphic.search.study import HEARTBEAT_S, SAMPLERS
from infomorphic.threads import default_threads

if TYPE_CHECKING:  # the library's modules load when the command runs
    from infomorphic.search.protocol import SearchSettings

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


def _settings(args: argparse.Namespace) -> SearchSettings:
    """The library's settings of the parsed options (checked there)."""
    from infomorphic.search.protocol import search_settings

    config = config_from_args(args)
    return search_settings(
        config,
        args.trials,
        sampler=args.sampler,
        storage=args.storage,
        study=args.study,
        out=args.out,
        population=args.population,
        goal_layers=args.goal_layers,
        fixed=args.fixed,
        search_all=args.search_all,
        enqueue=args.enqueue,
        **pruning_options(args),
        workers=args.workers,
        threads=args.threads,
        heartbeat=args.heartbeat,
        cluster=args.cluster,
    )


def _say(line: str) -> None:
    """The workers' log: a line on stderr at once (workers in other processes pickle it)."""
    print(line, file=sys.stderr, flush=True)


def _dry_run(settings: SearchSettings) -> int:
    from infomorphic.search.protocol import shown_storage

    config = settings.config
    threads = settings.threads or "the cores free as the search starts, shared by its workers"
    print(
        f"would search study {settings.study} in {shown_storage(settings)} until "
        f"{settings.trials} trials have finished: {config['model']} "
        f"{','.join(map(str, config['hidden']))} on {config['dataset']}, {config['epochs']} "
        f"epochs each, sampler {settings.sampler}, {settings.workers} worker(s), threads: "
        f"{threads}; search folder {settings.out}"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.dry_run:
        return _dry_run(settings)
    with hold(Path(settings.out), "search folder"):
        return _run(settings)


def _run(settings: SearchSettings) -> int:
    from infomorphic.search.pool import run_workers
    from infomorphic.search.protocol import shown_storage, start_search

    out = Path(settings.out)
    study = start_search(settings).study
    # a cluster's workers are processes with one thread each; here, the cores free
    most = network_threads(settings.config["dataset"], settings.config["hidden"])
    threads = 1 if settings.cluster else default_threads(settings.workers, most=most)
    # the workers' copy: absolute paths (a cluster's workers start in other folders)
    settings = replace(settings, threads=settings.threads or threads, out=str(out.resolve()))
    config = settings.config
    where = f" from {config['data_dir']}" if config.get("data_dir") else ""
    print(
        f"study {settings.study} in {shown_storage(settings)}; data set {config['dataset']}"
        f"{where}; {settings.workers} worker(s) on this machine",
        file=sys.stderr,
    )
    try:
        with executor_for(settings.cluster) as executor:
            return run_workers(settings, study, _say, executor)
    except KeyboardInterrupt:
        print(
            f"interrupted: the study keeps every finished trial; rerun the same command to "
            f"continue to {settings.trials} trials",
            file=sys.stderr,
        )
        return 130
