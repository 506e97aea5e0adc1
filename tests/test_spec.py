"""A network described as data: the presets as specs, one validation that names the field,
storage round trips, per-layer options, and the option table behind the configuration."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from infomorphic.errors import ConfigError
from infomorphic.networks import MODELS, NetworkSpec, model_spec
from infomorphic.networks.presets import SPARSE_LATERAL
from infomorphic.networks.spec import LayerSpec, OutputSpec, weight_count
from infomorphic.training import TrainConfig
from infomorphic.training.config import OPTIONS

N_IN, N_CLASSES = 64, 10


def spec(model: str = "setup1", hidden=(20, 10), **options) -> NetworkSpec:
    return model_spec(model, N_IN, N_CLASSES, hidden, options)


def test_presets_are_specs_of_the_papers_networks():
    """Each preset's layers as the paper (section 5, appendix A.10) and docs/protocol.md
    describe them; the old preset attributes read from the spec."""
    fixed = (-20.0, 20.0)  # None: adaptive bins
    expected = {  # context, lateral, activation, goal, bin range
        "setup1": (("label",), "all", "modulated", "optimized", fixed),
        "setup2": (("label",), SPARSE_LATERAL, "modulated", "optimized", fixed),
        "setup3": (("output",), SPARSE_LATERAL, "modulated", "optimized", fixed),
        "context-only": (("label",), "none", "bivariate", "context-heuristic", None),
        "lateral-only": ((), "all", "bivariate", "lateral-heuristic", None),
        "random-hidden": (("label",), "none", "step", None, None),
        "deep-feedback": (("label", "output"), SPARSE_LATERAL, "modulated", "optimized", fixed),
        "backprop": (("label",), "all", "modulated", None, fixed),
    }
    for name, wanted in expected.items():
        layers = spec(name, (20, 10) if name != "backprop" else (20,)).layers
        for layer in layers:
            found = (layer.context, layer.lateral, layer.activation, layer.goal, layer.bin_range)
            assert found == wanted, name
            assert layer.bins == 20
    assert MODELS["setup2"].lateral == SPARSE_LATERAL and MODELS["setup1"].lateral is None
    assert MODELS["context-only"].sources == "FC" and MODELS["lateral-only"].sources == "FL"
    assert MODELS["random-hidden"].hidden_goal is None and MODELS["setup3"].kind == "infomorphic"
    mlp = spec("mlp")
    assert mlp.kind == "mlp" and [layer.size for layer in mlp.layers] == [20, 10]
    assert spec("setup1").output == OutputSpec("output", 20) and spec("setup1").passes == 2


@pytest.mark.parametrize("name", list(MODELS))
def test_a_spec_round_trips_through_json(name):
    described = spec(name, (12,), **{"layers.goal": [0.1] * 19} if name == "setup1" else {})
    stored = json.loads(json.dumps(described.to_dict()))
    assert NetworkSpec.from_dict(stored) == described


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"layers.bins": {"hidden2": 1}}, "hidden2.bins"),
        ({"layers.bins": 1}, "hidden1.bins"),
        ({"output.bins": 1}, "output.bins"),
        ({"passes": 1}, "passes"),
        ({"layers.activation": "bivariate"}, "hidden1.activation"),
        ({"layers.activation": {"hidden2": "tanh"}}, "hidden2.activation"),
        ({"layers.goal": {"hidden2": "no-such-goal"}}, "hidden2.goal"),
        ({"layers.goal": [1.0, 2.0]}, "hidden1.goal"),
        ({"layers.bins": {"hidden3": 8}}, "hidden3.bins"),
        ({"eval_context": "labels"}, "eval_context"),
    ],
)
def test_validation_names_the_field(change, field):
    with pytest.raises(ConfigError) as caught:
        spec(**change)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_layer_fields_are_checked_one_by_one():
    base = spec().layers[0]
    bad = {
        "size": 0,
        "bin_range": (5.0, -5.0),
        "context": ("label", "label"),
        "lateral": 0,
    }
    for name, value in bad.items():
        layers = (LayerSpec(**{**vars(base), name: value}),)
        with pytest.raises(ConfigError) as caught:
            NetworkSpec("infomorphic", N_IN, N_CLASSES, layers).validate()
        assert caught.value.field == f"hidden1.{name}", name
    with pytest.raises(ConfigError) as caught:
        layers = (LayerSpec(**{**vars(base), "name": "layer1"}),)
        NetworkSpec("infomorphic", N_IN, N_CLASSES, layers).validate()
    assert caught.value.field == "layers"
    with pytest.raises(ConfigError, match="context or lateral"):
        layer = LayerSpec("hidden1", 5, context=(), lateral="none")
        NetworkSpec("infomorphic", N_IN, N_CLASSES, (layer,)).validate()


def test_options_apply_per_layer_and_only_where_they_mean_something():
    described = spec(**{"layers.bins": {"hidden2": 8}, "layers.goal": {"hidden1": "heuristic"}})
    assert [layer.bins for layer in described.layers] == [20, 8]
    assert [layer.goal for layer in described.layers] == ["heuristic", "optimized"]
    fixed = spec("random-hidden", **{"layers.goal": "heuristic", "layers.activation": "linear"})
    assert fixed.layers[0].goal is None and fixed.layers[0].activation == "step"
    backprop = spec("backprop", (20,), **{"layers.activation": "linear", "layers.bins": 5})
    assert backprop.layers[0].activation == "linear" and backprop.layers[0].bins == 20


def test_train_config_names_the_field_and_keeps_per_layer_values_canonical():
    same = TrainConfig(hidden=[20, 10], bins={"hidden1": 12, "hidden2": 12}).validate()
    assert same.bins == 12  # one value for every layer
    mixed = TrainConfig(hidden=[20, 10], bins={"hidden2": 8}).validate()
    assert mixed.bins == {"hidden1": 20, "hidden2": 8}
    cases = [
        (dict(bins=1), "bins"),
        (dict(hidden=[20, 10], bins={"hidden2": 1}), "hidden2.bins"),
        (dict(hidden=[20, 10], bins={"hidden3": 8}), "hidden3.bins"),
        (dict(goal="no-such-goal"), "goal"),
        (dict(hidden=[20, 10], goal={"hidden2": "no-such-goal"}), "hidden2.goal"),
        (dict(activation="bivariate"), "activation"),
        (dict(activation="tanh"), "activation"),
        (dict(output_bins=1), "output_bins"),
        (dict(passes=0), "passes"),
        (dict(model="setup9"), "model"),
        (dict(hidden=[0]), "hidden"),
        (dict(eval_splits=("val", "val")), "eval_splits"),
        (dict(device="gpu"), "device"),
        (dict(model="backprop", compile=True), "compile"),
    ]
    for values, field in cases:
        with pytest.raises(ConfigError) as caught:
            TrainConfig(**values).validate()
        assert caught.value.field == field, values


def test_a_config_describes_its_network():
    config = TrainConfig(model="setup2", hidden=[150, 30], bins={"hidden2": 6}, output_bins=8)
    described = config.validate().network(N_IN, N_CLASSES)
    assert [layer.bins for layer in described.layers] == [20, 6]
    assert described.output.bins == 8 and described.layers[0].lateral == SPARSE_LATERAL
    saved = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert saved == config


def test_the_option_table_declares_each_option_once():
    assert list(OPTIONS) == [f for f in TrainConfig().to_dict()]
    flags = [o.cli_flag for o in OPTIONS.values() if o.cli_flag]
    assert len(flags) == len(set(flags))
    per_layer = {name for name, o in OPTIONS.items() if o.per_layer}
    assert per_layer >= {"goal", "bins", "activation"}
    assert {o.spec for o in OPTIONS.values() if o.per_layer} <= {
        f"layers.{f}" for f in LayerSpec.__dataclass_fields__
    }
    assert OPTIONS["bins"].default == 20 and OPTIONS["passes"].default == 2


def test_specs_presets_and_options_are_torch_free():
    code = (
        "import sys\n"
        "from infomorphic.training.config import OPTIONS, TrainConfig\n"
        "from infomorphic.networks.presets import MODELS\n"
        "specs = [p.spec(64, 10, (20,)).to_dict() for p in MODELS.values()]\n"
        "TrainConfig(hidden=[20, 10], bins={'hidden2': 8})\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_goal_file_of_one_goal_per_layer_sets_each_layers_goal(tmp_path):
    from infomorphic.nn.goals import Goal

    path = tmp_path / "layers.json"
    path.write_text(json.dumps({"hidden2": {"{F}{C}": 1.0}}))
    config = TrainConfig(hidden=[20, 10], goal=str(path)).validate()
    assert config.goal == str(path)  # the option as given; its layers in the network
    layers = config.network(N_IN, N_CLASSES).layers
    assert layers[0].goal == "optimized"  # a layer the file does not name keeps the model's
    assert Goal.resolve(layers[1].goal, ("F", "C", "L")).weights == Goal.named("heuristic").weights
    with pytest.raises(ConfigError, match="names hidden2, but the network's hidden layers") as e:
        TrainConfig(hidden=[20], goal=str(path)).validate()
    assert e.value.field == "goal"
    with pytest.raises(ConfigError, match="one goal per layer") as e:
        TrainConfig(hidden=[20, 10], goal={"hidden1": str(path)}).validate()
    assert e.value.field == "hidden1.goal"


def test_an_inline_vector_is_a_goal_of_the_configuration():
    vector = ",".join(["0"] * 18 + ["0.5"])
    config = TrainConfig(goal=vector).validate()
    assert config.goal == [0.0] * 18 + [0.5]
    assert TrainConfig(hidden=[20, 10], goal={"hidden2": vector}).validate().goal == {
        "hidden1": None,
        "hidden2": [0.0] * 18 + [0.5],
    }


def test_a_per_layer_goal_with_identical_layers_trains_exactly_like_the_shared_goal():
    """The same goal in each layer, written differently per layer (a name, a vector, a label
    map), builds and trains the network of the shared goal, bit for bit."""
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.nn.goals import Goal
    from infomorphic.training import Trainer

    digits = prepare_splits(load_dataset("digits"), 0.2, 0)
    heuristic = Goal.named("heuristic")
    base = dict(dataset="digits", hidden=[10, 6], epochs=2, batch_size=256, seed=3)
    shared = Trainer(TrainConfig(**base, goal="heuristic"), digits)
    written = {"hidden1": list(heuristic.weights), "hidden2": heuristic.as_dict()}
    per_layer = Trainer(TrainConfig(**base, goal=written), digits)
    assert per_layer.config.goal == written  # not one value: the layers write it differently
    assert shared.fit() | {"goal": None, "seconds": 0} == per_layer.fit() | {
        "goal": None,
        "seconds": 0,
    }
    for ours, theirs in zip(per_layer.history, shared.history, strict=True):
        assert {k: v for k, v in ours.items() if k != "seconds"} == {
            k: v for k, v in theirs.items() if k != "seconds"
        }
    for name, value in shared.model.state_dict().items():
        assert torch.equal(per_layer.model.state_dict()[name], value), name


def test_weight_count_is_the_feedforward_weights_of_the_layer_sizes():
    """By hand: inputs x first layer + each layer x the next + last layer x classes."""
    assert weight_count(784, [100], 10) == 784 * 100 + 100 * 10
    assert weight_count(64, [8, 6], 10) == 64 * 8 + 8 * 6 + 6 * 10
    assert weight_count(64, [], 10) == 640  # the readout alone
