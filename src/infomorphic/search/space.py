"""The goal space a search explores: one weight in [-1, 1] per atom (and H_res) of the hidden
layer's goal, each named by its atom so a study reads in the paper's terms (section 5.3)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infomorphic.networks.presets import model_preset
from infomorphic.nn.goals import RESIDUAL, Goal
from infomorphic.pid.lattice import lattice

__all__ = ["GoalSpace", "parse_fixed"]

LOW, HIGH = -1.0, 1.0


def parse_fixed(items: Sequence[str]) -> dict[str, float]:
    """``["H_res=0", "{F}{C}=0.5"]`` -> ``{"H_res": 0.0, "{F}{C}": 0.5}``; each weight once,
    within the searched range [-1, 1]."""
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


@dataclass(frozen=True)
class GoalSpace:
    """The searched weights of a model's hidden goal; ``fixed`` weights are not searched."""

    source_names: tuple[str, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [name for name in self.fixed if name not in self.labels]
        if unknown:
            raise ValueError(
                f"cannot fix {', '.join(unknown)}: the goal's weights are {', '.join(self.labels)}"
            )

    @classmethod
    def for_model(cls, model: str, fixed: Mapping[str, float] | None = None) -> GoalSpace:
        """The space of ``model``'s hidden goal (19 weights for trivariate neurons, 5 for
        bivariate ones)."""
        preset = model_preset(model)
        if preset.kind != "infomorphic" or preset.hidden_goal is None:
            raise ValueError(f"model {model!r} has no hidden goal to search")
        return cls(tuple(preset.sources), dict(fixed or {}))

    @property
    def labels(self) -> tuple[str, ...]:
        """Every weight's name, in the goal vector's order (atoms, then H_res)."""
        n = len(self.source_names)
        return (*lattice(n).labels_for(self.source_names), RESIDUAL)

    @property
    def searched(self) -> tuple[str, ...]:
        return tuple(name for name in self.labels if name not in self.fixed)

    def suggest(self, trial: Any) -> list[float]:
        """Ask an optuna trial for every searched weight; the goal vector."""
        params = {name: trial.suggest_float(name, LOW, HIGH) for name in self.searched}
        return self.weights(params)

    def weights(self, params: Mapping[str, float]) -> list[float]:
        """The goal vector from a trial's parameters (searched) and the fixed weights."""
        missing = [name for name in self.searched if name not in params]
        if missing:
            raise ValueError(f"the trial lacks the weights {', '.join(missing)}")
        return [float(self.fixed[n]) if n in self.fixed else float(params[n]) for n in self.labels]

    def params(self, goal: str | Sequence[float] | Mapping[str, float] | Goal) -> dict[str, float]:
        """A known goal as trial parameters (to enqueue it); fixed weights must agree."""
        resolved = Goal.resolve(goal, self.source_names)
        values = dict(zip(self.labels, resolved.weights, strict=True))
        for name, value in self.fixed.items():
            if not math.isclose(values[name], value, abs_tol=1e-12):
                raise ValueError(
                    f"goal {resolved.name!r} has {name} = {values[name]}, but the search fixes "
                    f"it at {value}"
                )
        outside = [n for n in self.searched if not LOW <= values[n] <= HIGH]
        if outside:
            raise ValueError(f"goal {resolved.name!r} has weights outside [-1, 1]: {outside}")
        return {name: values[name] for name in self.searched}
