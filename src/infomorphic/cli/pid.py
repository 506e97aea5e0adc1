"""``infomorphic pid FILE``: the I_sx PID of a distribution given as a CSV table."""

from __future__ import annotations

import argparse
import json
from typing import Any


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


def pointwise_records(result, sources, target, alphabets) -> list[dict[str, Any]]:
    """One JSON-ready record per realisation: its values (by name), p and its local atoms."""
    pw = result.pointwise
    names = [*sources, target]
    records = []
    for r, realisation in enumerate(pw.realisations):
        records.append(
            {
                "values": {
                    name: alphabets[name][k] for name, k in zip(names, realisation, strict=True)
                },
                "p": float(pw.probabilities[r]),
                "atoms": dict(zip(result.labels, pw.atoms[r].tolist(), strict=True)),
                "atoms_plus": dict(zip(result.labels, pw.atoms_plus[r].tolist(), strict=True)),
                "atoms_minus": dict(zip(result.labels, pw.atoms_minus[r].tolist(), strict=True)),
            }
        )
    return records


def pointwise_table(records: list[dict[str, Any]], names: list[str], labels) -> str:
    """The records as a text table: value columns left-aligned, p and the atoms right-aligned
    (to six places, zero without a sign)."""
    from infomorphic.pid.result import format_bits

    header = [*names, "p", *labels]
    rows = [
        [
            *(rec["values"][name] for name in names),
            format_bits(rec["p"]),
            *(format_bits(rec["atoms"][label]) for label in labels),
        ]
        for rec in records
    ]
    widths = [max(len(header[c]), *(len(row[c]) for row in rows)) for c in range(len(header))]
    n_values = len(names)

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if c < n_values else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * len(fmt(header))
    lines = ["Local atoms of each realisation (bits)", rule, fmt(header), rule]
    lines += [fmt(row) for row in rows]
    lines.append(rule)
    return "\n".join(lines)
