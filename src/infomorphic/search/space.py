"""The goal space a search explores: one weight in [-1, 1] per atom (and H_res) of a hidden
goal, each named by its atom so a study reads in the paper's terms (section 5.3).

A space searches one goal that every hidden layer shares (weights named ``{F}{C}``, ...), or
one goal per searched layer (``layers``: weights named ``hidden2.{F}{C}``, ...); layers a
per-layer space does not search keep the goal the run's configuration gives them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infomorphic.networks.presets import model_preset
from infomorphic.nn.goal_files import is_goal_file, is_per_layer, layer_goals, read_goal_file
from infomorphic.nn.goals import RESIDUAL, Goal
from infomorphic.pid.lattice import lattice

if TYPE_CHECKING:
    from infomorphic.training.config import TrainConfig

__all__ = ["ALL_LAYERS", "GoalSpace", "parse_fixed", "parse_goal_layers"]

LOW, HIGH = -1.0, 1.0
#: ``--goal-layers all``: every hidden layer with a goal gets its own.
ALL_LAYERS = "all"


def parse_fixed(items: Sequence[str]) -> dict[str, float]:
    """``["H_res=0", "hidden2.{F}{C}=0.5"]`` -> ``{"H_res": 0.0, "hidden2.{F}{C}": 0.5}``;
    each weight once, within the searched range [-1, 1]."""
    fixed: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--fixed wants NAME=VALUE, e.g. H_res=0; got {item!r}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--fixed {item!r}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"--fixed {item!r}: the value must be finite")
        if not LOW <= number <= HIGH:
            raise ValueError(
                f"--fixed {item!r}: goal weights live in [{LOW:g}, {HIGH:g}], as the searched "
                "ones do"
            )
        key = name.strip().replace(" ", "")
        if key in fixed:
            raise ValueError(
                f"--fixed {key} is given twice ({fixed[key]:g} and {number:g}); fix each "
                "weight once"
            )
        fixed[key] = number
    return fixed


def parse_goal_layers(text: str | Sequence[str] | None) -> tuple[str, ...] | str | None:
    """``--goal-layers``: None (one goal shared by every layer), ``"all"``, or layer names
    (``"hidden1,hidden2"``)."""
    if text is None:
        return None
    items = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    items = [p for p in items if p]
    if items == [ALL_LAYERS]:
        return ALL_LAYERS
    if not items or len(set(items)) < len(items):
        raise ValueError(f"--goal-layers: want 'all' or distinct layer names, got {text!r}")
    return tuple(items)


def _layer_and_atom(name: str) -> tuple[str | None, str]:
    layer, dot, atom = name.partition(".")
    return (layer, atom) if dot and layer.startswith("hidden") else (None, name)


@dataclass(frozen=True)
class GoalSpace:
    """The searched weights of a hidden goal; ``fixed`` weights are not searched.

    ``layers`` empty: one goal shared by every hidden layer, weights named by atom. Otherwise
    one goal per layer named there, weights named ``<layer>.<atom>``; a fixed weight named by
    its atom alone (``H_res``) is fixed in every searched layer, ``hidden1.H_res`` in hidden1
    alone (it wins over the former).
    """

    source_names: tuple[str, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    layers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "source_names", tuple(self.source_names))
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "fixed", self._expanded(dict(self.fixed)))

    def _expanded(self, given: dict[str, float]) -> dict[str, float]:
        atoms = self.atoms
        shared = {n: v for n, v in given.items() if _layer_and_atom(n)[0] is None}
        own = {n: v for n, v in given.items() if n not in shared}
        unknown = [n for n in shared if n not in atoms]
        if not self.layers and own:
            raise ValueError(
                f"cannot fix {', '.join(own)}: the search shares one goal across the hidden "
                "layers (name weights by atom, or search per layer with --goal-layers)"
            )
        unknown += [n for n in own if n not in self.labels]
        if unknown:
            raise ValueError(
                f"cannot fix {', '.join(unknown)}: the goal's weights are {self._shown_labels()}"
            )
        if not self.layers:
            return shared
        expanded = {f"{layer}.{atom}": v for layer in self.layers for atom, v in shared.items()}
        expanded.update(own)
        return {name: expanded[name] for name in self.labels if name in expanded}

    def _shown_labels(self) -> str:
        atoms = ", ".join(self.atoms)
        if not self.layers:
            return atoms
        return f"{atoms}, each as <layer>.<atom> in {', '.join(self.layers)}"

    # -- making one ----------------------------------------------------------------------------
    @classmethod
    def for_model(cls, model: str, fixed: Mapping[str, float] | None = None) -> GoalSpace:
        """The space of ``model``'s hidden goal, shared by its layers (19 weights for
        trivariate neurons, 5 for bivariate ones)."""
        preset = model_preset(model)
        if preset.kind != "infomorphic" or preset.hidden_goal is None:
            raise ValueError(f"model {model!r} has no hidden goal to search")
        return cls(tuple(preset.sources), dict(fixed or {}))

    @classmethod
    def for_config(
        cls,
        config: TrainConfig,
        layers: str | Sequence[str] | None = None,
        fixed: Mapping[str, float] | None = None,
    ) -> GoalSpace:
        """The space of the hidden goals of ``config``'s network: shared by every layer
        (``layers`` None), one per layer for ``"all"`` or the layers named. ``config.goal``
        may give the goals of the layers not searched, never of searched ones."""
        spec = config.network(1, 2)
        trained = [layer for layer in spec.layers if layer.goal is not None]
        if spec.kind != "infomorphic" or not trained:
            raise ValueError(f"model {config.model!r} has no hidden goal to search")
        names = [layer.name for layer in trained]
        chosen = parse_goal_layers(layers)
        if chosen == ALL_LAYERS:
            chosen = tuple(names)
        if chosen is not None:
            unknown = [name for name in chosen if name not in names]
            if unknown:
                raise ValueError(
                    f"--goal-layers: {', '.join(unknown)} is no hidden layer with a goal; the "
                    f"network's are {', '.join(names)}"
                )
            chosen = tuple(name for name in names if name in chosen)  # bottom-up
        searched = [layer for layer in trained if chosen is None or layer.name in chosen]
        sources = {layer.sources for layer in searched}
        if len(sources) > 1:
            raise ValueError(
                "the searched layers have different sources ("
                + ", ".join(f"{lay.name}: {lay.sources}" for lay in searched)
                + "); search them one at a time (--goal-layers)"
            )
        space = cls(tuple(sources.pop()), dict(fixed or {}), chosen or ())
        space.check_goal(config)
        return space

    def check_goal(self, config: TrainConfig) -> None:
        """Refuse a configured goal for a searched layer: the trials set those."""
        if config.goal is None:
            return
        given = layer_goals(config.goal, config.layer_names)
        searched = self.layers or config.layer_names
        if is_per_layer(given):
            named = [layer for layer in searched if given.get(layer) is not None]
        else:
            named = list(searched) if set(searched) >= set(config.layer_names) else []
        if named:
            raise ValueError(
                f"--goal: the search sets the goal of {', '.join(named)}; --goal gives only the "
                "goals of layers not searched (search fewer layers with --goal-layers)"
            )

    # -- names --------------------------------------------------------------------------------
    @property
    def atoms(self) -> tuple[str, ...]:
        """The weights of one goal, in the goal vector's order (atoms, then H_res)."""
        n = len(self.source_names)
        return (*lattice(n).labels_for(self.source_names), RESIDUAL)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every weight's name: by atom, or ``<layer>.<atom>`` per layer, layer by layer."""
        if not self.layers:
            return self.atoms
        return tuple(f"{layer}.{atom}" for layer in self.layers for atom in self.atoms)

    @property
    def searched(self) -> tuple[str, ...]:
        return tuple(name for name in self.labels if name not in self.fixed)

    def to_record(self) -> dict[str, Any]:
        """What a study stores of its space (read back by ``from_record``)."""
        return {
            "sources": list(self.source_names),
            "fixed": dict(self.fixed),
            "layers": list(self.layers),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> GoalSpace:
        return cls(
            tuple(record["sources"]),
            dict(record.get("fixed") or {}),
            tuple(record.get("layers") or ()),
        )

    # -- trials ---------------------------------------------------------------------------------
    def suggest(self, trial: Any) -> list[float] | dict[str, list[float]]:
        """Ask an optuna trial for every searched weight; the goal (``weights``)."""
        params = {name: trial.suggest_float(name, LOW, HIGH) for name in self.searched}
        return self.weights(params)

    def goals(self, params: Mapping[str, float]) -> dict[str | None, list[float]]:
        """Each searched goal's vector from a trial's parameters and the fixed weights:
        ``{None: vector}`` for a shared goal, else ``{layer: vector}``."""
        missing = [name for name in self.searched if name not in params]
        if missing:
            raise ValueError(f"the trial lacks the weights {', '.join(missing)}")
        values = [
            float(self.fixed[n]) if n in self.fixed else float(params[n]) for n in self.labels
        ]
        if not self.layers:
            return {None: values}
        width = len(self.atoms)
        return {layer: values[k * width : (k + 1) * width] for k, layer in enumerate(self.layers)}

    def weights(self, params: Mapping[str, float]) -> list[float] | dict[str, list[float]]:
        """The goal of a trial: one vector, or ``{layer: vector}`` for a per-layer space."""
        goals = self.goals(params)
        return goals[None] if not self.layers else {k: v for k, v in goals.items() if k}

    def trial_goal(self, base: TrainConfig, params: Mapping[str, float]) -> Any:
        """``base``'s goal with a trial's: every layer's for a shared space; for a per-layer
        space the searched layers', the others keeping ``base``'s."""
        goals = self.weights(params)
        if not isinstance(goals, dict):  # a shared space: one goal for every layer
            return goals
        given = layer_goals(base.goal, base.layer_names)
        kept = dict(given) if is_per_layer(given) else dict.fromkeys(base.layer_names, given)
        return {**kept, **goals}

    def params(self, goal: Any) -> dict[str, float]:
        """A known goal as trial parameters (to enqueue it): a name, file, vector or dict (the
        same goal in every searched layer), or one goal per layer (a mapping or a goal file of
        one goal per layer, naming each searched layer). Fixed weights must agree."""
        per_layer = _per_layer_goals(goal)
        if per_layer is not None and not self.layers:
            resolved = {k: Goal.resolve(v, self.source_names) for k, v in per_layer.items()}
            first = next(iter(resolved.values()))
            if any(g.weights != first.weights for g in resolved.values()):
                raise ValueError(
                    f"goal {goal!r} differs between layers, but the search shares one goal "
                    "across them (search per layer with --goal-layers)"
                )
            per_layer = None
            goal = first
        if per_layer is None:
            resolved_one = Goal.resolve(goal, self.source_names)
            per_goal: dict[str | None, Goal] = {layer: resolved_one for layer in self.layers}
            if not per_goal:  # a shared space: its atoms unprefixed
                per_goal = {None: resolved_one}
        else:
            missing = [layer for layer in self.layers if per_layer.get(layer) is None]
            if missing:
                raise ValueError(
                    f"goal {goal!r} gives no goal for {', '.join(missing)}, which the search "
                    "searches"
                )
            per_goal = {
                layer: Goal.resolve(per_layer[layer], self.source_names) for layer in self.layers
            }
        values: dict[str, float] = {}
        for layer, layer_goal in per_goal.items():
            prefix = "" if layer is None else f"{layer}."
            values.update(
                {f"{prefix}{a}": w for a, w in zip(self.atoms, layer_goal.weights, strict=True)}
            )
        shown = getattr(goal, "name", goal)
        for label, value in self.fixed.items():
            if not math.isclose(values[label], value, abs_tol=1e-12):
                raise ValueError(
                    f"goal {shown!r} has {label} = {values[label]}, but the search fixes it at "
                    f"{value}"
                )
        outside = [n for n in self.searched if not LOW <= values[n] <= HIGH]
        if outside:
            raise ValueError(f"goal {shown!r} has weights outside [-1, 1]: {outside}")
        return {label: values[label] for label in self.searched}


def _per_layer_goals(goal: Any) -> dict[str, Any] | None:
    """One goal per layer from a mapping of layer names or a goal file of one goal per layer;
    None for a single goal."""
    if is_per_layer(goal):
        return dict(goal)
    if is_goal_file(goal):
        parsed = read_goal_file(goal)
        if parsed.per_layer:
            return {layer: text.spec() for layer, text in parsed.goals.items() if layer}
    return None
