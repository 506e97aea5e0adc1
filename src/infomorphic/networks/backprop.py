"""The backprop baseline: the same layer sizes trained end-to-end with cross-entropy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from infomorphic.networks.base import Classifier

__all__ = ["BackpropNetwork"]


class BackpropNetwork(Classifier):
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

    @torch.no_grad()
    def outputs(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits (B, n_classes); deterministic, so ``generator`` is unused."""
        return self.body(x)
