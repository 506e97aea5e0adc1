"""The protocol as the authors ran it, beside the paper's text: the evaluation context, the
authors' training accuracy, the readout-only baseline, and the warning for a binning that puts
a layer's initial pre-activations into one cell (docs/protocol.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infomorphic.networks import build_model
from infomorphic.networks.base import batch_accuracy
from infomorphic.training import RunFolder, TrainConfig, Trainer, train


def config(**changes) -> TrainConfig:
    values = {"dataset": "digits", "hidden": [12], "batch_size": 128, "epochs": 2, "seed": 1}
    return TrainConfig(**{**values, **changes})


def _pair(model: str, **kwargs):
    """The same untrained network twice: eval_context zero and bias."""
    nets = []
    for how in ("zero", "bias"):
        torch.manual_seed(3)
        nets.append(build_model(model, 8, 4, [6], eval_context=how, **kwargs))
    return nets


# ---------------------------------------------------------------------- evaluation context


def test_bias_context_is_the_context_maps_bias_by_hand():
    """context-only hidden neurons: theta = sigma(F (0.9 + 0.2 sigma(2 F C))) with F = W x + b
    and, in evaluation, C = 0 (zero) or C = the context map's bias (bias), the formula of the
    bivariate activation written out here."""
    zero, bias = _pair("context-only")
    with torch.no_grad():
        bias.hidden[0].context_map.bias.copy_(torch.linspace(-2, 2, 6))
        zero.hidden[0].context_map.bias.copy_(torch.linspace(-2, 2, 6))
    x = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
    layer = bias.hidden[0]
    f = x @ layer.feedforward.weight.T + layer.feedforward.bias
    for net, c in ((zero, torch.zeros_like(f)), (bias, layer.context_map.bias.expand_as(f))):
        expected = torch.sigmoid(f * (0.9 + 0.2 * torch.sigmoid(2 * f * c)))
        theta = net.run(x, None, torch.Generator().manual_seed(1)).hidden[0].theta
        torch.testing.assert_close(theta, expected)
    # training (labels given) does not depend on the option
    onehot = torch.nn.functional.one_hot(torch.arange(32) % 4, 4).float()
    a = zero.run(x, onehot, torch.Generator().manual_seed(1)).output.theta
    b = bias.run(x, onehot, torch.Generator().manual_seed(1)).output.theta
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("model", ["setup1", "backprop"])
def test_bias_context_equals_zero_context_when_the_bias_is_zero(model):
    zero, bias = _pair(model)
    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))

    def outputs(net):
        return net.outputs(x, torch.Generator().manual_seed(5))

    assert not torch.equal(outputs(zero), outputs(bias))  # the bias is not zero at first
    for net in (zero, bias):
        context_map = net.hidden[0].context_map  # the baseline shares the spiking layers
        with torch.no_grad():
            context_map.bias.zero_()
    torch.testing.assert_close(outputs(zero), outputs(bias))


def test_eval_context_reaches_the_saved_run_and_its_name(digits, tmp_path):
    from infomorphic.experiments import run_name

    summary = train(config(eval_context="bias"), tmp_path, splits=digits, progress=False)
    assert 0 <= summary["test_accuracy"] <= 1
    loaded = RunFolder(tmp_path).load_model()
    assert loaded.config.eval_context == "bias"
    assert run_name(config(eval_context="bias")).endswith("-ctxbias")
    assert "ctx" not in run_name(config())
    with pytest.raises(ValueError, match="eval_context: unknown eval context 'label'; choose"):
        config(eval_context="label").validate()


def test_eval_context_option_on_the_command_line(tmp_path, capsys):
    from infomorphic.cli import main

    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--hidden",
            "6",
            "--epochs",
            "1",
            "--eval-context",
            "bias",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    assert RunFolder(out).config()["eval_context"] == "bias"
    assert main(["train", "--eval-context", "label"]) == 2
    assert "--eval-context" in capsys.readouterr().err


# ---------------------------------------------------------------- the authors' train accuracy


def authors_accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    """acc_continuous after correct_inverse_neurons(invert_others=True), as the authors' trainer
    measures a batch: a neuron whose batch mean is >= 0.5 is inverted, then the argmax."""
    flipped = np.where(outputs.mean(axis=0) >= 0.5, 1 - outputs, outputs)
    return float((flipped.argmax(axis=1) == labels).mean())


def test_batch_accuracy_by_hand():
    outputs = torch.tensor([[0.9, 0.2, 0.1], [0.8, 0.7, 0.2], [0.7, 0.1, 0.6], [0.2, 0.1, 0.1]])
    # neuron 0 (mean 0.65) is inverted: rows become [0.1, 0.2, 0.1], [0.2, 0.7, 0.2],
    # [0.3, 0.1, 0.6], [0.8, 0.1, 0.1] -> argmax 1, 1, 2, 0
    labels = torch.tensor([1, 1, 0, 0])
    assert float(batch_accuracy(outputs, labels)) == 0.75
    assert float(batch_accuracy(outputs, labels, flip=False)) == 0.5  # argmax 0, 0, 0, 0
    stacked = torch.stack([outputs, 1 - outputs], dim=1)  # (B, P=2, K): one value per member
    assert batch_accuracy(stacked, labels).shape == (2,)


@pytest.mark.parametrize("model", ["setup1", "context-only", "setup3"])
def test_train_batch_accuracy_is_the_epoch_mean_of_the_batches(model, digits):
    trainer = Trainer(config(model=model), digits)
    seen = []
    goal_loss = trainer.step.goal_loss

    def recording(x, onehot):
        result = goal_loss(x, onehot)
        seen.append((result.output.numpy().copy(), onehot.argmax(1).numpy()))
        return result

    trainer.step.goal_loss = recording
    trainer.fit()
    batches = len(seen) // 2
    for epoch, row in enumerate(trainer.history):
        mine = seen[epoch * batches : (epoch + 1) * batches]
        expected = np.mean([authors_accuracy(o, y) for o, y in mine])
        assert row["train_batch_accuracy"] == pytest.approx(expected, abs=1e-6)
    assert trainer.summary()["train_batch_accuracy"] == trainer.history[-1]["train_batch_accuracy"]


@pytest.mark.parametrize("model", ["backprop", "mlp"])
def test_train_batch_accuracy_of_backprop_networks(model, digits):
    trainer = Trainer(config(model=model, epochs=1), digits)
    seen = []
    inner = trainer.model.training_loss_and_outputs

    def recording(x, labels, generator=None):
        loss, outputs = inner(x, labels, generator)
        seen.append((outputs.numpy().copy(), labels.numpy()))
        return loss, outputs

    trainer.model.training_loss_and_outputs = recording
    trainer.fit()
    if model == "backprop":  # sigmoid outputs with the polarity flip
        expected = np.mean([authors_accuracy(o, y) for o, y in seen])
    else:  # logits: the argmax as it is
        expected = np.mean([float((o.argmax(1) == y).mean()) for o, y in seen])
    assert trainer.history[-1]["train_batch_accuracy"] == pytest.approx(expected, abs=1e-6)


# -------------------------------------------------------------------------- readout only


def test_readout_only_is_the_output_layer_on_the_inputs(digits):
    model = build_model("readout-only", 8, 4, [100])
    assert len(model.hidden) == 0 and model.output.feedforward.in_features == 8
    assert model.layer_names() == ["output"] and not model.recurrent
    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(0))
    by_hand = torch.sigmoid(x @ model.output.feedforward.weight.T + model.output.feedforward.bias)
    torch.testing.assert_close(model.outputs(x), by_hand)  # A = F: the context only in the goal
    assert model.output.goal.name == "output"
    trainer = Trainer(config(model="readout-only", epochs=4), digits)
    assert trainer.config.hidden == []  # no hidden layer, whatever --hidden said
    summary = trainer.fit()
    assert summary["test_accuracy"] > 0.5  # digits: chance is 0.1
    assert "output_goal" in trainer.history[-1] and "train_batch_accuracy" in trainer.history[-1]


def test_readout_only_refuses_a_hidden_goal_and_runs_from_the_command_line(tmp_path):
    from infomorphic.cli import main
    from infomorphic.experiments import run_name

    with pytest.raises(ValueError, match="no hidden layer"):
        config(model="readout-only", goal="heuristic").validate()
    assert run_name(config(model="readout-only").validate()).startswith(
        "readout-only-default-digits-N0-"
    )
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--model",
            "readout-only",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    assert RunFolder(out).config()["hidden"] == []
    assert RunFolder(out).load_model().output.feedforward.in_features == 64


# ------------------------------------------------------------------------ degenerate binning


def test_single_cell_sources_by_hand():
    from infomorphic.nn.layers import InfomorphicLayer, LayerState

    layer = InfomorphicLayer(4, 3, context_features=2, n_bins=5)  # cells of width 8 on (-20, 20)
    f = torch.tensor([[0.5, -3.9, 10.0], [3.9, 0.0, 1.0]])  # neuron 2 leaves the middle cell
    c = torch.tensor([[0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]])
    state = LayerState({"F": f, "C": c, "L": torch.zeros(2, 3)}, torch.zeros(2, 3), f)
    assert layer.single_cell(state) == {"C": (-4.0, 4.0), "L": (-4.0, 4.0)}
    layer.n_bins = 4  # 0 is a bin edge: C spreads over two cells, L (all 0) stays in one
    assert layer.single_cell(state) == {"L": (0.0, 10.0)}


@pytest.mark.parametrize(("bins", "warned"), [(5, True), (7, True), (4, False), (20, False)])
def test_degenerate_binning_warns_before_training(bins, warned, digits, recwarn):
    from infomorphic.nn.layers import DegenerateBinningWarning

    Trainer(config(bins=bins), digits)
    found = [w for w in recwarn if issubclass(w.category, DegenerateBinningWarning)]
    assert len(found) == warned
    if warned:
        text = str(found[0].message)
        assert f"hidden1: {bins} bins on (-20, 20)" in text and "even number of bins" in text
        assert "F in [" in text


def test_degenerate_binning_warns_in_population_training(digits):
    from infomorphic.nn.layers import DegenerateBinningWarning

    with pytest.warns(DegenerateBinningWarning, match="5 bins"):
        Trainer([config(bins=5), config(bins=5, goal="heuristic")], digits)
