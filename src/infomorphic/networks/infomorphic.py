"""The paper's networks: infomorphic hidden layers under a bivariate output layer, and baselines.

One class covers setups 1-3, the bivariate hidden layers, the fixed random hidden layer and the
deeper stacks of SPEC.md; ``build_model`` turns a model name into the right configuration.
Training is local: ``layer_goals`` returns each layer's own goals, which depend only on that
layer's parameters (inputs are detached), so each layer is stepped by its own optimizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from infomorphic.nn.functional import sample_spikes
from infomorphic.nn.goals import Goal
from infomorphic.nn.layers import InfomorphicLayer, LayerState

MODELS = (
    "setup1",
    "setup2",
    "setup3",
    "context-only",
    "lateral-only",
    "random-hidden",
    "backprop",
    "deep-feedback",
)
SPARSE_LATERAL = 100


@dataclass
class NetworkConfig:
    """Everything that defines an infomorphic network's structure."""

    n_inputs: int
    n_classes: int
    hidden: list[int] = field(default_factory=lambda: [100])
    sources: str = "FCL"  # hidden layers: "FCL", "FC" (context only), "FL" (lateral only)
    context: str = "label"  # "label", "feedback" or "label+feedback"
    lateral: int | None = None  # None: all-to-all; int: at most this many random inputs
    activation: str = "modulated"  # "modulated", "linear", "bivariate", "step" (fixed random)
    hidden_goal: str | list[float] | dict = "optimized"
    output_goal: str | list[float] | dict = "output"

    @property
    def fixed_hidden(self) -> bool:
        """Step-activation hidden layers keep their random weights and have no goal."""
        return self.activation == "step"

    def to_dict(self) -> dict:
        return asdict(self)


def model_config(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: str | list[float] | dict | None = None,
    activation: str | None = None,
) -> NetworkConfig:
    """The configuration of one of ``MODELS`` (SPEC.md sections 2 and 6)."""
    hidden = list(hidden)
    base = {"n_inputs": n_inputs, "n_classes": n_classes, "hidden": hidden}
    if model == "setup1":
        cfg = NetworkConfig(**base)
    elif model == "setup2":
        cfg = NetworkConfig(**base, lateral=SPARSE_LATERAL)
    elif model == "setup3":
        cfg = NetworkConfig(**base, lateral=SPARSE_LATERAL, context="feedback")
    elif model == "deep-feedback":
        cfg = NetworkConfig(**base, lateral=SPARSE_LATERAL, context="label+feedback")
    elif model == "context-only":
        cfg = NetworkConfig(**base, sources="FC", activation="bivariate",
                            hidden_goal="context-heuristic")  # fmt: skip
    elif model == "lateral-only":
        cfg = NetworkConfig(**base, sources="FL", activation="bivariate",
                            hidden_goal="lateral-heuristic")  # fmt: skip
    elif model == "random-hidden":
        cfg = NetworkConfig(**base, sources="FC", activation="step")
    else:
        raise ValueError(f"unknown infomorphic model {model!r}; choose from {', '.join(MODELS)}")
    if goal is not None and not cfg.fixed_hidden:
        cfg.hidden_goal = list(goal.weights) if isinstance(goal, Goal) else goal
    if activation is not None and not cfg.fixed_hidden:
        if activation not in ("modulated", "linear", "bivariate"):
            raise ValueError(f"unknown activation {activation!r}")
        cfg.activation = activation
    return cfg


@dataclass
class NetworkStates:
    """The states of one training forward pass (the pass the goals are computed on)."""

    hidden: list[LayerState]
    output: LayerState


