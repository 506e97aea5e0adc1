"""InfomorphicLayer: a layer of neurons that each maximise their own PID goal.

The layer aggregates each input class (F feedforward, C context, L lateral) into one number per
neuron with its own linear map, turns them into a firing probability, and knows how to score its
neurons' goals. It never lets a gradient leave a neuron: inputs are detached and each neuron's
goal depends only on its own firing probability. The same code serves a population of networks
(a leading member axis on every weight) and the backprop baseline (``local=False``: gradients
pass through the inputs and, by a surrogate, the spikes), so every network has one forward pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from infomorphic.nn import functional as F_
from infomorphic.nn.activations import ACTIVATIONS
from infomorphic.nn.activations import activation as activation_entry
from infomorphic.nn.goals import Goal


def _modulated(agg: dict[str, torch.Tensor], sources: str) -> torch.Tensor:
    return F_.modulated_activation(agg["F"], agg["C"], agg["L"])


def _linear(agg: dict[str, torch.Tensor], sources: str) -> torch.Tensor:
    f = agg["F"]
    zero = torch.zeros_like(f)
    return F_.linear_activation(f, agg.get("C", zero), agg.get("L", zero))


def _bivariate(agg: dict[str, torch.Tensor], sources: str) -> torch.Tensor:
    return F_.bivariate_activation(agg["F"], agg[sources[1]])


def _feedforward(agg: dict[str, torch.Tensor], sources: str) -> torch.Tensor:
    return agg["F"]  # the output layer's and the fixed step's drive


#: The implementation of every entry of ``infomorphic.nn.activations.ACTIVATIONS``: the drive A
#: of each neuron from its aggregated sources (a test keeps the two tables in step).
DRIVES = {
    "modulated": _modulated,
    "linear": _linear,
    "bivariate": _bivariate,
    "output": _feedforward,
    "step": _feedforward,
    "sigmoid": _feedforward,
}


class DegenerateBinningWarning(UserWarning):
    """A layer's binning puts every initial pre-activation into one cell: its atoms are all 0
    and it cannot learn (e.g. an odd bin count on a range centred on 0)."""


@dataclass
class LayerState:
    """One pass of a layer: aggregated sources, firing probability and emitted output."""

    sources: dict[str, torch.Tensor]
    theta: torch.Tensor
    output: torch.Tensor


def lateral_mask(
    n_neurons: int, max_inputs: int | None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """0/1 (N, N) mask, row = receiving neuron: all-to-all without self-connections, or at most
    ``max_inputs`` inputs per neuron drawn at random without replacement."""
    if max_inputs is None or max_inputs >= n_neurons - 1:
        return 1.0 - torch.eye(n_neurons)
    if max_inputs < 1:
        raise ValueError(f"max lateral inputs must be >= 1, got {max_inputs}")
    scores = torch.rand(n_neurons, n_neurons, generator=generator)
    scores.fill_diagonal_(-1.0)  # never chosen
    chosen = scores.topk(max_inputs, dim=1).indices
    return torch.zeros(n_neurons, n_neurons).scatter_(1, chosen, 1.0)


class MemberLinear(nn.Module):
    """The linear maps of P population members stacked: ``weight`` (P, out, in), ``bias``
    (P, out), under the names of ``nn.Linear``'s, so a population's state is its members'
    states stacked. Filled from solo networks (``InfomorphicNetwork.stack``), never drawn."""

    def __init__(self, members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(members, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(members, out_features))


def _linear_map(
    in_features: int, out_features: int, members: int | None
) -> nn.Linear | MemberLinear:
    if members is None:
        return nn.Linear(in_features, out_features)  # drawn from torch's global generator
    return MemberLinear(members, in_features, out_features)


class InfomorphicLayer(nn.Module):
    """Neurons with sources among F, C, L, an activation, binning and a goal.

    ``sources``: "FCL" (trivariate) or two of them ("FC", "FL"). ``context``: "dense" (a learned
    map from the context vector) or "one-to-one" (neuron j sees context j with weight 1, as the
    output layer's label bit). ``lateral``: None for all-to-all or an int for sparse lateral
    input. ``binning``: "fixed" (on ``bin_range``) or "adaptive" (per neuron and batch).

    ``members``: a population of that many networks of one structure, each with its own weights
    (a leading member axis on every weight; activations (B, P, N)) and goal (``member_goals``).
    ``local``: the neurons learn from their own goals, so no gradient enters from outside
    (inputs are detached, spikes carry none); False for a network trained end to end by
    backprop, whose spikes pass gradients through a sigmoid surrogate.
    """

    # buffers (register_buffer), declared for the type checker
    lateral_mask: torch.Tensor
    goal_weights: torch.Tensor
    neuron_goal_weights: torch.Tensor

    def __init__(
        self,
        in_features: int,
        n_neurons: int,
        *,
        sources: str = "FCL",
        context_features: int = 0,
        context: str = "dense",
        lateral: int | None = None,
        activation: str = "modulated",
        binning: str = "fixed",
        bin_range: tuple[float, float] = F_.HIDDEN_RANGE,
        n_bins: int = F_.N_BINS,
        stochastic: bool = True,
        goal: str | Sequence[float] | Mapping[str, float] | Goal | None = None,
        generator: torch.Generator | None = None,
        members: int | None = None,
        member_goals: Sequence[str | Sequence[float] | Mapping[str, float] | Goal] | None = None,
        local: bool = True,
    ) -> None:
        super().__init__()
        sources = sources.upper()
        if sources not in ("FCL", "FC", "FL"):
            raise ValueError(f"sources must be 'FCL', 'FC' or 'FL', got {sources!r}")
        activation_entry(activation, sources)  # the one check of names and sources
        if binning not in ("fixed", "adaptive"):
            raise ValueError(f"binning must be 'fixed' or 'adaptive', got {binning!r}")
        if context not in ("dense", "one-to-one"):
            raise ValueError(f"context must be 'dense' or 'one-to-one', got {context!r}")
        if members is not None and members < 1:
            raise ValueError(f"a population needs at least one member, got {members}")
        self.sources = sources
        self.n_neurons = n_neurons
        self.in_features = in_features
        self.members = members
        self.activation = activation
        self._drive = DRIVES[activation]
        self._fixed = ACTIVATIONS[activation].role == "fixed"  # a deterministic 0/1 step
        self.binning = binning
        self.bin_range = tuple(bin_range)
        self.n_bins = n_bins
        self.stochastic = stochastic
        self.local = local
        self.context_mode = context

        self.feedforward = _linear_map(in_features, n_neurons, members)
        self.context_map: nn.Linear | MemberLinear | None = None
        if "C" in sources and context == "dense":
            if context_features < 1:
                raise ValueError("a dense context needs context_features >= 1")
            self.context_map = _linear_map(context_features, n_neurons, members)
        if "C" in sources and context == "one-to-one" and context_features not in (0, n_neurons):
            raise ValueError("one-to-one context needs context_features == n_neurons")
        self.lateral_map: nn.Linear | MemberLinear | None = None
        if "L" in sources:
            self.lateral_map = _linear_map(n_neurons, n_neurons, members)
            if members is None:
                mask = lateral_mask(n_neurons, lateral, generator)
            else:  # the members' own masks are loaded with their weights
                mask = torch.zeros(members, n_neurons, n_neurons)
            self.register_buffer("lateral_mask", mask)
        self._set_goals(goal, member_goals)

    def _set_goals(self, goal, member_goals) -> None:
        """``goal``: every neuron's (and every member's); ``member_goals``: one per member."""
        if member_goals is not None:
            if self.members is None or len(member_goals) != self.members:
                raise ValueError(f"member_goals needs one goal per member ({self.members})")
            goals = [Goal.resolve(g, tuple(self.sources)) for g in member_goals]
            self.goal: Goal | None = goals[0]
            self.member_goals: list[Goal] | None = goals
            weights = torch.stack([g.tensor() for g in goals])  # (P, A+1)
            self.register_buffer("goal_weights", weights, persistent=False)
            rows = weights.repeat_interleave(self.n_neurons, dim=0)  # one per neuron (P*N, A+1)
            self.register_buffer("neuron_goal_weights", rows, persistent=False)
            return
        self.goal = Goal.resolve(goal, tuple(self.sources)) if goal is not None else None
        self.member_goals = None
        if self.goal is not None:
            self.register_buffer("goal_weights", self.goal.tensor(), persistent=False)

    @property
    def has_lateral(self) -> bool:
        return self.lateral_map is not None

    def _input(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.detach() if self.local else tensor

    def aggregate(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None,
        lateral: torch.Tensor | None,
        reuse: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, torch.Tensor]:
        """F, C, L per neuron (B, N), or (B, P, N) for a population; missing context or lateral
        state means zero input.

        ``reuse`` hands in sources already computed for the same input (the second pass of a
        recurrent layer sees the same F and, with label context, the same C).
        """
        batch = x.shape[0]
        out = dict(reuse) if reuse else {}
        if "F" not in out:
            out["F"] = F_.affine(self._input(x), self.feedforward.weight, self.feedforward.bias)
        if "C" in self.sources and "C" not in out:
            if context is None:
                out["C"] = x.new_zeros(batch, *out["F"].shape[1:])
            elif self.context_map is not None:
                weight, bias = self.context_map.weight, self.context_map.bias
                out["C"] = F_.affine(self._input(context), weight, bias)
            else:
                c = self._input(context).to(x.dtype)  # a population shares the label
                out["C"] = c if c.ndim == out["F"].ndim else c[:, None].expand(out["F"].shape)
        if self.lateral_map is not None:
            bias = self.lateral_map.bias
            if lateral is None:
                # The reference's pass 1 sees an all-zero state, i.e. only the lateral bias.
                out["L"] = bias.expand(batch, *bias.shape)
            else:
                weight = self.lateral_map.weight * self.lateral_mask
                out["L"] = F_.affine(self._input(lateral), weight, bias)
        return out

    def activate(self, agg: dict[str, torch.Tensor]) -> torch.Tensor:
        """The drive A (B, N) of each neuron from its aggregated sources."""
        return self._drive(agg, self.sources)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        lateral: torch.Tensor | None = None,
        generator: F_.Generators = None,
        reuse: dict[str, torch.Tensor] | None = None,
    ) -> LayerState:
        agg = self.aggregate(x, context, lateral, reuse)
        drive = self.activate(agg)
        if self._fixed:
            out = (drive > 0).to(drive.dtype)
            return LayerState(agg, out, out)
        theta = torch.sigmoid(drive)
        if not self.stochastic:
            output = theta
        elif self.local:
            output = F_.sample_spikes(theta.detach(), generator)
        else:
            output = F_.surrogate_spikes(theta, generator)
        return LayerState(agg, theta, output)

    def bins(self, state: LayerState) -> torch.Tensor:
        """(n_sources, B, N) bin indices of the state's sources (constants); (n_sources, B, P,
        N) for a population."""
        with torch.no_grad():
            stacked = torch.stack([state.sources[name] for name in self.sources])
            if self.binning == "fixed":
                low, high = self.bin_range
                return F_.bin_fixed(stacked, low, high, self.n_bins)
            return torch.stack([F_.bin_adaptive(s, self.n_bins) for s in stacked])

    def single_cell(self, state: LayerState) -> dict[str, tuple[float, float] | None]:
        """The sources that fall into one bin over the whole batch for every neuron, each with
        that cell (low, high) if it is the same for all neurons (None otherwise). With every
        source in one cell the joint histogram has one cell, so every atom is 0 and no goal
        has a gradient."""
        bins = self.bins(state).flatten(2)  # (n_sources, B, N), a population's side by side
        single = (bins == bins[:, :1]).all(dim=2).all(dim=1)  # (n_sources,)
        out: dict[str, tuple[float, float] | None] = {}
        for k, name in enumerate(self.sources):
            if not bool(single[k]):
                continue
            cells = bins[k, 0]
            if self.binning != "fixed" or not bool((cells == cells[0]).all()):
                out[name] = None
                continue
            low, high = self.bin_range
            width = (high - low) / self.n_bins
            index = int(cells[0])
            out[name] = (low + index * width, low + (index + 1) * width)
        return out

    def local_goals(
        self, state: LayerState, fixed_shapes: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-neuron goal values (N,) and decomposition (N, n_atoms + 1) of one batch; (P, N)
        and (P, N, n_atoms + 1) for a population, whose members sit side by side on the
        estimator's neuron axis (each neuron's estimate is its own: nothing mixes)."""
        if self.goal is None:
            raise RuntimeError("this layer has no goal; pass goal=... to train it")
        theta = state.theta
        if self.members is None:
            weights = self.goal_weights.to(theta.dtype)
            return F_.local_goals(self.bins(state), theta, weights, self.n_bins, fixed_shapes)
        bins = self.bins(state)
        batch, members = theta.shape[0], self.members
        rows = self.neuron_goal_weights if self.member_goals is not None else self.goal_weights
        goals, decomposition = F_.local_goals(
            bins.reshape(bins.shape[0], batch, -1),
            theta.reshape(batch, -1),
            rows.to(theta.dtype),
            self.n_bins,
            fixed_shapes,
        )
        atoms = decomposition.shape[-1]
        return goals.reshape(members, -1), decomposition.reshape(members, -1, atoms)

    def extra_repr(self) -> str:
        goal = self.goal.name if self.goal is not None else None
        members = f", members={self.members}" if self.members is not None else ""
        return (
            f"sources={self.sources}, activation={self.activation}, binning={self.binning}, "
            f"stochastic={self.stochastic}, goal={goal}{members}"
        )


__all__ = [
    "DRIVES",
    "DegenerateBinningWarning",
    "InfomorphicLayer",
    "LayerState",
    "MemberLinear",
    "lateral_mask",
]
