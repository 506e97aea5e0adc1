"""The paper's networks: every model builds and runs, the setups differ as the paper's section 5
and docs/protocol.md say, the two-pass protocol, the readout (polarity), the registry, and the
absence of gradients between layers."""

from __future__ import annotations

import pytest
import torch

from infomorphic.networks import (
    MODELS,
    BackpropNetwork,
    Classifier,
    Context,
    InfomorphicNetwork,
    MLPNetwork,
    ModelPreset,
    NetworkSpec,
    build_model,
    model_preset,
    network_spec,
    register_model,
)
from infomorphic.networks.backprop import surrogate_spikes
from infomorphic.networks.presets import hidden_layers
from infomorphic.nn.functional import sample_spikes
from infomorphic.nn.goals import Goal

N_IN, N_CLASSES, BATCH = 64, 10, 96


def batch(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCH, N_IN, generator=gen) * 3
    y = torch.randint(0, N_CLASSES, (BATCH,), generator=gen)
    return x, y, torch.nn.functional.one_hot(y, N_CLASSES).float()


def make(model: str, hidden=(20,), seed: int = 0, **kwargs):
    torch.manual_seed(seed)
    return build_model(
        model,
        N_IN,
        N_CLASSES,
        list(hidden),
        generator=torch.Generator().manual_seed(seed),
        **kwargs,
    )


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_builds_and_runs(name):
    model = make(name)
    x, y, onehot = batch()
    if name in ("backprop", "mlp"):
        assert isinstance(model, BackpropNetwork if name == "backprop" else MLPNetwork)
        loss = model.training_loss(x, y, torch.Generator().manual_seed(0))
        loss.backward()
        assert all(p.grad is not None for p in model.parameters())  # end to end
        assert model.outputs(x).shape == (BATCH, N_CLASSES)
        assert model.predict(x).shape == (BATCH,)
        return
    assert isinstance(model, InfomorphicNetwork)
    states = model.run(x, onehot, torch.Generator().manual_seed(0))
    hidden = 0 if name == "readout-only" else 1  # no hidden layer: the output on the inputs
    assert len(states.hidden) == hidden
    assert all(state.output.shape == (BATCH, 20) for state in states.hidden)
    assert states.output.theta.shape == (BATCH, N_CLASSES)
    results = model.layer_goals(states)
    assert len(results) == len(model.trainable_layers())
    for (goals, decomposition), layer in zip(results, model.trainable_layers(), strict=True):
        assert goals.shape == (layer.n_neurons,)
        assert decomposition.shape == (layer.n_neurons, len(layer.goal.weights))
        assert bool(torch.isfinite(goals).all()) and bool(torch.isfinite(decomposition).all())
        assert torch.allclose(goals, decomposition @ layer.goal.tensor(goals.dtype), atol=1e-5)
    # evaluation: no labels; model(x) is the same pass as outputs(x)
    probs = model.outputs(x, torch.Generator().manual_seed(1))
    assert probs.shape == (BATCH, N_CLASSES)
    assert bool(((probs >= 0) & (probs <= 1)).all())
    assert torch.equal(model(x, generator=torch.Generator().manual_seed(1)), probs)
    assert model.predict(x).shape == (BATCH,)


def test_registry_presets_and_context_flags():
    assert MODELS["setup1"].context == Context.LABEL and MODELS["setup1"].lateral is None
    assert MODELS["setup3"].context == Context.FEEDBACK
    assert MODELS["deep-feedback"].context == Context.LABEL | Context.FEEDBACK
    for text in ("label", "feedback", "label+feedback"):
        assert str(Context.parse(text)) == text
    with pytest.raises(ValueError, match="label, feedback or label"):
        Context.parse("labels")
    with pytest.raises(ValueError, match="already registered"):
        register_model(ModelPreset("setup1", "a second setup 1", MODELS["setup1"].build))
    with pytest.raises(ValueError, match="choose from setup1"):
        model_preset("setup9")
    # the saved network description round-trips its context
    spec = network_spec("deep-feedback", N_IN, N_CLASSES)
    assert spec.to_dict()["layers"][0]["context"] == ["label", "output"]
    assert NetworkSpec.from_dict(spec.to_dict()) == spec


