"""The run folder: layout, format version, readers, safe checkpoint loading, the trained model."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import FORMAT_VERSION, RunFolder, TrainConfig, load_model, train


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(dataset="digits", hidden=[12], batch_size=128, epochs=2, seed=1)
    summary = train(config, out, splits=splits, progress=False)
    return RunFolder(out), summary, splits


def test_readers_give_back_what_the_run_wrote(run):
    folder, summary, splits = run
    assert folder.is_finished and folder.has_checkpoint
    config = folder.config()
    assert config["format_version"] == FORMAT_VERSION
    assert folder.train_config() == TrainConfig(
        dataset="digits", hidden=[12], batch_size=128, epochs=2, seed=1
    )
    history = folder.history()
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[-1]["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    atoms = folder.atoms()
    assert atoms["hidden1_atoms"].shape == (2, 12, 19)
    assert folder.summary() == json.loads(json.dumps(summary))


def test_the_loaded_model_predicts_as_the_trained_one(run):
    folder, summary, splits = run
    model = load_model(folder)
    generator = torch.Generator().manual_seed(0)
    predictions = model.predict(splits.x_test, generator)
    accuracy = float((predictions == splits.y_test).float().mean())
    # one spike sample: close to the recorded test accuracy, far above chance (0.1)
    assert accuracy == pytest.approx(summary["test_accuracy"], abs=0.06)
    assert torch.equal(model.polarity, folder.checkpoint()["model"]["polarity"])


def test_a_checkpoint_that_would_run_code_is_refused(run, tmp_path):
    folder, _, _ = run
    state = folder.checkpoint()
    state["payload"] = argparse.Namespace(note="any class: loading it could run code")
    evil = RunFolder(tmp_path)
    torch.save(state, tmp_path / RunFolder.CHECKPOINT)
    with pytest.raises(pickle.UnpicklingError):
        evil.checkpoint()


def test_an_unknown_format_is_refused_with_a_message(run, tmp_path):
    folder, _, _ = run
    saved = folder.config()
    saved["format_version"] = FORMAT_VERSION + 1
    (tmp_path / RunFolder.CONFIG).write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="upgrade infomorphic"):
        RunFolder(tmp_path).config()
    state = folder.checkpoint()
    state["format_version"] = 1
    torch.save(state, tmp_path / RunFolder.CHECKPOINT)
    with pytest.raises(ValueError, match="older infomorphic"):
        RunFolder(tmp_path).checkpoint()


def test_missing_files_are_named(tmp_path):
    folder = RunFolder(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="is .* a run folder"):
        folder.history()
    assert folder.atoms() == {}
    assert not folder.is_finished and not folder.has_checkpoint


def test_mlp_run_has_no_atoms_and_loads(tmp_path):
    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    config = TrainConfig(dataset="digits", model="mlp", hidden=[16], epochs=2, seed=0)
    summary = train(config, tmp_path, splits=splits, progress=False)
    folder = RunFolder(tmp_path)
    assert folder.atoms() == {}
    model = load_model(folder)
    accuracy = float((model.predict(splits.x_test) == splits.y_test).float().mean())
    assert accuracy == pytest.approx(summary["test_accuracy"], abs=1e-9)
    assert np.isfinite(folder.history()[-1]["val_accuracy"])


def test_config_json_describes_the_network(run):
    folder, _, _ = run
    config = folder.config()
    layer = config["network"]["layers"][0]
    assert (layer["name"], layer["size"], layer["goal"], layer["bins"]) == (
        "hidden1",
        12,
        "optimized",
        20,
    )
    assert layer["context"] == ["label"] and layer["bin_range"] == [-20.0, 20.0]
    assert folder.network().layers[0].size == 12


def test_a_goal_file_is_stored_as_its_weights(tmp_path):
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps({"{F}{C}": 1.0, "H_res": 0.25}))
    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    config = TrainConfig(dataset="digits", hidden=[6], batch_size=256, epochs=1, goal=str(goal))
    train(config, tmp_path / "run", splits=splits, progress=False)
    goal.unlink()  # the folder alone rebuilds its network
    stored = RunFolder(tmp_path / "run").network().layers[0].goal
    assert stored["{F}{C}"] == 1.0 and stored["H_res"] == 0.25
    assert RunFolder(tmp_path / "run").load_model().hidden[0].goal.weights[1] == 1.0


def test_a_format_2_config_is_converted_on_read():
    from infomorphic.training.run_folder import network_of

    old = {
        "format_version": 2,
        "model": "backprop",
        "hidden": [7],
        "passes": 3,  # format 2's baseline ran two passes, the modulated activation, always
        "activation": "linear",
        "bins": 9,
        "n_features": 64,
        "n_classes": 10,
        "network": None,
    }
    spec = network_of(old)
    assert spec.kind == "backprop" and spec.passes == 2
    assert spec.layers[0].activation == "modulated" and spec.layers[0].size == 7
    setup1 = network_of({**old, "model": "setup1", "passes": 3, "bins": 9, "goal": "heuristic"})
    assert (
        setup1.passes == 3 and setup1.layers[0].bins == 9 and setup1.layers[0].goal == ("heuristic")
    )


def test_the_baselines_format_2_weights_load():
    from infomorphic.networks import build_model
    from infomorphic.networks.backprop import _OLD_NAMES

    model = build_model("backprop", 64, 10, [7])
    old = {}
    for key, value in model.state_dict().items():
        for before, after in _OLD_NAMES.items():
            if key.startswith(after):
                key = before + key[len(after) :]
                break
        old[key] = value
    assert "feedforward.weight" in old and "output.weight" in old
    fresh = build_model("backprop", 64, 10, [7])
    fresh.load_state_dict(old)
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value)
