"""``infomorphic search-report STUDY``: a goal search as report.md, report.json and figures.

A thin shell over ``infomorphic.search.report``. STUDY is either

- a search folder (``runs/<study>``, holding ``study.db`` and the ``search.json`` that
  ``infomorphic search`` writes): the storage URL and study name come from its search.json,
  and the report goes to ``<folder>/report-<study>``; or
- a study name with ``--storage URL`` (e.g. a PostgreSQL study): the report goes to
  ``./report-<study>``. A bare name whose folder ``runs/<study>`` exists needs no --storage.

To watch a study live while it runs: ``optuna-dashboard sqlite:///runs/<study>/study.db`` (or
the PostgreSQL URL; ``pip install optuna-dashboard``).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from infomorphic.cli.common import positive_int

DESCRIPTION = (
    "Report on a goal search: its settings and trials, the best goals as a table of weights named "
    "by atom with their validation accuracy (and the recorded test accuracy, never used for "
    "selection), the best goal in words, which weights matter (optuna's mean decrease in "
    "impurity, cross-checked by scikit-learn's held-out permutation importance) and figures "
    "(history.png, importance.png, best_goal.png). Writes report.md and report.json."
)
EPILOG = """\
STUDY is one of
  a folder  a search folder (runs/<study>) with the search.json of infomorphic search: the
            storage and study name come from it (--storage overrides the storage)
  a name    a study name with --storage URL, e.g. postgresql+psycopg://user@host/db
            (a name whose folder runs/<study> exists needs no --storage)

Watch a study live: optuna-dashboard sqlite:///runs/<study>/study.db (or the PostgreSQL URL).
Figures need matplotlib: pip install 'infomorphic[figures]'."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search-report",
        help="report on a goal search: best goals, their meaning, importance, figures",
        description=textwrap.fill(DESCRIPTION, 78),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("study", metavar="STUDY", help="search folder, or study name (with --storage)")
    add("--storage", metavar="URL", help="optuna storage URL (default: from STUDY's search.json)")
    add("--out", metavar="DIR", help="report folder (default <search folder or .>/report-<study>)")
    add("--top", type=positive_int, default=5, metavar="K", help="best goals listed (default 5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infomorphic.search.figures import require_matplotlib
    from infomorphic.search.report import load_study, locate, write_report

    require_matplotlib()  # say what to install before opening anything
    target = locate(args.study, args.storage)
    study = load_study(target)
    out = Path(args.out) if args.out else (target.folder or Path(".")) / f"report-{target.study}"
    path = write_report(study, out, top=args.top, storage=target.storage)
    for note in _notes(path):
        print(f"note: {note}", file=sys.stderr)
    print(path)
    return 0


def _notes(path: Path) -> list[str]:
    """The notes the report wrote into report.json (e.g. importance skipped, and why)."""
    import json

    return json.loads((path.parent / "report.json").read_text()).get("notes", [])
