"""InfomorphicLayer and lateral_mask: shapes, the passes, the output layer and locality."""

from __future__ import annotations

import pytest
import torch

from infomorphic.nn import functional as fn
from infomorphic.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, activation
from infomorphic.nn.goals import Goal
from infomorphic.nn.layers import DRIVES, InfomorphicLayer, lateral_mask

# ----------------------------------------------------------------------------- lateral mask


def test_lateral_mask_all_to_all():
    mask = lateral_mask(7, None)
    assert mask.shape == (7, 7)
    for i in range(7):
        for j in range(7):
            assert mask[i, j].item() == (0.0 if i == j else 1.0)
    # asking for at least N - 1 inputs is all-to-all too
    assert torch.equal(lateral_mask(7, 6), mask)
    assert torch.equal(lateral_mask(7, 50), mask)


@pytest.mark.parametrize(("n", "k"), [(10, 1), (10, 3), (150, 100), (30, 28)])
def test_lateral_mask_sparse(n, k):
    mask = lateral_mask(n, k, torch.Generator().manual_seed(0))
    assert mask.shape == (n, n)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert mask.sum(dim=1).tolist() == [float(k)] * n
    assert mask.diagonal().sum().item() == 0.0


def test_lateral_mask_reproducible_and_random():
    a = lateral_mask(40, 5, torch.Generator().manual_seed(11))
    b = lateral_mask(40, 5, torch.Generator().manual_seed(11))
    c = lateral_mask(40, 5, torch.Generator().manual_seed(12))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # not the same pattern in every row
    assert len({tuple(row.nonzero().flatten().tolist()) for row in a}) > 1


def test_lateral_mask_rejects_zero_inputs():
    with pytest.raises(ValueError):
        lateral_mask(10, 0)


# ------------------------------------------------------------------------------ the layer

IN, N, CTX, B = 12, 6, 4, 32


def hidden_layer(**kwargs) -> InfomorphicLayer:
    torch.manual_seed(0)
    defaults = {"context_features": CTX, "goal": "optimized"}
    defaults.update(kwargs)
    return InfomorphicLayer(IN, N, **defaults)


def inputs(seed: int = 0, scale: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, IN, generator=gen) * scale
    ctx = torch.nn.functional.one_hot(torch.randint(0, CTX, (B,), generator=gen), CTX).float()
    lat = torch.where(torch.rand(B, N, generator=gen) < 0.5, 1.0, -1.0)
    return x, ctx, lat


def test_trivariate_shapes_and_sources():
    layer = hidden_layer()
    x, ctx, lat = inputs()
    state = layer(x, ctx, lat, torch.Generator().manual_seed(0))
    assert set(state.sources) == {"F", "C", "L"}
    for value in (*state.sources.values(), state.theta, state.output):
        assert value.shape == (B, N)
    assert layer.has_lateral


def test_aggregation_by_hand():
    layer = hidden_layer(lateral=3, generator=torch.Generator().manual_seed(1))
    x, ctx, lat = inputs(1)
    state = layer(x, ctx, lat)
    wf, bf = layer.feedforward.weight, layer.feedforward.bias
    wc, bc = layer.context_map.weight, layer.context_map.bias
    wl, bl = layer.lateral_map.weight, layer.lateral_map.bias
    mask = layer.lateral_mask
    with torch.no_grad():
        for i in range(0, B, 7):
            for j in range(N):
                f = sum(wf[j, k] * x[i, k] for k in range(IN)) + bf[j]
                c = sum(wc[j, k] * ctx[i, k] for k in range(CTX)) + bc[j]
                lv = sum(wl[j, k] * lat[i, k] for k in range(N) if mask[j, k] == 1) + bl[j]
                assert state.sources["F"][i, j].item() == pytest.approx(f.item(), abs=1e-5)
                assert state.sources["C"][i, j].item() == pytest.approx(c.item(), abs=1e-5)
                assert state.sources["L"][i, j].item() == pytest.approx(lv.item(), abs=1e-5)
                a = fn.modulated_activation(
                    torch.tensor(f.item()), torch.tensor(c.item()), torch.tensor(lv.item())
                )
                theta = torch.sigmoid(a).item()
                assert state.theta[i, j].item() == pytest.approx(theta, abs=1e-5)


