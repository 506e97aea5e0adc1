"""``infomorphic ablate``: train variants of a goal (weights zeroed or nudged) for several seeds
beside the unchanged goal, and report which weights matter (``infomorphic.reports.ablation``).

A thin shell: the variants, the table, the critical-weight rule and the figures are the
library's; docs/ablation.md explains them. Runs go to ``OUT/runs`` through the experiments
runner, so a rerun reuses every finished run and continues an interrupted one.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from infomorphic.cli.cluster_options import add_cluster_option, executor_for
from infomorphic.cli.common import comma_list, positive_int, print_distinct_errors
from infomorphic.cli.training_options import add_training_options, config_from_args
from infomorphic.threads import default_threads

DESCRIPTION = (
    "Ablate a hidden-layer goal (--goal, or one layer's with --layer): set each non-zero weight "
    "to 0 (zero), set them to 0 one after another, least important first (cumulative), scale "
    "each by 0.9 and 1.1 (relative) or shift "
    "it by -0.1 and +0.1 (absolute); train every variant and the unchanged goal for K seeds, and "
    "write ablation.csv, ablation.md (median accuracy changes, the critical weights next to the "
    "paper's four) and the figures (the paper's Fig. 4B, 4C and 9) into OUT."
)
EPILOG = """\
--order (the cumulative ablation's removal order, least important first):
  weight      ascending absolute weight (default)
  paper       the order of the paper's Fig. 4C (its authors' cumulative ablation):
              {F}{CL}, {CL}, {FC}{FL}{CL}, {FCL}, {C}{FL}, {L}, {C}, {FC}, H_res,
              {FL}{CL}, {FC}{CL}, {L}{FC}, {FL}, {C}{L}, {F}, {F}{C}, {F}{C}{L}, {F}{L},
              {FC}{FL} (goals of three sources; zero weights left out)
  measured    this ablation's zero results, least harmful first (the paper's procedure;
              needs the zero kind, which is trained first)
  FILE        a JSON list of atom labels, most important first, or the report.json of
              infomorphic search-report (its importance ranking)
  study:URL#NAME  a search study's importance (optuna storage URL and study name), or
              study:FOLDER for a search folder

Critical weights (--critical K): the K weights whose zeroing lowers the median validation
accuracy most, the paper's verdict (Table 3: four); beside each, whether its drop is larger
than the seed-to-seed range of the unchanged goal and what the cumulative curve loses when it
goes. Every run trains for --epochs and is measured once at the end (validation and test).
Runs that finished are reused; see docs/ablation.md."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ablate",
        help="ablate a goal's weights over several seeds: which weights matter (Fig. 4B/4C, 9)",
        description=textwrap.fill(DESCRIPTION, 78),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--layer",
        metavar="NAME",
        default=None,
        help="the hidden layer whose goal is ablated, e.g. hidden2 (the others keep their "
        "goals); default: the goal every hidden layer shares (--goal)",
    )
    add(
        "--seeds",
        type=positive_int,
        default=3,
        metavar="K",
        help="seeds per variant: --seed .. --seed+K-1 (default %(default)s)",
    )
    add(
        "--kinds",
        type=comma_list,
        default="zero,cumulative,relative,absolute",
        metavar="KIND[,KIND...]",
        help="among zero, cumulative, relative, absolute (default %(default)s)",
    )
    add(
        "--order",
        default="weight",
        metavar="weight|paper|measured|FILE|study:URL#NAME",
        help="removal order of the cumulative ablation (see below; default %(default)s)",
    )
    add(
        "--critical",
        type=positive_int,
        default=4,
        metavar="K",
        help="the K largest zero-ablation drops are named critical (default %(default)s, the "
        "paper's four)",
    )
    add(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default ablation-<model>-<goal>-<dataset>)",
    )
    add(
        "--workers",
        type=positive_int,
        default=1,
        metavar="W",
        help="runs trained at once, one process each (default %(default)s; with --cluster, "
        "the cluster's worker threads)",
    )
    add_cluster_option(parser, "the runs")
    add(
        "--dry-run",
        action="store_true",
        help="list the variants and the number of runs, train nothing",
    )
    add_training_options(parser, "ablate")
    parser.set_defaults(func=run)


