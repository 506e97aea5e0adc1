"""What the sub-commands share: the program name, error output, the version, argument types,
and configuration files (``--config FILE``, ``--print-config``).

Argument types only turn text into values (and refuse text that is no value at all); whether a
value is allowed is checked by the library (e.g. ``TrainConfig.validate``), not here. A
configuration file's values go through the same types, so a file and the command line accept
exactly the same values.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version
from pathlib import Path
from typing import Any

PROG = "infomorphic"
ERROR_EXIT = 2
#: Exit status after an interruption: 128 + the signal's number (SIGINT 2, SIGTERM 15).
INTERRUPTED_EXIT = 130
TERMINATED_EXIT = 143


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


def print_distinct_errors(errors: dict[str, int]) -> None:
    """Each distinct error of a grid's failed runs once on stderr, with how many runs it ended
    (a hundred runs failing for one reason say so once, not a hundred times)."""
    for message, count in errors.items():
        runs = "1 run" if count == 1 else f"{count} runs"
        print(f"{PROG}: error ({runs}): {message}", file=sys.stderr)


def network_threads(dataset: str, hidden: list[int], n_classes: int = 10) -> int:
    """The most torch threads a network of these sizes on this data set profits from
    (``infomorphic.threads.useful_threads`` of its feedforward weights)."""
    from infomorphic.data.catalog import CATALOG
    from infomorphic.data.loading import dataset_key
    from infomorphic.networks.spec import weight_count
    from infomorphic.threads import useful_threads

    n_features = CATALOG[dataset_key(dataset)].n_features
    return useful_threads(weight_count(n_features, hidden, n_classes))


def positive_int(text: str) -> int:
    """A whole number >= 1 (counts of seeds, workers, threads, rows)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"want a number >= 1, got {text!r}")
    return value


def seed(text: str) -> int:
    """A seed: a whole number in 0..2**32-1, the range every generator of a run takes."""
    from infomorphic.training.config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"want a seed in 0..{MAX_SEED}, got {text!r}")
    return value


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


# -- configuration files (--config FILE, --print-config) -----------------------------------------
#: Options a configuration file cannot set (they are about the file itself, or print and exit).
_NOT_IN_FILES = frozenset({"help", "version", "config", "print_config"})


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and ``--print-config``, which ``main`` handles for every command."""
    group = parser.add_argument_group("configuration file")
    group.add_argument(
        "--config",
        metavar="FILE",
        help="read options from a TOML file whose keys are the long options, e.g. "
        'epochs = 20, hidden = [100], eval-splits = "val"; options on the command line take '
        "precedence (default: none)",
    )
    group.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved options as a TOML configuration file and exit (default: off)",
    )


def _option_name(action: argparse.Action) -> str:
    longs = [o for o in action.option_strings if o.startswith("--")]
    return (longs[0] if longs else action.option_strings[0]).lstrip("-")


def config_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """The keys a configuration file may use for ``parser`` (each long option without its
    dashes, with ``-`` or ``_``, and its destination) -> the option's action."""
    keys: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if not action.option_strings or action.dest in _NOT_IN_FILES:
            continue
        names = [o.lstrip("-") for o in action.option_strings if o.startswith("--")]
        for name in [*names, action.dest]:
            keys[name] = keys[name.replace("-", "_")] = keys[name.replace("_", "-")] = action
    return keys


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file's table (``tomllib``; ``tomli`` on Python 3.10)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ImportError(
                f"--config {path}: reading TOML needs Python >= 3.11 or the tomli package "
                "(pip install tomli)"
            ) from None
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"--config: {path} is a directory; give a TOML file")
    if not path.is_file():
        raise FileNotFoundError(f"--config: {path} does not exist")
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"--config {path}: not a valid TOML file ({exc})") from None


def _config_item(action: argparse.Action, value: object, where: str) -> object:
    """One value of a configuration file, converted as the command line would convert it."""
    if isinstance(value, bool) or isinstance(value, (dict, list)) or value is None:
        raise ValueError(f"{where}: want a single value, got {value!r}")
    text = value if isinstance(value, str) else str(value)
    try:
        converted = action.type(text) if callable(action.type) else text
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"{where}: {exc}") from None
    except (ValueError, TypeError):  # as argparse words it
        name = getattr(action.type, "__name__", repr(action.type))
        raise ValueError(f"{where}: invalid {name} value: {text!r}") from None
    if action.choices is not None and converted not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ValueError(f"{where}: {converted!r} is not one of {choices}")
    return converted


def config_value(action: argparse.Action, value: object, where: str) -> object:
    """A configuration file's value for ``action``, as the command line would have given it:
    true/false for a flag, a list or one value for a repeatable option, a list (joined with
    commas) or one value for the rest, each converted by the option's type."""
    if hasattr(action, "from_file"):  # a per-layer option reads its own forms
        return action.from_file(value, where)
    if action.nargs == 0:  # a flag: store_true, store_false, store_const
        if not isinstance(value, bool):
            raise ValueError(f"{where}: want true or false, got {value!r}")
        return action.const if value else action.default
    if isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+"):
        items = value if isinstance(value, list) else [value]
        return [_config_item(action, item, where) for item in items]
    if isinstance(value, list):
        if any(isinstance(item, (bool, list, dict)) for item in value):
            raise ValueError(f"{where}: want a list of numbers or names, got {value!r}")
        value = ",".join(str(item) for item in value)
    return _config_item(action, value, where)


def apply_config_file(parser: argparse.ArgumentParser, path: str | Path) -> set[str]:
    """Set ``parser``'s defaults from the TOML file ``path``; the destinations it set.

    Unknown keys are refused with the valid ones listed; an option the file gives is no longer
    required on the command line, and the command line still takes precedence.
    """
    values = read_toml(path)
    actions = config_actions(parser)
    unknown = [key for key in values if key not in actions]
    if unknown:
        valid = sorted({_option_name(action) for action in actions.values()})
        raise ValueError(
            f"--config {path}: unknown option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; the keys of {parser.prog!r} are {', '.join(valid)}"
        )
    defaults: dict[str, object] = {}
    keys: dict[str, str] = {}
    for key, value in values.items():
        action = actions[key]
        if action.dest in keys:
            raise ValueError(f"--config {path}: {keys[action.dest]} and {key} are one option")
        keys[action.dest] = key
        defaults[action.dest] = config_value(action, value, f"--config {path}: {key}")
        action.required = False
    parser.set_defaults(**defaults)
    return set(defaults)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def dump_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The options of ``args`` that a configuration file can set, as TOML for ``--config``
    (unset options as comments)."""
    lines = [f"# {parser.prog}: resolved options (use with --config FILE)"]
    seen = set()
    for action in config_actions(parser).values():
        if action.dest in seen:
            continue
        seen.add(action.dest)
        value = getattr(args, action.dest, None)
        if hasattr(action, "to_toml") and value is not None:  # a per-layer option
            value = action.to_toml(value)
        name = _option_name(action)
        lines.append(f"# {name} = (not set)" if value is None else f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def typed_options(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The destinations of the options ``argv`` gives on the command line (not the defaults).

    ``parser`` is changed (every default suppressed): pass a fresh one.
    """
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        current._defaults.clear()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += list(action.choices.values())
            elif action.option_strings:
                action.default = argparse.SUPPRESS
                action.required = False
    namespace, _ = parser.parse_known_args(list(argv))
    return set(vars(namespace)) - {"command"}
