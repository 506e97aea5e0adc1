"""Networks trained end to end by backpropagation: the paper's baseline and a plain MLP.

``BackpropNetwork`` is the paper's baseline (section 5, Table 1): setup 1's connectivity (label
context during training, all-to-all lateral input, two passes from an all-zero lateral state,
the modulated activation, stochastic hidden spikes) trained with cross-entropy on the output
layer's sigmoid outputs, the spikes passing gradients through a sigmoid surrogate, and read out
with the same fitted polarity as the infomorphic networks. ``MLPNetwork`` is a plain
Linear-sigmoid stack with a linear output, trained with cross-entropy on its logits.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from infomorphic.networks.base import Classifier, apply_polarity, fitted_polarity
from infomorphic.networks.presets import EVAL_CONTEXTS
from infomorphic.nn import functional as F_
from infomorphic.nn.layers import lateral_mask

__all__ = ["BackpropNetwork", "MLPNetwork", "surrogate_spikes"]


def surrogate_spikes(drive: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Spikes +-1 fired with probability sigmoid(drive); the gradient is that of their mean
    2 sigmoid(drive) - 1 (a sigmoid surrogate), so an error can pass through the sampling."""
    theta = torch.sigmoid(drive)
    mean = 2 * theta - 1
    return mean + (F_.sample_spikes(theta.detach(), generator) - mean).detach()


class BackpropNetwork(Classifier):
    """The paper's backprop baseline: one hidden layer of ``hidden`` neurons wired as setup 1."""

    needs_readout_fit = True

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int],
        n_classes: int,
        lateral: int | None = None,
        generator: torch.Generator | None = None,
        eval_context: str = "zero",
    ) -> None:
        super().__init__()
        if eval_context not in EVAL_CONTEXTS:
            raise ValueError(
                f"eval_context must be one of {', '.join(EVAL_CONTEXTS)}, got {eval_context!r}"
            )
        self.eval_context = eval_context
        if len(hidden) != 1:
            raise ValueError("the paper's backprop baseline has one hidden layer; use mlp")
        (size,) = hidden
        self.n_classes = n_classes
        self.feedforward = nn.Linear(n_inputs, size)
        self.context_map = nn.Linear(n_classes, size)
        self.lateral_map = nn.Linear(size, size)
        self.register_buffer("lateral_mask", lateral_mask(size, lateral, generator))
        self.output = nn.Linear(size, n_classes)
        self.register_buffer("polarity", torch.ones(n_classes))

    def forward(
        self,
        x: torch.Tensor,
        labels_onehot: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Output firing probabilities (B, n_classes); without labels the context is zero, or
        the context map's bias with ``eval_context="bias"``."""
        f = self.feedforward(x)
        if labels_onehot is None and self.eval_context == "zero":
            c = torch.zeros_like(f)
        elif labels_onehot is None:
            c = self.context_map.bias.expand_as(f)
        else:
            c = self.context_map(labels_onehot)
        lateral = self.lateral_map.bias.expand_as(f)  # pass 1: an all-zero lateral state
        spikes = surrogate_spikes(F_.modulated_activation(f, c, lateral), generator)
        weight = self.lateral_map.weight * self.lateral_mask
        lateral = nn.functional.linear(spikes, weight, self.lateral_map.bias)
        spikes = surrogate_spikes(F_.modulated_activation(f, c, lateral), generator)
        return torch.sigmoid(self.output(spikes))

    def training_loss(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Cross-entropy on the sigmoid outputs, with the label as context."""
        return self.training_loss_and_outputs(x, labels, generator)[0]

    def training_loss_and_outputs(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``training_loss`` and the outputs (B, n_classes) it was computed from, detached."""
        onehot = nn.functional.one_hot(labels, self.n_classes).to(x.dtype)
        outputs = self(x, onehot, generator)
        return nn.functional.cross_entropy(outputs, labels), outputs.detach()

    @torch.no_grad()
    def outputs(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self(x, None, generator)

    def to_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        return apply_polarity(outputs, self.polarity)

    @torch.no_grad()
    def fit_readout(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        """The infomorphic readout: each output neuron's polarity from training data."""
        self.polarity.copy_(fitted_polarity(outputs, labels))


class MLPNetwork(Classifier):
    """Linear-sigmoid hidden layers and a linear output; ``model(x)`` gives logits (B, C)."""

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

    def training_loss(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Cross-entropy on the logits (deterministic: ``generator`` is unused)."""
        return self.training_loss_and_outputs(x, labels, generator)[0]

    def training_loss_and_outputs(
        self, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``training_loss`` and the logits (B, n_classes) it was computed from, detached."""
        logits = self.body(x)
        return nn.functional.cross_entropy(logits, labels), logits.detach()

    @torch.no_grad()
    def outputs(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits (B, n_classes); deterministic, so ``generator`` is unused."""
        return self.body(x)
