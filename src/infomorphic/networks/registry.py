"""From a network's description to the network: ``build_network(spec)``, and ``build_model`` for
a registered model name with the usual options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from infomorphic.networks.backprop import BackpropNetwork, MLPNetwork
from infomorphic.networks.base import Classifier
from infomorphic.networks.infomorphic import InfomorphicNetwork
from infomorphic.networks.presets import model_spec
from infomorphic.networks.spec import NetworkSpec
from infomorphic.nn.goals import Goal
from infomorphic.nn.protocol import N_BINS, PASSES

__all__ = ["BUILDERS", "GoalSpec", "build_model", "build_network", "network_spec"]

GoalSpec = str | Sequence[float] | dict[str, float] | Goal

#: One builder per ``NetworkSpec.kind``: a function of the spec and the mask generator.
BUILDERS: dict[str, Callable[[NetworkSpec, torch.Generator | None], Classifier]] = {
    "infomorphic": InfomorphicNetwork,
    "backprop": BackpropNetwork,
    "mlp": lambda spec, generator: MLPNetwork.from_spec(spec),
}


def build_network(spec: NetworkSpec, generator: torch.Generator | None = None) -> Classifier:
    """The untrained network ``spec`` describes (validated here).

    ``generator`` draws what the network draws itself (sparse lateral masks); the linear maps
    are initialised from torch's global generator, as ``torch.nn.Linear`` does.
    """
    spec = spec.validate()
    return BUILDERS[spec.kind](spec, generator)


def network_spec(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: GoalSpec | dict[str, Any] | None = None,
    activation: str | dict[str, str] | None = None,
    passes: int = PASSES,
    bins: int | dict[str, int] = N_BINS,
    output_bins: int = N_BINS,
    eval_context: str = "zero",
) -> NetworkSpec:
    """The validated spec of the registered ``model`` with these options. ``goal``,
    ``activation`` and ``bins`` are one value for every hidden layer or ``{layer: value}``;
    None keeps the model's own (a fixed random hidden layer takes no goal or activation);
    ``eval_context`` is what a label context is in evaluation (``spec.EVAL_CONTEXTS``)."""
    if isinstance(goal, Goal):
        goal = list(goal.weights)
    options = {
        "layers.goal": goal,
        "layers.activation": activation,
        "layers.bins": bins,
        "output.bins": output_bins,
        "passes": passes,
        "eval_context": eval_context,
    }
    return model_spec(model, n_inputs, n_classes, hidden, options)


def build_model(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: GoalSpec | dict[str, Any] | None = None,
    activation: str | dict[str, str] | None = None,
    generator: torch.Generator | None = None,
    *,
    passes: int = PASSES,
    bins: int | dict[str, int] = N_BINS,
    output_bins: int = N_BINS,
    eval_context: str = "zero",
) -> Classifier:
    """An untrained network of the registered model ``model`` (see ``network_spec`` for the
    options and ``build_network`` for ``generator``)."""
    spec = network_spec(
        model,
        n_inputs,
        n_classes,
        hidden,
        goal,
        activation,
        passes,
        bins,
        output_bins,
        eval_context,
    )
    return build_network(spec, generator)
