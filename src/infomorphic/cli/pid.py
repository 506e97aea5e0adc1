"""``infomorphic pid FILE``: the I_sx PID of a distribution given as a CSV table."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pid",
        help="shared-exclusion PID (I_sx) of a distribution given as a CSV table",
        description=(
            "Decompose the information that 2 to 4 source columns of a CSV table carry about a "
            "target column into I_sx PID atoms (bits). The table needs a header row and a "
            "probability column named 'p' (summing to 1) or a count column named 'count' "
            "(normalised); values are categorical, and repeated rows accumulate."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="CSV table of the joint distribution")
    parser.add_argument(
        "--target",
        metavar="NAME",
        help="target column (default: the last column that is not the weight column)",
    )
    parser.add_argument(
        "--weight-column",
        metavar="NAME",
        help="column of probabilities or counts (default: the column named 'p' or 'count')",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--pointwise",
        action="store_true",
        help="also give the local (pointwise) atoms of every realisation",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that other commands (and --help, --version) do not pay for torch.
    # The table's rows, never its dense array: isx_pid_rows builds that only where it is small.
    from infomorphic.pid.isx import isx_pid_rows
    from infomorphic.pid.result import pointwise_records, pointwise_table
    from infomorphic.pid.table import rows_from_table

    values, probabilities, sources, target, alphabets = rows_from_table(
        args.file, target=args.target, weight_column=args.weight_column
    )
    result = isx_pid_rows(
        values, probabilities, sources, pointwise=args.pointwise, target_name=target
    )
    records = pointwise_records(result, sources, target, alphabets) if args.pointwise else None

    if args.json:
        out = result.to_dict()
        out["sources"] = list(sources)
        out["target"] = target
        out["alphabets"] = alphabets
        if records is not None:
            out["pointwise"] = records
        print(json.dumps(out, indent=2))
        return 0

    print(f"{args.file}: target {target}, sources {', '.join(sources)}")
    print(result)
    if records is not None:
        print()
        print(pointwise_table(records, [*sources, target], result.labels))
    return 0
