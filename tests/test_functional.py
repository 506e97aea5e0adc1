"""infomorphic.nn.functional against hand-derived values and brute-force oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import dense_pmf

from infomorphic.nn import functional as fn
from infomorphic.pid.isx import isx_pid

# ----------------------------------------------------------------------------------- binning


def test_bin_fixed_hand_values():
    # 20 bins of width 2 on (-20, 20): bin k holds [-20 + 2k, -18 + 2k).
    x = torch.tensor([-20.0, -18.01, -18.0, 0.0, 19.99, 25.0, -100.0, 20.0, -0.01, 1.99, 2.0])
    bins = fn.bin_fixed(x, -20.0, 20.0, 20)
    assert bins.dtype == torch.int32  # int64 conversion was most of the cost
    assert bins.tolist() == [0, 0, 1, 10, 19, 19, 0, 19, 9, 10, 11]


def test_bin_fixed_puts_nan_and_infinities_in_valid_bins():
    x = torch.tensor([float("nan"), float("inf"), float("-inf")])
    assert fn.bin_fixed(x, -20.0, 20.0, 20).tolist() == [0, 19, 0]


def test_bin_fixed_matches_interval_search():
    """Brute force: find the k with low + k w <= x < low + (k+1) w, clamped to the end bins."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(500, generator=gen, dtype=torch.float64) - 0.5) * 60  # beyond the range too
    low, high, n = -20.0, 20.0, 20
    width = (high - low) / n
    expected = []
    for value in x.tolist():
        k = 0
        for edge in range(1, n):
            if value >= low + edge * width:
                k = edge
        expected.append(k)
    assert fn.bin_fixed(x, low, high, n).tolist() == expected


def test_bin_fixed_other_ranges_and_shapes():
    x = torch.tensor([[0.0, 0.25], [0.5, 0.99]])
    bins = fn.bin_fixed(x, 0.0, 1.0, 4)
    assert bins.shape == (2, 2)
    assert bins.tolist() == [[0, 1], [2, 3]]


def test_bin_adaptive_per_column_hand_values():
    x = torch.tensor(
        [
            [-2.0, 4.0, 0.0, -8.0],
            [-1.0, 1.0, 0.0, 2.0],
            [0.0, -3.0, 0.0, 4.0],
            [1.0, 0.0, 0.0, 0.0],
            [2.0, 2.0, 0.0, 1.0],
        ]
    )
    bins = fn.bin_adaptive(x, 20)
    # column 0 / 2 -> -1, -0.5, 0, 0.5, 1; column 1 / 4 -> 1, 0.25, -0.75, 0, 0.5;
    # column 2 all zero -> one bin (the one holding 0); column 3 / 8 -> -1, .25, .5, 0, .125.
    assert bins[:, 0].tolist() == [0, 5, 10, 15, 19]
    assert bins[:, 1].tolist() == [19, 12, 2, 10, 15]
    assert bins[:, 2].tolist() == [10, 10, 10, 10, 10]
    assert bins[:, 3].tolist() == [0, 12, 15, 10, 11]


def test_bin_adaptive_is_scale_invariant_per_column():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 5, generator=gen)
    scale = torch.tensor([1.0, 3.0, 0.01, 250.0, 7.5])
    assert torch.equal(fn.bin_adaptive(x, 20), fn.bin_adaptive(x * scale, 20))
    # and each column's extreme value lands in an end bin
    bins = fn.bin_adaptive(x, 20)
    for j in range(5):
        extreme = x[:, j].abs().argmax()
        assert bins[extreme, j].item() in (0, 19)
    assert int(bins.min()) >= 0 and int(bins.max()) <= 19


# ------------------------------------------------------------------------------- activations


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


GRID = [-3.0, -0.7, 0.0, 0.4, 2.5]


def test_modulated_activation_matches_paper_formula():
    values = [(f, c, lat) for f in GRID for c in GRID for lat in GRID]
    f, c, lat = (torch.tensor(col, dtype=torch.float64) for col in zip(*values, strict=True))
    got = fn.modulated_activation(f, c, lat)
    for k, (fv, cv, lv) in enumerate(values):
        # the paper's section 4, "Neuron structure and activation function":
        # A = F [(1 - a1 - a2) + a1 sigma(b1 F C) + a2 sigma(b2 F L)], a = 0.1, b = 2
        want = fv * (0.8 + 0.1 * _sigmoid(2 * fv * cv) + 0.1 * _sigmoid(2 * fv * lv))
        assert got[k].item() == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_modulated_activation_gain_without_context_or_lateral_is_09():
    f = torch.tensor([-5.0, -1.0, 0.5, 3.0, 17.0], dtype=torch.float64)
    zero = torch.zeros_like(f)
    got = fn.modulated_activation(f, zero, zero)
    assert torch.allclose(got, 0.9 * f, rtol=0, atol=1e-12)


