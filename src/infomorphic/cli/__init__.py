"""Command-line interface: ``infomorphic <command> ...`` (also ``python -m infomorphic``).

Each sub-command is one module of this package, a thin shell over the library: its
``add_parser(subparsers)`` declares the arguments and sets ``func=run``, and its
``run(args) -> int`` does the work. To add a command, write such a module and add one line to
``COMMANDS`` (the order ``--help`` lists them in). Shared argument types and error output live in
``common``. ``main`` turns ``ValueError`` and ``OSError`` (e.g. a missing file) into
``infomorphic: error: <message>`` on stderr and exit status 2, and gives every command
``--config FILE`` and ``--print-config`` (see ``main``).

Building the parser imports no torch: commands import the heavy library modules in ``run``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from infomorphic.cli import (
    ablate,
    data,
    explain,
    inspect_run,
    pid,
    predict,
    reproduce,
    search,
    search_report,
    train,
)
from infomorphic.cli.common import (
    ERROR_EXIT,
    INTERRUPTED_EXIT,
    PROG,
    add_config_options,
    apply_config_file,
    dump_config,
    print_error,
    typed_options,
    version,
)
from infomorphic.errors import InfomorphicError
from infomorphic.locks import StaleLockWarning
from infomorphic.threads import prefer_passive_waiting, start_clock

__all__ = ["COMMANDS", "ERROR_EXIT", "PROG", "build_parser", "main"]

#: The sub-command modules, in the order ``--help`` lists them.
COMMANDS = [
    train,
    predict,
    search,
    search_report,
    pid,
    explain,
    ablate,
    inspect_run,
    reproduce,
    data,
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
    for sub in {id(p): p for p in subparsers.choices.values()}.values():
        add_config_options(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[command]


def _command_and_config(
    parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[str | None, str | None]:
    """The sub-command ``argv`` names and its ``--config`` file, before the real parse."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for position, word in enumerate(argv):
        if word in action.choices:
            pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
            pre.add_argument("--config")
            known, _ = pre.parse_known_args(argv[position + 1 :])
            return word, known.config
        if not word.startswith("-"):
            break
    return None, None


_PLAIN_WARNINGS = (StaleLockWarning,)


def _plain_warnings(show):
    """``warnings.showwarning`` that prints the package's own warnings as one line on stderr
    and hands the others to ``show``."""

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, _PLAIN_WARNINGS):
            print(f"{PROG}: warning: {message}", file=sys.stderr, flush=True)
        else:
            show(message, category, filename, lineno, file, line)

    return show_warning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status.

    Run as a program (``argv`` None), it first asks OpenMP to wait passively
    (``infomorphic.threads.prefer_passive_waiting``) unless the environment sets a policy.
    Every command takes ``--config FILE`` (TOML; its keys are the long options, and the command
    line takes precedence) and ``--print-config`` (print the resolved options and exit). The
    command sees ``args.given_options``: the options the command line or the file gave.
    """
    start_clock()  # the default thread count measures other processes' load from here
    if argv is None:  # run as a program: the process is the command's own
        prefer_passive_waiting()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        command, config = _command_and_config(parser, argv)
        from_file = (
            apply_config_file(_subparser(parser, command), config) if command and config else set()
        )
    except (ValueError, OSError, ImportError) as exc:
        return print_error(exc)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ERROR_EXIT)
    if getattr(args, "config", None) != config:
        return print_error("--config: write the option out in full (--config FILE)")
    if getattr(args, "print_config", False):
        print(dump_config(_subparser(parser, args.command), args), end="")
        return 0
    args.given_options = typed_options(build_parser(), argv) | from_file
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _plain_warnings(warnings.showwarning)
            return int(args.func(args) or 0)
    except KeyboardInterrupt:  # a command that saves its work catches this itself
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED_EXIT
    except (InfomorphicError, ValueError, OSError, ImportError) as exc:  # ImportError: an extra
        return print_error(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
