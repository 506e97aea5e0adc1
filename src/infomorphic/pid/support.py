"""I_sx on the support: from the observed rows of a distribution, never its dense array.

A distribution given as R rows ``(s_1, ..., s_n, t)`` with probabilities needs no array of
|S_1| x ... x |S_n| x |T| cells: every term of I_sx is an expectation over the rows, and every
mass inside it is the mass of the rows that agree with the realisation on some columns. For each
non-empty source subset b, the rows are grouped by their values on b (and on b and the target);
a row's marginal masses P(s_b) and P(s_b, t) are its groups' summed probabilities. By
inclusion-exclusion (``Lattice.union_coefficients``) those give the union masses P(U_alpha(s))
and P(t, U_alpha(s)) of every antichain at every row, as in the batched estimator
(``infomorphic.pid.batched``), which does the same for neurons. The cost is 2 (2^n - 1) sorts of
R keys and O(m R) arithmetic for m antichains, in blocks of rows, so memory stays O((2^n + m) R)
at most and O(2^n R) without the pointwise values.

Everything is float64 torch: probabilities that carry an autograd graph give differentiable
results. Inputs are assumed valid; ``infomorphic.pid.isx`` checks them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from infomorphic.pid.lattice import Lattice

BLOCK_ELEMENTS = 1 << 20  # (antichain, row) entries per block


class Support(NamedTuple):
    """Distinct rows of a distribution, in lexicographic order of their values.

    ``rows`` (R, n + 1) int64: the distinct rows' values. ``weights`` (R,) float64: each row's
    summed probability (the input's graph kept). ``codes`` (n + 1, R) int64: each value's rank
    among its column's distinct values. ``alphabets``: per column, its distinct values sorted
    (``alphabets[c][codes[c, r]] == rows[r, c]``).
    """

    rows: torch.Tensor
    weights: torch.Tensor
    codes: torch.Tensor
    alphabets: list[torch.Tensor]

    @property
    def cards(self) -> list[int]:
        return [int(a.numel()) for a in self.alphabets]


def _compact(key: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Each key's rank among the distinct keys (order-preserving), and their number."""
    values, inverse = torch.unique(key, sorted=True, return_inverse=True)
    return inverse, int(values.numel())


def _combine(key: torch.Tensor, size: int, code: torch.Tensor, card: int, rows: int):
    """The group key of (key, code) pairs in [0, size * card), compacted when that is large."""
    combined = key * card + code
    if size * card <= 4 * rows:  # a small key space: the key itself is the slot
        return combined, size * card
    return _compact(combined)


def aggregate(values: torch.Tensor, probabilities: torch.Tensor) -> Support:
    """The distinct rows of ``values`` (R0, n + 1) int64 with summed ``probabilities`` (R0,)."""
    alphabets, codes = [], []
    for column in values.T:
        alphabet, code = torch.unique(column, sorted=True, return_inverse=True)
        alphabets.append(alphabet)
        codes.append(code)
    key = codes[0]
    for code, alphabet in zip(codes[1:], alphabets[1:], strict=True):
        key, _ = _compact(key * alphabet.numel() + code)  # stays below R0^2: no overflow
    n_rows = int(key.max()) + 1
    weights = probabilities.new_zeros(n_rows).index_add(0, key, probabilities)
    first = torch.empty(n_rows, dtype=torch.long, device=values.device)
    first.scatter_(0, key, torch.arange(key.numel(), device=values.device))
    return Support(values[first], weights, torch.stack(codes)[:, first], alphabets)


def _group_mass(key: torch.Tensor, size: int, weights: torch.Tensor) -> torch.Tensor:
    """Each row's summed weight over the rows sharing its key: (R,)."""
    return weights.new_zeros(size).index_add(0, key, weights).index_select(0, key)


class SupportTerms(NamedTuple):
    """``redundancies`` (m,) and ``target_entropy`` (0-d), and for ``pointwise`` the rows with
    positive weight: ``where`` (R+,) their indices, ``log_joint``, ``log_source`` (m, R+) and
    ``log_target`` (R+,) (log2 of P(t, U_alpha), P(U_alpha) and P(t))."""

    redundancies: torch.Tensor
    target_entropy: torch.Tensor
    where: torch.Tensor | None = None
    log_joint: torch.Tensor | None = None
    log_source: torch.Tensor | None = None
    log_target: torch.Tensor | None = None


def support_terms(support: Support, lat: Lattice, pointwise: bool = False) -> SupportTerms:
    """The redundancies of every antichain (and pointwise logs) of the distinct ``support``."""
    n = lat.n
    w = support.weights
    codes, cards = support.codes, support.cards
    n_rows = w.numel()
    t_code, t_card = codes[n], cards[n]
    keys: dict[tuple[int, ...], tuple[torch.Tensor, int]] = {}
    source_masses: list[torch.Tensor] = []
    joint_masses: list[torch.Tensor] = []
    with torch.no_grad():  # group keys are integers: nothing to differentiate
        for subset in lat.subsets:
            column = subset[-1] - 1
            if len(subset) == 1:
                keys[subset] = (codes[column], cards[column])
            else:
                keys[subset] = _combine(*keys[subset[:-1]], codes[column], cards[column], n_rows)
    for subset in lat.subsets:
        key, size = keys[subset]
        source_masses.append(_group_mass(key, size, w))
        if len(subset) == n:  # the rows are distinct: each is its own group
            joint_masses.append(w)
        else:
            with torch.no_grad():
                joint_key, joint_size = _combine(key, size, t_code, t_card, n_rows)
            joint_masses.append(_group_mass(joint_key, joint_size, w))
    source_mass = torch.stack(source_masses)  # (S, R)
    joint_mass = torch.stack(joint_masses)
    target_mass = w.new_zeros(t_card).index_add(0, t_code, w)
    one = torch.ones((), dtype=w.dtype, device=w.device)
    target_entropy = -(target_mass * torch.log2(torch.where(target_mass > 0, target_mass, one)))
    p_target = target_mass.index_select(0, t_code)

    coeff = torch.tensor(lat.union_coefficients, dtype=w.dtype, device=w.device)
    block = max(1, BLOCK_ELEMENTS // len(lat))
    redundancies = w.new_zeros(len(lat))
    parts: list[tuple[torch.Tensor, ...]] = []
    for start in range(0, n_rows, block):
        rows = slice(start, start + block)
        wb = w[rows]
        log_joint, log_source, log_target = union_logs(
            coeff @ joint_mass[:, rows], coeff @ source_mass[:, rows], p_target[rows], wb
        )
        redundancies = redundancies + (log_joint - log_source - log_target) @ wb
        if pointwise:
            keep = torch.nonzero(wb.detach() > 0).reshape(-1)
            parts.append(
                (
                    keep + start,
                    log_joint[:, keep],
                    log_source[:, keep],
                    log_target[keep],
                )
            )
    if not pointwise:
        return SupportTerms(redundancies, target_entropy.sum())
    where, log_joint, log_source, log_target = (
        torch.cat([part[k] for part in parts], dim=-1) for k in range(4)
    )
    return SupportTerms(
        redundancies, target_entropy.sum(), where, log_joint, log_source, log_target
    )


def union_logs(union_joint, union_source, p_target, p):
    """log2 P(t, U_alpha) and log2 P(U_alpha) (antichains first, then ``p``'s shape) and
    log2 P(t) (``p``'s shape), with 0 where ``p`` (the realisations' masses) is 0.

    A realisation lies inside its own union events: P(t, U) >= p and P(U) >= P(t, U). Lifting
    the inclusion-exclusion sums to those bounds only removes their float rounding (and keeps the
    logs finite); the lift is a constant for the gradient.
    """
    union_joint = union_joint + (p - union_joint).clamp_min(0).detach()
    union_source = union_source + (union_joint - union_source).clamp_min(0).detach()
    support = p > 0
    one = torch.ones((), dtype=union_joint.dtype, device=union_joint.device)
    log_joint = torch.log2(torch.where(support, union_joint, one))
    log_source = torch.log2(torch.where(support, union_source, one))
    log_target = torch.log2(torch.where(support, p_target, one))
    return log_joint, log_source, log_target


__all__ = ["Support", "SupportTerms", "aggregate", "support_terms", "union_logs"]