def test_a_registered_preset_builds_without_other_changes():
    def build(n_inputs, n_classes, hidden):
        wired = hidden_layers(hidden, activation="linear", lateral=3)
        return NetworkSpec("infomorphic", n_inputs, n_classes, wired)

    register_model(ModelPreset("test-linear-sparse", "test preset", build))
    try:
        model = make("test-linear-sparse")
        assert model.hidden[0].activation == "linear"
        assert int(model.hidden[0].lateral_mask.sum(1).max()) == 3
    finally:
        del MODELS["test-linear-sparse"]


def test_every_network_shares_the_readout_interface():
    x, y, _ = batch(2)
    for name in MODELS:
        model = make(name)
        assert isinstance(model, Classifier)
        outputs = model.outputs(x, torch.Generator().manual_seed(0))
        model.fit_readout(outputs, y)
        scores = model.class_scores(x, torch.Generator().manual_seed(0))
        assert scores.shape == (BATCH, N_CLASSES)
        assert torch.equal(scores, model.to_scores(outputs))
        assert torch.equal(model.predict(x, torch.Generator().manual_seed(0)), scores.argmax(1))


def test_mlp_layout():
    model = make("mlp", hidden=(30, 20))
    linears = [m for m in model.body if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 30), (30, 20), (20, 10)]
    assert sum(isinstance(m, torch.nn.Sigmoid) for m in model.body) == 2


def test_the_paper_backprop_baseline_is_wired_as_setup1():
    model = make("backprop", hidden=(20,))
    hidden = model.hidden[0]
    assert torch.equal(hidden.lateral_mask, 1.0 - torch.eye(20))
    assert hidden.activation == "modulated" and hidden.sources == "FCL" and not hidden.local
    x, y, onehot = batch(3)
    # label context in training, none in evaluation; two passes; spikes with a surrogate
    generator = torch.Generator().manual_seed(0)
    theta = model(x, onehot, generator)
    assert theta.shape == (BATCH, N_CLASSES) and bool(((theta > 0) & (theta < 1)).all())
    same = model(x, onehot, torch.Generator().manual_seed(0))
    assert torch.equal(theta, same)  # the spikes come from the generator
    model.training_loss(x, y, torch.Generator().manual_seed(0)).backward()
    assert hidden.context_map.weight.grad.abs().sum() > 0  # the label context learns
    assert hidden.lateral_map.weight.grad.abs().sum() > 0  # the error crosses the spikes
    assert hidden.lateral_map.weight.grad.diagonal().abs().sum() == 0  # no self-connection
    # the same forward pass as the infomorphic networks: its options apply, layers stack
    deeper = make("backprop", hidden=(20, 10), passes=3, activation="linear")
    assert [layer.activation for layer in deeper.hidden] == ["linear", "linear"]
    deeper.training_loss(x, y, torch.Generator().manual_seed(0)).backward()
    assert deeper.hidden[0].feedforward.weight.grad.abs().sum() > 0  # through both layers


def test_surrogate_spikes_sample_and_pass_the_mean_gradient():
    drive = torch.tensor([-30.0, 0.0, 30.0], requires_grad=True)
    spikes = surrogate_spikes(drive, torch.Generator().manual_seed(0))
    assert spikes[0].item() == -1.0 and spikes[2].item() == 1.0
    assert spikes[1].item() in (-1.0, 1.0)
    spikes.sum().backward()
    expected = 2 * torch.sigmoid(drive) * (1 - torch.sigmoid(drive))
    torch.testing.assert_close(drive.grad, expected.detach())


def test_setup1_is_all_to_all_with_label_context():
    model = make("setup1", hidden=(20,))
    layer = model.hidden[0]
    assert torch.equal(layer.lateral_mask, 1.0 - torch.eye(20))
    assert layer.sources == "FCL" and layer.activation == "modulated"
    assert layer.binning == "fixed" and layer.bin_range == (-20.0, 20.0)
    assert layer.context_map.in_features == N_CLASSES
    assert not model.uses_feedback
    assert layer.goal.weights == Goal.named("optimized").weights
    out = model.output
    assert out.activation == "output" and not out.stochastic and out.binning == "adaptive"
    assert out.context_mode == "one-to-one" and out.goal.weights == (-0.2, 0.1, 1.0, 0.1, 0.0)


