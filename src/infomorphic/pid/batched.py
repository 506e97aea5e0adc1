"""The plug-in I_sx estimator used in training: many neurons, one batch, no dense histogram.

For neuron j the plug-in joint is p(s, t) = (1/B) sum_i [s_i = s] probs_i(t). Every term of
I_sx is an expectation under it, so it can be evaluated at the samples themselves:

    I_sx(alpha) = H(T) + (1/B) sum_i sum_t probs_i(t) log2 [ U_alpha(s_i, t) / U_alpha(s_i) ]

where U_alpha(s_i, t) is the probability mass (per target value) of the samples in the union
event of alpha seen from sample i. By inclusion-exclusion it is an integer combination of the
masses of the samples that agree with sample i on each non-empty source subset, and those come
from one scatter-add and one gather over joint bin keys per subset. The cost is O(B N 2^n), and
no n_bins^n grid is ever built per neuron. The source counts are constants (no gradient).
"""

from __future__ import annotations

import math
from functools import cache

import torch

from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES, lattice

ROW_SUM_TOLERANCE = 1e-6


def check_batched_inputs(bins: torch.Tensor, probs: torch.Tensor, n_bins: int) -> None:
    """Raise a ValueError that says what is wrong with the estimator's inputs."""
    if not isinstance(bins, torch.Tensor) or not isinstance(probs, torch.Tensor):
        raise ValueError("bins and probs must be torch tensors")
    if bins.dtype.is_floating_point or bins.dtype == torch.bool or bins.is_complex():
        raise ValueError(f"bins must be an integer tensor of bin indices, got dtype {bins.dtype}")
    if bins.ndim != 3:
        raise ValueError(
            f"bins must have shape (n_sources, B, N), got {tuple(bins.shape)} "
            f"({bins.ndim} dimensions)"
        )
    n = bins.shape[0]
    if not MIN_SOURCES <= n <= MAX_SOURCES:
        raise ValueError(f"I_sx needs {MIN_SOURCES} to {MAX_SOURCES} sources, got {n}")
    if probs.ndim != 3:
        raise ValueError(f"probs must have shape (B, N, K), got {tuple(probs.shape)}")
    if tuple(probs.shape[:2]) != tuple(bins.shape[1:]):
        raise ValueError(
            f"bins (n_sources, B, N) = {tuple(bins.shape)} and probs (B, N, K) = "
            f"{tuple(probs.shape)} disagree on B or N"
        )
    if probs.shape[0] == 0 or probs.shape[1] == 0 or probs.shape[2] < 1:
        raise ValueError(f"probs must be non-empty, got shape {tuple(probs.shape)}")
    if not probs.dtype.is_floating_point:
        raise ValueError(f"probs must be floating point, got {probs.dtype}")
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    lo, hi = int(bins.min()), int(bins.max())
    if lo < 0 or hi >= n_bins:
        raise ValueError(f"bins must lie in [0, n_bins) = [0, {n_bins}); found {lo} to {hi}")
    values = probs.detach()
    if torch.isnan(values).any():
        raise ValueError("probs contains NaN")
    if (values < 0).any() or (values > 1).any():
        raise ValueError("probs must lie in [0, 1]")
    worst = (values.sum(dim=-1) - 1).abs().max().item()
    if worst > ROW_SUM_TOLERANCE:
        raise ValueError(
            f"each row of probs (one sample's distribution over the K target values) must sum "
            f"to 1; the worst row is off by {worst:.3g}"
        )


