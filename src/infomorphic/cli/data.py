"""``infomorphic data list|fetch|path``: the data sets, where each is looked for, and downloading.

A thin shell over ``infomorphic.data`` (``inventory``, ``fetch_dataset``, ``dataset_path``);
none of it needs torch.
"""

from __future__ import annotations

import argparse
import json
import textwrap

from infomorphic.data.catalog import CATALOG

DESCRIPTION = (
    "The data sets training can use: digits and mnist-sample ship inside installed packages and "
    "work offline; mnist, fashion-mnist and cifar10 are looked for in the folders of "
    "$INFOMORPHIC_DATA_PATH, then the cache directory ($INFOMORPHIC_DATA, default "
    "~/.cache/infomorphic), then /usr/share/datasets, and `data fetch` downloads them into the "
    "cache (checked against their published MD5 checksums; an interrupted download resumes)."
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list the data sets, fetch one into the cache, print where one is",
        description=textwrap.fill(DESCRIPTION, 78),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    names = ", ".join(CATALOG)

    listing = actions.add_parser(
        "list", help="each data set: built in, cached, present elsewhere or missing, and where"
    )
    listing.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    listing.set_defaults(func=run_list)

    fetch = actions.add_parser(
        "fetch",
        help="download a data set into the cache (progress bar, checksums, resume)",
        description="Download a data set's files into the cache directory, check each against "
        "its published MD5 checksum, and continue an interrupted download where it stopped.",
    )
    fetch.add_argument("name", metavar="NAME", help=f"data set: {names}")
    fetch.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="URL",
        help="a base address holding the data set's files, tried instead of the built-in "
        "mirrors (repeatable; e.g. a copy on your institute's server)",
    )
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(func=run_fetch)

    path = actions.add_parser(
        "path", help="print the folder (or file) a data set is read from; exit 2 if missing"
    )
    path.add_argument("name", metavar="NAME", help=f"data set: {names}")
    path.set_defaults(func=run_path)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def run_list(args: argparse.Namespace) -> int:
    from infomorphic.data import locate
    from infomorphic.data.inventory import inventory

    statuses = inventory()
    if args.json:
        print(json.dumps([status.to_dict() for status in statuses], indent=2))
        return 0
    rows = [["NAME", "STATE", "WHERE"]]
    for status in statuses:
        entry = status.entry
        if status.state == "built in":
            where = f"package {entry.package}"
            if entry.name == "mnist-sample":
                where += f"; parsed arrays {status.cached or 'cached on first use'}"
        elif status.state == "missing" and entry.kind == "bundled":
            where = f"pip install {entry.package}"
        elif status.state == "missing":
            where = f"infomorphic data fetch {entry.name}"
        else:
            where = str(status.path)
        rows.append([entry.name, status.state, where])
    print(_table(rows))
    print()
    for status in statuses:
        print(f"{status.entry.name}: {status.entry.summary}")
    print()
    print(
        f"mnist, fashion-mnist and cifar10 are looked for (without --data-dir) in the folders "
        f"of ${locate.DATA_PATH_ENV}, then the cache (${locate.CACHE_ENV}), then the system's:"
    )
    for folder in locate.data_search_path():
        print(f"  {folder}{'' if folder.is_dir() else '  (does not exist)'}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from infomorphic.data import dataset_path, fetch_dataset, load_dataset
    from infomorphic.data.catalog import dataset_entry
    from infomorphic.data.inventory import dataset_status

    entry = dataset_entry(args.name)
    if entry.kind == "bundled":
        load_dataset(entry.name)  # parses and caches mnist-sample's arrays
        where = dataset_path(entry.name)
        print(
            f"{entry.name} ships inside the package {entry.package}; nothing to download ({where})"
        )
        return 0
    status = dataset_status(entry.name)
    if status.state == "present":
        print(f"{entry.title} is already present in {status.path}; nothing downloaded")
        return 0
    fetch_dataset(entry.name, mirrors=args.mirror or None, progress=not args.no_progress)
    print(dataset_path(entry.name))
    return 0


def run_path(args: argparse.Namespace) -> int:
    from infomorphic.data import dataset_path

    print(dataset_path(args.name))
    return 0
