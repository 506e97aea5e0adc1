"""The paper's spiking networks: hidden layers of ``InfomorphicLayer`` under a bivariate output
layer, built from a ``NetworkSpec``, with one forward pass for all of them.

``SpikingNetwork`` is that forward pass (the lateral protocol, label and feedback context) and
the readout. ``InfomorphicNetwork`` trains it by local goals (setups 1-3, the bivariate hidden
layers, the fixed random hidden layer, deeper stacks: paper sections 3 and 5, appendix A.10):
``layer_goals`` returns each layer's own goals, which depend only on that layer's parameters
(inputs are detached), so each layer is stepped by its own optimiser. The backprop baseline
(``networks.backprop``) is the same network trained end to end. A population of P networks
that differ only in their goals is one network with a member axis (``InfomorphicNetwork.stack``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn

from infomorphic.networks.base import Classifier, apply_polarity, fitted_polarity
from infomorphic.networks.spec import LayerSpec, NetworkSpec
from infomorphic.nn.functional import HIDDEN_RANGE, Generators, sample_spikes
from infomorphic.nn.layers import InfomorphicLayer, LayerState

__all__ = ["GoalLoss", "InfomorphicNetwork", "LayerGoals", "NetworkStates", "SpikingNetwork"]


@dataclass
class NetworkStates:
    """The states of one forward pass: each hidden layer's (the pass the goals see), the output,
    and, for recurrent networks, the hidden states of the passes before the last."""

    hidden: list[LayerState]
    output: LayerState
    earlier: list[list[LayerState]] = field(default_factory=list)


class LayerGoals(NamedTuple):
    """One trainable layer's goal per neuron (N,) and decomposition (N, n_atoms + 1); (P, N)
    and (P, N, n_atoms + 1) for a population."""

    goals: torch.Tensor
    decomposition: torch.Tensor


class GoalLoss(NamedTuple):
    """A training batch's loss (minus every neuron's goal, summed), each trainable layer's
    decomposition (N, n_atoms + 1), detached, bottom-up, and the output layer's firing
    probabilities of this training pass (B, n_classes), or (B, P, n_classes) for a population,
    detached (None where not kept)."""

    loss: torch.Tensor
    decompositions: list[torch.Tensor]
    output: torch.Tensor | None = None


class SpikingNetwork(Classifier):
    """Stacked hidden layers of spiking neurons and a bivariate output layer (one neuron per
    class), as ``spec`` describes them; with no hidden layer, the output layer alone on the
    inputs (the readout-only baseline).

    ``model(x)`` gives the output layer's firing probabilities (B, n_classes) without labels
    (evaluation); ``class_scores`` applies each output neuron's fitted polarity to them.
    ``members``: the specs of a population's members (equal but for their goals); the network
    then holds every member's weights on a leading member axis, takes one spike generator per
    member, and its outputs are (B, P, n_classes).
    """

    needs_readout_fit = True
    #: Whether the neurons learn from their own goals (False: trained end to end).
    local = True
    #: the readout's polarity per class (a buffer), declared for the type checker
    polarity: torch.Tensor

    def __init__(
        self,
        spec: NetworkSpec,
        generator: torch.Generator | None = None,
        *,
        members: Sequence[NetworkSpec] | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.member_specs = list(members) if members is not None else None
        self.members = len(members) if members is not None else None
        width = spec.n_inputs
        hidden = []
        for k, layer in enumerate(spec.layers):
            goals = None
            if members is not None and layer.goal is not None:
                goals = [m.layers[k].goal for m in members]
            hidden.append(self._hidden_layer(width, layer, generator, goals))
            width = layer.size
        # an nn.ModuleList of InfomorphicLayer (typed as such: its items are the layers)
        self.hidden: Sequence[InfomorphicLayer] = nn.ModuleList(hidden)  # type: ignore[assignment]
        self.output = InfomorphicLayer(
            width,
            spec.n_classes,
            sources="FC",
            context="one-to-one",
            activation="output",
            binning="adaptive",
            n_bins=spec.output.bins,
            stochastic=False,
            goal=spec.output.goal if self.local else None,
            members=self.members,
            local=self.local,
        )
        if self.local:
            for hidden_layer in self.hidden:
                if hidden_layer.goal is None:  # a fixed random layer keeps its weights
                    hidden_layer.requires_grad_(False)
        shape = (spec.n_classes,) if members is None else (len(members), spec.n_classes)
        self.register_buffer("polarity", torch.ones(shape))

    def _hidden_layer(
        self,
        width: int,
        layer: LayerSpec,
        generator: torch.Generator | None,
        member_goals: list[Any] | None,
    ) -> InfomorphicLayer:
        return InfomorphicLayer(
            width,
            layer.size,
            sources=layer.sources,
            context_features=self.spec.n_classes * len(layer.context),
            lateral=layer.max_lateral,
            activation=layer.activation,
            binning=layer.binning,
            bin_range=layer.bin_range or HIDDEN_RANGE,
            n_bins=layer.bins,
            goal=layer.goal if self.local and member_goals is None else None,
            generator=generator,
            members=self.members,
            member_goals=member_goals if self.local else None,
            local=self.local,
        )

    # -- structure --------------------------------------------------------------------------
    @property
    def config(self) -> NetworkSpec:
        """The network's spec (the name older code knows it by)."""
        return self.spec

    @property
    def uses_feedback(self) -> bool:
        return self.spec.uses_feedback

    @property
    def recurrent(self) -> bool:
        return self.spec.recurrent

    # -- passes -----------------------------------------------------------------------------
    def _context(
        self,
        layer: LayerSpec,
        labels: torch.Tensor | None,
        feedback: torch.Tensor | None,
        batch: int,
    ) -> torch.Tensor | None:
        """A layer's context vector: its sources side by side (label first); None for a label
        context in evaluation with ``eval_context="zero"`` (C = 0)."""
        parts = [labels if source == "label" else feedback for source in layer.context]
        if all(p is None for p in parts) and not layer.feedback:
            if self.spec.eval_context == "zero":
                return None
            # "bias": an all-zero label through the context map, as the authors' code does
        # Feedback starts from an all-zero output state that, like the lateral state, enters
        # through the context map (its bias), as in the authors' implementation.
        zeros = torch.zeros(batch, self.spec.n_classes, device=self.polarity.device)
        filled = [p if p is not None else zeros for p in parts]
        if any(p.ndim == 3 for p in filled):  # a population's feedback: one per member
            assert self.members is not None
            filled = [p if p.ndim == 3 else p[:, None].expand(-1, self.members, -1) for p in filled]
        return torch.cat(filled, dim=-1)

    def run(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None,
        generator: Generators = None,
    ) -> NetworkStates:
        """The lateral protocol on x (B, n_inputs). Pass 1 with an all-zero lateral (and
        feedback) state; each later pass takes the previous pass's outputs as lateral input (and
        its output layer, sampled, as feedback); the goals see the last of ``spec.passes``
        (two in the paper). ``labels_onehot=None`` is evaluation: no label context."""
        earlier: list[list[LayerState]] = []
        feedback = None
        for _ in range(self.spec.passes - 1 if self.recurrent else 0):
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
        generator: Generators,
    ) -> list[LayerState]:
        """One pass through the hidden layers, lateral input from the previous pass."""
        previous = earlier[-1] if earlier else None
        states: list[LayerState] = []
        below = x
        for k, (layer, spec) in enumerate(zip(self.hidden, self.spec.layers, strict=True)):
            context = self._context(spec, labels_onehot, feedback, x.shape[0])
            lateral = previous[k].output if (previous and layer.has_lateral) else None
            reuse = None
            if earlier and k == 0:  # same image, same weights: F (and a label context) repeat
                keep = ("F",) if spec.feedback else ("F", "C")
                reuse = {name: v for name, v in earlier[0][0].sources.items() if name in keep}
            state = layer(below, context, lateral, generator, reuse)
            states.append(state)
            below = state.output
        return states

    def forward(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None = None,
        generator: Generators = None,
    ) -> torch.Tensor:
        """Output firing probabilities theta (B, n_classes); without labels, as evaluated."""
        return self.run(x, labels_onehot, generator).output.theta

    # -- readout ----------------------------------------------------------------------------
    @torch.no_grad()
    def outputs(self, x: torch.Tensor, generator: Generators = None) -> torch.Tensor:
        """Evaluation outputs before the readout: theta (B, n_classes), or (B, P, n_classes)
        for a population, without labels (a label context is zero, or its map's bias with
        ``eval_context="bias"``)."""
        return self.run(x, None, generator).output.theta

    def to_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """Apply each output neuron's polarity: a neuron may code its class by not firing."""
        return apply_polarity(outputs, self.polarity)

    @torch.no_grad()
    def fit_readout(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        """Fix each output neuron's polarity from training outputs (B, [P,] n_classes) and
        labels (B,): it fires more for its own class, or less."""
        self.polarity.copy_(fitted_polarity(outputs, labels))

    # -- populations ------------------------------------------------------------------------
    @classmethod
    def stack(cls, members: Sequence[SpikingNetwork]) -> SpikingNetwork:
        """One network holding ``members`` (equal but for their goals) on a member axis, with
        their current weights; ``member(p)`` gives member p back."""
        if not members:
            raise ValueError("a population needs at least one member")
        template = members[0].spec
        for other in members[1:]:
            if other.spec.without_goals() != template.without_goals():
                raise ValueError("population members may differ only in their goals")
        device = members[0].polarity.device
        population = cls(template, members=[m.spec for m in members]).to(device)
        states = [m.state_dict() for m in members]
        population.load_state_dict({k: torch.stack([s[k] for s in states]) for k in states[0]})
        return population

    @torch.no_grad()
    def select(self, members: Sequence[int]) -> SpikingNetwork:
        """A population of the ``members`` named (indices, in the order given) with their
        current weights: what remains of a population whose other members leave."""
        if self.member_specs is None:
            raise ValueError("this network is not a population")
        specs = [self.member_specs[m] for m in members]
        if not specs:
            raise ValueError("a population needs at least one member")
        population = type(self)(specs[0], members=specs).to(self.polarity.device)
        index = torch.tensor(list(members), device=self.polarity.device)
        state = {k: v.index_select(0, index) for k, v in self.state_dict().items()}
        population.load_state_dict(state)
        return population

    @torch.no_grad()
    def member(self, index: int) -> SpikingNetwork:
        """Member ``index`` of a population as a network of its own, with its current weights."""
        if self.member_specs is None:
            raise ValueError("this network is not a population")
        with torch.random.fork_rng(devices=[]):  # building draws weights, then overwritten
            network = type(self)(self.member_specs[index]).to(self.polarity.device)
        network.load_state_dict({k: v[index] for k, v in self.state_dict().items()})
        return network


class InfomorphicNetwork(SpikingNetwork):
    """A spiking network whose neurons each maximise their own goal (local learning)."""

    local = True

    def trainable_layers(self) -> list[InfomorphicLayer]:
        """The layers with a goal, bottom-up (the output layer last)."""
        layers = [layer for layer in self.hidden if layer.goal is not None]
        return [*layers, self.output]

    def layer_names(self) -> list[str]:
        """Names of ``trainable_layers()``, as the run folder's files use them."""
        names = [f"hidden{k + 1}" for k, layer in enumerate(self.hidden) if layer.goal is not None]
        return [*names, "output"]

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
        generator: Generators = None,
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

    @torch.no_grad()
    def degenerate_binning(
        self, x: torch.Tensor, labels_onehot: torch.Tensor | None, generator: Generators
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
