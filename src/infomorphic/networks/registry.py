"""From a model name to a network: each preset's configuration and the builder of its kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from infomorphic.networks.backprop import BackpropNetwork, MLPNetwork
from infomorphic.networks.base import Classifier
from infomorphic.networks.infomorphic import InfomorphicNetwork, NetworkConfig
from infomorphic.networks.presets import ModelPreset, model_preset
from infomorphic.nn.activations import activation as activation_entry
from infomorphic.nn.goals import Goal

__all__ = ["BUILDERS", "BuildRequest", "GoalSpec", "build_model", "model_config"]

GoalSpec = str | Sequence[float] | dict[str, float] | Goal


def model_config(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: GoalSpec | None = None,
    activation: str | None = None,
    passes: int = 2,
    bins: int = 20,
    output_bins: int = 20,
    eval_context: str = "zero",
) -> NetworkConfig:
    """The configuration of an infomorphic preset; ``goal`` and ``activation`` replace the
    preset's own for trained hidden layers (a fixed random hidden layer ignores both);
    ``passes``, ``bins`` and ``output_bins`` set the lateral passes and the goals' bins,
    ``eval_context`` what a label context is in evaluation."""
    preset = model_preset(model)
    if preset.kind != "infomorphic":
        raise ValueError(f"{model!r} is not an infomorphic model")
    if not hidden:
        raise ValueError(f"{model!r} needs at least one hidden layer")
    cfg = NetworkConfig(
        n_inputs=n_inputs,
        n_classes=n_classes,
        hidden=list(hidden),
        sources=preset.sources,
        context=preset.context,
        lateral=preset.lateral,
        activation=preset.activation,
        hidden_goal=preset.hidden_goal,
        passes=passes,
        hidden_bins=bins,
        output_bins=output_bins,
        eval_context=eval_context,
    )
    if cfg.fixed_hidden:
        return cfg
    if goal is not None:
        cfg.hidden_goal = list(goal.weights) if isinstance(goal, Goal) else goal
    if activation is not None:
        entry = activation_entry(activation, preset.sources)
        if entry.role != "hidden":
            raise ValueError(f"{activation!r} is not an activation for trained hidden layers")
        cfg.activation = activation
    return cfg


@dataclass(frozen=True)
class BuildRequest:
    """Everything a builder may use: the preset and what ``build_model`` was given."""

    preset: ModelPreset
    n_inputs: int
    n_classes: int
    hidden: list[int]
    goal: GoalSpec | None
    activation: str | None
    generator: torch.Generator | None
    passes: int
    bins: int
    output_bins: int
    eval_context: str = "zero"


def _build_infomorphic(request: BuildRequest) -> Classifier:
    config = model_config(
        request.preset.name, request.n_inputs, request.n_classes, request.hidden, request.goal,
        request.activation, passes=request.passes, bins=request.bins,
        output_bins=request.output_bins, eval_context=request.eval_context,
    )  # fmt: skip
    return InfomorphicNetwork(config, request.generator)


def _build_readout(request: BuildRequest) -> Classifier:
    """The output layer alone on the inputs: hidden sizes, goal and activation do not apply."""
    config = NetworkConfig(
        request.n_inputs, request.n_classes, hidden=[], hidden_goal=None,
        output_bins=request.output_bins, eval_context=request.eval_context,
    )  # fmt: skip
    return InfomorphicNetwork(config, request.generator)


def _build_backprop(request: BuildRequest) -> Classifier:
    return BackpropNetwork(
        request.n_inputs, request.hidden, request.n_classes, request.preset.lateral,
        request.generator, request.eval_context,
    )  # fmt: skip


def _build_mlp(request: BuildRequest) -> Classifier:
    return MLPNetwork(request.n_inputs, request.hidden, request.n_classes)


#: One builder per ``ModelPreset.kind``: a function of a ``BuildRequest``.
BUILDERS: dict[str, Callable[[BuildRequest], Classifier]] = {
    "infomorphic": _build_infomorphic,
    "readout": _build_readout,
    "backprop": _build_backprop,
    "mlp": _build_mlp,
}


def build_model(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: GoalSpec | None = None,
    activation: str | None = None,
    generator: torch.Generator | None = None,
    *,
    passes: int = 2,
    bins: int = 20,
    output_bins: int = 20,
    eval_context: str = "zero",
) -> Classifier:
    """An untrained network of the registered model ``model``.

    ``generator`` draws what the network draws itself (sparse lateral masks); the linear maps
    are initialised from torch's global generator, as ``torch.nn.Linear`` does. ``passes``,
    ``bins`` and ``output_bins`` apply to infomorphic networks (the paper: 2, 20, 20);
    ``eval_context`` ("zero" or "bias") to networks with a label context.
    """
    preset = model_preset(model)
    request = BuildRequest(
        preset, n_inputs, n_classes, list(hidden), goal, activation, generator, passes, bins,
        output_bins, eval_context,
    )  # fmt: skip
    return BUILDERS[preset.kind](request)