def test_no_self_connection_in_lateral_input():
    layer = hidden_layer()  # all-to-all
    with torch.no_grad():
        layer.lateral_map.weight.fill_(1.0)
        layer.lateral_map.bias.zero_()
    x, ctx, lat = inputs(2)
    state = layer(x, ctx, lat)
    expected = lat.sum(dim=1, keepdim=True) - lat  # everyone else's output
    assert torch.allclose(state.sources["L"], expected)


def test_pass_one_lateral_is_the_bias():
    layer = hidden_layer()
    x, ctx, _ = inputs(3)
    state = layer(x, ctx, None)
    assert torch.equal(state.sources["L"], layer.lateral_map.bias.detach().expand(B, N))


def test_missing_context_is_zero():
    layer = hidden_layer()
    x, _, lat = inputs(4)
    state = layer(x, None, lat)
    assert torch.equal(state.sources["C"], torch.zeros(B, N))


def test_stochastic_hidden_outputs_are_plus_minus_one():
    layer = hidden_layer()
    x, ctx, lat = inputs(5, scale=0.3)
    state = layer(x, ctx, lat, torch.Generator().manual_seed(0))
    assert set(state.output.unique().tolist()) == {-1.0, 1.0}
    assert bool(((state.theta > 0) & (state.theta < 1)).all())
    # the same generator seed gives the same spikes
    again = layer(x, ctx, lat, torch.Generator().manual_seed(0))
    assert torch.equal(state.output, again.output)


def test_linear_activation_layer():
    layer = hidden_layer(activation="linear")
    x, ctx, lat = inputs(6)
    s = layer(x, ctx, lat)
    drive = s.sources["F"] + 0.1 * s.sources["C"] + 0.1 * s.sources["L"]
    assert torch.allclose(s.theta, torch.sigmoid(drive))


def test_bivariate_lateral_only_layer():
    torch.manual_seed(0)
    layer = InfomorphicLayer(
        IN, N, sources="FL", activation="bivariate", binning="adaptive", goal="lateral-heuristic"
    )
    x, _, lat = inputs(7)
    s = layer(x, None, lat)
    assert set(s.sources) == {"F", "L"}
    f, lv = s.sources["F"], s.sources["L"]
    assert torch.allclose(s.theta, torch.sigmoid(f * (0.9 + 0.2 * torch.sigmoid(2 * f * lv))))
    goals, dec = layer.local_goals(s)
    assert goals.shape == (N,) and dec.shape == (N, 5)


def test_output_layer():
    torch.manual_seed(0)
    n_classes = 5
    layer = InfomorphicLayer(
        IN,
        n_classes,
        sources="FC",
        context="one-to-one",
        activation="output",
        binning="adaptive",
        stochastic=False,
        goal="output",
    )
    x, _, _ = inputs(8)
    labels = torch.nn.functional.one_hot(torch.arange(B) % n_classes, n_classes).float()
    state = layer(x, labels)
    f = x @ layer.feedforward.weight.T + layer.feedforward.bias
    assert torch.allclose(state.sources["F"], f)
    assert torch.equal(state.sources["C"], labels)  # one-to-one: the label bit itself
    assert torch.allclose(state.theta, torch.sigmoid(f))  # the context does not enter
    assert torch.equal(state.output, state.theta)
    assert layer.context_map is None
    # the goal uses adaptive binning of F and C
    bins = layer.bins(state)
    assert torch.equal(bins[0], fn.bin_adaptive(state.sources["F"], 20))
    assert torch.equal(bins[1], fn.bin_adaptive(labels, 20))
    goals, dec = layer.local_goals(state)
    want, want_dec = fn.local_goals(bins, state.theta, Goal.named("output").tensor(), 20)
    assert torch.allclose(goals, want) and torch.allclose(dec, want_dec)


def test_hidden_layer_uses_fixed_bins():
    layer = hidden_layer()
    x, ctx, lat = inputs(9, scale=10.0)
    state = layer(x, ctx, lat)
    bins = layer.bins(state)
    assert bins.shape == (3, B, N)
    for k, name in enumerate("FCL"):
        assert torch.equal(bins[k], fn.bin_fixed(state.sources[name], -20.0, 20.0, 20))


