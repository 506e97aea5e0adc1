"""Networks trained end to end by backpropagation: the paper's baseline and a plain MLP.

``BackpropNetwork`` is the paper's baseline (section 5, Table 1): the spiking network of setup 1
(label context during training, all-to-all lateral input, two passes from an all-zero lateral
state, the modulated activation, stochastic hidden spikes), the same forward pass as the
infomorphic networks (``SpikingNetwork``), trained with cross-entropy on the output layer's
sigmoid outputs, the spikes passing gradients through a sigmoid surrogate, and read out with
the same fitted polarity. ``MLPNetwork`` is a plain Linear-sigmoid stack with a linear output,
trained with cross-entropy on its logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from infomorphic.networks.base import Classifier
from infomorphic.networks.infomorphic import SpikingNetwork
from infomorphic.networks.spec import NetworkSpec
from infomorphic.nn import functional as F_
from infomorphic.nn.functional import Generators

__all__ = ["BackpropNetwork", "MLPNetwork", "surrogate_spikes"]


def surrogate_spikes(drive: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Spikes +-1 fired with probability sigmoid(drive); the gradient is that of their mean
    2 sigmoid(drive) - 1 (a sigmoid surrogate), so an error can pass through the sampling."""
    return F_.surrogate_spikes(torch.sigmoid(drive), generator)


#: Where the weights of the baseline's first form (its own layers, before it shared the
#: spiking network's) live now: old checkpoints load through this renaming.
_OLD_NAMES = {
    "feedforward.": "hidden.0.feedforward.",
    "context_map.": "hidden.0.context_map.",
    "lateral_map.": "hidden.0.lateral_map.",
    "lateral_mask": "hidden.0.lateral_mask",
    "output.weight": "output.feedforward.weight",
    "output.bias": "output.feedforward.bias",
}


def _rename_old_weights(module: nn.Module, state: dict[str, Any], prefix: str, *args) -> None:
    for key in list(state):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        for old, new in _OLD_NAMES.items():
            if name.startswith(old):
                state[prefix + new + name[len(old) :]] = state.pop(key)
                break


class BackpropNetwork(SpikingNetwork):
    """The spiking network of ``spec`` (the paper's baseline: setup 1's wiring) trained end to
    end: gradients pass through every layer and, by a sigmoid surrogate, the spikes."""

    local = False

    def __init__(self, spec: NetworkSpec, generator: torch.Generator | None = None) -> None:
        super().__init__(spec, generator)
        self.register_load_state_dict_pre_hook(_rename_old_weights)

    @property
    def n_classes(self) -> int:
        return self.spec.n_classes

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
        onehot = nn.functional.one_hot(labels, self.spec.n_classes).to(x.dtype)
        outputs = self(x, onehot, generator)
        return nn.functional.cross_entropy(outputs, labels), outputs.detach()


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

    @classmethod
    def from_spec(cls, spec: NetworkSpec) -> MLPNetwork:
        return cls(spec.n_inputs, [layer.size for layer in spec.layers], spec.n_classes)

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
    def outputs(self, x: torch.Tensor, generator: Generators = None) -> torch.Tensor:
        """Logits (B, n_classes); deterministic, so ``generator`` is unused."""
        return self.body(x)
