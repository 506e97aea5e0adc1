"""``infomorphic explain GOAL``: a goal in words, one row per PID atom, and its dominant weights.

GOAL is a goal name, a goal file or an inline vector; ``infomorphic.reports.explain`` and
``explain_layers.explain_spec`` do the work (docs/goals.md explains how to read the table).
The goal names live in ``infomorphic.nn.goals``, which loads torch, so the help text only
points to them: an unknown name's error lists them all.
"""

from __future__ import annotations

import argparse
import textwrap

from infomorphic.cli.common import comma_list

DESCRIPTION = (
    "Show a goal as a table: one row per PID atom in lattice order (H_res last) with its weight, "
    "what the atom means (generated from its antichain) and what the weight asks of the neuron, "
    "then the few weights that make up most of the total absolute weight."
)
EPILOG = """\
GOAL is one of
  a name    optimized, heuristic, cifar, output, context-heuristic, ... (infomorphic.nn.goals;
            an unknown name lists them all)
  a file    JSON list of weights, JSON object label -> weight (e.g. {"{F}{C}": 1}),
            {"weights": [...], "sources": [...], "name": ...}, plain numbers, or one goal
            per layer: {"hidden1": GOAL, "hidden2": GOAL} (docs/goals.md)
  a vector  "0.1,0.2,..." of 5, 19 or 167 numbers: 2, 3 or 4 sources, the atoms in lattice
            order, then H_res

Default source names: F,C (2 sources), F,C,L (3), F,C,L,M (4; M is a fourth input class, e.g.
a modulatory one). A label -> weight object without "sources" is read for the fewest sources
whose default names fit its labels."""


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a fraction like 0.5, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"want a fraction in (0, 1], got {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="a goal in words: its weight on each PID atom, what the atom means, what dominates",
        description=textwrap.fill(DESCRIPTION, 78),
        epilog=EPILOG.replace("%", "%%"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("goal", metavar="GOAL", help="goal name, goal file or inline vector")
    parser.add_argument(
        "--sources",
        type=comma_list,
        metavar="NAMES",
        help="source names, e.g. F,C,L (their count must fit the goal; default: see below)",
    )
    parser.add_argument(
        "--share",
        type=_share,
        default=0.5,
        metavar="FRACTION",
        help="dominant weights: the fewest making up this share of the total (default 0.5)",
    )
    parser.add_argument(
        "--layer",
        metavar="NAME",
        help="of a goal file with one goal per layer, explain this layer's alone (default: "
        "each layer's, then all side by side)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the table as JSON")
    output.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other commands (and --help, --version) do not pay for torch.
    from infomorphic.reports.explain_layers import explain_spec

    form = "json" if args.json else "markdown" if args.markdown else "text"
    print(explain_spec(args.goal, args.sources, args.share, args.layer, form))
    return 0
