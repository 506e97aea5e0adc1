"""``infomorphic explain GOAL``: a goal in words, one row per PID atom, and its dominant weights.

GOAL is a goal name, a goal file or an inline vector; ``infomorphic.reports.explain`` does the
work (docs/goals.md explains how to read the table). The goal names live in
``infomorphic.nn.goals``, which loads torch, so the help text only points to them: an unknown
name's error lists them all.
"""

from __future__ import annotations

import argparse
import json
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
    from infomorphic.reports.explain import explain_goal, goals_from_spec
    from infomorphic.reports.explain_layers import side_by_side_markdown, side_by_side_text

    goals = goals_from_spec(args.goal, args.sources)
    if args.layer is not None:
        if args.layer not in goals:
            layers = ", ".join(k for k in goals if k) or "none (it holds one goal)"
            raise ValueError(
                f"--layer: {args.goal} has no goal for {args.layer}; its layers: {layers}"
            )
        goals = {None: goals[args.layer]}
    explanations = {k: explain_goal(g, share=args.share) for k, g in goals.items()}
    if None in explanations:  # one goal
        explanation = explanations[None]
        if args.json:
            print(explanation.to_json())
        elif args.markdown:
            print(explanation.to_markdown())
        else:
            print(explanation.to_text())
        return 0
    # one goal per layer: each layer's, then all side by side (when their atoms are the same)
    alike = len({tuple(r.label for r in e.rows) for e in explanations.values()}) == 1
    named = {str(k): e for k, e in explanations.items()}  # every key a layer's name here
    if args.json:
        print(json.dumps({"layers": {k: e.to_dict() for k, e in explanations.items()}}, indent=2))
    elif args.markdown:
        parts = [f"## {k}\n\n{e.to_markdown()}" for k, e in explanations.items()]
        if alike:
            parts.append("## Side by side\n\n" + "\n".join(side_by_side_markdown(explanations)))
        print("\n\n".join(parts))
    else:
        parts = [f"== {k} ==\n{e.to_text()}" for k, e in explanations.items()]
        if alike:
            parts.append(f"== side by side ==\n{side_by_side_text(named)}")
        print("\n\n".join(parts))
    return 0
