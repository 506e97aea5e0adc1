"""Tests for infomorphic.pid.isx: exact I_sx of gates, consistency, validation, gradients.

Expected values are derived by hand in the comments below (exact fractions inside log2) or
computed with plain NumPy from marginals by the oracles of ``conftest.py``; none is produced by
the module under test. The comparisons with dit's independent PID_SX are in test_isx_dit.py, so
that everything here runs without dit installed.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import entropy, gate, invert, mutual_information, parse, precedes, random_pmf

from infomorphic.pid import PIDResult, format_bits, isx_pid, isx_pid_rows

# --- helpers specific to this file ----------------------------------------------------------


def log2(x) -> float:
    """log2 of an exact fraction (the hand-derived values below are ratios of small integers)."""
    return math.log2(Fraction(x))


def assert_values(got: dict[str, float], expected: dict[str, float], tol: float = 1e-12):
    for label, value in expected.items():
        assert got[label] == pytest.approx(value, abs=tol), label


# --- bivariate gates (uniform inputs, bits) -----------------------------------------------------
#
# Notation: U = "S1 = s1 or S2 = s2" for {1}{2}; P(U) = 3/4 for two independent uniform bits.


def test_xor():
    # P(t) = 1/2. For every realisation U holds 3 of the 4 input pairs, only one of which has
    # the observed t, so P(t | U) = 1/3 and red = log2((1/3) / (1/2)) = log2(2/3).
    # I(T:S1) = I(T:S2) = 0 and I(T:S1,S2) = 1, so unq_i = -red and syn = 1 + red.
    res = isx_pid(gate(lambda a, b: a ^ b))
    red = log2(Fraction(2, 3))
    assert red == pytest.approx(-0.585, abs=5e-4)
    assert_values(res.atoms, {"{1}{2}": red, "{1}": -red, "{2}": -red, "{12}": 1 + red})
    assert res.atoms["{12}"] == pytest.approx(0.415, abs=5e-4)
    assert_values(res.redundancies, {"{1}{2}": red, "{1}": 0.0, "{2}": 0.0, "{12}": 1.0})
    assert res.mutual_information == pytest.approx(1.0, abs=1e-12)
    assert res.target_entropy == pytest.approx(1.0, abs=1e-12)
    assert res.residual_entropy == pytest.approx(0.0, abs=1e-12)


# AND, P(T=1) = 1/4. Local values (i+ = log2 1/P(U), i- = log2 P(t)/P(t,U)) per realisation
# (s1, s2, t), derived by hand:
#   {1}{2}: U has mass 3/4 everywhere, so i+ = log2(4/3).
#     (0,0,0): U = {00,01,10}, all with t=0: P(t,U) = 3/4 -> i- = log2((3/4)/(3/4)) = 0
#     (0,1,0): U = {00,01,11}, t=0 on {00,01}: P(t,U) = 1/2 -> i- = log2(3/2); (1,0,0) likewise
#     (1,1,1): U = {01,10,11}, t=1 on {11}: P(t,U) = 1/4 -> i- = log2((1/4)/(1/4)) = 0
#   {1}: i+ = log2 1/P(s1) = 1; i- = log2 P(t)/P(t,s1):
#     (0,0,0), (0,1,0): P(t=0,s1=0) = 1/2 -> log2(3/2); (1,0,0): P(t=0,s1=1) = 1/4 -> log2(3);
#     (1,1,1): P(t=1,s1=1) = 1/4 -> 0.       {2} is the same with the inputs swapped.
#   {12}: i+ = log2 4 = 2; i- = log2 P(t)/P(t,s): log2(3) for t=0 and 0 for t=1.
AND_TABLE = {
    (0, 0, 0): {
        "{1}{2}": (log2(Fraction(4, 3)), 0.0),
        "{1}": (1.0, log2(Fraction(3, 2))),
        "{2}": (1.0, log2(Fraction(3, 2))),
        "{12}": (2.0, log2(3)),
    },
    (0, 1, 0): {
        "{1}{2}": (log2(Fraction(4, 3)), log2(Fraction(3, 2))),
        "{1}": (1.0, log2(Fraction(3, 2))),
        "{2}": (1.0, log2(3)),
        "{12}": (2.0, log2(3)),
    },
    (1, 0, 0): {
        "{1}{2}": (log2(Fraction(4, 3)), log2(Fraction(3, 2))),
        "{1}": (1.0, log2(3)),
        "{2}": (1.0, log2(Fraction(3, 2))),
        "{12}": (2.0, log2(3)),
    },
    (1, 1, 1): {
        "{1}{2}": (log2(Fraction(4, 3)), 0.0),
        "{1}": (1.0, 0.0),
        "{2}": (1.0, 0.0),
        "{12}": (2.0, 0.0),
    },
}


def bivariate_atoms(red: dict[str, float]) -> dict[str, float]:
    """The n=2 Moebius inversion written out by hand."""
    shared = red["{1}{2}"]
    return {
        "{1}{2}": shared,
        "{1}": red["{1}"] - shared,
        "{2}": red["{2}"] - shared,
        "{12}": red["{12}"] - red["{1}"] - red["{2}"] + shared,
    }


def test_and():
    res = isx_pid(gate(lambda a, b: a & b))
    red = {
        label: sum(0.25 * (row[label][0] - row[label][1]) for row in AND_TABLE.values())
        for label in ("{1}{2}", "{1}", "{2}", "{12}")
    }
    # Closed forms of the same numbers: red = (1/2) log2(32/27); I(T:S1) = h(1/4) - 1/2;
    # I(T:S1,S2) = H(T) = h(1/4).
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert red["{1}{2}"] == pytest.approx(0.5 * log2(Fraction(32, 27)), abs=1e-12)
    assert red["{1}"] == pytest.approx(h - 0.5, abs=1e-12)
    assert red["{12}"] == pytest.approx(h, abs=1e-12)
    assert_values(res.redundancies, red)
    assert_values(res.atoms, bivariate_atoms(red))
    assert res.atoms["{1}{2}"] == pytest.approx(0.1226, abs=1e-4)
    assert res.residual_entropy == pytest.approx(0.0, abs=1e-12)
    assert res.target_entropy == pytest.approx(h, abs=1e-12)


def test_copy():
    # T = (S1, S2), four target values t = 2 s1 + s2, P(t) = 1/4. The realisation itself is
    # the only point of U with target t, so P(t | U) = (1/4) / (3/4) = 1/3 and
    # red = log2((1/3) / (1/4)) = log2(4/3). I(T:S_i) = 1, I(T:S1,S2) = 2, hence
    # unq_i = 1 - log2(4/3) = log2(3/2) and syn = 2 - red - 2 unq = log2(4/3).
    res = isx_pid(gate(lambda a, b: 2 * a + b, n_target=4))
    red = log2(Fraction(4, 3))
    assert_values(
        res.atoms,
        {"{1}{2}": red, "{1}": log2(Fraction(3, 2)), "{2}": log2(Fraction(3, 2)), "{12}": red},
    )
    assert res.mutual_information == pytest.approx(2.0, abs=1e-12)
    assert res.residual_entropy == pytest.approx(0.0, abs=1e-12)


def test_rdn():
    # S1 = S2 = T, a uniform bit. U = {S1 = s} (the two events coincide), P(t | U) = 1, so
    # red = log2(1 / (1/2)) = 1 = I(T:S1) = I(T:S2) = I(T:S1,S2): everything is redundant.
    p = np.zeros((2, 2, 2))
    p[0, 0, 0] = p[1, 1, 1] = 0.5
    res = isx_pid(p)
    assert_values(res.atoms, {"{1}{2}": 1.0, "{1}": 0.0, "{2}": 0.0, "{12}": 0.0})


def test_unq():
    # T = S1, inputs independent uniform. U = "S1 = s1 or S2 = s2", P(U) = 3/4, and
    # P(t, U) = P(S1 = s1) = 1/2, so P(t | U) = 2/3 and red = log2((2/3)/(1/2)) = log2(4/3).
    # I(T:S1) = 1, I(T:S2) = 0, I(T:S1,S2) = 1, hence unq1 = log2(3/2), unq2 = -log2(4/3),
    # syn = 1 - 1 - 0 + log2(4/3) = log2(4/3).
    res = isx_pid(gate(lambda a, b: a))
    assert_values(
        res.atoms,
        {
            "{1}{2}": log2(Fraction(4, 3)),
            "{1}": log2(Fraction(3, 2)),
            "{2}": -log2(Fraction(4, 3)),
            "{12}": log2(Fraction(4, 3)),
        },
    )


# Three-bit parity T = S1 xor S2 xor S3, uniform inputs, P(t) = 1/2. Flipping input bits maps any
# realisation onto s = 000, t = 0, so every local redundancy equals the one at 000, which is
# log2(2 * #{s' in U: parity(s') = 0} / #U) counting the 8 input patterns:
#   {1}{2}{3}: U = not 111 (7), even: 000,011,101,110 (4)      -> log2(8/7)
#   {1}{2}:    U = not 11x (6), even: 000,011,101 (3)          -> 0     (and {1}{3}, {2}{3})
#   {1}{23}:   U = 0xx + 100 (5), even: 000,011 (2)            -> log2(4/5) (and {2}{13}, {3}{12})
#   {1}:       U = 0xx (4), even: 000,011 (2)                  -> 0     (and {2}, {3})
#   {12}{13}{23}: U = at most one 1 (4), even: 000 (1)         -> log2(1/2) = -1
#   {12}{13}:  U = 000,001,010 (3), even: 000 (1)              -> log2(2/3) (and the other two)
#   {12}:      U = 00x (2), even: 000 (1)                      -> 0     (and {13}, {23})
#   {123}:     U = 000 (1), even (1)                           -> 1
PARITY_REDUNDANCIES = {
    "{1}{2}{3}": log2(Fraction(8, 7)),
    "{1}{2}": 0.0,
    "{1}{3}": 0.0,
    "{2}{3}": 0.0,
    "{1}{23}": log2(Fraction(4, 5)),
    "{2}{13}": log2(Fraction(4, 5)),
    "{3}{12}": log2(Fraction(4, 5)),
    "{1}": 0.0,
    "{2}": 0.0,
    "{3}": 0.0,
    "{12}{13}{23}": -1.0,
    "{12}{13}": log2(Fraction(2, 3)),
    "{12}{23}": log2(Fraction(2, 3)),
    "{13}{23}": log2(Fraction(2, 3)),
    "{12}": 0.0,
    "{13}": 0.0,
    "{23}": 0.0,
    "{123}": 1.0,
}


def test_three_bit_parity():
    res = isx_pid(gate(lambda a, b, c: a ^ b ^ c, n_inputs=3), pointwise=True)
    assert_values(res.redundancies, PARITY_REDUNDANCIES)
    expected_atoms = invert(PARITY_REDUNDANCIES)
    # spot checks of the inversion by hand: Pi({1}{2}{3}) = log2(8/7), Pi({1}{2}) = log2(7/8),
    # Pi({1}{23}) = log2(4/5) - log2(8/7) - 2 log2(7/8) = log2(32/35)
    assert expected_atoms["{1}{2}"] == pytest.approx(log2(Fraction(7, 8)), abs=1e-12)
    assert expected_atoms["{1}{23}"] == pytest.approx(log2(Fraction(32, 35)), abs=1e-12)
    assert_values(res.atoms, expected_atoms)
    assert sum(res.atoms.values()) == pytest.approx(1.0, abs=1e-12)
    assert res.residual_entropy == pytest.approx(0.0, abs=1e-12)
    # the symmetry argument: every realisation carries the same local redundancies
    pw = res.pointwise
    assert len(pw.realisations) == 8
    expected_row = np.array([PARITY_REDUNDANCIES[label] for label in res.labels])
    np.testing.assert_allclose(pw.redundancies, np.tile(expected_row, (8, 1)), atol=1e-12)


# --- pointwise values (Makkeh, Gutknecht & Wibral, PRE 103, 032149 (2021)) ----------------------


def pointwise_lookup(res: PIDResult, realisation, label: str):
    pw = res.pointwise
    r = pw.realisations.index(tuple(realisation))
    k = res.labels.index(label)
    return pw, r, k


def test_xor_pointwise():
    # Every realisation: {1}{2}: i+ = log2(4/3), i- = log2((1/2)/(1/4)) = 1;
    # {i}: i+ = 1, i- = 1; {12}: i+ = 2, i- = 1. Atoms (n=2 inversion by hand):
    # shared (log2(4/3), 1); unique (1 - log2(4/3), 0) = (log2(3/2), 0); synergy (log2(4/3), 0).
    res = isx_pid(gate(lambda a, b: a ^ b), pointwise=True)
    pw = res.pointwise
    assert sorted(pw.realisations) == [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
    np.testing.assert_allclose(pw.probabilities, 0.25)
    red_plus = {"{1}{2}": log2(Fraction(4, 3)), "{1}": 1.0, "{2}": 1.0, "{12}": 2.0}
    red_minus = {"{1}{2}": 1.0, "{1}": 1.0, "{2}": 1.0, "{12}": 1.0}
    atom_plus = {
        "{1}{2}": log2(Fraction(4, 3)),
        "{1}": log2(Fraction(3, 2)),
        "{2}": log2(Fraction(3, 2)),
        "{12}": log2(Fraction(4, 3)),
    }
    atom_minus = {"{1}{2}": 1.0, "{1}": 0.0, "{2}": 0.0, "{12}": 0.0}
    for realisation in pw.realisations:
        for label in res.labels:
            _, r, k = pointwise_lookup(res, realisation, label)
            assert pw.redundancies_plus[r, k] == pytest.approx(red_plus[label], abs=1e-12)
            assert pw.redundancies_minus[r, k] == pytest.approx(red_minus[label], abs=1e-12)
            assert pw.redundancies[r, k] == pytest.approx(
                red_plus[label] - red_minus[label], abs=1e-12
            )
            assert pw.atoms_plus[r, k] == pytest.approx(atom_plus[label], abs=1e-12)
            assert pw.atoms_minus[r, k] == pytest.approx(atom_minus[label], abs=1e-12)
            assert pw.atoms[r, k] == pytest.approx(atom_plus[label] - atom_minus[label], abs=1e-12)
    # shared information of XOR is misinformative at every realisation: i- = 1 > i+ = 0.415
    assert pw.atoms_plus[0, res.labels.index("{1}{2}")] == pytest.approx(0.415, abs=5e-4)


def test_and_pointwise():
    res = isx_pid(gate(lambda a, b: a & b), pointwise=True)
    pw = res.pointwise
    assert sorted(pw.realisations) == sorted(AND_TABLE)
    for realisation, row in AND_TABLE.items():
        plus = {label: v[0] for label, v in row.items()}
        minus = {label: v[1] for label, v in row.items()}
        atom_plus, atom_minus = bivariate_atoms(plus), bivariate_atoms(minus)
        for label in res.labels:
            _, r, k = pointwise_lookup(res, realisation, label)
            assert pw.redundancies_plus[r, k] == pytest.approx(plus[label], abs=1e-12)
            assert pw.redundancies_minus[r, k] == pytest.approx(minus[label], abs=1e-12)
            assert pw.atoms_plus[r, k] == pytest.approx(atom_plus[label], abs=1e-12)
            assert pw.atoms_minus[r, k] == pytest.approx(atom_minus[label], abs=1e-12)
            assert pw.atoms[r, k] == pytest.approx(atom_plus[label] - atom_minus[label], abs=1e-12)
        np.testing.assert_allclose(pw.atoms_of(realisation), pw.atoms[r], atol=0)
    # Makkeh et al.'s AND table: the shared atom is log2(4/3) = 0.415 informative everywhere,
    # and misinformative log2(3/2) = 0.585 only where the inputs differ.
    shared = res.labels.index("{1}{2}")
    r01 = pw.realisations.index((0, 1, 0))
    assert pw.atoms_plus[r01, shared] == pytest.approx(0.415, abs=5e-4)
    assert pw.atoms_minus[r01, shared] == pytest.approx(0.585, abs=5e-4)


@pytest.mark.parametrize(("shape", "seed"), [((2, 3, 2), 0), ((2, 2, 2, 3), 1)])
def test_pointwise_averages_to_the_decomposition(shape, seed):
    p = random_pmf(shape, seed, zero_fraction=0.2)
    res = isx_pid(p, pointwise=True)
    pw = res.pointwise
    assert len(pw.realisations) == int((p > 0).sum())
    for r, realisation in enumerate(pw.realisations):
        assert pw.probabilities[r] == pytest.approx(p[realisation])
    np.testing.assert_allclose(
        pw.probabilities @ pw.redundancies, list(res.redundancies.values()), atol=1e-12
    )
    np.testing.assert_allclose(pw.probabilities @ pw.atoms, list(res.atoms.values()), atol=1e-12)
    np.testing.assert_allclose(pw.redundancies_plus - pw.redundancies_minus, pw.redundancies)
    assert isx_pid(p).pointwise is None


# --- consistency on random PMFs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "seed", "zeros"),
    [
        ((2, 2, 2), 0, 0.0),
        ((3, 4, 2), 1, 0.3),
        ((2, 3, 2, 2), 2, 0.0),
        ((3, 2, 3, 3), 3, 0.3),
        ((2, 2, 2, 2, 2), 4, 0.0),
        ((2, 3, 2, 2, 3), 5, 0.25),
    ],
)
def test_consistency_equations(shape, seed, zeros):
    p = random_pmf(shape, seed, zeros)
    n = p.ndim - 1
    res = isx_pid(p)
    atoms = res.atoms
    total = 0
    for r in range(1, n + 1):
        for subset in itertools.combinations(range(1, n + 1), r):
            # atoms below {subset}, selected with the order written in conftest.py
            summed = sum(
                value for label, value in atoms.items() if precedes(parse(label), (subset,))
            )
            expected = mutual_information(p, subset)
            assert summed == pytest.approx(expected, abs=1e-10), subset
            # the redundancy of a single-set antichain is that mutual information
            label = "{" + "".join(str(i) for i in subset) + "}"
            assert res.redundancies[label] == pytest.approx(expected, abs=1e-10)
            total += 1
    assert total == 2**n - 1
    full = mutual_information(p, tuple(range(1, n + 1)))
    assert sum(atoms.values()) == pytest.approx(full, abs=1e-10)
    assert res.mutual_information == pytest.approx(full, abs=1e-10)
    h_t = entropy(p.sum(axis=tuple(range(n))))
    assert res.target_entropy == pytest.approx(h_t, abs=1e-10)
    h_t_given_s = entropy(p) - entropy(p.sum(axis=-1))
    assert res.residual_entropy == pytest.approx(h_t_given_s, abs=1e-10)
    goal = res.goal_vector()
    assert goal.shape == (len(atoms) + 1,)
    np.testing.assert_allclose(goal[:-1].numpy(), list(atoms.values()))
    assert float(goal[-1]) == pytest.approx(h_t_given_s, abs=1e-10)


# --- input validation ---------------------------------------------------------------------------


def uniform(shape) -> np.ndarray:
    return np.full(shape, 1 / np.prod(shape))


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: np.where(np.arange(8).reshape(2, 2, 2) == 3, np.nan, 1 / 8), "NaN"),
        (lambda: np.where(np.arange(8).reshape(2, 2, 2) == 3, np.inf, 1 / 8), "infinite"),
        (lambda: uniform((2, 2, 2)) * 1.1, "must sum to 1"),
        (lambda: uniform((2, 2, 2)) * 0.5, "sums to 0.5"),
        (lambda: uniform((3, 2)), "2 to 4 sources"),
        (lambda: uniform((2, 2, 2, 2, 2, 2)), "2 to 4 sources"),
        (lambda: np.zeros((2, 0, 2)), "empty axis"),
        (lambda: [["a", "b"], ["c", "d"]], "numeric"),
    ],
)
def test_invalid_pmf(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        isx_pid(make())


def test_negative_entries_message():
    p = uniform((2, 2, 2))
    p[0, 0, 0] = -0.125
    p[0, 0, 1] = 0.375
    with pytest.raises(ValueError, match="negative entries"):
        isx_pid(p)


def test_wrong_number_of_source_names():
    with pytest.raises(ValueError, match="source_names has 2 names but p has 3 sources"):
        isx_pid(uniform((2, 2, 2, 2)), source_names=["F", "C"])
    with pytest.raises(ValueError, match="source_names has 3 names"):
        isx_pid(uniform((2, 2, 2)), source_names=["F", "C", "L"])


def test_accepts_torch_and_lists():
    p = gate(lambda a, b: a ^ b)
    from_list = isx_pid(p.tolist()).atoms
    from_f32 = isx_pid(torch.tensor(p, dtype=torch.float32)).atoms
    for label, value in isx_pid(p).atoms.items():
        assert from_list[label] == pytest.approx(value, abs=1e-12)
        assert from_f32[label] == pytest.approx(value, abs=1e-6)


# --- differentiability --------------------------------------------------------------------------


def test_gradients_flow_to_a_tensor_pmf():
    p = torch.tensor(random_pmf((2, 3, 2), 20), requires_grad=True)
    res = isx_pid(p)
    assert res.atoms_tensor.requires_grad
    weights = torch.linspace(-1, 1, 5, dtype=torch.float64)
    (weights @ res.goal_vector()).backward()
    assert p.grad is not None
    assert torch.isfinite(p.grad).all()
    assert p.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", [(2, 3, 2), (2, 2, 2, 3)])
def test_gradcheck_goal_vector_wrt_conditional(shape):
    # The paper's appendix A.1: goals are differentiated with respect to p(t | s) only;
    # the source distribution p(s) is a constant.
    rng = np.random.default_rng(21)
    p_s = torch.tensor(random_pmf(shape[:-1], 22))
    logits = torch.tensor(rng.normal(size=shape), requires_grad=True)

    def goal(z):
        return isx_pid(p_s[..., None] * torch.softmax(z, dim=-1)).goal_vector()

    assert torch.autograd.gradcheck(goal, (logits,), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradient_matches_finite_difference_for_a_goal():
    # one directional derivative of a weighted goal, by central differences in float64
    shape = (2, 2, 2, 2)
    rng = np.random.default_rng(23)
    p_s = torch.tensor(random_pmf(shape[:-1], 24))
    logits = torch.tensor(rng.normal(size=shape), requires_grad=True)
    direction = torch.tensor(rng.normal(size=shape))
    weights = torch.tensor(rng.uniform(-1, 1, size=19))

    def g(z):
        return weights @ isx_pid(p_s[..., None] * torch.softmax(z, dim=-1)).goal_vector()

    g(logits).backward()
    h = 1e-5
    with torch.no_grad():
        numeric = (g(logits + h * direction) - g(logits - h * direction)) / (2 * h)
    assert float(logits.grad.flatten() @ direction.flatten()) == pytest.approx(
        float(numeric), abs=1e-7
    )


# --- printing and names ---------------------------------------------------------------------------


def test_printing_shows_a_labelled_table():
    res = isx_pid(gate(lambda a, b: a ^ b))
    text = str(res)
    for label in ("{1}{2}", "{1}", "{2}", "{12}"):
        assert label in text
    assert "redundancy" in text and "atom" in text
    assert "H_res" in text
    assert "-0.584963" in text  # log2(2/3) to six places
    assert res.to_dict()["atoms"] == res.atoms
    assert '"mutual_information"' in res.to_json()


def test_source_names_label_the_atoms():
    p = random_pmf((2, 2, 2, 2), 25)
    named = isx_pid(p, source_names=["F", "C", "L"])
    plain = isx_pid(p)
    assert "{F}{CL}" in named.atoms
    assert named.atoms["{F}{CL}"] == pytest.approx(plain.atoms["{1}{23}"], abs=1e-15)
    assert list(named.atoms.values()) == list(plain.atoms.values())
    assert "{FC}{FL}{CL}" in str(named)
    assert "{F}{C}{L}" in str(named)
    long = isx_pid(random_pmf((2, 2, 2), 26), source_names=("X1", "X2"))
    assert list(long.atoms) == ["{X1}", "{X2}", "{X1}{X2}", "{X1,X2}"]


def test_printing_names_the_target_and_the_sources():
    res = isx_pid(gate(lambda a, b: a & b), source_names=["F", "C"], target_name="Y")
    text = str(res)
    assert "I(Y : F, C)" in text
    assert "H(Y)" in text
    assert "H_res = H(Y | F, C)" in text
    assert "all sources" not in text and "H(T" not in text
    plain = str(isx_pid(gate(lambda a, b: a & b)))
    assert "I(T : S1, S2)" in plain and "H_res = H(T | S1, S2)" in plain


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-0.0, "0.000000"),
        (-1e-17, "0.000000"),
        (-4.9e-7, "0.000000"),
        (4.9e-7, "0.000000"),
        (-5.1e-7, "-0.000001"),
        (-0.584962500721156, "-0.584963"),
        (1.0, "1.000000"),
        (-12.0, "-12.000000"),
    ],
)
def test_format_bits_prints_zero_without_a_sign(value, text):
    assert format_bits(value) == text


def test_printing_never_shows_negative_zero():
    # T independent of the sources: every atom is 0 up to float rounding, and some come out as
    # -1e-17 (which printed as -0.000000).
    p = np.array([[3.0, 2.0], [2.0, 1.0]])[..., None] * np.array([1.0, 1.0])
    res = isx_pid(p / p.sum())
    assert any(value < 0 for value in res.atoms.values())  # the rounding this test is about
    text = str(res)
    assert "-0.000000" not in text
    assert text.count("0.000000") >= 9


# --- names and input types that are refused -------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        (["F", "F"], "distinct; repeated: 'F'"),
        (["X", "Y", "X"], "distinct"),
        (["", "C"], "must not be empty"),
        ([" ", "C"], "must not be empty"),
        (["a,b", "a", "b"], "same label"),
        ("FC", "list of names"),
    ],
)
def test_bad_source_names_are_refused(names, fragment):
    shape = (2,) * (len(names) + 1)
    with pytest.raises(ValueError, match=fragment):
        isx_pid(uniform(shape), source_names=names)


def test_bad_target_names_are_refused():
    with pytest.raises(ValueError, match="target_name must not be empty"):
        isx_pid(uniform((2, 2, 2)), source_names=["F", "C"], target_name="")
    with pytest.raises(ValueError, match="also a source name"):
        isx_pid(uniform((2, 2, 2)), source_names=["F", "C"], target_name="C")


@pytest.mark.parametrize(
    "make",
    [
        lambda: uniform((2, 2, 2)).astype(np.complex128),
        lambda: uniform((2, 2, 2)) + 0j,
        lambda: torch.tensor(uniform((2, 2, 2)), dtype=torch.complex128),
        lambda: torch.tensor(uniform((2, 2, 2)), dtype=torch.complex64),
        lambda: (uniform((2, 2, 2)) + 0j).tolist(),
        lambda: [[[0.125, 0.125], [0.125, 0.125]], [[0.125, 0.125], [0.125, 0.125 + 0j]]],
    ],
)
def test_complex_input_is_refused(make):
    with pytest.raises(ValueError, match="complex"):
        isx_pid(make())


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method must be one of auto, dense, support"):
        isx_pid(uniform((2, 2, 2)), method="sparse")


# --- the support path: a distribution given as rows -----------------------------------------------
#
# isx_pid_rows computes on the observed rows (grouping them on each source subset) instead of the
# dense array; both computations must give the same numbers to float64 rounding.

POINTWISE_FIELDS = (
    "probabilities",
    "redundancies",
    "redundancies_plus",
    "redundancies_minus",
    "atoms",
    "atoms_plus",
    "atoms_minus",
)


def rows_of(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells of ``p`` with positive mass as rows of indices, and their masses."""
    return np.argwhere(p > 0), p[p > 0]


