"""``infomorphic ablate``: train variants of a goal (weights zeroed or nudged) for several seeds
beside the unchanged goal, and report which weights matter (``infomorphic.experiments.ablation``
trains, ``infomorphic.reports.ablation`` writes the results).

A thin shell: the variants, the table, the critical-weight rule and the figures are the
library's; docs/ablation.md explains them. Runs go to ``OUT/runs`` through the experiments
runner, so a rerun reuses every finished run and continues an interrupted one.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

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


def _study_ranking(study: str) -> list[str]:
    from infomorphic.search.report import study_ranking  # optuna: only for study:URL#NAME

    return study_ranking(study)


def run(args: argparse.Namespace) -> int:
    from infomorphic.experiments.ablation import plan_ablation, run_ablation
    from infomorphic.reports.ablation import write_ablation
    from infomorphic.reports.plotting import require_matplotlib

    config = config_from_args(args)
    plan = plan_ablation(
        config, args.kinds, args.seeds, args.order, args.layer, args.out, _study_ranking
    )
    seeds, out, source = plan.seeds, plan.out, plan.order.source
    if args.dry_run:
        variants, removal, runs = plan.preview()
        for v in variants:
            print(f"{v.kind:<10} {v.atom:<14} {v.change:<6} {v.step or ''}")
        note = " (measured order: shown by weight, decided after the zero runs)"
        if removal:
            print(f"removal order ({source}): {', '.join(removal)}")
        print(
            f"{len(variants)} variants, {runs} runs of {len(seeds)} seeds into {out}/runs"
            f"{note if plan.order.order == 'measured' else ''}"
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

    require_matplotlib()  # before any training: the figures are part of the result
    with executor_for(args.cluster) as executor:
        outcome = run_ablation(
            config,
            plan.goal,
            plan.kinds,
            seeds,
            out,
            order=plan.order.order,
            ranking=plan.order.ranking,
            order_source=source,
            workers=args.workers,
            threads=threads,
            on_progress=progress,
            executor=executor,
            layer=args.layer,
        )
    files = write_ablation(outcome, critical=args.critical)
    print(
        f"{outcome.trained} runs trained, {outcome.reused} reused, {outcome.failed} failed",
        file=sys.stderr,
    )
    print_distinct_errors(errors)
    for path in files:
        print(path)
    return 1 if outcome.failed else 0
