"""Exact shared-exclusion PID (I_sx, Makkeh, Gutknecht & Wibral 2021) of a joint distribution.

Redundancy of antichain alpha about target T (the paper's appendix A.2, and Function 4 of its
appendix A.1):

    I_sx(T : alpha) = sum_{s,t} p(s,t) log2 [ P(t, U_alpha(s)) / (P(U_alpha(s)) P(t)) ]

where U_alpha(s) is the event that for at least one set a in alpha all sources in a take their
values in s. The probability of that union is an integer combination of the marginal masses of
source subsets (inclusion-exclusion, ``Lattice.union_coefficients``), so one pass over the
2^n - 1 subset marginals gives every antichain at once. Atoms follow by Moebius inversion
(Function 5 of the paper's appendix A.1, with the order of ``infomorphic.pid.lattice``).

Two computations give the same numbers (to float64 rounding): the dense one takes the marginals
of the whole PMF array, the support one (``infomorphic.pid.support``) groups the observed rows.
``isx_pid`` takes a PMF array (dense computation unless told otherwise, ``method``);
``isx_pid_rows`` takes a table of rows (values and probabilities) and computes densely only when
the dense array would be small against the number of rows, so a table with large alphabets never
becomes a dense array.

All arithmetic is in float64 torch, so a distribution given as a tensor that requires grad gives
differentiable atoms (``PIDResult.atoms_tensor``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES, Lattice, lattice
from infomorphic.pid.result import PIDResult, PointwisePID, pointwise_pid
from infomorphic.pid.support import aggregate, support_terms, union_logs

PMF_TOLERANCE = 1e-6
METHODS = ("auto", "dense", "support")
# "auto" computes densely while the dense array has at most DENSE_RATIO cells per observed row
# (a nearly full table). Beyond that the support path is faster (one thread, 2 to 4 sources, a
# few to 20,000 rows: the same time at 2 to 4 cells per row, 4 to 12 times faster at 5 to 20)
# and its memory grows with the rows instead of the cells.
DENSE_RATIO = 2


def _as_float64_tensor(p: Any, name: str = "p") -> torch.Tensor:
    if isinstance(p, torch.Tensor):
        if p.is_complex():
            raise ValueError(f"{name} is complex ({p.dtype}); probabilities must be real numbers")
        return p if p.dtype == torch.float64 else p.to(torch.float64)
    try:
        array = np.asarray(p)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of probabilities: {exc}") from exc
    if np.iscomplexobj(array):
        raise ValueError(f"{name} is complex ({array.dtype}); probabilities must be real numbers")
    try:
        return torch.as_tensor(array.astype(np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of probabilities: {exc}") from exc


def _check_masses(values: torch.Tensor, name: str) -> None:
    """NaN, infinities, negative entries and the sum of probabilities ``values``."""
    values = values.detach()
    if torch.isnan(values).any():
        raise ValueError(f"{name} contains NaN; every entry must be a probability in [0, 1]")
    if torch.isinf(values).any():
        raise ValueError(
            f"{name} contains infinite values; every entry must be a probability in [0, 1]"
        )
    if (values < 0).any():
        raise ValueError(f"{name} has negative entries (smallest {values.min().item():.3g})")
    total = values.sum().item()
    if abs(total - 1.0) > PMF_TOLERANCE:
        raise ValueError(
            f"{name} must sum to 1 (within {PMF_TOLERANCE:g}); it sums to {total:.9g}. "
            f"Normalise it, e.g. {name} / {name}.sum()"
        )


def check_pmf(p: torch.Tensor) -> int:
    """Validate a joint PMF tensor (sources..., target) and return the number of sources n.

    Raises ``ValueError`` saying what is wrong (shape, NaN, infinities, negative entries, sum).
    """
    n = p.ndim - 1
    if not MIN_SOURCES <= n <= MAX_SOURCES:
        raise ValueError(
            f"p must have one axis per source plus the target as the last axis, with "
            f"{MIN_SOURCES} to {MAX_SOURCES} sources; got an array with {p.ndim} axes "
            f"(shape {tuple(p.shape)})"
        )
    if any(size == 0 for size in p.shape):
        raise ValueError(f"p has an empty axis (shape {tuple(p.shape)})")
    _check_masses(p, "p")
    return n


def check_names(
    lat: Lattice, source_names: Any, target_name: Any
) -> tuple[tuple[str, ...] | None, str | None]:
    """The names as strings; ValueError for a wrong number, an empty or repeated name, or names
    that would give two antichains the same label."""
    if source_names is not None:
        if isinstance(source_names, str):
            raise ValueError(
                f"source_names must be a list of names, not the string {source_names!r}"
            )
        source_names = tuple(str(name) for name in source_names)
        if len(source_names) != lat.n:
            raise ValueError(
                f"source_names has {len(source_names)} names but p has {lat.n} sources"
            )
        if any(not name.strip() for name in source_names):
            raise ValueError(f"source_names must not be empty: {list(source_names)}")
        repeated = sorted({name for name in source_names if source_names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"source_names must be distinct; repeated: {', '.join(map(repr, repeated))}"
            )
        labels = lat.labels_for(source_names)
        if len(set(labels)) != len(labels):
            raise ValueError(
                f"source_names {list(source_names)} give two antichains the same label; "
                "use names without ',', '{' or '}'"
            )
    if target_name is not None:
        target_name = str(target_name)
        if not target_name.strip():
            raise ValueError("target_name must not be empty")
        if source_names is not None and target_name in source_names:
            raise ValueError(f"target_name {target_name!r} is also a source name")
    return source_names, target_name


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


def _prefer_dense(cells: int, rows: int) -> bool:
    return cells <= DENSE_RATIO * rows


def isx_pid(
    p: Any,
    source_names: list[str] | tuple[str, ...] | None = None,
    pointwise: bool = False,
    *,
    target_name: str | None = None,
    method: str = "dense",
) -> PIDResult:
    """Shared-exclusion PID of a joint PMF ``p`` with the TARGET AS THE LAST AXIS.

    ``p`` (|S_1|, ..., |S_n|, |T|) with 2 to 4 sources may be a NumPy array, a nested list or
    a torch tensor (grad flows to the atoms); it is computed in float64. ``source_names`` labels
    the atoms (``{F}{CL}``) and, with ``target_name``, the printed table; ``pointwise=True`` adds
    each realisation's local atoms. ``method``: ``"dense"`` (default: marginals of the whole
    array, gradients for every cell), ``"support"`` (only the cells with p > 0, whose gradients
    alone are computed; for large arrays that are mostly zeros) or ``"auto"`` (dense for a tensor
    that requires grad or an array with at most half its cells zero). Returns a ``PIDResult``;
    raises ``ValueError`` for anything that is not such a PMF.
    """
    _check_method(method)
    p = _as_float64_tensor(p)
    n = check_pmf(p)
    lat = lattice(n)
    source_names, target_name = check_names(lat, source_names, target_name)
    if method == "auto":
        dense = p.requires_grad or _prefer_dense(p.numel(), int((p.detach() > 0).sum()))
        method = "dense" if dense else "support"
    if method == "dense":
        return _dense_pid(p, lat, pointwise, source_names, target_name)
    index = torch.nonzero(p.detach() > 0)
    return _support_pid(index, p[tuple(index.T)], lat, pointwise, source_names, target_name)


def _check_values(values: Any) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        if values.dtype.is_floating_point or values.is_complex() or values.dtype == torch.bool:
            raise ValueError(f"values must be integers, got dtype {values.dtype}")
        return values.to(torch.int64)
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise ValueError(f"values must be integers, got dtype {array.dtype}")
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError("values must fit in int64")
    return torch.as_tensor(array.astype(np.int64))


def isx_pid_rows(
    values: Any,
    probabilities: Any,
    source_names: list[str] | tuple[str, ...] | None = None,
    pointwise: bool = False,
    *,
    target_name: str | None = None,
    method: str = "auto",
) -> PIDResult:
    """Shared-exclusion PID of a distribution given as rows: the TARGET IN THE LAST COLUMN.

    ``values`` (R, n + 1) integer: each row's source values then its target value (any
    integers, e.g. indices into alphabets), 2 to 4 sources. ``probabilities`` (R,): each row's
    probability, summing to 1 (array, list or tensor; grad flows to the atoms). Repeated rows
    add up. ``method``: ``"support"`` computes on the distinct rows only, ``"dense"`` builds the
    PMF array over the observed values, ``"auto"`` (default) is dense only while that array is
    small against the number of rows, so that large alphabets cost memory and time in
    proportion to R. With ``pointwise=True`` the realisations are value rows as given, in
    lexicographic order. Returns a ``PIDResult`` like ``isx_pid``; ``ValueError`` for bad input.
    """
    _check_method(method)
    values = _check_values(values)
    if values.ndim != 2 or not MIN_SOURCES <= values.shape[1] - 1 <= MAX_SOURCES:
        raise ValueError(
            f"values must have shape (rows, n_sources + 1) with {MIN_SOURCES} to {MAX_SOURCES} "
            f"sources and the target in the last column; got shape {tuple(values.shape)}"
        )
    probabilities = _as_float64_tensor(probabilities, "probabilities")
    if probabilities.ndim != 1 or probabilities.shape[0] != values.shape[0]:
        raise ValueError(
            f"probabilities must have shape (rows,) = ({values.shape[0]},); "
            f"got {tuple(probabilities.shape)}"
        )
    if values.shape[0] == 0:
        raise ValueError("the table has no rows")
    _check_masses(probabilities, "probabilities")
    lat = lattice(values.shape[1] - 1)
    source_names, target_name = check_names(lat, source_names, target_name)
    values = values.to(probabilities.device)
    if method == "support":
        return _support_pid(values, probabilities, lat, pointwise, source_names, target_name)
    support = aggregate(values, probabilities)
    cells = int(np.prod(support.cards, dtype=np.float64))
    if method == "auto" and not _prefer_dense(cells, support.weights.numel()):
        return _support_pid(support, None, lat, pointwise, source_names, target_name)
    p = support.weights.new_zeros(support.cards).index_put(tuple(support.codes), support.weights)
    result = _dense_pid(p, lat, pointwise, source_names, target_name)
    if pointwise:  # indices along the axes back to the given values
        assert result.pointwise is not None
        alphabets = [a.tolist() for a in support.alphabets]
        realisations = [
            tuple(alphabets[c][k] for c, k in enumerate(r)) for r in result.pointwise.realisations
        ]
        result = _replace_realisations(result, realisations)
    return result


def _replace_realisations(result: PIDResult, realisations) -> PIDResult:
    assert result.pointwise is not None
    return replace(result, pointwise=replace(result.pointwise, realisations=realisations))


def _dense_pid(p, lat, pointwise, source_names, target_name) -> PIDResult:
    n = lat.n
    coeff = torch.tensor(lat.union_coefficients, dtype=torch.float64, device=p.device)
    joint_masses = torch.stack([_subset_marginal(p, s, n, True).expand_as(p) for s in lat.subsets])
    source_masses = torch.stack(
        [_subset_marginal(p, s, n, False).expand_as(p) for s in lat.subsets]
    )
    flat = (len(lat.subsets), -1)
    union_joint = (coeff @ joint_masses.reshape(flat)).reshape(len(lat), *p.shape)
    union_source = (coeff @ source_masses.reshape(flat)).reshape(len(lat), *p.shape)
    p_target = p.sum(dim=tuple(range(n)), keepdim=True)
    # Where p(s,t) > 0 every union mass is >= p(s,t) > 0; elsewhere the weight is 0, so the
    # logs are replaced by harmless values to keep gradients finite.
    log_joint, log_source, log_target = union_logs(union_joint, union_source, p_target, p)
    local = log_joint - log_source - log_target  # (n_antichains, *p.shape)
    redundancies = (p * local).reshape(len(lat), -1).sum(dim=1)
    p_t = p_target.reshape(-1)
    one = torch.ones((), dtype=torch.float64, device=p.device)
    target_entropy = -(p_t * torch.log2(torch.where(p_t > 0, p_t, one))).sum()
    pw = None
    if pointwise:
        index = torch.nonzero(p.detach() > 0)
        where = tuple(index.T)
        every = (slice(None), *where)
        pw = pointwise_pid(
            [tuple(row) for row in index.tolist()],
            p[where],
            log_joint[every],
            log_source[every],
            log_target[where],
            lat,
        )
    return _result(lat, redundancies, target_entropy, pw, source_names, target_name)


def _subset_marginal(p: torch.Tensor, subset: tuple[int, ...], n: int, keep_target: bool):
    """Mass of the event 'sources in subset take these values' (and T=t), broadcastable to p."""
    summed = [axis for axis in range(n) if axis + 1 not in subset]
    if not keep_target:
        summed.append(n)
    return p.sum(dim=summed, keepdim=True) if summed else p


def _support_pid(values, probabilities, lat, pointwise, source_names, target_name) -> PIDResult:
    """On the distinct rows: ``values`` a ``Support``, or rows (R, n + 1) and their masses."""
    support = values if probabilities is None else aggregate(values, probabilities)
    terms = support_terms(support, lat, pointwise)
    pw = None
    if pointwise:
        assert terms.where is not None and terms.log_joint is not None  # asked for: computed
        assert terms.log_source is not None and terms.log_target is not None
        pw = pointwise_pid(
            [tuple(row) for row in support.rows[terms.where].tolist()],
            support.weights[terms.where],
            terms.log_joint,
            terms.log_source,
            terms.log_target,
            lat,
        )
    return _result(lat, terms.redundancies, terms.target_entropy, pw, source_names, target_name)


def _result(lat, redundancies, target_entropy, pw, source_names, target_name) -> PIDResult:
    mobius = torch.tensor(lat.mobius, dtype=torch.float64, device=redundancies.device)
    return PIDResult(
        lattice=lat,
        labels=lat.labels_for(source_names),
        atoms_tensor=mobius @ redundancies,
        redundancies_tensor=redundancies,
        target_entropy_tensor=target_entropy,
        pointwise=pw,
        source_names=source_names,
        target_name=target_name,
    )


__all__ = ["METHODS", "PIDResult", "PointwisePID", "check_pmf", "isx_pid", "isx_pid_rows"]