def assert_same_pid(res: PIDResult, ref: PIDResult, tol: float = 1e-12):
    assert res.labels == ref.labels
    np.testing.assert_allclose(res.atoms_tensor.numpy(), ref.atoms_tensor.numpy(), atol=tol)
    np.testing.assert_allclose(
        res.redundancies_tensor.numpy(), ref.redundancies_tensor.numpy(), atol=tol
    )
    assert res.target_entropy == pytest.approx(ref.target_entropy, abs=tol)
    if ref.pointwise is not None:
        assert res.pointwise.realisations == ref.pointwise.realisations
        for name in POINTWISE_FIELDS:
            np.testing.assert_allclose(
                getattr(res.pointwise, name), getattr(ref.pointwise, name), atol=10 * tol
            )


@pytest.mark.parametrize(
    ("shape", "seed", "zeros"),
    [
        ((2, 2, 2), 30, 0.0),
        ((3, 4, 2), 31, 0.4),
        ((2, 3, 2, 3), 32, 0.5),
        ((3, 2, 3, 2), 33, 0.0),
        ((4, 3, 5, 2), 34, 0.8),
        ((2, 2, 3, 2, 2), 35, 0.5),
        ((2, 3, 2, 2, 3), 36, 0.7),
    ],
)
def test_support_path_agrees_with_the_dense_path(shape, seed, zeros):
    p = random_pmf(shape, seed, zeros)
    dense = isx_pid(p, method="dense", pointwise=True)
    values, masses = rows_of(p)
    for res in (
        isx_pid(p, method="support", pointwise=True),
        isx_pid(p, method="auto", pointwise=True),
        isx_pid_rows(values, masses, method="support", pointwise=True),
        isx_pid_rows(values, masses, method="dense", pointwise=True),
        isx_pid_rows(values, masses, pointwise=True),  # auto
    ):
        assert_same_pid(res, dense)


