"""Command-line interface: ``infomorphic <command> ...`` (also ``python -m infomorphic``).

Each sub-command is one module of this package, a thin shell over the library: its
``add_parser(subparsers)`` declares the arguments and sets ``func=run``, and its
``run(args) -> int`` does the work. To add a command, write such a module and add one line to
``COMMANDS`` (the order ``--help`` lists them in). Shared argument types and error output live in
``common``. ``main`` turns ``ValueError`` and ``OSError`` (e.g. a missing file) into
``infomorphic: error: <message>`` on stderr and exit status 2.

Building the parser imports no torch: commands import the heavy library modules in ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infomorphic.cli import explain, pid, search, search_report, train
from infomorphic.cli.common import ERROR_EXIT, PROG, print_error, version

__all__ = ["COMMANDS", "ERROR_EXIT", "PROG", "build_parser", "main"]

#: The sub-command modules, in the order ``--help`` lists them.
COMMANDS = [
    train,
    search,
    search_report,
    pid,
    explain,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Infomorphic networks and the shared-exclusion PID (I_sx).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ERROR_EXIT)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, ImportError) as exc:  # ImportError: a missing extra
        return print_error(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
