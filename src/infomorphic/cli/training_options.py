"""The options of a training run on the command line, generated from the option table
(``infomorphic.training.config.OPTIONS``) for ``train``, ``search`` and ``ablate``, and the
validated configuration they give, with errors that name the flag at fault.

A per-layer option takes one value for every hidden layer (``--bins 20``) or one layer's
(``--bins hidden2=10``), repeatable: ``--bins 12 --bins hidden2=8``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from infomorphic.cli.common import positive_int
from infomorphic.errors import ConfigError
from infomorphic.networks.spec import is_layer_name
from infomorphic.training.config import OPTIONS, TrainConfig
from infomorphic.training.options import Option

__all__ = ["PerLayerAction", "add_training_options", "config_from_args", "option_flag"]


def _argument_type(entry: Option) -> Callable[[str], Any]:
    """The option's ``parse`` as an argparse type (its message on bad text)."""

    def parse(text: str) -> Any:
        try:
            return entry.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = entry.field
    return parse


def _layer_item(entry: Option) -> Callable[[str], tuple[str | None, Any]]:
    """``"hidden2=10"`` -> ``("hidden2", 10)``, ``"10"`` -> ``(None, 10)``."""
    value_type = _argument_type(entry)

    def parse(text: str) -> tuple[str | None, Any]:
        head, sep, rest = text.partition("=")
        layer: str | None = head.strip()
        if sep and is_layer_name(head.strip()):
            text = rest
        else:
            layer = None
        value = value_type(text)
        if entry.choices is not None and value not in entry.choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {value!r} (choose from {', '.join(map(str, entry.choices))})"
            )
        return layer, value

    parse.__name__ = entry.field
    return parse


class PerLayerAction(argparse.Action):
    """A per-layer option: its value is ``{None: shared value, "hidden2": value, ...}``; each
    occurrence sets the shared value or one layer's."""

    def __init__(self, *args: Any, entry: Option, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry = entry

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        current = getattr(namespace, self.dest, None)
        merged = dict(current) if isinstance(current, dict) else {}
        layer, value = values
        merged[layer] = value
        setattr(namespace, self.dest, merged)

    def from_file(self, value: object, where: str) -> dict[str | None, Any]:
        """A configuration file's value: one value (a list of numbers is one value, as
        ``LOW,HIGH``), a list of ``[LAYER=]VALUE`` items as on the command line, or a table
        ``{hidden2 = 10}``."""
        if isinstance(value, dict):
            items = [f"{layer}={_text(item)}" for layer, item in value.items()]
        elif isinstance(value, list) and any(isinstance(v, str) for v in value):
            items = [_text(v) for v in value]
        else:
            items = [_text(value)]
        merged: dict[str | None, Any] = {}
        for item in items:
            try:
                layer, parsed = _layer_item(self.entry)(item)
            except argparse.ArgumentTypeError as exc:
                raise ValueError(f"{where}: {exc}") from None
            merged[layer] = parsed
        return merged

    def to_toml(self, value: dict[str | None, Any]) -> object:
        """The value as a configuration file writes it (None: not set)."""
        layers = {k: v for k, v in value.items() if k is not None}
        shared = value.get(None, self.entry.default)
        if not layers:
            if shared is None or isinstance(shared, (bool, int, float, str)):
                return shared
            return self.entry.show(shared)
        items = [] if shared is None else [self.entry.show(shared)]
        return items + [f"{k}={self.entry.show(v)}" for k, v in layers.items()]


def _text(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _help(entry: Option) -> str:
    text = entry.help.replace("%(default)s", entry.shown(entry.default))
    if entry.choices is not None:
        text = text.replace("%(choices)s", ", ".join(map(str, entry.choices)))
    if entry.per_layer:
        text += f"; per layer: {entry.cli_flag} hidden2={entry.metavar or 'VALUE'} (repeatable)"
    return text.replace("%", "%%")


def add_training_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Every option of the table that ``command`` takes, in the table's order."""
    for entry in OPTIONS.values():
        if not entry.cli_flag or command not in entry.commands:
            continue
        common: dict[str, Any] = {"dest": entry.field, "help": _help(entry)}
        if isinstance(entry.default, bool):
            parser.add_argument(entry.cli_flag, action="store_true", **common)
        elif entry.per_layer:
            parser.add_argument(
                entry.cli_flag,
                action=PerLayerAction,
                entry=entry,
                type=_layer_item(entry),
                default={None: entry.default},
                metavar=f"[LAYER=]{entry.metavar or 'VALUE'}",
                **common,
            )
        else:
            parser.add_argument(
                entry.cli_flag,
                type=_argument_type(entry),
                default=entry.default,
                choices=entry.choices,
                metavar=entry.metavar,
                **common,
            )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="torch threads of each training process (default: the cores that other "
        "processes leave free as the command starts, shared among its workers)",
    )


def option_flag(field: str) -> str:
    """The flag of a configuration field (``output_bins`` -> ``--output-bins``); a per-layer
    field keeps its layer (``hidden2.bins`` -> ``--bins hidden2=...``)."""
    layer, _, name = field.rpartition(".")
    entry = OPTIONS.get(name)
    flag = entry.cli_flag if entry is not None and entry.cli_flag else f"--{name.replace('_', '-')}"
    return f"{flag} {layer}=..." if layer else flag


def _value(entry: Option, given: Any, hidden: list[int]) -> Any:
    """The configuration's value from the parsed argument (per layer: merged)."""
    if not (entry.per_layer and isinstance(given, dict)):
        return given
    shared = given.get(None, entry.default)
    layers = {k: v for k, v in given.items() if k is not None}
    if not layers:
        return shared
    names = [f"hidden{k + 1}" for k in range(len(hidden))]
    return {**{name: shared for name in names}, **layers}


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The validated configuration; a ValueError names the flag at fault."""
    hidden = list(getattr(args, "hidden", OPTIONS["hidden"].default))
    values = {
        entry.field: _value(entry, getattr(args, entry.field, entry.default), hidden)
        for entry in OPTIONS.values()
        if hasattr(args, entry.field)
    }
    try:
        return TrainConfig(**values).validate()
    except ConfigError as exc:
        raise ValueError(f"{option_flag(exc.field)}: {exc.message}") from None