def test_setup2_lateral_is_sparse():
    model = make("setup2", hidden=(150,))
    mask = model.hidden[0].lateral_mask
    assert mask.shape == (150, 150)
    per_row = mask.sum(dim=1)
    assert bool((per_row <= 100).all()) and bool((per_row >= 1).all())
    assert mask.diagonal().sum().item() == 0
    # smaller than the cap: all-to-all
    assert torch.equal(make("setup2", hidden=(20,)).hidden[0].lateral_mask, 1 - torch.eye(20))


def test_feedback_models_use_output_as_context():
    s3 = make("setup3")
    assert s3.uses_feedback and s3.recurrent
    assert s3.hidden[0].context_map.in_features == N_CLASSES
    deep = make("deep-feedback")
    assert deep.uses_feedback
    assert deep.hidden[0].context_map.in_features == 2 * N_CLASSES  # label and feedback
    assert not make("setup1").uses_feedback


def test_bivariate_models():
    ctx = make("context-only")
    assert ctx.hidden[0].sources == "FC" and ctx.hidden[0].activation == "bivariate"
    assert ctx.hidden[0].goal.weights == Goal.named("context-heuristic").weights
    assert not ctx.hidden[0].has_lateral and not ctx.recurrent
    lat = make("lateral-only")
    assert lat.hidden[0].sources == "FL" and lat.hidden[0].goal.weights[0] == 1.0
    assert lat.hidden[0].binning == "adaptive" and lat.recurrent


