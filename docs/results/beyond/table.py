"""The retraining table: test accuracy per goal and group, median and seed spread, and whether
a goal's difference from the paper's goal is larger than the seed spread.

    python docs/results/beyond/table.py runs/beyond/retrain      # Markdown on stdout
    python docs/results/beyond/table.py --record DOCS/retraining.json runs/beyond/retrain

Reads RUNS/<group>/<goal>/seed<k>/summary.json (run_all.py's layout) and, with ``--record``,
the accuracies kept from earlier runs (runs found under RUNS replace the kept seeds of
their goal). The reference of a group
is its goal ``paper``. "Spread" is the range (max - min) over seeds; a difference of medians
"exceeds the spread" when it is larger than both groups' ranges, and "the ranges do not
overlap" when every seed of one goal beats every seed of the other: the stricter reading for
5 seeds, where a rank test cannot reach the usual levels (the smallest two-sided p of a
Mann-Whitney test of 5 against 5 is 0.008, of 3 against 3 it is 0.1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REFERENCE = "paper"


Groups = dict[str, dict[str, dict[str, float]]]  # {group: {goal: {seed: test accuracy}}}


def collect(root: Path) -> Groups:
    """The test accuracy of every finished run under ``root``."""
    found: Groups = {}
    for summary in sorted(Path(root).glob("*/*/seed*/summary.json")):
        seed_dir = summary.parent
        goal_dir = seed_dir.parent
        accuracy = json.loads(summary.read_text()).get("test_accuracy")
        if accuracy is not None:
            goals = found.setdefault(goal_dir.parent.name, {})
            goals.setdefault(goal_dir.name, {})[seed_dir.name] = float(accuracy)
    return found


def load(record: Path) -> Groups:
    """The accuracies kept in ``record`` (none if it does not exist yet)."""
    return json.loads(record.read_text()) if record.is_file() else {}


def save(record: Path, groups: Groups) -> None:
    tmp = record.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(groups, indent=1, sort_keys=True) + "\n")
    tmp.replace(record)


def merge(kept: Groups, new: Groups) -> Groups:
    """``kept`` with the goals of ``new``: a goal with runs in ``new`` takes its seeds from
    there (a newer run of the same seed replaces the kept one), in sorted order."""
    out: Groups = {
        g: {goal: dict(seeds) for goal, seeds in goals.items()} for g, goals in kept.items()
    }
    for group, goals in new.items():
        for goal, seeds in goals.items():
            out.setdefault(group, {}).setdefault(goal, {}).update(seeds)
    return {g: dict(sorted(out[g].items())) for g in sorted(out)}


def compare(values: list[float], reference: list[float]) -> dict[str, object]:
    """A goal's seeds against the reference's: the difference of medians and how it stands to
    the seed spread."""
    diff = statistics.median(values) - statistics.median(reference)
    spread = max(max(values) - min(values), max(reference) - min(reference))
    apart = min(values) > max(reference) or max(values) < min(reference)
    return {"diff": diff, "spread": spread, "exceeds": abs(diff) > spread, "apart": apart}


def markdown(runs: Groups) -> str:
    lines = [
        "| group | goal | seeds | median test accuracy | min - max | median - paper's | "
        "larger than the seed spread | ranges apart |",
        "|---|---|---:|---:|---|---:|---|---|",
    ]
    for group, by_goal in runs.items():
        goals = {goal: list(seeds.values()) for goal, seeds in by_goal.items()}
        reference = goals.get(REFERENCE)
        for goal, values in goals.items():
            cells = [
                group,
                goal,
                str(len(values)),
                f"{100 * statistics.median(values):.2f}%",
                f"{100 * min(values):.2f} - {100 * max(values):.2f}%",
            ]
            if reference and goal != REFERENCE:
                c = compare(values, reference)
                cells += [
                    f"{100 * c['diff']:+.2f} pp",
                    "yes" if c["exceeds"] else "no",
                    "yes" if c["apart"] else "no",
                ]
            else:
                cells += ["", "", ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the retraining runs (runs/beyond/retrain)")
    parser.add_argument(
        "--record", type=Path, default=None, help="accuracies kept from earlier runs (JSON)"
    )
    args = parser.parse_args(argv)
    groups = collect(args.root)
    if args.record is not None:
        groups = merge(load(args.record), groups)
    if not groups:
        print(f"no finished run under {args.root}", file=sys.stderr)
        return 2
    print(markdown(groups), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