def test_modulated_activation_custom_parameters():
    f, c, lat = (torch.tensor([v], dtype=torch.float64) for v in (1.5, -0.5, 2.0))
    got = fn.modulated_activation(f, c, lat, alpha=(0.2, 0.3), beta=(1.0, 4.0)).item()
    want = 1.5 * (0.5 + 0.2 * _sigmoid(1.5 * -0.5) + 0.3 * _sigmoid(4.0 * 1.5 * 2.0))
    assert got == pytest.approx(want, rel=1e-12)


def test_modulated_activation_sign_follows_feedforward():
    # the gain is always positive (between 0.8 and 1), so context/lateral cannot flip the sign
    values = [(f, c, lat) for f in GRID for c in GRID for lat in GRID if f != 0]
    f, c, lat = (torch.tensor(col, dtype=torch.float64) for col in zip(*values, strict=True))
    ratio = fn.modulated_activation(f, c, lat) / f
    assert bool((ratio >= 0.8).all()) and bool((ratio <= 1.0).all())


def test_linear_activation_hand_values():
    values = [(f, c, lat) for f in GRID for c in GRID for lat in GRID]
    f, c, lat = (torch.tensor(col, dtype=torch.float64) for col in zip(*values, strict=True))
    got = fn.linear_activation(f, c, lat)
    for k, (fv, cv, lv) in enumerate(values):
        assert got[k].item() == pytest.approx(fv + 0.1 * lv + 0.1 * cv, abs=1e-12)


def test_bivariate_activation_hand_values():
    values = [(f, x) for f in GRID for x in GRID]
    f, x = (torch.tensor(col, dtype=torch.float64) for col in zip(*values, strict=True))
    got = fn.bivariate_activation(f, x)
    for k, (fv, xv) in enumerate(values):
        want = fv * (0.9 + 0.1 * 2 * _sigmoid(2 * fv * xv))
        assert got[k].item() == pytest.approx(want, rel=1e-12, abs=1e-12)
    # with X = 0 the gain is exactly 1
    assert torch.allclose(fn.bivariate_activation(f, torch.zeros_like(f)), f, atol=1e-12)


# ---------------------------------------------------------------------------------- sampling


def test_sample_spikes_values_and_frequency():
    n = 40_000
    probs = [0.0, 0.1, 0.5, 0.73, 1.0]
    theta = torch.tensor(probs).repeat(n, 1)
    spikes = fn.sample_spikes(theta, torch.Generator().manual_seed(123))
    assert spikes.shape == theta.shape and spikes.dtype == theta.dtype
    assert set(spikes.unique().tolist()) <= {-1.0, 1.0}
    freq = (spikes == 1).double().mean(dim=0)
    for p, got in zip(probs, freq.tolist(), strict=True):
        tolerance = 5 * math.sqrt(p * (1 - p) / n) + 1e-12
        assert abs(got - p) <= tolerance
    assert freq[0].item() == 0.0 and freq[-1].item() == 1.0


def test_sample_spikes_is_reproducible_with_seed():
    theta = torch.rand(100, 7, generator=torch.Generator().manual_seed(5))
    a = fn.sample_spikes(theta, torch.Generator().manual_seed(9))
    b = fn.sample_spikes(theta, torch.Generator().manual_seed(9))
    c = fn.sample_spikes(theta, torch.Generator().manual_seed(10))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# ------------------------------------------------------------------------------- local goals


def dense_goal_oracle(bins: torch.Tensor, theta: torch.Tensor, gamma: torch.Tensor, n_bins: int):
    """Per neuron: build p(s, t) = (1/B) sum_i [s_i = s] probs_i(t) with probs = (theta,
    1 - theta) as a dense array (``conftest.dense_pmf``), run the exact isx_pid on it and dot
    gamma with (atoms, H_res). Differentiable in theta."""
    fire = theta.to(torch.float64)
    probs = torch.stack([fire, 1.0 - fire], dim=-1)  # (B, N, 2): target value 0 is firing
    goals, decompositions = [], []
    for j in range(bins.shape[2]):
        result = isx_pid(dense_pmf(bins, probs, j, n_bins))
        vector = torch.cat([result.atoms_tensor, result.residual_entropy_tensor.reshape(1)])
        decompositions.append(vector)
        goals.append(vector @ gamma.to(torch.float64))
    return torch.stack(goals), torch.stack(decompositions)