def test_rows_may_repeat_come_in_any_order_and_use_any_integers():
    p = random_pmf((3, 2, 4, 3), 37, zero_fraction=0.4)
    ref = isx_pid(p, method="dense", pointwise=True)
    values, masses = rows_of(p)
    rng = np.random.default_rng(38)
    # each row split in two, one row of mass 0 added, the rows shuffled, the values relabelled
    # by an order-preserving map to large and negative integers
    values = np.concatenate([values, values, [[0, 1, 0, 2]]])
    share = rng.random(len(masses))
    masses = np.concatenate([masses * share, masses * (1 - share), [0.0]])
    order = rng.permutation(len(masses))
    labelled = values[order] * 10**12 - 5
    for method in ("support", "dense"):
        res = isx_pid_rows(labelled, masses[order], method=method, pointwise=True)
        assert_same_pid(res, replace(ref, pointwise=None))
        pw = res.pointwise
        assert pw.realisations == [
            tuple(int(v) * 10**12 - 5 for v in r) for r in ref.pointwise.realisations
        ]
        for name in POINTWISE_FIELDS:
            np.testing.assert_allclose(getattr(pw, name), getattr(ref.pointwise, name), atol=1e-11)


def test_rows_accept_tensors_and_keep_the_graph():
    # all cells positive, so that the gradient with respect to each row's mass is the dense
    # gradient at that cell
    shape = (2, 3, 2)
    p = torch.tensor(random_pmf(shape, 39), requires_grad=True)
    weights = torch.linspace(-1, 1, 5, dtype=torch.float64)
    (weights @ isx_pid(p, method="dense").goal_vector()).backward()
    q = p.detach().reshape(-1).clone().requires_grad_(True)
    values = torch.tensor(np.argwhere(np.ones(shape)))  # the cells in C order, as reshape(-1)
    res = isx_pid_rows(values, q, method="support")
    assert res.atoms_tensor.requires_grad
    (weights @ res.goal_vector()).backward()
    np.testing.assert_allclose(q.grad.numpy(), p.grad.reshape(-1).numpy(), atol=1e-10)