@cache
def _coefficients(n: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.tensor(lattice(n).union_coefficients, dtype=dtype, device=device)


@cache
def _mobius_t(n: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.tensor(lattice(n).mobius.T, dtype=dtype, device=device)


def subset_group_index(
    bins: torch.Tensor, subset: tuple[int, ...], n_bins: int
) -> tuple[torch.Tensor, int]:
    """Index (B, N) into a flat buffer that is equal exactly for samples of the same neuron that
    agree on the sources in ``subset`` (numbered from 1); also returns the buffer's size.

    Small key spaces use the joint bin key directly; larger ones (n_bins^|subset| > B) are
    compacted per neuron by sorting, so memory stays O(B N) whatever the number of bins.
    """
    _, batch, neurons = bins.shape
    key = bins[subset[0] - 1].long()
    for source in subset[1:]:
        key = key * n_bins + bins[source - 1]
    neuron = torch.arange(neurons, device=bins.device)
    space = n_bins ** len(subset)
    if space <= batch:
        return key + neuron * space, neurons * space
    sorted_keys, order = torch.sort(key.T, dim=1)  # (N, B)
    starts = torch.ones_like(sorted_keys, dtype=torch.long)
    starts[:, 1:] = (sorted_keys[:, 1:] != sorted_keys[:, :-1]).long()
    starts[:, 0] = 0
    group = torch.cumsum(starts, dim=1)
    compact = torch.empty_like(group).scatter_(1, order, group)  # back to sample order
    return (compact + neuron[:, None] * batch).T, neurons * batch


def group_structure(bins: torch.Tensor, n_bins: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The constant part of the estimator, computed once per batch (no gradient).

    Returns ``index`` (S * B * N,): for every non-empty source subset (in ``lattice.subsets``
    order) and sample, its slot in one flat buffer shared by all subsets, so a single
    scatter-add and gather serve them all; ``union_count`` (n_antichains, B * N): the number
    of samples in each sample's union event of each antichain; and the buffer ``size``.
    """
    n, batch, neurons = bins.shape
    lat = lattice(n)
    parts, offset = [], 0
    for subset in lat.subsets:
        index, size = subset_group_index(bins, subset, n_bins)
        parts.append(index.reshape(-1) + offset)
        offset += size
    index = torch.cat(parts)
    counts = torch.bincount(index, minlength=offset)[index].reshape(len(parts), -1)
    coeff = _coefficients(n, torch.float64 if bins.device.type == "cpu" else torch.float32,
                          str(bins.device))  # fmt: skip
    union_count = coeff @ counts.to(coeff.dtype)  # exact small integers
    return index, union_count, offset


def _subset_masses(index: torch.Tensor, size: int, values: torch.Tensor) -> torch.Tensor:
    """Sum of ``values`` (B*N, ...) over the samples that share each sample's slot, per subset."""
    n_subsets = index.numel() // values.shape[0]
    repeated = values.repeat(n_subsets, *([1] * (values.ndim - 1)))
    buffer = values.new_zeros(size, *values.shape[1:]).index_add_(0, index, repeated)
    return buffer[index].reshape(n_subsets, *values.shape)


def isx_pid_batched(
    bins: torch.Tensor, probs: torch.Tensor, n_bins: int, check_inputs: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Plug-in I_sx atoms of N neurons from one batch.

    ``bins`` (n_sources, B, N): integer bin indices in [0, n_bins). ``probs`` (B, N, K): each
    sample's distribution over the K target values. Returns ``atoms`` (N, n_atoms) in
    ``lattice(n).labels`` order and the residual entropy H(T | sources) (N,), in bits,
    differentiable with respect to ``probs``. ``check_inputs=False`` skips validation (hot loops).
    """
    if check_inputs:
        check_batched_inputs(bins, probs, n_bins)
    n, batch, neurons = bins.shape
    k = probs.shape[-1]
    lat = lattice(n)
    dtype, device = probs.dtype, probs.device
    with torch.no_grad():
        index, union_count, size = group_structure(bins, n_bins)
    flat_probs = probs.reshape(batch * neurons, k)
    joint = _subset_masses(index, size, flat_probs)  # (S, B*N, K)

    coeff = _coefficients(n, dtype, str(device))
    tiny = torch.finfo(dtype).tiny
    union_joint = torch.einsum("as,sik->aik", coeff, joint)
    log_count = torch.log2(union_count.to(dtype))  # >= 1 sample: each is in its own events
    log_ratio = torch.log2(union_joint.clamp_min(tiny)) - log_count[..., None]
    weighted = (log_ratio * flat_probs).reshape(len(lat), batch, neurons, k).sum(dim=(1, 3))

    p_target = probs.mean(dim=0)  # (N, K)
    target_entropy = -(p_target * torch.log2(p_target.clamp_min(tiny))).sum(dim=-1)
    return _atoms(lat, target_entropy, weighted / batch, dtype, device)


def isx_pid_binary(
    bins: torch.Tensor, theta: torch.Tensor, n_bins: int, check_inputs: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """``isx_pid_batched`` for a binary target: ``theta`` (B, N) is each sample's probability
    of the first target value (the neuron firing), i.e. probs = (theta, 1 - theta).

    The mass of the second value is the sample count minus that of the first, so only one
    value per sample is scattered, and the gradient is written out by hand (one more
    scatter-add and gather) instead of being taped op by op: the training hot path.
    """
    if check_inputs:
        check_batched_inputs(bins, torch.stack([theta, 1 - theta], dim=-1), n_bins)
    with torch.no_grad():
        index, union_count, size = group_structure(bins, n_bins)
    return _BinaryIsx.apply(theta, index, union_count, size, bins.shape[0])


class _BinaryIsx(torch.autograd.Function):
    """Binary-target I_sx with a hand-written backward.

    With U1 / U0 the masses of T = first / second value in a sample's union event and Uc its
    sample count, E_alpha = (1/B) sum_i [theta_i log2 U1_i + (1 - theta_i) log2 U0_i - log2 Uc_i]
    and, since U0 = Uc - U1 and dU1_i / dtheta_j = sum_b C[alpha, b] [j agrees with i on b],

        dE_alpha / dtheta_j = (1/B) [log2 U1_j - log2 U0_j
                                     + sum_b C[alpha, b] sum_{i agreeing with j on b} r_i],
        r_i = (theta_i / U1_i - (1 - theta_i) / U0_i) / ln 2.
    """

    @staticmethod
    def forward(ctx, theta, index, union_count, size, n_sources):
        batch, neurons = theta.shape
        lat = lattice(n_sources)
        dtype, device = theta.dtype, theta.device
        flat = theta.reshape(batch * neurons)
        silent = 1 - flat
        joint = _subset_masses(index, size, flat)  # (S, B*N)
        coeff = _coefficients(n_sources, dtype, str(device))
        tiny = torch.finfo(dtype).tiny
        count = union_count.to(dtype)
        # Each sample lies in its own union events, so U1 >= theta_i and U0 >= 1 - theta_i;
        # clamping to those bounds only removes float rounding (U0 comes from a difference).
        fire = torch.maximum(coeff @ joint, flat)
        quiet = torch.maximum(count - fire, silent)
        log_fire = torch.log2(fire.clamp_min(tiny))
        log_quiet = torch.log2(quiet.clamp_min(tiny))
        log_diff = log_fire - log_quiet
        terms = flat * log_diff + log_quiet - torch.log2(count)
        expected = terms.reshape(len(lat), batch, neurons).sum(dim=1) / batch
        p_fire = theta.mean(dim=0)
        p_quiet = 1 - p_fire
        target_entropy = -(
            p_fire * torch.log2(p_fire.clamp_min(tiny))
            + p_quiet * torch.log2(p_quiet.clamp_min(tiny))
        )
        atoms, residual = _atoms(lat, target_entropy, expected, dtype, device)
        if ctx.needs_input_grad[0]:
            ratio = (flat / fire.clamp_min(tiny) - silent / quiet.clamp_min(tiny)) / math.log(2)
            entropy_slope = torch.log2(p_quiet.clamp_min(tiny) / p_fire.clamp_min(tiny))
            ctx.save_for_backward(index, log_diff, ratio, entropy_slope)
            ctx.size, ctx.lat, ctx.shape = size, lat, (batch, neurons)
        return atoms, residual

    @staticmethod
    def backward(ctx, grad_atoms, grad_residual):
        index, log_diff, ratio, entropy_slope = ctx.saved_tensors
        lat, (batch, neurons) = ctx.lat, ctx.shape
        dtype, device = log_diff.dtype, log_diff.device
        if grad_atoms is None:
            grad_atoms = log_diff.new_zeros(neurons, len(lat))
        if grad_residual is None:
            grad_residual = log_diff.new_zeros(neurons)
        # atoms = red.T @ mobius.T and H_res = H - red[top]; every red_alpha = H + E_alpha.
        grad_red = (grad_atoms @ _mobius_t(lat.n, dtype, str(device)).T).T.contiguous()
        grad_red[lat.top] -= grad_residual
        grad_entropy = grad_red.sum(dim=0) + grad_residual  # (N,)
        weight = grad_red[:, None, :].expand(-1, batch, -1).reshape(len(lat), -1)  # (A, B*N)
        direct = (weight * log_diff).sum(dim=0)
        spread = _coefficients(lat.n, dtype, str(device)).T @ (weight * ratio)  # (S, B*N)
        buffer = spread.new_zeros(ctx.size).index_add_(0, index, spread.reshape(-1))
        through_masses = buffer[index].reshape(spread.shape).sum(dim=0)
        grad = (direct + through_masses).reshape(batch, neurons) + grad_entropy * entropy_slope
        return grad / batch, None, None, None, None


def _atoms(lat, target_entropy, expected_log_ratio, dtype, device):
    redundancies = target_entropy[None, :] + expected_log_ratio  # (n_antichains, N)
    atoms = redundancies.T @ _mobius_t(lat.n, dtype, str(device))
    return atoms, target_entropy - redundancies[lat.top]


__all__ = [
    "check_batched_inputs",
    "group_structure",
    "isx_pid_batched",
    "isx_pid_binary",
    "subset_group_index",
]
