"""The readout interface every network shares, infomorphic or trained by backprop.

Evaluation, prediction and inspection only use this interface, so they never branch on the kind
of network: ``outputs`` gives the network's raw answer per class, ``fit_readout`` fits whatever
the readout learns from training data (the infomorphic output polarity; nothing for
backprop), ``to_scores`` turns outputs into class scores (higher means more likely).
"""

from __future__ import annotations

import torch
from torch import nn

from infomorphic.nn.functional import Generators

__all__ = ["Classifier", "apply_polarity", "batch_accuracy", "fitted_polarity"]


class Classifier(nn.Module):
    """A network that classifies: ``class_scores`` (B, n_classes) and ``predict`` (B,)."""

    #: Whether ``fit_readout`` must see training outputs before ``to_scores`` is meaningful.
    needs_readout_fit: bool = False
    #: A population's size (its outputs are (B, P, n_classes)); None for one network.
    members: int | None = None

    def outputs(self, x: torch.Tensor, generator: Generators = None) -> torch.Tensor:
        """Raw per-class outputs (B, n_classes) of x (B, n_inputs), without gradients (a
        population's (B, P, n_classes), each member's spikes from its own generator)."""
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


def fitted_polarity(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each output neuron's polarity, +1 or -1, from training outputs (B, ..., K) and labels
    (B,): +1 when it fires at least as much for its own class as for the others. The
    decomposition is unchanged when a neuron's output is flipped, so a neuron may code its class
    by not firing (docs/protocol.md, "Polarity")."""
    onehot = nn.functional.one_hot(labels, outputs.shape[-1]).to(outputs.dtype)
    onehot = onehot.reshape(len(labels), *([1] * (outputs.ndim - 2)), outputs.shape[-1])
    mean_in = (outputs * onehot).sum(0) / onehot.sum(0).clamp_min(1)
    mean_out = (outputs * (1 - onehot)).sum(0) / (1 - onehot).sum(0).clamp_min(1)
    return torch.where(mean_in >= mean_out, 1.0, -1.0)


def apply_polarity(outputs: torch.Tensor, polarity: torch.Tensor) -> torch.Tensor:
    """Class scores: a neuron of polarity -1 scores 1 - theta."""
    return torch.where(polarity > 0, outputs, 1.0 - outputs)


def batch_accuracy(outputs: torch.Tensor, labels: torch.Tensor, flip: bool = True) -> torch.Tensor:
    """The authors' training accuracy of one batch: outputs (B, ..., K) of the training pass
    itself, labels (B,); each output neuron whose mean over the batch is at least 0.5 is
    inverted first (``flip``), then the argmax is compared with the label. A tensor of the
    outputs' middle shape (a scalar for (B, K)), so that summing batches needs no host sync.
    (``trainer`` and ``helper_functions.correct_inverse_neurons`` of the authors' code; the
    history's ``train_batch_accuracy`` is its mean over an epoch's batches.)"""
    if flip:
        outputs = torch.where(outputs.mean(0) >= 0.5, 1.0 - outputs, outputs)
    labels = labels.reshape(len(labels), *([1] * (outputs.ndim - 2)))
    return (outputs.argmax(-1) == labels).to(outputs.dtype).mean(0)
