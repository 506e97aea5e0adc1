"""The paper's infomorphic networks: infomorphic hidden layers under a bivariate output layer.

One class covers setups 1-3, the bivariate hidden layers, the fixed random hidden layer and the
deeper stacks (paper sections 3 and 5, appendix A.10). Training is local: ``layer_goals``
returns each layer's own goals, which depend only on that layer's parameters (inputs are
detached), so each layer is stepped by its own optimiser.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from infomorphic.networks.base import Classifier, apply_polarity, fitted_polarity
from infomorphic.networks.presets import EVAL_CONTEXTS, Context
from infomorphic.nn.activations import activation as activation_entry
from infomorphic.nn.functional import sample_spikes
from infomorphic.nn.layers import InfomorphicLayer, LayerState

__all__ = ["GoalLoss", "InfomorphicNetwork", "LayerGoals", "NetworkConfig", "NetworkStates"]


@dataclass
class NetworkConfig:
    """Everything that defines an infomorphic network's structure."""

    n_inputs: int
    n_classes: int
    hidden: list[int] = field(default_factory=lambda: [100])
    sources: str = "FCL"  # hidden layers: "FCL", "FC" (context only), "FL" (lateral only)
    context: Context = Context.LABEL
    lateral: int | None = None  # None: all-to-all; int: at most this many random inputs
    activation: str = "modulated"  # an entry of infomorphic.nn.activations.ACTIVATIONS
    hidden_goal: str | list[float] | dict[str, float] | None = "optimized"
    output_goal: str | list[float] | dict[str, float] = "output"
    passes: int = 2  # lateral passes of recurrent networks; the goals see the last one
    hidden_bins: int = 20  # bins per source of the hidden layers' goal estimate
    output_bins: int = 20  # ... and of the output layer's
    eval_context: str = "zero"  # a label context in evaluation: "zero" or "bias" (its map's)

    def __post_init__(self) -> None:
        self.context = Context.parse(self.context)
        if self.eval_context not in EVAL_CONTEXTS:
            raise ValueError(
                f"eval_context must be one of {', '.join(EVAL_CONTEXTS)}, got {self.eval_context!r}"
            )
        for name in ("passes", "hidden_bins", "output_bins"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {value!r}")

    @property
    def fixed_hidden(self) -> bool:
        """Hidden layers with the fixed-step activation keep their random weights, no goal."""
        return activation_entry(self.activation).role == "fixed"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["context"] = str(self.context)
        return out


@dataclass
class NetworkStates:
    """The states of one forward pass: each hidden layer's (the pass the goals see), the output,
    and, for recurrent networks, the hidden states of the passes before the last."""

    hidden: list[LayerState]
    output: LayerState
    earlier: list[list[LayerState]] = field(default_factory=list)


class LayerGoals(NamedTuple):
    """One trainable layer's goal per neuron (N,) and decomposition (N, n_atoms + 1)."""

    goals: torch.Tensor
    decomposition: torch.Tensor


class GoalLoss(NamedTuple):
    """A training batch's loss (minus every neuron's goal, summed), each trainable layer's
    decomposition (N, n_atoms + 1), detached, bottom-up, and the output layer's firing
    probabilities of this training pass (B, n_classes), detached (None where not kept)."""

    loss: torch.Tensor
    decompositions: list[torch.Tensor]
    output: torch.Tensor | None = None


class InfomorphicNetwork(Classifier):
    """Stacked infomorphic hidden layers and a bivariate output layer (one neuron per class);
    with ``hidden=[]`` the output layer alone, on the inputs (the readout-only baseline).

    ``model(x)`` gives the output layer's firing probabilities (B, n_classes) of the two-pass
    protocol without context (evaluation); ``class_scores`` applies each output neuron's fitted
    polarity to them.
    """

    needs_readout_fit = True

    def __init__(self, config: NetworkConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        if any(int(n) < 1 for n in config.hidden):
            raise ValueError(f"hidden layer sizes must be positive, got {config.hidden}")
        context_features = config.n_classes * (
            2 if config.context == Context.LABEL | Context.FEEDBACK else 1
        )
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
                    n_bins=config.hidden_bins,
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
            n_bins=config.output_bins,
            stochastic=False,
            goal=config.output_goal,
        )
        if fixed:
            for p in self.hidden.parameters():
                p.requires_grad_(False)
        self.register_buffer("polarity", torch.ones(config.n_classes))

    # -- structure --------------------------------------------------------------------------
    @property
    def uses_feedback(self) -> bool:
        return Context.FEEDBACK in self.config.context

    @property
    def recurrent(self) -> bool:
        return bool(self.hidden) and (self.hidden[0].has_lateral or self.uses_feedback)

    def trainable_layers(self) -> list[InfomorphicLayer]:
        """The layers with a goal, bottom-up (the output layer last)."""
        layers = [layer for layer in self.hidden if layer.goal is not None]
        return [*layers, self.output]

    def layer_names(self) -> list[str]:
        """Names of ``trainable_layers()``, as the run folder's files use them."""
        names = [f"hidden{k + 1}" for k, layer in enumerate(self.hidden) if layer.goal is not None]
        return [*names, "output"]

    # -- passes -----------------------------------------------------------------------------
    def _context(self, labels: torch.Tensor | None, feedback: torch.Tensor | None, batch: int):
        parts = []
        if Context.LABEL in self.config.context:
            parts.append(labels)
        if self.uses_feedback:
            parts.append(feedback)
        if all(p is None for p in parts) and not self.uses_feedback:
            if self.config.eval_context == "zero":
                return None  # label context in evaluation: C = 0 (the paper's section 4)
            # "bias": an all-zero label through the context map, as the authors' code does
        # Feedback starts from an all-zero output state that, like the lateral state, enters
        # through the context map (its bias), as in the authors' implementation.
        zeros = torch.zeros(batch, self.config.n_classes, device=self.polarity.device)
        return torch.cat([p if p is not None else zeros for p in parts], dim=1)

    def run(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None,
        generator: torch.Generator | None = None,
    ) -> NetworkStates:
        """The lateral protocol on x (B, n_inputs). Pass 1 with an all-zero lateral (and
        feedback) state; each later pass takes the previous pass's outputs as lateral input (and
        its output layer, sampled, as feedback); the goals see the last of ``config.passes``
        (two in the paper). ``labels_onehot=None`` is evaluation: no label context."""
        earlier: list[list[LayerState]] = []
        feedback = None
        for _ in range(self.config.passes - 1 if self.recurrent else 0):
            states = self._hidden_pass(x, labels_onehot, feedback, earlier, generator)
            earlier.append(states)
            if self.uses_feedback:
                below = states[-1].output
                feedback = sample_spikes(self.output(below, None).theta.detach(), generator)
        states = self._hidden_pass(x, labels_onehot, feedback, earlier, generator)
        output = self.output(states[-1].output if states else x, labels_onehot)
        return NetworkStates(states, output, earlier)

    def _hidden_pass(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None,
        feedback: torch.Tensor | None,
        earlier: list[list[LayerState]],
        generator: torch.Generator | None,
    ) -> list[LayerState]:
        """One pass through the hidden layers, lateral input from the previous pass."""
        context = self._context(labels_onehot, feedback, x.shape[0])
        previous = earlier[-1] if earlier else None
        states: list[LayerState] = []
        below = x
        for k, layer in enumerate(self.hidden):
            lateral = previous[k].output if (previous and layer.has_lateral) else None
            reuse = None
            if earlier and k == 0:  # same image, same weights: F (and a label context) repeat
                keep = ("F",) if self.uses_feedback else ("F", "C")
                reuse = {name: v for name, v in earlier[0][0].sources.items() if name in keep}
            state = layer(below, context, lateral, generator, reuse)
            states.append(state)
            below = state.output
        return states

    def forward(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Output firing probabilities theta (B, n_classes); without labels, as evaluated."""
        return self.run(x, labels_onehot, generator).output.theta

    @torch.no_grad()
    def degenerate_binning(
        self, x: torch.Tensor, labels_onehot: torch.Tensor | None, generator: torch.Generator
    ) -> list[str]:
        """One message for each trained hidden layer with fixed-range bins whose feedforward
        source F falls, for every neuron, into one bin on the batch x (B, n_inputs) with its
        labels: the layer measures nothing of its input, so no atom with F moves and it stays at
        chance (an odd bin count on (-20, 20) puts the initial |F| < 3 into the middle cell;
        C and the first pass's L usually sit there too). Meant for the untrained network,
        before training starts."""
        states = self.run(x, labels_onehot, generator)
        messages = []
        for k, (layer, state) in enumerate(zip(self.hidden, states.hidden, strict=True)):
            if layer.goal is None or layer.binning != "fixed":
                continue
            cells = layer.single_cell(state)
            if "F" not in cells:
                continue
            low, high = layer.bin_range
            where = ", ".join(
                f"{name} in [{cell[0]:g}, {cell[1]:g})" if cell else name
                for name, cell in cells.items()
            )
            messages.append(
                f"hidden{k + 1}: {layer.n_bins} bins on ({low:g}, {high:g}) put the initial "
                f"pre-activations of every neuron into one bin ({where}), so the layer measures "
                "nothing of its input and will not learn; use an even number of bins (0 is "
                "then a bin edge) or a narrower bin range"
            )
        return messages

    # -- local goals ------------------------------------------------------------------------
    def layer_goals(self, states: NetworkStates, fixed_shapes: bool = False) -> list[LayerGoals]:
        """Each trainable layer's goals and decomposition, bottom-up."""
        pairs = [(layer, s) for layer, s in zip(self.hidden, states.hidden, strict=True)]
        pairs.append((self.output, states.output))
        return [
            LayerGoals(*layer.local_goals(s, fixed_shapes))
            for layer, s in pairs
            if layer.goal is not None
        ]

    def goal_loss(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor,
        generator: torch.Generator | None = None,
        fixed_shapes: bool = False,
    ) -> GoalLoss:
        """One training batch's loss and decompositions.

        Each neuron's goal depends only on its own parameters, so one backward pass of this sum
        gives every neuron its local gradient. With ``generator=None`` and ``fixed_shapes=True``
        the whole function is one graph for ``torch.compile(fullgraph=True)``.
        """
        states = self.run(x, labels_onehot, generator)
        results = self.layer_goals(states, fixed_shapes)
        loss = -torch.stack([r.goals.sum() for r in results]).sum()
        decompositions = [r.decomposition.detach() for r in results]
        return GoalLoss(loss, decompositions, states.output.theta.detach())

    # -- readout ----------------------------------------------------------------------------
    @torch.no_grad()
    def outputs(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Evaluation outputs before the readout: theta (B, n_classes), without labels (a label
        context is zero, or its map's bias with ``eval_context="bias"``)."""
        return self.run(x, None, generator).output.theta

    def to_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """Apply each output neuron's polarity: a neuron may code its class by not firing."""
        return apply_polarity(outputs, self.polarity)

    @torch.no_grad()
    def fit_readout(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        """Fix each output neuron's polarity from training outputs (B, n_classes) and labels
        (B,): it fires more for its own class, or less."""
        self.polarity.copy_(fitted_polarity(outputs, labels))