@pytest.mark.parametrize(
    ("n_sources", "n_bins", "batch", "neurons"),
    [(3, 3, 120, 3), (3, 20, 60, 2), (2, 5, 150, 3), (2, 20, 80, 2)],
)
def test_local_goals_match_dense_isx_oracle(n_sources, n_bins, batch, neurons):
    gen = torch.Generator().manual_seed(100 * n_sources + n_bins)
    bins = torch.randint(0, n_bins, (n_sources, batch, neurons), generator=gen)
    # correlate the firing probability with the first source so that the atoms are non-trivial
    base = torch.rand(batch, neurons, generator=gen, dtype=torch.float64)
    theta0 = (0.6 * bins[0].double() / (n_bins - 1) + 0.4 * base).clamp(0.01, 0.99)
    n_weights = 19 if n_sources == 3 else 5
    gamma = torch.rand(n_weights, generator=gen, dtype=torch.float64) * 2 - 1

    theta = theta0.clone().requires_grad_(True)
    goals, decomposition = fn.local_goals(bins, theta, gamma, n_bins)
    assert goals.shape == (neurons,)
    assert decomposition.shape == (neurons, n_weights)

    theta_ref = theta0.clone().requires_grad_(True)
    want_goals, want_dec = dense_goal_oracle(bins, theta_ref, gamma, n_bins)
    assert torch.allclose(decomposition.detach(), want_dec.detach(), atol=1e-9, rtol=1e-9)
    assert torch.allclose(goals.detach(), want_goals.detach(), atol=1e-9, rtol=1e-9)

    # gradients with respect to the firing probabilities agree too (p(s) is a constant)
    goals.sum().backward()
    want_goals.sum().backward()
    assert torch.allclose(theta.grad, theta_ref.grad, atol=1e-8, rtol=1e-7)


def test_local_goals_is_a_named_tuple():
    gen = torch.Generator().manual_seed(4)
    bins = torch.randint(0, 4, (2, 50, 3), generator=gen)
    theta = torch.rand(50, 3, generator=gen, dtype=torch.float64)
    gamma = torch.rand(5, generator=gen, dtype=torch.float64)
    result = fn.local_goals(bins, theta, gamma, 4)
    assert isinstance(result, fn.LocalGoals)
    goals, decomposition = result
    assert result.goals is goals and result.decomposition is decomposition
    assert result.goals.shape == (3,) and result.decomposition.shape == (3, 5)


def test_local_goal_of_a_neuron_ignores_other_neurons():
    gen = torch.Generator().manual_seed(3)
    bins = torch.randint(0, 4, (3, 100, 4), generator=gen)
    theta = torch.rand(100, 4, generator=gen, dtype=torch.float64).requires_grad_(True)
    gamma = torch.rand(19, generator=gen, dtype=torch.float64)
    goals, _ = fn.local_goals(bins, theta, gamma, 4)
    (grad,) = torch.autograd.grad(goals[1], theta)
    assert bool((grad[:, [0, 2, 3]] == 0).all())
    assert bool((grad[:, 1] != 0).any())


def test_local_goals_known_xor_decomposition():
    """Binary sources, T = XOR: red log2(2/3), unq log2(3/2) each, syn 2 - log2(3), by hand from
    the I_sx redundancy (the paper's appendix A.2) and the consistency equations (eq. (1))."""
    s1 = torch.tensor([0, 0, 1, 1] * 25)
    s2 = torch.tensor([0, 1, 0, 1] * 25)
    bins = torch.stack([s1, s2])[:, :, None]
    theta = (s1 ^ s2).double()[:, None]  # fires exactly when XOR is 1
    # all weights zero: only the decomposition is checked
    _, dec = fn.local_goals(bins, theta, torch.zeros(5, dtype=torch.float64), 2)
    unq, red, syn = math.log2(3 / 2), math.log2(2 / 3), 2 - math.log2(3)
    assert dec[0].tolist() == pytest.approx([unq, unq, red, syn, 0.0], abs=1e-12)


# ------------------------------------------------------------------------- self-cosine distance


def test_self_cosine_distance_hand_values():
    previous = torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, -1.0, 2.0], [0.0, 3.0, 0.0]])
    current = torch.tensor([[1.0, 2.0, 3.0], [0.0, 5.0, 0.0], [-1.0, 1.0, -2.0], [0.0, 1.0, 1.0]])
    got = fn.self_cosine_distance(previous, current)
    assert got.shape == (4,)
    assert got.tolist() == pytest.approx([0.0, 1.0, 2.0, 1.0 - 1.0 / math.sqrt(2)], abs=1e-6)


def test_self_cosine_distance_is_scale_invariant():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(6, 10, generator=gen)
    b = torch.randn(6, 10, generator=gen)
    scale = torch.rand(6, 1, generator=gen) + 0.5
    assert torch.allclose(fn.self_cosine_distance(a, b), fn.self_cosine_distance(a * scale, b))
    cos = np.array(
        [
            np.dot(x, y) / np.linalg.norm(x) / np.linalg.norm(y)
            for x, y in zip(a.numpy(), b.numpy(), strict=True)
        ]
    )
    assert np.allclose(fn.self_cosine_distance(a, b).numpy(), 1 - cos, atol=1e-6)
