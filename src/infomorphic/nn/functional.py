"""Pure tensor functions under the infomorphic layers: binning, activations, sampling, goals.

Everything here is stateless, so the same code serves training, evaluation, the benchmarks and
anyone who wants to build their own neurons on top of the PID estimator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

from infomorphic.nn.protocol import HIDDEN_RANGE, N_BINS
from infomorphic.pid.batched import isx_pid_binary

# How values outside the hidden range and the output layer's "adaptive" bins are handled is the
# authors' published configuration (docs/protocol.md); the numbers are in ``nn.protocol``.


def bin_fixed(x: torch.Tensor, low: float, high: float, n_bins: int) -> torch.Tensor:
    """Equal-width bins on [low, high]; values outside are clamped into the end bins.

    NaN lands in bin 0 (it would otherwise become an arbitrary integer); a diverged neuron's NaN
    firing probability still shows in its goal, which training checks. The indices are int32:
    converting floats to int64 cost four times as long as the whole rest of the binning.
    """
    scaled = (x - low).mul_(n_bins / (high - low)).nan_to_num_(nan=0.0)
    return scaled.floor_().clamp_(0, n_bins - 1).to(torch.int32)


def bin_adaptive(x: torch.Tensor, n_bins: int) -> torch.Tensor:
    """Per column (neuron): divide by the batch's largest |value|, then equal bins on [-1, 1].

    The "adaptive" binning of the paper's Table 1 for the output layer, as the authors' published
    configuration does it (docs/protocol.md). A column that is all zeros lands in one bin (the
    one holding 0).
    """
    scale = x.abs().amax(dim=0, keepdim=True)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return bin_fixed(x / scale, -1.0, 1.0, n_bins)


def modulated_activation(
    f: torch.Tensor,
    c: torch.Tensor,
    lat: torch.Tensor,
    alpha: tuple[float, float] = (0.1, 0.1),
    beta: tuple[float, float] = (2.0, 2.0),
) -> torch.Tensor:
    """The paper's trivariate activation: F drives, C and L only modulate its gain.

    A = F [(1 - a1 - a2) + a1 sigma(b1 F C) + a2 sigma(b2 F L)], with a1 = a2 = 0.1 and
    b1 = b2 = 2 (the paper's section 4, "Neuron structure and activation function").
    """
    a1, a2 = alpha
    b1, b2 = beta
    gain = (1.0 - a1 - a2) + a1 * torch.sigmoid(b1 * f * c) + a2 * torch.sigmoid(b2 * f * lat)
    return f * gain


def linear_activation(
    f: torch.Tensor, c: torch.Tensor, lat: torch.Tensor, weight: float = 0.1
) -> torch.Tensor:
    """The paper's linear alternative: A = F + 0.1 L + 0.1 C (section 4)."""
    return f + weight * lat + weight * c


def bivariate_activation(
    f: torch.Tensor, x: torch.Tensor, alpha: float = 0.1, beta: float = 2.0
) -> torch.Tensor:
    """Bivariate hidden neurons: A = F [(1 - a) + a 2 sigma(b F X)], X the second source.

    The paper does not state it; this is the authors' published configuration (docs/protocol.md).
    """
    return f * ((1.0 - alpha) + alpha * 2.0 * torch.sigmoid(beta * f * x))


#: Where spikes draw their randomness: one generator (None: torch's global one), or one per
#: member of a population, whose tensors carry the members on axis 1.
Generators = torch.Generator | None | Sequence[torch.Generator | None]


def affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x W^T + b, for one network or for a population of P stacked ones.

    One network: ``weight`` (N, D), ``x`` (B, D), the result (B, N), exactly ``nn.Linear``'s
    arithmetic. A population: ``weight`` (P, N, D), ``bias`` (P, N), ``x`` (B, D) shared by
    every member or (B, P, D) one per member; the result (B, P, N). Nothing mixes members.
    """
    if weight.ndim == 2:
        return torch.nn.functional.linear(x, weight, bias)
    members, neurons, width = weight.shape
    if x.ndim == 2:  # one input for every member: one product with the members side by side
        out = torch.addmm(bias.reshape(-1), x, weight.reshape(-1, width).T)
        return out.reshape(x.shape[0], members, neurons)
    out = torch.baddbmm(bias[:, None, :], x.transpose(0, 1), weight.transpose(1, 2))
    return out.transpose(0, 1).contiguous()  # the activations' arithmetic runs on dense rows


def sample_spikes(theta: torch.Tensor, generator: Generators = None) -> torch.Tensor:
    """Fire (+1) with probability theta, else -1 (the paper's section 4).

    With one generator per member (a sequence), theta is (B, P, ...) and member p draws its
    noise from its own generator, exactly the draws of the same network alone.
    """
    if isinstance(generator, Sequence):
        shape, device, dtype = (theta.shape[0], *theta.shape[2:]), theta.device, theta.dtype
        draws = [torch.rand(shape, generator=g, device=device, dtype=dtype) for g in generator]
        noise = torch.stack(draws, dim=1)
    else:
        noise = torch.rand(theta.shape, generator=generator, device=theta.device, dtype=theta.dtype)
    return (noise < theta).to(theta.dtype) * 2 - 1  # a third of torch.where's time with scalars


def surrogate_spikes(theta: torch.Tensor, generator: Generators = None) -> torch.Tensor:
    """Spikes +-1 fired with probability theta whose gradient is that of their mean 2 theta - 1
    (a sigmoid surrogate when theta = sigmoid(drive)), so an error can pass through the
    sampling: the backprop baseline's spikes (paper section 5)."""
    mean = 2 * theta - 1
    return mean + (sample_spikes(theta.detach(), generator) - mean).detach()


class LocalGoals(NamedTuple):
    """``local_goals``' result, one row per neuron; unpacks as ``goals, decomposition = ...``.

    ``goals`` (N,): each neuron's goal gamma . (atoms, H_res). ``decomposition``
    (N, n_atoms + 1): its atoms in ``lattice(n).labels`` order, then H_res, in bits.
    """

    goals: torch.Tensor
    decomposition: torch.Tensor


def local_goals(
    bins: torch.Tensor,
    theta: torch.Tensor,
    weights: torch.Tensor,
    n_bins: int = N_BINS,
    fixed_shapes: bool = False,
) -> LocalGoals:
    """Each neuron's goal gamma . (atoms, H_res) from its binned sources and firing probability.

    ``bins`` (n_sources, B, N), ``theta`` (B, N), ``weights`` (n_atoms + 1,) or one row per
    neuron (N, n_atoms + 1): the goal G of the
    paper's eq. (2) and (3). Returns a ``LocalGoals`` (goals (N,), decomposition
    (N, n_atoms + 1)) in the dtype of ``theta``; gradients reach theta only, i.e. p(t | s),
    never the source histogram (appendix A.1).
    ``fixed_shapes``: see ``isx_pid_batched`` (for compiled steps).
    """
    atoms, residual = isx_pid_binary(
        bins, theta, n_bins, check_inputs=False, fixed_shapes=fixed_shapes
    )
    decomposition = torch.cat([atoms, residual[:, None]], dim=1)
    if weights.ndim == 2:  # one goal per neuron (a population of networks with their own goals)
        return LocalGoals((decomposition * weights).sum(1), decomposition)
    return LocalGoals(decomposition @ weights, decomposition)


def self_cosine_distance(previous: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """Self-cosine distance per neuron (rows): 1 - cos(w_prev, w_now), the paper's eq. (4)
    (appendix A.5). ``previous`` and ``current`` (N, D); returns (N,)."""
    return 1.0 - torch.nn.functional.cosine_similarity(previous, current, dim=1)


__all__ = [
    "HIDDEN_RANGE",
    "Generators",
    "LocalGoals",
    "N_BINS",
    "affine",
    "bin_adaptive",
    "bin_fixed",
    "bivariate_activation",
    "linear_activation",
    "local_goals",
    "modulated_activation",
    "sample_spikes",
    "self_cosine_distance",
    "surrogate_spikes",
]