def test_step_activation():
    torch.manual_seed(0)
    layer = InfomorphicLayer(IN, N, sources="FC", context_features=CTX, activation="step")
    x, ctx, _ = inputs(10)
    state = layer(x, ctx)
    expected = (state.sources["F"] > 0).float()
    assert torch.equal(state.output, expected)
    assert set(state.output.unique().tolist()) <= {0.0, 1.0}
    assert 0 < expected.mean().item() < 1
    with pytest.raises(RuntimeError):
        layer.local_goals(state)  # no goal


# -------------------------------------------------------------------------------- locality


def test_gradient_of_a_neurons_goal_stays_in_its_own_row():
    layer = hidden_layer()
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(256, IN, generator=gen) * 8).requires_grad_(True)
    ctx = torch.nn.functional.one_hot(torch.randint(0, CTX, (256,), generator=gen), CTX).float()
    ctx.requires_grad_(True)
    lat = torch.where(torch.rand(256, N, generator=gen) < 0.5, 1.0, -1.0).requires_grad_(True)
    with torch.no_grad():  # spread the drives over the fixed bins
        layer.context_map.weight.mul_(10)
        layer.lateral_map.weight.mul_(10)
    state = layer(x, ctx, lat, gen)
    goals, _ = layer.local_goals(state)
    params = {
        "feedforward.weight": layer.feedforward.weight,
        "feedforward.bias": layer.feedforward.bias,
        "context_map.weight": layer.context_map.weight,
        "context_map.bias": layer.context_map.bias,
        "lateral_map.weight": layer.lateral_map.weight,
        "lateral_map.bias": layer.lateral_map.bias,
    }
    for j in range(N):
        grads = torch.autograd.grad(goals[j], list(params.values()), retain_graph=True)
        for (name, _), grad in zip(params.items(), grads, strict=True):
            others = torch.cat([grad[:j], grad[j + 1 :]])
            assert bool((others == 0).all()), f"goal {j} leaks into other rows of {name}"
            assert bool((grad[j] != 0).any()), f"goal {j} has no gradient on its own {name}"
        lateral_row = grads[4][j]
        assert lateral_row[j].item() == 0.0  # no self-connection
    goals.sum().backward()
    assert x.grad is None and ctx.grad is None and lat.grad is None


def test_inputs_are_detached_in_pass_one_and_without_context():
    layer = hidden_layer()
    x = torch.randn(B, IN).requires_grad_(True)
    state = layer(x, None, None)
    layer.local_goals(state)[0].sum().backward()
    assert x.grad is None
    assert layer.feedforward.weight.grad is not None


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sources": "XYZ", "context_features": CTX},
        {"sources": "FCL", "context_features": CTX, "activation": "relu"},
        {"sources": "FC", "context_features": CTX, "activation": "modulated"},
        {"sources": "FCL", "context_features": CTX, "activation": "bivariate"},
        {"sources": "FCL", "context_features": 0},
        {"sources": "FCL", "context_features": CTX, "binning": "quantile"},
        {"sources": "FCL", "context_features": CTX, "context": "sparse"},
        {
            "sources": "FC",
            "context": "one-to-one",
            "context_features": N + 1,
            "activation": "output",
        },
        {"sources": "FCL", "context_features": CTX, "goal": "no-such-goal"},
        {"sources": "FCL", "context_features": CTX, "goal": "output"},
    ],
)
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        InfomorphicLayer(IN, N, **kwargs)


def test_activation_table_and_its_implementations_agree():
    assert set(DRIVES) == set(ACTIVATIONS)
    assert HIDDEN_ACTIVATIONS == ("modulated", "linear", "bivariate")
    with pytest.raises(ValueError, match="needs sources FCL"):
        activation("modulated", "FC")
    with pytest.raises(ValueError, match="choose from modulated"):
        activation("tanh")
    # every hidden activation builds a layer with each source set it accepts
    for name in HIDDEN_ACTIVATIONS:
        for sources in ACTIVATIONS[name].sources or ("FCL", "FC", "FL"):
            InfomorphicLayer(6, 3, sources=sources, context_features=2, activation=name)
