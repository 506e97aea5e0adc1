"""What the sub-commands share: the program name, error output, the version, argument types.

Argument types only turn text into values (and refuse text that is no value at all); whether a
value is allowed is checked by the library (e.g. ``TrainConfig.validate``), not here.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version

PROG = "infomorphic"
ERROR_EXIT = 2


def version() -> str:
    """The installed package's version (``unknown`` when run from an uninstalled tree)."""
    try:
        return _package_version("infomorphic")
    except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        return "unknown"


def print_error(message: object) -> int:
    """Print ``infomorphic: error: <message>`` on stderr and return the error exit status."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return ERROR_EXIT


def hidden_sizes(text: str) -> list[int]:
    """``"800,200"`` -> ``[800, 200]`` (the sizes themselves are checked by the library)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"want sizes like 100 or 800,200, got {text!r}") from None


def comma_list(text: str) -> tuple[str, ...]:
    """``"val,test"`` -> ``("val", "test")`` (blank items dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def seconds(text: str) -> float:
    """A number of seconds >= 0 (``nan`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a number of seconds, got {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"want a number of seconds >= 0, got {text!r}")
    return value
