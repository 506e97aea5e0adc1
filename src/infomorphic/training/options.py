"""The option table: how one option of a training run is declared, once.

Each field of ``TrainConfig`` carries an ``Option`` (``option(...)`` declares both): its flag,
default, choices, help, how its text is read and shown, how its value is checked, whether it is
per layer, which field of the network's description it sets, its tag in run names and the
commands that take it. The configuration's validation, the command line's options (argparse,
generated in ``infomorphic.cli.training_options``), configuration files and run names all read
this table. Torch-free.

A per-layer option takes one value for every hidden layer or ``{layer: value}``
(``{"hidden2": 10}``); layers not named keep the option's default.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infomorphic.errors import ConfigError
from infomorphic.networks.spec import is_per_layer

__all__ = [
    "TRAINING_COMMANDS",
    "Option",
    "at_least",
    "comma_items",
    "hidden_sizes",
    "integer",
    "number_pair",
    "one_of",
    "option",
]

#: The commands that train runs and so take the run's options.
TRAINING_COMMANDS = ("train", "search", "ablate")


def _no_check(value: Any) -> None:
    """Every value is allowed."""


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Option:
    """One option of a run. ``field``: its ``TrainConfig`` field (set by ``TrainConfig``);
    ``flag``: its command-line flag ('' for none); ``parse``: text -> value (a ValueError with a
    message for bad text); ``show``: value -> text; ``check``: raises ValueError(message) for a
    value that is not allowed; ``choices``: the values allowed (compared by ``choice_key``:
    a data set's aliases); ``normalize``: a stored value (JSON lists) -> the Python value;
    ``per_layer``: one value per hidden layer is allowed; ``spec``: the field of the network's
    description it sets (``layers.bins``, ``output.bins``, ``passes``); ``tag``: a run name
    gets ``-<tag><value>`` when the value is not the default (for a flag, ``-<tag>``), or a
    function of the value gives its part;
    ``commands``: the commands that take it."""

    default: Any
    help: str
    field: str = ""
    flag: str | None = None
    parse: Callable[[str], Any] = str
    show: Callable[[Any], str] = str
    check: Callable[[Any], None] = _no_check
    normalize: Callable[[Any], Any] = _same
    choices: tuple[Any, ...] | None = None
    choice_key: Callable[[Any], Any] = _same
    metavar: str | None = None
    per_layer: bool = False
    spec: str | None = None
    tag: str | Callable[[Any], str] | None = None
    commands: tuple[str, ...] = TRAINING_COMMANDS

    @property
    def cli_flag(self) -> str:
        """The flag (``--output-bins`` for ``output_bins`` unless declared otherwise)."""
        return self.flag if self.flag is not None else "--" + self.field.replace("_", "-")

    def validated(self, value: Any, layers: Sequence[str]) -> Any:
        """``value`` checked and in its canonical form: a per-layer value names only ``layers``
        and becomes one value when every layer has the same; a ``ConfigError`` names the field
        (``hidden2.bins`` for one layer's)."""
        if not (self.per_layer and is_per_layer(value)):
            return self._one(value, self.field)
        unknown = [name for name in value if name not in layers]
        if unknown:
            raise ConfigError(
                f"{unknown[0]}.{self.field}",
                f"the network has no layer {unknown[0]}; its hidden layers are "
                f"{', '.join(layers) or 'none'}",
            )
        values = {
            name: self._one(value.get(name, self.default), f"{name}.{self.field}")
            for name in layers
        }
        first = values[layers[0]]
        return first if all(v == first for v in values.values()) else values

    def _one(self, value: Any, where: str) -> Any:
        try:
            value = self.normalize(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(where, str(exc)) from None
        if (
            self.choices is not None
            and value is not None
            and self.choice_key(value) not in self.choices
        ):
            shown = ", ".join(map(str, self.choices))
            what = self.field.replace("_", " ")
            raise ConfigError(where, f"unknown {what} {value!r}; choose from {shown}")
        try:
            self.check(value)
        except ValueError as exc:
            raise ConfigError(where, str(exc)) from None
        return value

    def shown(self, value: Any) -> str:
        """A value as the command line would take it (per layer: ``hidden1=10 hidden2=20``)."""
        if self.per_layer and is_per_layer(value):
            return " ".join(f"{k}={self.show(v)}" for k, v in value.items())
        return self.show(value)

    def name_tag(self, value: Any) -> str:
        """This option's part of a run name: '' for the default value."""
        if callable(self.tag):
            return self.tag(value)
        if self.tag is None or value == self.default:
            return ""
        if value is True:
            return f"-{self.tag}"
        if self.per_layer and is_per_layer(value):
            return f"-{self.tag}" + ".".join(self._tag_text(v) for v in value.values())
        return f"-{self.tag}{self._tag_text(value)}"

    def _tag_text(self, value: Any) -> str:
        if value is None:  # one layer's default among per-layer values
            return "default"
        if isinstance(value, (list, tuple)):
            return "_".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        return str(value)


def option(default: Any, help: str, *, factory: bool = False, **declared: Any) -> Any:
    """A ``TrainConfig`` field declared with its ``Option`` (``factory``: the default is
    copied for each configuration, as a list must be)."""
    entry = Option(default, help, **declared)
    if factory:
        return dataclasses.field(default_factory=lambda: list(default), metadata={"option": entry})
    return dataclasses.field(default=default, metadata={"option": entry})


# -- reading text and checking values ----------------------------------------------------------
def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"want a whole number, got {text!r}") from None


def at_least(least: int, most: int | None = None) -> Callable[[Any], None]:
    """A check: an integer >= ``least`` (and <= ``most`` when given)."""
    wanted = f">= {least}" if most is None else f"in {least}..{most}"

    def check(value: Any) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < least
            or (most is not None and value > most)
        ):
            raise ValueError(f"must be an integer {wanted}, got {value!r}")

    return check


def one_of(choices: Sequence[Any], key: Callable[[Any], Any] = _same) -> Callable[[Any], None]:
    """A check: ``key(value)`` among ``choices``."""

    def check(value: Any) -> None:
        if key(value) not in choices:
            raise ValueError(f"unknown value {value!r}; choose from {', '.join(choices)}")

    return check


def hidden_sizes(text: str) -> list[int]:
    """``"800,200"`` -> ``[800, 200]``; an empty item (``10,,5``, ``10,``) is a typo, not a
    layer fewer."""
    parts = text.split(",")
    if any(not part.strip() for part in parts):
        raise ValueError(
            f"want sizes like 100 or 800,200, got {text!r} (an empty size between commas)"
        )
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise ValueError(f"want sizes like 100 or 800,200, got {text!r}") from None


def comma_items(text: str) -> tuple[str, ...]:
    """``"val,test"`` -> ``("val", "test")`` (blank items dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def number_pair(value: Any) -> tuple[float, float] | None:
    """``"-20,20"``, ``[-20, 20]`` or ``(-20.0, 20.0)`` -> ``(-20.0, 20.0)``; None stays."""
    if value is None:
        return None
    items = comma_items(value) if isinstance(value, str) else value
    try:
        low, high = (float(item) for item in items)
    except (TypeError, ValueError):
        raise ValueError(f"want two numbers LOW,HIGH, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"want finite numbers LOW < HIGH, got {low:g},{high:g}")
    return low, high


def show_items(value: Any) -> str:
    """A list as comma-separated text (``100,50``)."""
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def plain(value: Any) -> Any:
    """JSON-ready: tuples become lists, inside per-layer values too."""
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value