def test_rows_name_the_atoms_and_the_target():
    values, masses = rows_of(gate(lambda a, b: a ^ b))
    res = isx_pid_rows(values, masses, ["F", "C"], target_name="out")
    assert list(res.atoms) == ["{F}", "{C}", "{F}{C}", "{FC}"]
    assert res.atoms["{F}{C}"] == pytest.approx(log2(Fraction(2, 3)), abs=1e-12)
    assert "I(out : F, C)" in str(res)


@pytest.mark.parametrize(
    ("values", "probabilities", "fragment"),
    [
        ([[0.0, 0, 0]], [1.0], "values must be integers"),
        ([[True, False, True]], [1.0], "values must be integers"),
        ([0, 1, 0], [1.0], "shape \\(rows, n_sources \\+ 1\\)"),
        ([[0, 1]], [1.0], "2 to 4 sources"),
        ([[0] * 6], [1.0], "2 to 4 sources"),
        ([[0, 0, 0], [1, 1, 1]], [1.0], "probabilities must have shape \\(rows,\\) = \\(2,\\)"),
        (np.zeros((0, 3), dtype=int), np.zeros(0), "no rows"),
        ([[0, 0, 0], [1, 1, 1]], [0.5, 0.6], "must sum to 1"),
        ([[0, 0, 0], [1, 1, 1]], [1.5, -0.5], "negative"),
        ([[0, 0, 0], [1, 1, 1]], [0.5, float("nan")], "NaN"),
        ([[0, 0, 0], [1, 1, 1]], [0.5, float("inf")], "infinite"),
        ([[0, 0, 0], [1, 1, 1]], [0.5, 0.5 + 0j], "complex"),
        ([[0, 0, 0], [1, 1, 1]], torch.tensor([0.5, 0.5], dtype=torch.complex64), "complex"),
    ],
)
def test_invalid_rows(values, probabilities, fragment):
    with pytest.raises(ValueError, match=fragment):
        isx_pid_rows(values, probabilities)