def _order(spec: str, goal) -> tuple[str, list[str] | None, str]:
    """(order name, ranking or None, how the report names the order's source)."""
    from infomorphic.reports.ablation import ORDERS, read_ranking
    from infomorphic.search.report import study_ranking

    if spec in ORDERS:
        names = {
            "weight": "ascending absolute weight",
            "paper": "the paper's order (Fig. 4C)",
            "measured": "this ablation's zero results, least harmful first",
        }
        return spec, None, names[spec]
    if spec.startswith("study:"):
        return "ranking", study_ranking(spec[len("study:") :]), f"importance of study {spec[6:]}"
    if Path(spec).is_file():
        return "ranking", read_ranking(spec), f"ranking in {spec}"
    raise ValueError(
        f"--order: {spec!r} is no order name (weight, paper, measured), file or study:URL#NAME"
    )


def run(args: argparse.Namespace) -> int:
    from infomorphic.networks.presets import model_preset
    from infomorphic.reports.ablation import (
        KINDS,
        ablation_goal,
        make_variants,
        removal_order,
        run_ablation,
    )

    config = config_from_args(args)
    preset = model_preset(config.model)
    if preset.kind != "infomorphic" or preset.hidden_goal is None:
        raise ValueError(f"--model: {config.model} has no hidden goal to ablate")
    unknown = [k for k in args.kinds if k not in KINDS]
    if unknown or not args.kinds:
        raise ValueError(f"--kinds: choose from {', '.join(KINDS)}, got {', '.join(args.kinds)}")
    goal = ablation_goal(config, args.layer)
    order, ranking, source = _order(args.order, goal)
    seeds = list(range(config.seed, config.seed + args.seeds))
    given = config.goal
    tag = Path(given).stem if isinstance(given, str) and Path(given).is_file() else goal.name
    tag += f"-{args.layer}" if args.layer else ""
    out = Path(args.out or f"ablation-{config.model}-{tag}-{config.dataset}")
    if args.dry_run:
        name = "weight" if order == "measured" else order
        removal = removal_order(goal, name, ranking) if "cumulative" in args.kinds else []
        variants = make_variants(goal, args.kinds, removal)
        runs = len({v.weights for v in variants}) * len(seeds)
        for v in variants:
            print(f"{v.kind:<10} {v.atom:<14} {v.change:<6} {v.step or ''}")
        note = " (measured order: shown by weight, decided after the zero runs)"
        if removal:
            print(f"removal order ({source}): {', '.join(removal)}")
        print(
            f"{len(variants)} variants, {runs} runs of {len(seeds)} seeds into {out}/runs"
            f"{note if order == 'measured' else ''}"
        )
        return 0
    # a cluster's workers are processes with one thread each
    threads = args.threads or (1 if args.cluster else default_threads(args.workers))

    errors: dict[str, int] = {}

    def progress(state, result) -> None:
        what = "reused" if result.reused else "failed" if result.error else "trained"
        print(f"{state}: {what} {result.spec.out.name}", file=sys.stderr)
        if result.error:
            errors[result.error] = errors.get(result.error, 0) + 1

    with executor_for(args.cluster) as executor:
        outcome = run_ablation(
            config,
            goal,
            args.kinds,
            seeds,
            out,
            order=order,
            ranking=ranking,
            order_source=source,
            workers=args.workers,
            threads=threads,
            on_progress=progress,
            executor=executor,
            critical=args.critical,
            layer=args.layer,
        )
    print(
        f"{outcome.trained} runs trained, {outcome.reused} reused, {outcome.failed} failed",
        file=sys.stderr,
    )
    print_distinct_errors(errors)
    for path in outcome.files:
        print(path)
    return 1 if outcome.failed else 0
