"""Goal files and goal text: the one grammar every command reads a goal in. Torch-free.

A goal file holds one goal, or one goal per hidden layer (docs/goals.md, "Goal files"):

- plain numbers separated by spaces or commas: a vector, the atoms in lattice order, then H_res;
- a JSON list of numbers: the same vector;
- a JSON object of atom label -> weight (``{"{F}{C}": 1}``; atoms not named weigh 0);
- a JSON object ``{"weights": <list or object>, "sources": [...], "name": "..."}`` (sources and
  name optional: the names its labels use, and the name a report shows);
- a JSON string: a goal's name (``"optimized"``) or an inline vector;
- one goal per layer: a JSON object whose keys are all layer names, each value one of the goals
  above (``{"hidden1": "optimized", "hidden2": {"{F}{C}": 1}}``); layers not named keep the
  model's goal.

``read_goal_file`` parses a file into ``GoalText`` entries without knowing the layer they are
for; ``infomorphic.nn.goals.Goal`` turns an entry into weights for a layer's sources, and
``layer_goals`` spreads a per-layer file over a network's layers for a configuration.
``write_goal_file`` writes the form that reads back (label -> weight objects).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from infomorphic.errors import ConfigError

__all__ = [
    "GoalFile",
    "GoalText",
    "is_goal_file",
    "is_layer_name",
    "is_per_layer",
    "layer_goals",
    "parse_numbers",
    "read_goal_file",
    "write_goal_file",
]

_LAYER_NAME = re.compile(r"^hidden[1-9][0-9]*$")


def is_layer_name(name: object) -> bool:
    """``hidden1``, ``hidden2``, ...: the names of hidden layers, bottom-up."""
    return isinstance(name, str) and bool(_LAYER_NAME.match(name))


def is_per_layer(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A per-layer value: a mapping whose keys are all layer names (``{"hidden2": 10}``). A goal
    given as ``{atom label: weight}`` is not one: atom labels are not layer names."""
    return isinstance(value, Mapping) and bool(value) and all(is_layer_name(k) for k in value)


def parse_numbers(text: str) -> list[float] | None:
    """An inline vector, ``"0.1,0.2,..."`` or ``"[0.1 0.2 ...]"``, as numbers; None for text
    that is not only numbers (a name, a file)."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip().strip("[]()")) if p]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    return numbers or None


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is {value!r}, not a number")
    if not math.isfinite(value):
        raise ValueError(f"{what} is {value!r}, not a finite number")
    return float(value)


@dataclass(frozen=True)
class GoalText:
    """One goal as written, before it meets a layer's sources: ``weights`` (a vector in
    lattice order with H_res last, or {atom label: weight}) or ``named`` (a goal's name);
    ``name``, the name a report shows; ``sources``, the source names the file declares (its
    labels use them), if any."""

    weights: tuple[float, ...] | Mapping[str, float] | None = None
    named: str | None = None
    name: str = "custom"
    sources: tuple[str, ...] | None = None

    def spec(self) -> str | list[float] | dict[str, float]:
        """As a configuration takes it: the goal's name, its vector, or {label: weight}
        (labels in the declared source names become a vector: a layer names its own)."""
        if self.named is not None:
            return self.named
        if isinstance(self.weights, Mapping):
            if self.sources is not None:
                from infomorphic.nn.goals import Goal  # the lattice orders the labels

                return list(Goal.from_dict(self.weights, self.sources).weights)
            return dict(self.weights)
        return list(self.weights or ())


@dataclass(frozen=True)
class GoalFile:
    """A parsed goal file: ``goals`` maps None to the one goal of every layer, or each layer
    it names to that layer's goal."""

    path: Path
    goals: Mapping[str | None, GoalText]

    @property
    def per_layer(self) -> bool:
        return None not in self.goals

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(k for k in self.goals if k is not None)


def goal_text(value: object, name: str, where: str) -> GoalText:
    """One goal from a JSON value (or a file's plain numbers); ``where`` names it in errors."""
    if isinstance(value, str):
        numbers = parse_numbers(value)
        if numbers is not None:
            return GoalText(weights=tuple(numbers), name=name)
        if not value.strip():
            raise ValueError(f"{where}: an empty goal name")
        return GoalText(named=value.strip(), name=value.strip())
    if isinstance(value, list):
        weights = tuple(_number(v, f"{where}: goal weight {k + 1}") for k, v in enumerate(value))
        if not weights:
            raise ValueError(f"{where}: an empty list of weights")
        return GoalText(weights=weights, name=name)
    if isinstance(value, Mapping):
        if "weights" in value or "sources" in value:
            unknown = [k for k in value if k not in ("weights", "sources", "name")]
            if unknown:
                raise ValueError(
                    f"{where}: unknown keys {', '.join(map(repr, unknown))} beside 'weights' "
                    "(allowed: weights, sources, name)"
                )
            sources = value.get("sources")
            if sources is not None and (
                not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)
            ):
                raise ValueError(f"{where}: 'sources' must be a list of names, got {sources!r}")
            inner = goal_text(value.get("weights"), str(value.get("name", name)), where)
            if inner.named is not None:
                raise ValueError(f"{where}: 'weights' must be a list or a label -> weight object")
            return GoalText(
                inner.weights,
                name=str(value.get("name", name)),
                sources=None if sources is None else tuple(sources),
            )
        if not value:
            raise ValueError(f"{where}: an empty object names no weight")
        terms = {str(k): _number(v, f"{where}: goal weight of {k}") for k, v in value.items()}
        return GoalText(weights=terms, name=name)
    raise ValueError(
        f"{where}: expected a list of weights, a label -> weight object, a goal's name or one "
        f"goal per layer, got {type(value).__name__}"
    )


