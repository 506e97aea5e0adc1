"""Exact shared-exclusion PID (I_sx, Makkeh, Gutknecht & Wibral 2021) of a joint PMF.

Redundancy of antichain alpha about target T (the paper's appendix A.2, and Function 4 of its
appendix A.1):

    I_sx(T : alpha) = sum_{s,t} p(s,t) log2 [ P(t, U_alpha(s)) / (P(U_alpha(s)) P(t)) ]

where U_alpha(s) is the event that for at least one set a in alpha all sources in a take their
values in s. The probability of that union is an integer combination of the marginal masses of
source subsets (inclusion-exclusion, ``Lattice.union_coefficients``), so one pass over the
2^n - 1 subset marginals gives every antichain at once. Atoms follow by Moebius inversion
(Function 5 of the paper's appendix A.1, with the order of ``infomorphic.pid.lattice``).

All arithmetic is in float64 torch, so a distribution given as a tensor that requires grad gives
differentiable atoms (``PIDResult.atoms_tensor``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES, Lattice, lattice

PMF_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PointwisePID:
    """Local (pointwise) I_sx quantities of every realisation with non-zero probability.

    ``realisations[r]`` is ``(s_1, ..., s_n, t)`` (indices along the PMF's axes) and
    ``probabilities`` (R,) their masses; the other arrays are float64 (R, m): one row per
    realisation and one column per antichain, in ``PIDResult.labels`` order. The
    informative (``_plus``) and misinformative (``_minus``) parts follow Makkeh et al. (2021):
    i+ = log2 1 / P(U_alpha) and i- = log2 P(t) / P(t, U_alpha), so that i = i+ - i-.
    """

    realisations: list[tuple[int, ...]]
    probabilities: np.ndarray
    redundancies: np.ndarray
    redundancies_plus: np.ndarray
    redundancies_minus: np.ndarray
    atoms: np.ndarray
    atoms_plus: np.ndarray
    atoms_minus: np.ndarray

    def atoms_of(self, realisation: tuple[int, ...]) -> np.ndarray:
        """The (m,) local atoms of one realisation ``(s_1, ..., s_n, t)``."""
        return self.atoms[self.realisations.index(tuple(realisation))]


@dataclass(frozen=True)
class PIDResult:
    """The I_sx decomposition of one distribution, in bits.

    ``labels`` names the m antichains in ``lattice.labels`` order; ``atoms_tensor`` and
    ``redundancies_tensor`` are float64 (m,) in that order and ``target_entropy_tensor`` a
    0-d float64 tensor, all carrying the input's autograd graph. The properties give plain
    floats and ``{label: value}`` dicts.
    """

    lattice: Lattice = field(repr=False)
    labels: tuple[str, ...]
    atoms_tensor: torch.Tensor = field(repr=False)
    redundancies_tensor: torch.Tensor = field(repr=False)
    target_entropy_tensor: torch.Tensor = field(repr=False)
    pointwise: PointwisePID | None = field(default=None, repr=False)

    @property
    def atoms(self) -> dict[str, float]:
        values = self.atoms_tensor.detach().cpu().tolist()
        return dict(zip(self.labels, values, strict=True))

    @property
    def redundancies(self) -> dict[str, float]:
        values = self.redundancies_tensor.detach().cpu().tolist()
        return dict(zip(self.labels, values, strict=True))

    @property
    def mutual_information(self) -> float:
        return float(self.redundancies_tensor[self.lattice.top])

    @property
    def target_entropy(self) -> float:
        return float(self.target_entropy_tensor)

    @property
    def residual_entropy(self) -> float:
        return self.target_entropy - self.mutual_information

    @property
    def residual_entropy_tensor(self) -> torch.Tensor:
        return self.target_entropy_tensor - self.redundancies_tensor[self.lattice.top]

    def goal_vector(self) -> torch.Tensor:
        """(m + 1,) float64: the atoms followed by H_res, the vector a goal's weights multiply
        (the paper's eq. (2) and (3)); differentiable."""
        return torch.cat([self.atoms_tensor, self.residual_entropy_tensor.reshape(1)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "atoms": self.atoms,
            "redundancies": self.redundancies,
            "mutual_information": self.mutual_information,
            "target_entropy": self.target_entropy,
            "residual_entropy": self.residual_entropy,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        width = max(len("antichain"), *(len(label) for label in self.labels))
        rule = "-" * (width + 26)
        lines = [
            f"I_sx PID of {self.lattice.n} sources (bits)",
            rule,
            f"{'antichain':<{width}}  {'redundancy':>11}  {'atom':>11}",
            rule,
        ]
        reds, atoms = self.redundancies, self.atoms
        for label in self.labels:
            lines.append(f"{label:<{width}}  {reds[label]:>11.6f}  {atoms[label]:>11.6f}")
        lines += [
            rule,
            f"{'I(T : all sources)':<{width + 14}}{self.mutual_information:>11.6f}",
            f"{'H(T)':<{width + 14}}{self.target_entropy:>11.6f}",
            f"{'H_res = H(T | sources)':<{width + 14}}{self.residual_entropy:>11.6f}",
        ]
        return "\n".join(lines)


def _as_float64_tensor(p: Any) -> torch.Tensor:
    if isinstance(p, torch.Tensor):
        return p if p.dtype == torch.float64 else p.to(torch.float64)
    try:
        return torch.as_tensor(np.asarray(p, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"p must be a numeric array of probabilities: {exc}") from exc


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
    values = p.detach()
    if torch.isnan(values).any():
        raise ValueError("p contains NaN; every entry must be a probability in [0, 1]")
    if torch.isinf(values).any():
        raise ValueError("p contains infinite values; every entry must be a probability in [0, 1]")
    if (values < 0).any():
        raise ValueError(f"p has negative entries (smallest {values.min().item():.3g})")
    total = values.sum().item()
    if abs(total - 1.0) > PMF_TOLERANCE:
        raise ValueError(
            f"p must sum to 1 (within {PMF_TOLERANCE:g}); it sums to {total:.9g}. "
            "Normalise it, e.g. p / p.sum()"
        )
    return n


def _subset_marginal(p: torch.Tensor, subset: tuple[int, ...], n: int, keep_target: bool):
    """Mass of the event 'sources in subset take these values' (and T=t), broadcastable to p."""
    summed = [axis for axis in range(n) if axis + 1 not in subset]
    if not keep_target:
        summed.append(n)
    return p.sum(dim=summed, keepdim=True) if summed else p


def isx_pid(
    p: Any,
    source_names: list[str] | tuple[str, ...] | None = None,
    pointwise: bool = False,
) -> PIDResult:
    """Shared-exclusion PID of a joint PMF ``p`` with the TARGET AS THE LAST AXIS.

    ``p`` (|S_1|, ..., |S_n|, |T|) with 2 to 4 sources may be a NumPy array, a nested list or
    a torch tensor (grad flows to the atoms); it is computed in float64. ``source_names`` labels
    the atoms (``{F}{CL}``); ``pointwise=True`` adds each realisation's local atoms. Returns a
    ``PIDResult``; raises ``ValueError`` for anything that is not such a PMF.
    """
    p = _as_float64_tensor(p)
    n = check_pmf(p)
    if source_names is not None:
        source_names = tuple(str(name) for name in source_names)
        if len(source_names) != n:
            raise ValueError(f"source_names has {len(source_names)} names but p has {n} sources")
    lat = lattice(n)
    coeff = torch.tensor(lat.union_coefficients, dtype=torch.float64, device=p.device)

    joint_masses = torch.stack([_subset_marginal(p, s, n, True).expand_as(p) for s in lat.subsets])
    source_masses = torch.stack(
        [_subset_marginal(p, s, n, False).expand_as(p) for s in lat.subsets]
    )
    flat = (len(lat.subsets), -1)
    union_joint = (coeff @ joint_masses.reshape(flat)).reshape(len(lat), *p.shape)
    union_source = (coeff @ source_masses.reshape(flat)).reshape(len(lat), *p.shape)
    p_target = p.sum(dim=tuple(range(n)), keepdim=True)

    support = p > 0
    # Where p(s,t) > 0 every union mass is >= p(s,t) > 0; elsewhere the weight is 0, so the
    # logs are replaced by harmless values to keep gradients finite.
    one = torch.ones((), dtype=torch.float64, device=p.device)
    log_joint = torch.log2(torch.where(support, union_joint, one))
    log_source = torch.log2(torch.where(support, union_source, one))
    log_target = torch.log2(torch.where(support, p_target.expand_as(p), one))
    local = log_joint - log_source - log_target  # (n_antichains, *p.shape)
    redundancies = (p * local).reshape(len(lat), -1).sum(dim=1)

    mobius = torch.tensor(lat.mobius, dtype=torch.float64, device=p.device)
    atoms = mobius @ redundancies
    p_t = p_target.reshape(-1)
    target_entropy = -(p_t * torch.log2(torch.where(p_t > 0, p_t, one))).sum()

    pw = None
    if pointwise:
        pw = _pointwise(p, support, local, log_source, log_target, log_joint, lat)
    return PIDResult(
        lattice=lat,
        labels=lat.labels_for(source_names),
        atoms_tensor=atoms,
        redundancies_tensor=redundancies,
        target_entropy_tensor=target_entropy,
        pointwise=pw,
    )


def _pointwise(p, support, local, log_source, log_target, log_joint, lat) -> PointwisePID:
    index = torch.nonzero(support.detach(), as_tuple=False)
    where = tuple(index.T)
    red = local[(slice(None), *where)].T.detach().cpu().numpy()
    plus = (-log_source[(slice(None), *where)]).T.detach().cpu().numpy()
    minus = (log_target[where][None, :] - log_joint[(slice(None), *where)]).T
    minus = minus.detach().cpu().numpy()
    mob = lat.mobius.T.astype(np.float64)
    return PointwisePID(
        realisations=[tuple(int(v) for v in row) for row in index.tolist()],
        probabilities=p.detach()[where].cpu().numpy(),
        redundancies=red,
        redundancies_plus=plus,
        redundancies_minus=minus,
        atoms=red @ mob,
        atoms_plus=plus @ mob,
        atoms_minus=minus @ mob,
    )


__all__ = ["PIDResult", "PointwisePID", "check_pmf", "isx_pid"]