def test_random_hidden_is_fixed_and_binary():
    model = make("random-hidden")
    assert all(not p.requires_grad for p in model.hidden.parameters())
    assert model.hidden[0].goal is None
    assert model.trainable_layers() == [model.output]
    x, _, onehot = batch(1)
    states = model.run(x, onehot)
    hidden = states.hidden[0]
    assert set(hidden.output.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(hidden.output, (hidden.sources["F"] > 0).float())
    assert len(model.layer_goals(states)) == 1


def test_deep_stack_has_a_goal_per_hidden_layer():
    model = make("setup1", hidden=(30, 20))
    assert len(model.hidden) == 2
    assert model.hidden[0].feedforward.in_features == N_IN
    assert model.hidden[1].feedforward.in_features == 30
    assert model.output.feedforward.in_features == 20
    x, _, onehot = batch(2)
    results = model.layer_goals(model.run(x, onehot))
    assert [g.shape[0] for g, _ in results] == [30, 20, N_CLASSES]
    assert [d.shape[1] for _, d in results] == [19, 19, 5]


def test_two_pass_protocol_setup1():
    model = make("setup1")
    x, _, onehot = batch(3)
    states = model.run(x, onehot, torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(7)
    hidden, out = model.hidden[0], model.output
    first = hidden(x, onehot, None, gen)
    second = hidden(x, onehot, first.output, gen)
    assert torch.equal(states.hidden[0].theta, second.theta)
    assert torch.equal(states.hidden[0].output, second.output)
    assert torch.equal(states.output.theta, out(second.output, onehot).theta)


def test_two_pass_protocol_setup3():
    model = make("setup3")
    x, _, onehot = batch(4)
    states = model.run(x, onehot, torch.Generator().manual_seed(8))
    gen = torch.Generator().manual_seed(8)
    hidden, out = model.hidden[0], model.output
    # pass 1: all-zero lateral and feedback states, each entering through its map's bias (as in
    # the authors' implementation)
    first = hidden(x, torch.zeros(BATCH, N_CLASSES), None, gen)
    assert torch.equal(first.sources["C"], hidden.context_map.bias.expand(BATCH, 20))
    assert torch.equal(first.sources["L"], hidden.lateral_map.bias.expand(BATCH, 20))
    assert torch.equal(states.earlier[0][0].sources["C"], first.sources["C"])
    feedback = sample_spikes(out(first.output, None).theta, gen)
    second = hidden(x, feedback, first.output, gen)
    assert torch.equal(states.hidden[0].sources["C"], second.sources["C"])
    assert torch.equal(states.hidden[0].output, second.output)
    assert torch.equal(states.output.theta, out(second.output, onehot).theta)


@pytest.mark.parametrize("name", ["setup1", "setup3"])
def test_more_lateral_passes_feed_each_pass_the_previous_outputs(name):
    model = make(name, passes=4)
    x, _, onehot = batch(5)
    states = model.run(x, onehot, torch.Generator().manual_seed(2))
    assert len(states.earlier) == 3
    gen = torch.Generator().manual_seed(2)
    hidden, out = model.hidden[0], model.output
    feedback = torch.zeros(BATCH, N_CLASSES) if name == "setup3" else onehot
    previous = None
    for _ in range(3):
        state = hidden(x, feedback, previous, gen)
        if name == "setup3":
            feedback = sample_spikes(out(state.output, None).theta, gen)
        previous = state.output
    final = hidden(x, feedback, previous, gen)
    assert torch.equal(states.hidden[0].output, final.output)
    two = make(name)  # the paper's two passes: unchanged by the option
    assert len(two.run(x, onehot).earlier) == 1


def test_bins_reach_both_layers():
    model = make("setup1", bins=8, output_bins=5)
    assert model.hidden[0].n_bins == 8 and model.output.n_bins == 5
    x, _, onehot = batch(6)
    bins = model.hidden[0].bins(model.run(x, onehot).hidden[0])
    assert int(bins.max()) <= 7
    with pytest.raises(ValueError, match="hidden1.bins: must be an integer >= 2"):
        make("setup1", bins=1)


def test_evaluation_has_zero_context():
    model = make("setup1")
    x, _, onehot = batch(5)
    evaluation = model.run(x, None)
    assert torch.equal(evaluation.hidden[0].sources["C"], torch.zeros(BATCH, 20))
    assert torch.equal(evaluation.output.sources["C"], torch.zeros(BATCH, N_CLASSES))
    training = model.run(x, onehot)
    assert not torch.equal(training.hidden[0].sources["C"], torch.zeros(BATCH, 20))


def test_fit_readout_fits_polarity_and_to_scores_applies_it():
    model = build_model("setup1", 4, 3, [5])
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    theta = torch.tensor(
        [
            # neuron 0 fires for class 0, neuron 1 is silent for class 1, neuron 2 is flat
            [0.9, 0.8, 0.5],
            [0.7, 0.9, 0.5],
            [0.2, 0.1, 0.5],
            [0.1, 0.2, 0.5],
            [0.3, 0.7, 0.5],
            [0.2, 0.9, 0.5],
        ]
    )
    model.fit_readout(theta, labels)
    assert model.polarity.tolist() == [1.0, -1.0, 1.0]
    scores = model.to_scores(theta)
    assert torch.allclose(scores[:, 0], theta[:, 0])
    assert torch.allclose(scores[:, 1], 1 - theta[:, 1])
    assert torch.allclose(scores[:, 2], theta[:, 2])
    # with the flip, the silent neuron now wins for its class
    assert scores[2].argmax().item() == 1 and scores[3].argmax().item() == 1
    assert theta[2].argmax().item() != 1


def test_predict_applies_polarity():
    model = make("context-only")
    x, _, _ = batch(6)
    gen_seed = 3
    theta = model.outputs(x, torch.Generator().manual_seed(gen_seed))
    model.polarity.copy_(torch.tensor([-1.0] * N_CLASSES))
    pred = model.predict(x, torch.Generator().manual_seed(gen_seed))
    assert torch.equal(pred, (1 - theta).argmax(dim=1))


def test_no_gradient_between_layers():
    model = make("setup1", hidden=(30, 20))
    x, _, onehot = batch(7)
    results = model.layer_goals(model.run(x, onehot))
    results[-1][0].sum().backward(retain_graph=True)
    assert all(p.grad is None for p in model.hidden.parameters())
    assert all(p.grad is not None for p in model.output.parameters())
    model.zero_grad(set_to_none=True)
    results[0][0].sum().backward(retain_graph=True)
    assert all(p.grad is None for p in model.hidden[1].parameters())
    assert all(p.grad is None for p in model.output.parameters())
    assert model.hidden[0].feedforward.weight.grad is not None
    model.zero_grad(set_to_none=True)
    results[1][0].sum().backward()
    assert all(p.grad is None for p in model.hidden[0].parameters())
    assert all(p.grad is None for p in model.output.parameters())


def test_no_gradient_between_layers_with_feedback():
    model = make("deep-feedback")
    x, _, onehot = batch(8)
    results = model.layer_goals(model.run(x, onehot))
    results[0][0].sum().backward()
    assert all(p.grad is None for p in model.output.parameters())
    assert model.hidden[0].context_map.weight.grad is not None


def test_network_spec_options_and_errors():
    spec = network_spec("setup1", N_IN, N_CLASSES, [20], goal="heuristic", activation="linear")
    assert spec.layers[0].goal == "heuristic" and spec.layers[0].activation == "linear"
    fixed = network_spec("random-hidden", N_IN, N_CLASSES, goal="heuristic")
    assert fixed.layers[0].goal is None and fixed.layers[0].activation == "step"
    per_layer = network_spec("setup1", N_IN, N_CLASSES, [20, 10], bins={"hidden2": 8})
    assert [layer.bins for layer in per_layer.layers] == [20, 8]
    with pytest.raises(ValueError):
        network_spec("setup9", N_IN, N_CLASSES)
    with pytest.raises(ValueError):
        network_spec("setup1", N_IN, N_CLASSES, activation="tanh")
    with pytest.raises(ValueError):
        build_model("setup1", N_IN, N_CLASSES, [0])
    with pytest.raises(ValueError):
        build_model("setup1", N_IN, N_CLASSES, [])
    linear = make("setup1", activation="linear")
    assert linear.hidden[0].activation == "linear"


def test_goal_loss_is_minus_the_sum_of_all_goals():
    model = make("setup1", hidden=(30,))
    x, _, onehot = batch(9)
    torch.manual_seed(3)
    loss, decompositions, output = model.goal_loss(x, onehot)
    torch.manual_seed(3)
    states = model.run(x, onehot)
    results = model.layer_goals(states)
    torch.testing.assert_close(output, states.output.theta.detach(), rtol=0, atol=0)
    expected = -sum(goals.sum() for goals, _ in results)
    torch.testing.assert_close(loss, expected, rtol=0, atol=1e-6)
    assert len(decompositions) == 2
    for got, (_, want) in zip(decompositions, results, strict=True):
        torch.testing.assert_close(got, want.detach(), rtol=0, atol=0)
        assert not got.requires_grad


@pytest.mark.parametrize("name", ["setup1", "setup2", "setup3", "deep-feedback"])
def test_goal_loss_compiles_to_one_graph(name):
    """fullgraph=True: no graph break anywhere in the step (what CUDA graphs need). aot_eager
    traces forward and backward exactly as the inductor backend would, but runs the traced ops
    eagerly, so loss and gradients must equal the eager step's (same global RNG draws)."""
    torch._dynamo.reset()
    model = make(name, hidden=(24,) if name != "deep-feedback" else (24, 12))
    x, _, onehot = batch(10)
    compiled = torch.compile(model.goal_loss, backend="aot_eager", fullgraph=True, dynamic=False)

    def loss_and_grads(fn, fixed_shapes):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(4)
        loss, decompositions, output = fn(x, onehot, None, fixed_shapes)
        loss.backward()
        grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
        return loss.detach(), [*decompositions, output], grads

    eager = loss_and_grads(model.goal_loss, False)
    graph = loss_and_grads(compiled, True)
    torch.testing.assert_close(graph[0], eager[0], rtol=1e-5, atol=1e-5)
    for a, b in zip(graph[1], eager[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert graph[2].keys() == eager[2].keys() and eager[2]
    for key, grad in eager[2].items():
        torch.testing.assert_close(graph[2][key], grad, rtol=1e-4, atol=1e-6)


def test_the_evaluation_context_may_be_the_context_maps_bias():
    """``eval_context="bias"``: a label context in evaluation is an all-zero label through the
    context map (the authors' implementation); the default is C = 0 (the paper)."""
    from infomorphic.networks import build_network, model_spec

    torch.manual_seed(0)
    model = build_network(model_spec("setup1", N_IN, N_CLASSES, [20], {"eval_context": "bias"}))
    x, _, onehot = batch(5)
    bias = model.hidden[0].context_map.bias.detach().expand(BATCH, 20)
    torch.testing.assert_close(model.run(x, None).hidden[0].sources["C"], bias, rtol=0, atol=0)
    trained = model.run(x, onehot).hidden[0].sources["C"]
    assert not torch.equal(trained, bias)
