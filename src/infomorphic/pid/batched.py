"""The plug-in I_sx estimator used in training: many neurons, one batch, no dense histogram.

For neuron j the plug-in joint is p(s, t) = (1/B) sum_i [s_i = s] probs_i(t): the batch's
histogram of binned sources times the neuron's own p(t | s) per sample (the paper's section 4,
"Discretization and local gradients", and Functions 2 and 3 of its appendix A.1). Every term of
I_sx is an expectation under it, and everything inside the expectation depends on a sample only
through its joint bin key s_i, so the estimator works on the distinct keys ("groups") of each
neuron instead of on the samples:

    I_sx(alpha) = H(T) + (1/B) sum_g sum_t Theta_g(t) log2 [ U_alpha(g, t) / U_alpha(g) ]

where Theta_g(t) is the summed probability of T = t over the samples of group g, and
U_alpha(g, t) the mass of T = t in the union event of alpha seen from group g. By
inclusion-exclusion U_alpha is an integer combination of the masses of the groups that agree
with g on each non-empty source subset; those come from one scatter-add and one gather over
subset keys. Only the first scatter (samples to groups) and its gradient touch all B * N
samples; the rest costs O(G * 2^n) for G groups (in training G is a few percent of B * N, and
at most B * N). No n_bins^n grid is ever built. The source counts are constants (no gradient):
goals are differentiated with respect to p(t | s) only (the paper's appendix A.1).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import torch

from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES, lattice

ROW_SUM_TOLERANCE = 1e-6
CPU_BLOCK_ELEMENTS = 1 << 20  # (antichain, group, target) entries per block on the CPU


def check_batched_inputs(bins: torch.Tensor, probs: torch.Tensor, n_bins: int) -> None:
    """Raise a ValueError that says what is wrong with the estimator's inputs.

    ``bins`` (n_sources, B, N) integer, values in [0, n_bins); ``probs`` (B, N, K) floating,
    each row in [0, 1] and summing to 1. Returns None when they are valid.
    """
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
    if isinstance(n_bins, bool) or not _is_integer(n_bins) or int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
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


_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _is_integer(value: object) -> bool:
    """An int (numpy and 0-d integer tensors included), not a float, bool or string."""
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and value.dtype in _INTEGER_DTYPES
    try:
        operator.index(value)  # type: ignore[arg-type]  # any object: TypeError if not whole
    except TypeError:
        return False
    return True


# The lattice's constants are built in NumPy once per n and kept as nested tuples of integers
# in a plain dict, so that torch.compile reads them as constants (it would trace the NumPy
# construction, and past an lru_cache) and makes the tensors inside the graph; eager code reuses
# cached tensors. n = 2 and 3 (every neuron of the paper) are built at import (a few ms); n = 4
# on its first eager call, which must come before compiling an n = 4 estimator.
_CONSTANTS: dict[int, dict[str, tuple]] = {}


def _lattice_constants(n: int) -> dict[str, tuple]:
    """``coefficients`` (inclusion-exclusion, antichains x subsets), ``mobius_t``, and
    ``shape``: the number of antichains, the non-empty source subsets, the top's index."""
    if n not in _CONSTANTS:
        if torch.compiler.is_compiling():  # dynamo cannot trace the lattice's construction
            raise RuntimeError(
                f"the {n}-source lattice constants are built on the first eager call: run "
                f"isx_pid_batched once on {n} sources without torch.compile before compiling it"
            )
        lat = lattice(n)

        def rows(matrix) -> tuple[tuple[int, ...], ...]:
            return tuple(tuple(int(v) for v in row) for row in matrix)

        _CONSTANTS[n] = {
            "coefficients": rows(lat.union_coefficients),
            "mobius_t": rows(lat.mobius.T),
            "shape": (len(lat), tuple(lat.subsets), lat.top),
        }
    return _CONSTANTS[n]


for _n in (2, 3):
    _lattice_constants(_n)


