"""infomorphic.pid.isx against dit's PID_SX, an independent implementation of I_sx.

The whole module is skipped when dit is not installed; the hand-derived tests of test_isx.py do
not need it. Distributions come from the seeded ``random_pmf`` of ``conftest.py``; both the dense
computation and the support computation (on the PMF's non-zero cells) are compared.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import parse, random_pmf

from infomorphic.pid import isx_pid

dit = pytest.importorskip("dit")
PID_SX = pytest.importorskip("dit.pid").PID_SX


def to_dit(p: np.ndarray):
    """The joint PMF ``p`` (sources..., target) as a dit Distribution of its non-zero cells."""
    outcomes, pmf = [], []
    for index in np.ndindex(*p.shape):
        if p[index] > 0:
            outcomes.append(tuple(int(i) for i in index))
            pmf.append(float(p[index]))
    return dit.Distribution(outcomes, pmf)


def dit_node(antichain) -> tuple[tuple[int, ...], ...]:
    """An antichain of 1-based sources in dit's 0-based variable indices."""
    return tuple(tuple(i - 1 for i in s) for s in antichain)


def dit_pid(p: np.ndarray, **kwargs):
    """dit's I_sx decomposition of ``p``: each source axis a variable, the last axis the target."""
    n = p.ndim - 1
    return PID_SX(to_dit(p), [[i] for i in range(n)], [n], **kwargs)


def matching_node(pid, antichain):
    """The node of dit's lattice that is the same family of (0-based) source sets."""
    family = frozenset(frozenset(i - 1 for i in s) for s in antichain)
    for node in pid._lattice:
        if frozenset(frozenset(s) for s in node) == family:
            return node
    raise AssertionError(f"dit has no node for {antichain}")


@pytest.mark.parametrize(
    ("shape", "seed", "zeros"),
    [
        ((2, 2, 2), 10, 0.0),
        ((3, 2, 2), 11, 0.2),
        ((3, 3, 3), 12, 0.0),
        ((2, 4, 3), 13, 0.3),
        ((2, 2, 2, 2), 14, 0.0),
        ((2, 3, 2, 2), 15, 0.25),
    ],
)
def test_agrees_with_dit(shape, seed, zeros):
    p = random_pmf(shape, seed, zeros)
    pid = dit_pid(p)
    for method in ("dense", "support"):  # the PMF array, or its observed cells only
        res = isx_pid(p, method=method)
        for label in res.labels:
            node = matching_node(pid, parse(label))
            assert res.redundancies[label] == pytest.approx(pid.get_red(node), abs=1e-9), label
            assert res.atoms[label] == pytest.approx(pid.get_pi(node), abs=1e-9), label


# dit needs about a second per antichain for n = 4, so only a spread of antichains is compared.
FOUR_SOURCE_ANTICHAINS = [
    "{1}{2}{3}{4}",
    "{1}{234}",
    "{12}{34}",
    "{12}{13}{24}{34}",
    "{2}{13}{14}",
    "{123}{124}{134}{234}",
    "{1234}",
]


def test_agrees_with_dit_four_sources():
    p = random_pmf((2, 2, 2, 2, 2), 16, zero_fraction=0.5)
    dense, support = isx_pid(p, method="dense"), isx_pid(p, method="support")
    dist = to_dit(p)
    for label in FOUR_SOURCE_ANTICHAINS:
        expected = PID_SX._measure(dist, dit_node(parse(label)), (4,))
        assert dense.redundancies[label] == pytest.approx(expected, abs=1e-9), label
        assert support.redundancies[label] == pytest.approx(expected, abs=1e-9), label


@pytest.mark.parametrize("method", ["dense", "support"])
def test_pointwise_agrees_with_dit(method):
    p = random_pmf((3, 2, 2), 17, zero_fraction=0.15)
    res = isx_pid(p, pointwise=True, method=method)
    pid = dit_pid(p, pointwise=True)
    pw = res.pointwise
    checks = [
        (pid.get_pw_red, pw.redundancies),
        (pid.get_pw_red_plus, pw.redundancies_plus),
        (pid.get_pw_red_minus, pw.redundancies_minus),
        (pid.get_pw_pi, pw.atoms),
        (pid.get_pw_pi_plus, pw.atoms_plus),
        (pid.get_pw_pi_minus, pw.atoms_minus),
    ]
    compared = 0
    for k, label in enumerate(res.labels):
        node = matching_node(pid, parse(label))
        for getter, ours in checks:
            theirs = getter(node)
            assert len(theirs) == len(pw.realisations)
            for r, realisation in enumerate(pw.realisations):
                assert ours[r, k] == pytest.approx(theirs[realisation], abs=1e-9)
                compared += 1
    assert compared == 6 * 4 * len(pw.realisations)
