"""The readout interface every network shares, infomorphic or trained by backprop.

Evaluation, prediction and inspection only use this interface, so they never branch on the kind
of network: ``outputs`` gives the network's raw answer per class, ``fit_readout`` fits whatever
the readout learns from training data (the infomorphic output polarity; nothing for
backprop), ``to_scores`` turns outputs into class scores (higher means more likely).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Classifier"]


class Classifier(nn.Module):
    """A network that classifies: ``class_scores`` (B, n_classes) and ``predict`` (B,)."""

    #: Whether ``fit_readout`` must see training outputs before ``to_scores`` is meaningful.
    needs_readout_fit: bool = False

    def outputs(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw per-class outputs (B, n_classes) of x (B, n_inputs), without gradients."""
        raise NotImplementedError

    def to_scores(self, outputs: torch.Tensor) -> torch.Tensor:
        """Class scores from ``outputs``; the identity unless the readout learns something."""
        return outputs

    def fit_readout(self, outputs: torch.Tensor, labels: torch.Tensor) -> None:
        """Fit the readout from training outputs (B, n_classes) and labels (B,)."""

    @torch.no_grad()
    def class_scores(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Scores (B, n_classes) of x (B, n_inputs); the argmax is the predicted class."""
        return self.to_scores(self.outputs(x, generator))

    @torch.no_grad()
    def predict(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Predicted classes (B,) int64."""
        return self.class_scores(x, generator).argmax(dim=1)
