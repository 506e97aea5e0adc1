"""The redundancy lattice of n sources: antichains, their order and its Moebius inversion.

Sources are numbered 1..n. An antichain is a tuple of source subsets (each a sorted tuple of
source numbers) none of which contains another. The Williams-Beer order used throughout is

    beta <= alpha  iff  every set in alpha contains some set of beta,

so the bottom is {1}{2}...{n} (redundancy of all sources) and the top is {12...n} (the joint
mutual information). The paper's appendix A.1 (Function 5) writes this inclusion the other way
round; the order here is the one under which its consistency equations, eq. (5) and (6) of
appendix A.7, hold (docs/protocol.md). Everything here is derived from first principles and
cached in memory.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cache, cached_property

import numpy as np

Subset = tuple[int, ...]
Antichain = tuple[Subset, ...]

MIN_SOURCES = 2
MAX_SOURCES = 4

# Goal vectors are read in this order (docs/protocol.md). For n = 3 the general rule below
# (bottom-up by set sizes) gives the order of the paper's Table 2 (appendix A.8); the bivariate
# order {1}, {2}, {1}{2}, {12} is the authors' published configuration's, the one in which the
# paper's Table 1 output goal (-0.2, 0.1, 1.0, 0.1, 0.0) puts its 1.0 on the redundancy, so n = 2
# is explicit.
_BIVARIATE_ORDER: tuple[Antichain, ...] = (((1,),), ((2,),), ((1,), (2,)), ((1, 2),))


def _sort_sets(sets: tuple[Subset, ...]) -> Antichain:
    return tuple(sorted(sets, key=lambda s: (len(s), s)))


def _order_key(antichain: Antichain, n: int) -> tuple:
    # Set sizes ascending, padded with n+1 so that fewer sets of the same sizes come later:
    # {1}{2}{3} < {1}{2} < {1}{23} < {1} < {12}{13}{23} < {12}{13} < {12} < {123}.
    sizes = [len(s) for s in antichain] + [n + 1] * (2**n - len(antichain))
    return (tuple(sizes), antichain)


def _is_antichain(sets: tuple[Subset, ...]) -> bool:
    as_sets = [frozenset(s) for s in sets]
    return not any(a < b or b < a for a, b in itertools.combinations(as_sets, 2))


def _precedes(beta: Antichain, alpha: Antichain) -> bool:
    """beta <= alpha: every set in alpha contains some set of beta."""
    return all(any(set(b) <= set(a) for b in beta) for a in alpha)


def format_antichain(antichain: Antichain, source_names: tuple[str, ...] | None = None) -> str:
    """Canonical label such as ``{1}{23}``; with names, ``{F}{CL}`` (``{X1,X2}`` for long names)."""
    if source_names is None:
        return "".join("{" + "".join(str(i) for i in s) + "}" for s in antichain)
    sep = "" if all(len(name) == 1 for name in source_names) else ","
    return "".join("{" + sep.join(source_names[i - 1] for i in s) + "}" for s in antichain)


@dataclass(frozen=True)
class Lattice:
    """The lattice of antichains for ``n`` sources, in the project's fixed order.

    With m antichains (4, 18 or 166) and 2^n - 1 non-empty source subsets:
    ``antichains[k]`` is the k-th antichain and ``labels[k]`` its canonical label (length m);
    ``zeta`` (m, m) int64 has ``zeta[a, b] = 1`` iff antichain b <= antichain a (so
    redundancies = zeta @ atoms) and ``mobius`` (m, m) int64 is its exact inverse
    (atoms = mobius @ redundancies); ``subsets`` lists the source subsets in the column order of
    ``union_coefficients`` (m, 2^n - 1). The arrays are read-only.
    """

    n: int
    antichains: tuple[Antichain, ...]
    subsets: tuple[Subset, ...] = field(repr=False)

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """Canonical labels such as ``{1}{23}``, one per antichain (length m)."""
        return tuple(format_antichain(a) for a in self.antichains)

    def labels_for(self, source_names: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
        """``labels`` with the sources named (``{F}{CL}``); ``labels`` itself for ``None``."""
        if source_names is None:
            return self.labels
        names = tuple(source_names)
        return tuple(format_antichain(a, names) for a in self.antichains)

    def __len__(self) -> int:
        return len(self.antichains)

    def index(self, label: str) -> int:
        """Position of the antichain with the canonical ``label``; ValueError if there is none."""
        return self.labels.index(label)

    @cached_property
    def zeta(self) -> np.ndarray:
        """(m, m) int64 0/1 matrix: ``zeta[a, b] = 1`` iff antichain b <= antichain a."""
        m = len(self.antichains)
        z = np.zeros((m, m), dtype=np.int64)
        for i, alpha in enumerate(self.antichains):
            for j, beta in enumerate(self.antichains):
                z[i, j] = _precedes(beta, alpha)
        z.setflags(write=False)
        return z

    @cached_property
    def mobius(self) -> np.ndarray:
        """(m, m) int64: the exact inverse of ``zeta`` (the Moebius function of the order)."""
        z = self.zeta
        # zeta is unitriangular in any linear extension of the order, so its inverse is integral:
        # solve it by forward substitution in exact integer arithmetic.
        order = sorted(range(len(z)), key=lambda k: z[k].sum())  # fewer predecessors first
        m = len(z)
        mob = np.zeros((m, m), dtype=np.int64)
        for col in range(m):
            x = np.zeros(m, dtype=np.int64)
            e = np.zeros(m, dtype=np.int64)
            e[col] = 1
            for k in order:
                below = z[k].copy()
                below[k] = 0
                x[k] = e[k] - below @ x
            mob[:, col] = x
        if not np.array_equal(z @ mob, np.eye(m, dtype=np.int64)):  # pragma: no cover
            raise AssertionError("Moebius inversion of the lattice failed")
        mob.setflags(write=False)
        return mob

    @cached_property
    def union_coefficients(self) -> np.ndarray:
        """(m, 2^n - 1) int64 C with P(U_alpha) = sum_b C[alpha, b] P(E_b) (inclusion-exclusion).

        E_b is the event that the sources in subset b all take the observed values; the columns
        follow ``subsets``. The intersection of E_a over a in J is the event of their union.
        """
        col = {s: k for k, s in enumerate(self.subsets)}
        c = np.zeros((len(self.antichains), len(self.subsets)), dtype=np.int64)
        for i, alpha in enumerate(self.antichains):
            for r in range(1, len(alpha) + 1):
                for members in itertools.combinations(alpha, r):
                    union = tuple(sorted(set().union(*members)))
                    c[i, col[union]] += (-1) ** (r + 1)
        c.setflags(write=False)
        return c

    @cached_property
    def top(self) -> int:
        """Index of {12..n}, whose redundancy is the joint mutual information."""
        return self.antichains.index((tuple(range(1, self.n + 1)),))

    def subset_atoms(self, subset: Subset) -> list[int]:
        """Indices (into ``antichains``) of the atoms whose sum is I(T : S_subset): the atoms
        below the single-set antichain of ``subset`` (the paper's eq. (5), appendix A.7)."""
        target = (tuple(sorted(subset)),)
        return [j for j, beta in enumerate(self.antichains) if _precedes(beta, target)]


@cache
def lattice(n: int) -> Lattice:
    """The redundancy lattice for ``n`` sources (2, 3 or 4), built once and cached."""
    if not isinstance(n, (int, np.integer)) or not MIN_SOURCES <= n <= MAX_SOURCES:
        raise ValueError(
            f"the I_sx lattice is available for {MIN_SOURCES} to {MAX_SOURCES} sources, got {n!r}"
        )
    n = int(n)
    subsets: tuple[Subset, ...] = tuple(
        s for r in range(1, n + 1) for s in itertools.combinations(range(1, n + 1), r)
    )
    found = []
    for r in range(1, len(subsets) + 1):
        for sets in itertools.combinations(subsets, r):
            if _is_antichain(sets):
                found.append(_sort_sets(sets))
    if n == 2:
        ordered = _BIVARIATE_ORDER
    else:
        ordered = tuple(sorted(found, key=lambda a: _order_key(a, n)))
    if len(ordered) != len(found) or set(ordered) != set(found):  # pragma: no cover
        raise AssertionError("antichain enumeration is inconsistent")
    return Lattice(n=n, antichains=ordered, subsets=subsets)