def test_rows_refuse_bad_names_and_methods():
    values, masses = rows_of(gate(lambda a, b: a ^ b))
    with pytest.raises(ValueError, match="distinct"):
        isx_pid_rows(values, masses, ["F", "F"])
    with pytest.raises(ValueError, match="method must be one of"):
        isx_pid_rows(values, masses, method="sparse")


def rows_mutual_information(values: np.ndarray, masses: np.ndarray, columns) -> float:
    """I(T : S_columns) of a distribution given as rows, by grouping the rows (plain NumPy)."""

    def joint_entropy(cols) -> float:
        _, group = np.unique(values[:, cols], axis=0, return_inverse=True)
        return entropy(np.bincount(group.ravel(), weights=masses))

    columns = list(columns)
    return joint_entropy(columns) + joint_entropy([-1]) - joint_entropy([*columns, -1])


def peak_rss_mib_during(step) -> float | None:
    """Resident memory (MiB) that ``step`` adds at its peak, or None where Linux's reset of the
    peak (``/proc/self/clear_refs``) is not available."""
    status = Path("/proc/self/status")

    def field(name: str) -> float:
        line = next(x for x in status.read_text().splitlines() if x.startswith(name + ":"))
        return float(line.split()[1]) / 1024

    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        step()
        return None
    before = field("VmRSS")
    step()
    return field("VmHWM") - before