class InfomorphicNetwork(nn.Module):
    """Stacked infomorphic hidden layers and a bivariate output layer (one neuron per class)."""

    def __init__(self, config: NetworkConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        if not config.hidden:
            raise ValueError("an infomorphic network needs at least one hidden layer")
        if any(int(n) < 1 for n in config.hidden):
            raise ValueError(f"hidden layer sizes must be positive, got {config.hidden}")
        if config.context not in ("label", "feedback", "label+feedback"):
            raise ValueError(f"context must be label, feedback or label+feedback: {config.context}")
        context_features = config.n_classes * (2 if config.context == "label+feedback" else 1)
        fixed = config.fixed_hidden
        layers = []
        width = config.n_inputs
        for size in config.hidden:
            layers.append(
                InfomorphicLayer(
                    width,
                    size,
                    sources=config.sources,
                    context_features=context_features,
                    lateral=config.lateral,
                    activation=config.activation,
                    binning="fixed" if config.sources == "FCL" else "adaptive",
                    goal=None if fixed else config.hidden_goal,
                    generator=generator,
                )
            )
            width = size
        self.hidden = nn.ModuleList(layers)
        self.output = InfomorphicLayer(
            width,
            config.n_classes,
            sources="FC",
            context="one-to-one",
            activation="output",
            binning="adaptive",
            stochastic=False,
            goal=config.output_goal,
        )
        if fixed:
            for p in self.hidden.parameters():
                p.requires_grad_(False)
        self.register_buffer("polarity", torch.ones(config.n_classes))

    @property
    def uses_feedback(self) -> bool:
        return "feedback" in self.config.context

    @property
    def recurrent(self) -> bool:
        return self.hidden[0].has_lateral or self.uses_feedback

    def trainable_layers(self) -> list[InfomorphicLayer]:
        layers = [layer for layer in self.hidden if layer.goal is not None]
        return [*layers, self.output]

    def _context(self, labels: torch.Tensor | None, feedback: torch.Tensor | None, batch: int):
        parts = []
        if "label" in self.config.context:
            parts.append(labels)
        if self.uses_feedback:
            parts.append(feedback)
        if all(p is None for p in parts):
            return None
        zeros = torch.zeros(batch, self.config.n_classes, device=self.polarity.device)
        return torch.cat([p if p is not None else zeros for p in parts], dim=1)

    def run(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None,
        generator: torch.Generator | None = None,
    ) -> NetworkStates:
        """Two passes as in the reference: pass 1 with an all-zero lateral (and feedback) state,
        pass 2 with the pass-1 outputs as lateral input (and the pass-1 output layer, sampled,
        as feedback). ``labels_onehot=None`` is evaluation: no label context."""
        batch = x.shape[0]
        first: list[LayerState] = []
        feedback = None
        if self.recurrent:
            below = x
            context = self._context(labels_onehot, None, batch)
            for layer in self.hidden:
                state = layer(below, context, None, generator)
                first.append(state)
                below = state.output
            if self.uses_feedback:
                feedback = sample_spikes(self.output(below, None).theta.detach(), generator)
        context = self._context(labels_onehot, feedback, batch)
        states: list[LayerState] = []
        below = x
        for k, layer in enumerate(self.hidden):
            lateral = first[k].output if (first and layer.has_lateral) else None
            reuse = None
            if first and k == 0:  # same image, same weights: F (and a label context) repeat
                keep = ("F",) if self.uses_feedback else ("F", "C")
                reuse = {name: v for name, v in first[0].sources.items() if name in keep}
            state = layer(below, context, lateral, generator, reuse)
            states.append(state)
            below = state.output
        output = self.output(below, labels_onehot)
        return NetworkStates(states, output)

    def layer_goals(
        self, states: NetworkStates, fixed_shapes: bool = False
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(goals (N,), decomposition (N, n_atoms+1)) of each trainable layer, bottom-up."""
        pairs = [(layer, s) for layer, s in zip(self.hidden, states.hidden, strict=True)]
        pairs.append((self.output, states.output))
        return [layer.local_goals(s, fixed_shapes) for layer, s in pairs if layer.goal is not None]

    def goal_loss(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor,
        generator: torch.Generator | None = None,
        fixed_shapes: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One training batch's loss (minus the sum of every neuron's goal) and each trainable
        layer's decomposition (N, n_atoms + 1), detached.

        Each neuron's goal depends only on its own parameters, so one backward pass of this sum
        gives every neuron its local gradient. With ``generator=None`` and ``fixed_shapes=True``
        the whole function is one graph for ``torch.compile(fullgraph=True)``.
        """
        states = self.run(x, labels_onehot, generator)
        results = self.layer_goals(states, fixed_shapes)
        loss = -torch.stack([goals.sum() for goals, _ in results]).sum()
        return loss, [decomposition.detach() for _, decomposition in results]

    @torch.no_grad()
    def output_probabilities(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Evaluation: theta of the output layer with the context set to zero."""
        return self.run(x, None, generator).output.theta

    @torch.no_grad()
    def predict(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.scores(self.output_probabilities(x, generator)).argmax(dim=1)

    def scores(self, theta: torch.Tensor) -> torch.Tensor:
        """Apply each output neuron's polarity: a neuron may code its class by not firing."""
        return torch.where(self.polarity > 0, theta, 1.0 - theta)

    @torch.no_grad()
    def fit_polarity(self, theta: torch.Tensor, labels: torch.Tensor) -> None:
        """Fix each output neuron's polarity from data: it fires more for its class, or less."""
        onehot = nn.functional.one_hot(labels, self.config.n_classes).to(theta.dtype)
        mean_in = (theta * onehot).sum(0) / onehot.sum(0).clamp_min(1)
        mean_out = (theta * (1 - onehot)).sum(0) / (1 - onehot).sum(0).clamp_min(1)
        self.polarity.copy_(torch.where(mean_in >= mean_out, 1.0, -1.0))


class BackpropNetwork(nn.Module):
    """The baseline: the same layer sizes trained end-to-end with cross-entropy."""

    def __init__(self, n_inputs: int, hidden: Sequence[int], n_classes: int) -> None:
        super().__init__()
        widths = [n_inputs, *hidden]
        blocks: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            blocks += [nn.Linear(a, b), nn.Sigmoid()]
        blocks.append(nn.Linear(widths[-1], n_classes))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.body(x).argmax(dim=1)


def build_model(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    goal: str | list[float] | dict | Goal | None = None,
    activation: str | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """An untrained network for one of ``MODELS``."""
    if model == "backprop":
        return BackpropNetwork(n_inputs, hidden, n_classes)
    return InfomorphicNetwork(
        model_config(model, n_inputs, n_classes, hidden, goal, activation), generator
    )


__all__ = [
    "MODELS",
    "BackpropNetwork",
    "InfomorphicNetwork",
    "NetworkConfig",
    "NetworkStates",
    "build_model",
    "model_config",
]