def read_goal_file(path: str | Path) -> GoalFile:
    """Parse a goal file (JSON or plain numbers): one goal, or one per layer."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"goal file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(
            f"goal file {path}: not a text file (a JSON list or label->weight object, one goal "
            "per layer, or numbers separated by spaces or commas)"
        ) from None
    where = f"goal file {path}"
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        data = parse_numbers(text)
        if data is None:
            raise ValueError(
                f"{where}: neither JSON (a list, a label -> weight object, one goal per layer) "
                "nor numbers separated by spaces or commas"
            ) from None
    if isinstance(data, Mapping) and data and all(is_layer_name(k) for k in data):
        goals = {
            layer: goal_text(value, f"{path.stem}.{layer}", f"{where}, layer {layer}")
            for layer, value in data.items()
        }
        return GoalFile(path, goals)
    if isinstance(data, Mapping) and any(is_layer_name(k) for k in data):
        layers = [k for k in data if is_layer_name(k)]
        others = [k for k in data if not is_layer_name(k)]
        raise ValueError(
            f"{where}: mixes layer names ({', '.join(layers)}) with other keys "
            f"({', '.join(map(str, others))}); a file holds one goal, or one goal per layer"
        )
    return GoalFile(path, {None: goal_text(data, path.stem, where)})


def is_goal_file(value: object) -> TypeGuard[str]:
    """Whether a configuration's goal names a file (rather than a goal or a vector)."""
    return isinstance(value, str) and parse_numbers(value) is None and Path(value).is_file()


def layer_goals(goal: object, layers: Sequence[str]) -> object:
    """A configuration's goal with per-layer goal files spread over ``layers``: a file of one
    goal per layer becomes ``{layer: goal}`` (None for layers it does not name: the model's
    goal); anything else is returned as it is. A ``ConfigError`` names the goal at fault."""
    if not is_goal_file(goal):
        if is_per_layer(goal):
            for layer, value in goal.items():
                if is_goal_file(value) and _read(value, f"{layer}.goal").per_layer:
                    raise ConfigError(
                        f"{layer}.goal",
                        f"{value} holds one goal per layer; give it as the goal of the whole "
                        "network (--goal FILE)",
                    )
        return goal
    parsed = _read(goal, "goal")
    if not parsed.per_layer:
        return goal
    unknown = [name for name in parsed.layers if name not in layers]
    if unknown:
        raise ConfigError(
            "goal",
            f"goal file {goal} names {', '.join(unknown)}, but the network's hidden layers are "
            f"{', '.join(layers) or 'none'}",
        )
    return {name: parsed.goals[name].spec() if name in parsed.goals else None for name in layers}


def _read(path: str, field: str) -> GoalFile:
    try:
        return read_goal_file(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(field, str(exc)) from None


def write_goal_file(
    path: str | Path, goals: Mapping[str | None, Mapping[str, float]], name: str | None = None
) -> Path:
    """Write goals as label -> weight objects: ``{None: weights}`` as one goal, ``{layer:
    weights, ...}`` as one goal per layer; reads back with ``read_goal_file``."""
    from infomorphic.files import atomic_write_text

    plain = {k: {str(label): float(w) for label, w in v.items()} for k, v in goals.items()}
    if None in plain:
        data: Any = plain[None] if name is None else {"weights": plain[None], "name": name}
    else:
        data = plain
    path = Path(path)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
    return path