@cache
def _cached_matrix(name: str, n: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.tensor(_lattice_constants(n)[name], dtype=dtype, device=device)


def _matrix(name: str, n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``coefficients`` or ``mobius_t`` of ``_lattice_constants`` as a tensor."""
    if torch.compiler.is_compiling():
        return torch.tensor(_lattice_constants(n)[name], dtype=dtype, device=device)
    return _cached_matrix(name, n, dtype, str(device))


class BatchedPID(NamedTuple):
    """The batched estimators' result, one row per neuron, in bits; unpacks as
    ``atoms, h_res = ...``.

    ``atoms`` (N, n_atoms): the I_sx atoms in ``lattice(n).labels`` order. ``h_res`` (N,): the
    residual entropy H(T | sources).
    """

    atoms: torch.Tensor
    h_res: torch.Tensor


@dataclass(frozen=True)
class GroupStructure:
    """The constant part of the estimator for one batch: who agrees with whom.

    ``inverse`` (B * N,): each sample's group (its neuron and joint bin key), in [0, G).
    ``slots`` (S * G,): for every non-empty source subset (``lattice.subsets`` order) and group,
    its slot in one flat buffer of ``n_slots`` entries shared by all subsets, so that groups
    agreeing on that subset share a slot. ``group_neuron`` (G,): each group's neuron.
    ``count`` (G,): samples in each group (0 for the padding of ``fixed_shapes``).
    ``union_count`` (n_antichains, G): samples in each group's union event of each antichain.
    """

    inverse: torch.Tensor
    slots: torch.Tensor
    n_slots: int
    group_neuron: torch.Tensor
    count: torch.Tensor
    union_count: torch.Tensor


def group_structure(
    bins: torch.Tensor, n_bins: int, dtype: torch.dtype, fixed_shapes: bool = False
) -> GroupStructure:
    """Group each neuron's samples by joint bin key (one sort of B * N keys), then the groups by
    each subset key (direct slots where the subset's key space is small, else sorts of G keys).

    ``bins`` (n_sources, B, N) as for ``isx_pid_batched``; ``dtype`` is that of the counts.
    Returns a ``GroupStructure`` (computed without gradient).

    ``fixed_shapes``: every tensor's shape depends only on the input shapes, never on the data
    (G is padded to B * N with empty groups, and no ``torch.unique``), which is what
    ``torch.compile(fullgraph=True)`` and CUDA graphs need. The padding groups hold no samples
    and contribute exactly zero.
    """
    n, batch, neurons = bins.shape
    n = int(n)  # a constant for torch.compile even with dynamic shapes: it picks the lattice
    _, subsets, _ = _lattice_constants(n)["shape"]
    space = n_bins**n
    # int32 keys where they fit: sorting them is a quarter faster than sorting int64 ones
    key_dtype = torch.int32 if neurons * space < 2**31 else torch.int64
    key = bins[0].to(key_dtype)
    for source in range(1, n):
        key = key * n_bins + bins[source].to(key_dtype)
    neuron = torch.arange(neurons, device=bins.device, dtype=key_dtype)
    global_key = (key + neuron * space).reshape(-1)  # sample order (B, N) row-major
    compact = _compact_fixed if fixed_shapes else _compact_unique
    unique, inverse, counts = compact(global_key, counts=True)
    n_groups = unique.numel()
    group_neuron = unique // space
    digits = [(unique // n_bins ** (n - 1 - j)) % n_bins for j in range(n)]  # source j+1

    parts, offset = [], 0
    for subset in subsets:
        sub_space = n_bins ** len(subset)
        if len(subset) == n:
            slot, size = torch.arange(n_groups, device=bins.device), n_groups
        else:
            sub_key = group_neuron.clone()
            for source in subset:
                sub_key = sub_key * n_bins + digits[source - 1]
            if sub_space <= batch:  # small key space: the key is the slot, no sort needed
                slot, size = sub_key, neurons * sub_space
            else:
                values, slot, _ = compact(sub_key, counts=False)
                size = values.numel()
        parts.append(slot + offset)
        offset += size
    slots = torch.cat(parts).long()  # n_slots can exceed the int32 key range
    count = counts.to(dtype)
    subset_counts = _gather_sums(slots, offset, count)  # (S, G)
    union_count = _matrix("coefficients", n, dtype, bins.device) @ subset_counts
    if fixed_shapes:  # padding groups hold no samples; a count of 1 keeps their logs finite
        union_count = union_count.clamp_min(1)
    return GroupStructure(inverse, slots, offset, group_neuron, count, union_count)


def _compact_unique(keys: torch.Tensor, counts: bool):
    """Distinct keys, each key's index among them, and (if asked) their multiplicities."""
    if counts:
        return torch.unique(keys, return_inverse=True, return_counts=True)
    values, inverse = torch.unique(keys, return_inverse=True)
    return values, inverse, None


def _compact_fixed(keys: torch.Tensor, counts: bool):
    """``_compact_unique`` with outputs of ``keys``' own size: distinct keys first, in sorted
    order, then padding (key 0, count 0); data-independent shapes, no host synchronisation."""
    ordered, order = torch.sort(keys)
    starts = torch.ones_like(ordered, dtype=torch.bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    rank = torch.cumsum(starts, 0) - 1  # each sorted key's group
    inverse = torch.empty_like(rank).scatter_(0, order, rank)
    values = torch.zeros_like(ordered).scatter_(0, rank, ordered)
    multiplicity = torch.zeros_like(ordered).scatter_add_(0, rank, torch.ones_like(ordered))
    return values, inverse, multiplicity if counts else None


def _gather_sums(slots: torch.Tensor, n_slots: int, values: torch.Tensor) -> torch.Tensor:
    """For each subset and group, the sum of ``values`` (G, ...) over the groups in its slot."""
    n_subsets = slots.numel() // values.shape[0]
    repeated = values.repeat(n_subsets, *([1] * (values.ndim - 1)))
    buffer = values.new_zeros(n_slots, *values.shape[1:]).index_add_(0, slots, repeated)
    return buffer.index_select(0, slots).reshape(n_subsets, *values.shape)


def isx_pid_batched(
    bins: torch.Tensor,
    probs: torch.Tensor,
    n_bins: int,
    check_inputs: bool = True,
    fixed_shapes: bool = False,
) -> BatchedPID:
    """Plug-in I_sx atoms of N neurons from one batch.

    ``bins`` (n_sources, B, N): integer bin indices in [0, n_bins), 2 to 4 sources. ``probs``
    (B, N, K): each sample's distribution over the K target values. Returns a ``BatchedPID``
    ``(atoms, h_res)``: ``atoms`` (N, n_atoms) in ``lattice(n).labels`` order and the residual
    entropy H(T | sources) (N,), in bits, in the dtype of ``probs`` and differentiable with
    respect to it. ``check_inputs=False`` skips validation (hot loops).
    ``fixed_shapes=True`` pads the groups to B * N so that no shape depends on the data (for
    ``torch.compile`` and CUDA graphs); same result, more work.
    """
    if check_inputs:
        check_batched_inputs(bins, probs, n_bins)
    with torch.no_grad():
        groups = group_structure(bins, n_bins, probs.dtype, fixed_shapes)
    flat = probs.reshape(-1, probs.shape[-1])
    # One 1-D scatter per target value: index_add of (B * N, K) rows, and above all its
    # backward, is several times slower on the CPU than K scatters of columns.
    theta = torch.stack([_group_sum(groups, flat[:, t]) for t in range(flat.shape[1])], dim=-1)
    return _atoms_from_groups(groups, theta, probs.mean(dim=0), bins.shape)


def isx_pid_binary(
    bins: torch.Tensor,
    theta: torch.Tensor,
    n_bins: int,
    check_inputs: bool = True,
    fixed_shapes: bool = False,
) -> BatchedPID:
    """``isx_pid_batched`` for binary targets: ``theta`` (B, N) is each sample's probability of
    the first target value (a neuron firing), i.e. probs = (theta, 1 - theta).

    Returns a ``BatchedPID`` ``(atoms (N, n_atoms), h_res (N,))`` as ``isx_pid_batched`` does,
    in the dtype of ``theta`` and differentiable with respect to ``theta``.
    """
    if check_inputs:
        if not isinstance(theta, torch.Tensor) or theta.ndim != 2:
            shape = tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__
            raise ValueError(f"theta must be a tensor of shape (B, N), got {shape}")
        check_batched_inputs(bins, torch.stack([theta, 1 - theta], dim=-1), n_bins)
    with torch.no_grad():
        groups = group_structure(bins, n_bins, theta.dtype, fixed_shapes)
    # Only the firing probability is scattered; a group's mass of not firing is its sample
    # count minus that (half the B * N work of scattering both columns). The sums and the
    # difference are taken in float64: in float32 the difference loses the digits of a nearly
    # saturated group's small mass, and with them the gradient's accuracy.
    fired = _group_sum(groups, theta.reshape(-1).double())
    group_theta = torch.stack([fired, groups.count.double() - fired], dim=-1).to(theta.dtype)
    rate = theta.mean(dim=0)
    return _atoms_from_groups(groups, group_theta, torch.stack([rate, 1 - rate], -1), bins.shape)


def _group_sum(groups: GroupStructure, values: torch.Tensor) -> torch.Tensor:
    """Sum of per-sample ``values`` (B * N,) over each group: (G,)."""
    return values.new_zeros(groups.count.shape).scatter_add(0, groups.inverse, values)


def _atoms_from_groups(
    groups: GroupStructure, theta: torch.Tensor, p_target: torch.Tensor, bins_shape: torch.Size
) -> BatchedPID:
    """The atoms and H(T | sources) from each group's summed target probabilities ``theta``
    (G, K) and the batch's target distribution ``p_target`` (N, K)."""
    n, batch, neurons = bins_shape
    n = int(n)  # a constant for torch.compile even with dynamic shapes: it picks the lattice
    n_groups, k = theta.shape
    n_antichains, _, top = _lattice_constants(n)["shape"]
    dtype, device = theta.dtype, theta.device
    masses = _gather_sums(groups.slots, groups.n_slots, theta)  # (S, G, K)
    coeff = _matrix("coefficients", n, dtype, device)
    log_count = torch.log2(groups.union_count)
    # On the CPU the (n_antichains, G, K) work goes in blocks of groups: tensors of a few MB are
    # recycled by the allocator, while larger ones are fresh pages that the kernel must zero
    # on every step (that cost more than the arithmetic). The GPU's caching allocator needs none.
    block = n_groups if device.type != "cpu" else max(1, CPU_BLOCK_ELEMENTS // (n_antichains * k))
    blocks = zip(
        masses.split(block, dim=1), theta.split(block), log_count.split(block, dim=1), strict=True
    )
    per_group = torch.cat([_expected_log_ratio(coeff, *parts) for parts in blocks], dim=1)
    expected = per_group.new_zeros(n_antichains, neurons)
    expected = expected.index_add(1, groups.group_neuron, per_group)

    tiny = torch.finfo(dtype).tiny
    target_entropy = -(p_target * torch.log2(p_target.clamp_min(tiny))).sum(dim=-1)
    redundancies = target_entropy[None, :] + expected / batch  # (n_antichains, N)
    atoms = redundancies.T @ _matrix("mobius_t", n, dtype, device)
    return BatchedPID(atoms, target_entropy - redundancies[top])


def _expected_log_ratio(coeff, masses, theta, log_count) -> torch.Tensor:
    """sum_t Theta_g(t) log2 [U_alpha(g, t) / U_alpha(g)] for a block of groups: (A, G)."""
    union = torch.einsum("as,sgk->agk", coeff, masses)
    # A group lies inside its own union events: U >= Theta. Lifting U to that bound only removes
    # float rounding of the inclusion-exclusion sum (and keeps the logs finite); the lift is a
    # constant for the gradient.
    union = union + (theta - union).clamp_min(0).detach()
    log_ratio = torch.log2(union.clamp_min(torch.finfo(union.dtype).tiny)) - log_count[..., None]
    return (log_ratio * theta).sum(dim=-1)


__all__ = [
    "BatchedPID",
    "GroupStructure",
    "check_batched_inputs",
    "group_structure",
    "isx_pid_batched",
    "isx_pid_binary",
]