def test_large_alphabets_never_build_the_dense_array():
    # Four sources and a target of 100 values each, 20,000 rows: the dense PMF would have 10^10
    # cells (74.5 GiB). On the rows it takes well under a second and a few tens of MB.
    rng = np.random.default_rng(41)
    values = rng.integers(0, 100, size=(20_000, 5))
    values[:, 4] = (values[:, 0] + values[:, 1] + rng.integers(0, 3, 20_000)) % 100
    masses = rng.random(20_000)
    masses /= masses.sum()
    out = {}
    start = time.perf_counter()
    peak = peak_rss_mib_during(lambda: out.setdefault("res", isx_pid_rows(values, masses)))
    assert time.perf_counter() - start < 20
    if peak is not None:
        assert peak < 500, f"{peak:.0f} MiB"
    res = out["res"]
    for i in range(1, 5):
        below = sum(res.atoms[res.labels[j]] for j in res.lattice.subset_atoms((i,)))
        assert below == pytest.approx(rows_mutual_information(values, masses, [i - 1]), abs=1e-9)
    full = rows_mutual_information(values, masses, range(4))
    assert sum(res.atoms.values()) == pytest.approx(full, abs=1e-9)
    assert res.target_entropy == pytest.approx(entropy(np.bincount(values[:, 4], masses)))
