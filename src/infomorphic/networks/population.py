"""A population: P networks of one structure, each with its own hidden goal, as one model.

Goal search trains many networks that differ only in their goal. Stacking them (a leading
member dimension on every weight, the members folded into the neuron axis of the PID
estimator) turns P small steps into one larger one. Nothing mixes members: each neuron's goal
depends only on its own parameters, lateral and output connections stay inside a member
(batched products), and every member samples its spikes from its own generator. A member
therefore trains exactly as the same network alone, up to float rounding.

Supported: one hidden layer with label context or none (setups 1 and 2, context-only,
lateral-only); feedback context and deeper stacks train one network at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from infomorphic.networks.base import apply_polarity, fitted_polarity
from infomorphic.networks.infomorphic import GoalLoss, InfomorphicNetwork
from infomorphic.nn import functional as F_
from infomorphic.nn.layers import DRIVES

__all__ = ["PopulationNetwork"]


def _stack(tensors: Sequence[torch.Tensor]) -> nn.Parameter:
    return nn.Parameter(torch.stack([t.detach() for t in tensors]).contiguous())


class PopulationNetwork(nn.Module):
    """P members built from solo ``InfomorphicNetwork`` s that differ only in their hidden goal.

    Shapes: P members, N hidden neurons, K classes. ``outputs(x, generators)`` gives theta
    (B, P, K); spikes in training come from ``generators`` (one per member).
    """

    def __init__(self, members: Sequence[InfomorphicNetwork]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a population needs at least one member")
        template = members[0]
        cfg = template.config
        if len(cfg.hidden) != 1 or template.uses_feedback or cfg.fixed_hidden or cfg.passes != 2:
            raise ValueError(
                "population training supports one trained hidden layer without feedback and "
                "the paper's two lateral passes (setup1, setup2, context-only, lateral-only); "
                "train this model one at a time"
            )
        same = {k: v for k, v in cfg.to_dict().items() if k != "hidden_goal"}
        for member in members[1:]:
            other = {k: v for k, v in member.config.to_dict().items() if k != "hidden_goal"}
            if other != same:
                raise ValueError("population members may differ only in their hidden goal")
        layers = [m.hidden[0] for m in members]
        outputs = [m.output for m in members]
        first = layers[0]
        self.members, self.sources = len(members), first.sources
        self.n_neurons, self.n_classes = first.n_neurons, cfg.n_classes
        self.activation, self.binning = first.activation, first.binning
        self.bin_range, self.n_bins = first.bin_range, first.n_bins
        self.output_bins = template.output.n_bins
        self.ff_weight = _stack([layer.feedforward.weight for layer in layers])  # (P, N, in)
        self.ff_bias = _stack([layer.feedforward.bias for layer in layers])  # (P, N)
        self.has_context = first.context_map is not None
        self.eval_context = cfg.eval_context
        if self.has_context:
            self.ctx_weight = _stack([layer.context_map.weight for layer in layers])
            self.ctx_bias = _stack([layer.context_map.bias for layer in layers])
        self.has_lateral = first.has_lateral
        if self.has_lateral:
            self.lat_weight = _stack([layer.lateral_map.weight for layer in layers])  # (P, N, N)
            self.lat_bias = _stack([layer.lateral_map.bias for layer in layers])
            self.register_buffer("lateral_mask", torch.stack([la.lateral_mask for la in layers]))
        self.out_weight = _stack([o.feedforward.weight for o in outputs])  # (P, K, N)
        self.out_bias = _stack([o.feedforward.bias for o in outputs])
        goals = torch.stack([la.goal.tensor() for la in layers])  # (P, A+1)
        self.register_buffer("hidden_goals", goals)
        # one row per neuron of the folded neuron axis, for the estimator's goal (P*N, A+1)
        neuron_goals = goals.repeat_interleave(self.n_neurons, dim=0)
        self.register_buffer("neuron_goals", neuron_goals, persistent=False)
        self.register_buffer("output_goal", template.output.goal.tensor())
        self.register_buffer("polarity", torch.ones(self.members, self.n_classes))
        self.member_configs = [m.config for m in members]

    # -- parameters per layer ---------------------------------------------------------------
    def hidden_parameters(self) -> list[nn.Parameter]:
        names = ["ff_weight", "ff_bias"]
        names += ["ctx_weight", "ctx_bias"] if self.has_context else []
        names += ["lat_weight", "lat_bias"] if self.has_lateral else []
        return [getattr(self, n) for n in names]

    def output_parameters(self) -> list[nn.Parameter]:
        return [self.out_weight, self.out_bias]

    # -- passes -----------------------------------------------------------------------------
    def _flat(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.reshape(-1, weight.shape[-1])

    def _spikes(self, theta: torch.Tensor, generators: Sequence[torch.Generator | None]):
        """Spikes (B, P*N) of theta (B, P*N), each member from its own generator."""
        batch = theta.shape[0]
        noise = torch.stack(
            [
                torch.rand(
                    (batch, self.n_neurons), generator=g, device=theta.device, dtype=theta.dtype
                )
                for g in generators
            ],
            dim=1,
        ).reshape(batch, -1)
        return (noise < theta.detach()).to(theta.dtype) * 2 - 1

    def _lateral(self, spikes: torch.Tensor) -> torch.Tensor:
        batch = spikes.shape[0]
        members = spikes.detach().reshape(batch, self.members, self.n_neurons).transpose(0, 1)
        weight = (self.lat_weight * self.lateral_mask).transpose(1, 2)
        out = torch.baddbmm(self.lat_bias[:, None, :], members, weight)  # (P, B, N)
        return out.transpose(0, 1).reshape(batch, -1)

    def run(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None,
        generators: Sequence[torch.Generator | None],
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
        """The two-pass protocol for every member: hidden sources {F, C, L} (B, P*N), hidden
        theta (B, P*N), output sources (F, C) and output theta (B, P*K)."""
        batch = x.shape[0]
        x = x.detach()
        agg = {"F": torch.addmm(self.ff_bias.reshape(-1), x, self._flat(self.ff_weight).T)}
        if self.has_context:
            if labels_onehot is None and self.eval_context == "zero":  # evaluation: C = 0
                agg["C"] = x.new_zeros(batch, self.members * self.n_neurons)
            elif labels_onehot is None:  # evaluation, "bias": a zero label through the map
                agg["C"] = self.ctx_bias.reshape(1, -1).expand(batch, -1)
            else:
                flat = self._flat(self.ctx_weight)
                agg["C"] = torch.addmm(self.ctx_bias.reshape(-1), labels_onehot, flat.T)
        drive = DRIVES[self.activation]
        if self.has_lateral:  # pass 1: an all-zero lateral state gives the bias alone
            agg["L"] = self.lat_bias.reshape(1, -1).expand(batch, -1)
            first = self._spikes(torch.sigmoid(drive(agg, self.sources)), generators)
            agg["L"] = self._lateral(first)
        theta = torch.sigmoid(drive(agg, self.sources))
        spikes = self._spikes(theta, generators).reshape(batch, self.members, self.n_neurons)
        out_f = torch.baddbmm(
            self.out_bias[:, None, :], spikes.transpose(0, 1), self.out_weight.transpose(1, 2)
        ).transpose(0, 1).reshape(batch, -1)  # fmt: skip
        if labels_onehot is None:
            out_c = torch.zeros_like(out_f)
        else:
            out_c = labels_onehot.to(x.dtype).repeat(1, self.members)
        return agg, theta, torch.stack([out_f, out_c]), torch.sigmoid(out_f)

    def goal_loss(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor,
        generators: Sequence[torch.Generator | None],
    ) -> GoalLoss:
        """Minus every neuron's goal, summed; decompositions hidden (P, N, A+1) and output
        (P, K, A_out+1), detached; the output theta of this pass (B, P, K), detached."""
        agg, theta, out_sources, out_theta = self.run(x, labels_onehot, generators)
        with torch.no_grad():
            stacked = torch.stack([agg[s] for s in self.sources])
            if self.binning == "fixed":
                bins = F_.bin_fixed(stacked, *self.bin_range, self.n_bins)
            else:
                bins = torch.stack([F_.bin_adaptive(s, self.n_bins) for s in stacked])
            out_bins = torch.stack([F_.bin_adaptive(s, self.output_bins) for s in out_sources])
        hidden = F_.local_goals(bins, theta, self.neuron_goals.to(theta.dtype), self.n_bins)
        output_goal = self.output_goal.to(theta.dtype)
        output = F_.local_goals(out_bins, out_theta, output_goal, self.output_bins)
        loss = -(hidden.goals.sum() + output.goals.sum())
        return GoalLoss(
            loss,
            [
                hidden.decomposition.detach().reshape(self.members, self.n_neurons, -1),
                output.decomposition.detach().reshape(self.members, self.n_classes, -1),
            ],
            out_theta.detach().reshape(x.shape[0], self.members, self.n_classes),
        )

    # -- readout ----------------------------------------------------------------------------
    @torch.no_grad()
    def outputs(
        self, x: torch.Tensor, generators: Sequence[torch.Generator | None]
    ) -> torch.Tensor:
        """Evaluation outputs theta (B, P, K), without labels (see ``eval_context``)."""
        out_theta = self.run(x, None, generators)[3]
        return out_theta.reshape(x.shape[0], self.members, self.n_classes)

    def to_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """Each member's polarity applied to outputs (B, P, K)."""
        return apply_polarity(outputs, self.polarity)

    @torch.no_grad()
    def fit_readout(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        """Each member's output polarity from training outputs (B, P, K) and labels (B,)."""
        self.polarity.copy_(fitted_polarity(outputs, labels))

    # -- members ----------------------------------------------------------------------------
    @torch.no_grad()
    def member(self, index: int) -> InfomorphicNetwork:
        """Member ``index`` as a stand-alone network with its current weights."""
        network = InfomorphicNetwork(self.member_configs[index]).to(self.ff_weight.device)
        layer = network.hidden[0]
        layer.feedforward.weight.copy_(self.ff_weight[index])
        layer.feedforward.bias.copy_(self.ff_bias[index])
        if self.has_context:
            layer.context_map.weight.copy_(self.ctx_weight[index])
            layer.context_map.bias.copy_(self.ctx_bias[index])
        if self.has_lateral:
            layer.lateral_map.weight.copy_(self.lat_weight[index])
            layer.lateral_map.bias.copy_(self.lat_bias[index])
            layer.lateral_mask.copy_(self.lateral_mask[index])
        network.output.feedforward.weight.copy_(self.out_weight[index])
        network.output.feedforward.bias.copy_(self.out_bias[index])
        network.polarity.copy_(self.polarity[index])
        return network
