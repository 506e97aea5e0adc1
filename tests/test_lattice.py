"""Tests for infomorphic.pid.lattice: antichains, order, Moebius inversion, union coefficients.

Every expected value here comes from an oracle written in this file (brute-force enumeration of
antichains, a recursive Moebius function, direct event enumeration) or in ``conftest.py`` (the
order's definition, random PMFs), never from the module under test.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from conftest import precedes, random_pmf

from infomorphic.pid import format_antichain, lattice

# The 18 trivariate atoms in the order of the paper's Table 2 (appendix A.8), 1 = F, 2 = C, 3 = L:
# the order of the 19-entry goal vector, whose last entry is H_res (docs/protocol.md).
TABLE_2_ORDER = (
    "{1}{2}{3}",
    "{1}{2}",
    "{1}{3}",
    "{2}{3}",
    "{1}{23}",
    "{2}{13}",
    "{3}{12}",
    "{1}",
    "{2}",
    "{3}",
    "{12}{13}{23}",
    "{12}{13}",
    "{12}{23}",
    "{13}{23}",
    "{12}",
    "{13}",
    "{23}",
    "{123}",
)


# --- independent oracles ----------------------------------------------------------------------


def as_family(antichain) -> frozenset[frozenset[int]]:
    return frozenset(frozenset(s) for s in antichain)


def brute_force_antichains(n: int) -> set[frozenset[frozenset[int]]]:
    """All non-empty families of non-empty subsets of {1..n} in which no member contains another."""
    subsets = [
        frozenset(c) for r in range(1, n + 1) for c in itertools.combinations(range(1, n + 1), r)
    ]
    found = set()
    for mask in range(1, 2 ** len(subsets)):
        family = [subsets[i] for i in range(len(subsets)) if mask >> i & 1]
        if all(not (a <= b or b <= a) for a, b in itertools.combinations(family, 2)):
            found.add(frozenset(family))
    return found


def recursive_mobius(antichains):
    """mu(b, a) from the definition: mu(a, a) = 1 and mu(b, a) = -sum_{b <= c < a} mu(b, c)."""
    m = len(antichains)
    leq = [[precedes(antichains[b], antichains[a]) for a in range(m)] for b in range(m)]

    @cache
    def mu(b: int, a: int) -> int:
        if b == a:
            return 1
        if not leq[b][a]:
            return 0
        return -sum(mu(b, c) for c in range(m) if c != a and leq[b][c] and leq[c][a])

    return mu


# --- enumeration and order ----------------------------------------------------------------------


@pytest.mark.parametrize(("n", "count"), [(2, 4), (3, 18), (4, 166)])
def test_number_of_antichains(n, count):
    lat = lattice(n)
    assert len(lat) == count
    assert len(lat.antichains) == count
    assert len(lat.labels) == count


@pytest.mark.parametrize("n", [2, 3, 4])
def test_antichains_match_brute_force_and_are_unique(n):
    lat = lattice(n)
    families = [as_family(a) for a in lat.antichains]
    assert len(set(families)) == len(families), "duplicate antichains"
    assert len(set(lat.labels)) == len(lat.labels), "duplicate labels"
    assert set(families) == brute_force_antichains(n)
    for antichain in lat.antichains:
        sets = [frozenset(s) for s in antichain]
        assert len(set(sets)) == len(sets)
        for a, b in itertools.combinations(sets, 2):
            assert not a <= b and not b <= a, f"{antichain} is not an antichain"
        for s in antichain:
            assert s and set(s) <= set(range(1, n + 1))


def test_bivariate_order_is_exact():
    assert lattice(2).labels == ("{1}", "{2}", "{1}{2}", "{12}")


def test_trivariate_order_is_table_2_order():
    assert lattice(3).labels == TABLE_2_ORDER


@pytest.mark.parametrize("n", [2, 3, 4])
def test_labels_are_canonical(n):
    lat = lattice(n)
    for antichain, label in zip(lat.antichains, lat.labels, strict=True):
        expected = "".join("{" + "".join(str(i) for i in s) + "}" for s in antichain)
        assert label == expected
        assert lat.index(label) == lat.antichains.index(antichain)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_zeta_is_the_order_and_a_partial_order(n):
    lat = lattice(n)
    z = np.asarray(lat.zeta)
    m = len(lat)
    assert z.shape == (m, m)
    assert set(np.unique(z)) <= {0, 1}
    # zeta[a, b] = 1 iff b <= a, checked against the definition in conftest.py.
    for a, alpha in enumerate(lat.antichains):
        for b, beta in enumerate(lat.antichains):
            assert z[a, b] == int(precedes(beta, alpha)), (lat.labels[a], lat.labels[b])
    assert np.all(np.diag(z) == 1)  # reflexive
    off = z * z.T
    np.fill_diagonal(off, 0)
    assert not off.any()  # antisymmetric
    two_step = (z @ z) > 0
    assert np.array_equal(two_step, z.astype(bool))  # transitive (and reflexive)
    bottom = lat.index("".join("{" + str(i) + "}" for i in range(1, n + 1)))
    top = lat.index("{" + "".join(str(i) for i in range(1, n + 1)) + "}")
    assert lat.top == top
    assert np.all(z[:, bottom] == 1), "bottom must lie below everything"
    assert np.all(z[top, :] == 1), "top must lie above everything"
    # nothing lies strictly below the bottom or strictly above the top
    assert z[bottom].sum() == 1 and z[:, top].sum() == 1


@pytest.mark.parametrize("n", [2, 3, 4])
def test_mobius_inverts_zeta_exactly(n):
    lat = lattice(n)
    z, mob = np.asarray(lat.zeta), np.asarray(lat.mobius)
    assert np.issubdtype(mob.dtype, np.integer)
    eye = np.eye(len(lat), dtype=np.int64)
    assert np.array_equal(mob @ z, eye)
    assert np.array_equal(z @ mob, eye)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_mobius_matches_recursive_definition(n):
    lat = lattice(n)
    mu = recursive_mobius(lat.antichains)
    mob = np.asarray(lat.mobius)
    # atoms(a) = sum_b mu(b, a) redundancy(b), and atoms = mobius @ redundancies.
    expected = np.array([[mu(b, a) for b in range(len(lat))] for a in range(len(lat))])
    assert np.array_equal(mob, expected)


def test_mobius_bivariate_by_hand():
    # synergy = I({12}) - I({1}) - I({2}) + I({1}{2}); unique_i = I({i}) - I({1}{2}).
    lat = lattice(2)
    expected = np.array([[1, 0, -1, 0], [0, 1, -1, 0], [0, 0, 1, 0], [-1, -1, 1, 1]])
    assert np.array_equal(np.asarray(lat.mobius), expected)


# --- union coefficients -------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "seed"), [((2, 3), 0), ((2, 2, 3), 1), ((3, 2, 2, 2), 2)])
def test_union_coefficients_against_direct_enumeration(shape, seed):
    n = len(shape)
    lat = lattice(n)
    p = random_pmf(shape, seed, zero_fraction=0.2)
    coeff = np.asarray(lat.union_coefficients)
    assert coeff.shape == (len(lat), 2**n - 1)
    assert len(lat.subsets) == 2**n - 1
    realisations = list(np.ndindex(*shape))
    for s in realisations:

        def event_mass(sets, s=s):
            # P(at least one set in `sets` has all its sources equal to s), by enumeration.
            return sum(
                p[r]
                for r in realisations
                if any(all(r[i - 1] == s[i - 1] for i in a) for a in sets)
            )

        subset_mass = np.array([event_mass([b]) for b in lat.subsets])
        for k, alpha in enumerate(lat.antichains):
            assert coeff[k] @ subset_mass == pytest.approx(event_mass(alpha), abs=1e-12)


def test_union_coefficients_by_hand():
    lat = lattice(3)
    col = {s: k for k, s in enumerate(lat.subsets)}
    row = np.asarray(lat.union_coefficients)[lat.index("{1}{23}")]
    # P(E1 or E23) = P(E1) + P(E23) - P(E123)
    expected = np.zeros(7, dtype=np.int64)
    expected[col[(1,)]] = 1
    expected[col[(2, 3)]] = 1
    expected[col[(1, 2, 3)]] = -1
    assert np.array_equal(row, expected)


# --- consistency sums and labels ----------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4])
def test_subset_atoms_follow_the_order(n):
    lat = lattice(n)
    for r in range(1, n + 1):
        for subset in itertools.combinations(range(1, n + 1), r):
            expected = [
                j
                for j, beta in enumerate(lat.antichains)
                if any(set(b) <= set(subset) for b in beta)
            ]
            assert sorted(lat.subset_atoms(subset)) == expected
    assert sorted(lat.subset_atoms(tuple(range(1, n + 1)))) == list(range(len(lat)))


def test_subset_atoms_match_the_papers_consistency_equations():
    # The paper's eq. (6) (appendix A.7): I(T:F,C) is every atom except {L}, {FL}, {CL},
    # {FL}{CL}, {FCL} (1 = F, 2 = C, 3 = L). Only its I(T:F,C) and I(T:F) lines are used here:
    # its last line lists {FL} twice where the second should be {CL} (docs/protocol.md).
    lat = lattice(3)
    names = lat.labels_for(("F", "C", "L"))
    got = {names[j] for j in lat.subset_atoms((1, 2))}
    excluded = {"{L}", "{FL}", "{CL}", "{FL}{CL}", "{FCL}"}
    assert got == set(names) - excluded
    assert len(got) == 13
    # and I(T:F) is the atoms below {F}
    assert {names[j] for j in lat.subset_atoms((1,))} == {
        "{F}{C}{L}",
        "{F}{C}",
        "{F}{L}",
        "{F}{CL}",
        "{F}",
    }
    assert sorted(lat.subset_atoms((2, 1))) == sorted(lat.subset_atoms((1, 2)))


def test_source_name_labels():
    lat = lattice(3)
    names = lat.labels_for(("F", "C", "L"))
    assert names[lat.index("{1}{23}")] == "{F}{CL}"
    assert names[lat.index("{12}{13}{23}")] == "{FC}{FL}{CL}"
    assert names[lat.top] == "{FCL}"
    assert lat.labels_for(None) == lat.labels
    long_names = lattice(2).labels_for(["X1", "X2"])
    assert long_names == ("{X1}", "{X2}", "{X1}{X2}", "{X1,X2}")
    assert format_antichain(((1,), (2, 3)), ("F", "C", "L")) == "{F}{CL}"


@pytest.mark.parametrize("bad", [0, 1, 5, "3", 3.0, None])
def test_invalid_number_of_sources(bad):
    with pytest.raises(ValueError, match="2 to 4 sources"):
        lattice(bad)


def test_lattice_is_cached():
    assert lattice(3) is lattice(3)
