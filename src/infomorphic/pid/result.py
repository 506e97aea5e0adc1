"""What an exact I_sx decomposition returns: ``PIDResult`` and its pointwise part ``PointwisePID``.

Both the dense computation (``isx_pid`` on a PMF array) and the support computation
(``isx_pid_rows`` on the observed rows of a table) return these, so that the printing, JSON and
goal vector of a result do not depend on how it was computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from infomorphic.pid.lattice import Lattice

DECIMALS = 6


def format_bits(value: float, decimals: int = DECIMALS) -> str:
    """``value`` with ``decimals`` places; a value that rounds to zero prints without a sign
    (``0.000000``, never ``-0.000000``)."""
    text = f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":  # every digit is 0: -0.000000 -> 0.000000
        text = text.lstrip("-")
    return text


@dataclass(frozen=True)
class PointwisePID:
    """Local (pointwise) I_sx quantities of every realisation with non-zero probability.

    ``realisations[r]`` is ``(s_1, ..., s_n, t)`` (indices along the PMF's axes for ``isx_pid``,
    the given values for ``isx_pid_rows``; in lexicographic order) and ``probabilities`` (R,)
    their masses; the other arrays are float64 (R, m): one row per realisation and one column
    per antichain, in ``PIDResult.labels`` order. The informative (``_plus``) and
    misinformative (``_minus``) parts follow Makkeh et al. (2021): i+ = log2 1 / P(U_alpha) and
    i- = log2 P(t) / P(t, U_alpha), so that i = i+ - i-.
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


def pointwise_pid(
    realisations: list[tuple[int, ...]],
    probabilities: torch.Tensor,
    log_joint: torch.Tensor,
    log_source: torch.Tensor,
    log_target: torch.Tensor,
    lat: Lattice,
) -> PointwisePID:
    """A ``PointwisePID`` from the logs of each realisation's union masses: ``log_joint`` and
    ``log_source`` (m, R) (log2 P(t, U_alpha), log2 P(U_alpha)) and ``log_target`` (R,)."""
    plus = (-log_source).T.detach().cpu().numpy()
    minus = (log_target[None, :] - log_joint).T.detach().cpu().numpy()
    red = (log_joint - log_source - log_target[None, :]).T.detach().cpu().numpy()
    mob = lat.mobius.T.astype(np.float64)
    return PointwisePID(
        realisations=realisations,
        probabilities=probabilities.detach().cpu().numpy(),
        redundancies=red,
        redundancies_plus=plus,
        redundancies_minus=minus,
        atoms=red @ mob,
        atoms_plus=plus @ mob,
        atoms_minus=minus @ mob,
    )


@dataclass(frozen=True)
class PIDResult:
    """The I_sx decomposition of one distribution, in bits.

    ``labels`` names the m antichains in ``lattice.labels`` order; ``atoms_tensor`` and
    ``redundancies_tensor`` are float64 (m,) in that order and ``target_entropy_tensor`` a
    0-d float64 tensor, all carrying the input's autograd graph. The properties give plain
    floats and ``{label: value}`` dicts. ``source_names`` and ``target_name`` (when given) name
    the variables in the printed table.
    """

    lattice: Lattice = field(repr=False)
    labels: tuple[str, ...]
    atoms_tensor: torch.Tensor = field(repr=False)
    redundancies_tensor: torch.Tensor = field(repr=False)
    target_entropy_tensor: torch.Tensor = field(repr=False)
    pointwise: PointwisePID | None = field(default=None, repr=False)
    source_names: tuple[str, ...] | None = None
    target_name: str | None = None

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
        target = self.target_name or "T"
        names = self.source_names or tuple(f"S{i}" for i in range(1, self.lattice.n + 1))
        sources = ", ".join(names)
        summary = [
            (f"I({target} : {sources})", self.mutual_information),
            (f"H({target})", self.target_entropy),
            (f"H_res = H({target} | {sources})", self.residual_entropy),
        ]
        width = max(len("antichain"), *(len(label) for label in self.labels))
        left = max(width + 14, *(len(text) + 2 for text, _ in summary))
        rule = "-" * max(width + 26, left + 11)
        lines = [
            f"I_sx PID of {self.lattice.n} sources (bits)",
            rule,
            f"{'antichain':<{width}}  {'redundancy':>11}  {'atom':>11}",
            rule,
        ]
        reds, atoms = self.redundancies, self.atoms
        for label in self.labels:
            red, atom = format_bits(reds[label]), format_bits(atoms[label])
            lines.append(f"{label:<{width}}  {red:>11}  {atom:>11}")
        lines.append(rule)
        lines += [f"{text:<{left}}{format_bits(value):>11}" for text, value in summary]
        return "\n".join(lines)


__all__ = [
    "DECIMALS",
    "PIDResult",
    "PointwisePID",
    "format_bits",
    "pointwise_pid",
    "pointwise_records",
    "pointwise_table",
]


# -- a pointwise result as records and as a table (infomorphic pid --pointwise) ---------------
def pointwise_records(
    result: PIDResult,
    sources: Sequence[str],
    target: str,
    alphabets: Mapping[str, Sequence[Any]],
) -> list[dict[str, Any]]:
    """One JSON-ready record per realisation: its values (by name), p and its local atoms."""
    pw = result.pointwise
    assert pw is not None, "the result of a pointwise=True call"
    names = [*sources, target]
    records = []
    for r, realisation in enumerate(pw.realisations):
        records.append(
            {
                "values": {
                    name: alphabets[name][k] for name, k in zip(names, realisation, strict=True)
                },
                "p": float(pw.probabilities[r]),
                "atoms": dict(zip(result.labels, pw.atoms[r].tolist(), strict=True)),
                "atoms_plus": dict(zip(result.labels, pw.atoms_plus[r].tolist(), strict=True)),
                "atoms_minus": dict(zip(result.labels, pw.atoms_minus[r].tolist(), strict=True)),
            }
        )
    return records


def pointwise_table(
    records: list[dict[str, Any]], names: Sequence[str], labels: Sequence[str]
) -> str:
    """The records as a text table: value columns left-aligned, p and the atoms right-aligned
    (to six places, zero without a sign)."""
    header = [*names, "p", *labels]
    rows = [
        [
            *(rec["values"][name] for name in names),
            format_bits(rec["p"]),
            *(format_bits(rec["atoms"][label]) for label in labels),
        ]
        for rec in records
    ]
    widths = [max(len(header[c]), *(len(row[c]) for row in rows)) for c in range(len(header))]
    n_values = len(names)

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if c < n_values else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * len(fmt(header))
    lines = ["Local atoms of each realisation (bits)", rule, fmt(header), rule]
    lines += [fmt(row) for row in rows]
    lines.append(rule)
    return "\n".join(lines)
