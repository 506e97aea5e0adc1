"""The run folder: layout, format version, readers, safe checkpoint loading, the trained model."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest
import torch
from conftest import SETUP1_EPOCHS, SETUP1_HIDDEN, read_history

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.nn.goals import Goal
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


# -- what a finished run's folder holds ----------------------------------------------------
SUMMARY_KEYS = {
    "test_accuracy",
    "val_accuracy",
    "train_accuracy",
    "epochs",
    "seconds",
    "dataset",
    "model",
    "hidden",
    "goal",
    "seed",
}


def test_run_folder_config(setup1_run, digits):
    out, _ = setup1_run
    config = json.loads((out / "config.json").read_text())
    assert config["data_source"] == digits.source
    assert config["model"] == "setup1" and config["hidden"] == [SETUP1_HIDDEN]
    assert config["goals"]["hidden1"] == Goal.named("optimized").as_dict()
    assert config["goals"]["output"] == Goal.named("output").as_dict()
    assert config["n_train"] == len(digits.y_train)
    assert config["n_val"] == len(digits.y_val) and config["n_test"] == len(digits.y_test)


def test_run_folder_history(setup1_run):
    out, summary = setup1_run
    rows = read_history(out)
    assert len(rows) == SETUP1_EPOCHS
    assert [int(r["epoch"]) for r in rows] == list(range(1, SETUP1_EPOCHS + 1))
    columns = set(rows[0])
    expected = {
        "epoch",
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
        "seconds",
        "hidden1_goal",
        "output_goal",
        "hidden1_self_cosine_median",
    }
    assert expected <= columns
    assert {f"hidden1_{label}" for label in Goal.named("optimized").labels} <= columns
    assert {f"output_{label}" for label in Goal.named("output").labels} <= columns
    assert float(rows[-1]["test_accuracy"]) == pytest.approx(summary["test_accuracy"])
    # the goal column is the goal of the recorded mean atoms
    weights = np.array(Goal.named("optimized").weights)
    atoms = np.array([float(rows[-1][f"hidden1_{lbl}"]) for lbl in Goal.named("optimized").labels])
    assert float(rows[-1]["hidden1_goal"]) == pytest.approx(float(atoms @ weights), abs=1e-5)
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds) and seconds[0] > 0


def test_run_folder_atoms(setup1_run):
    out, _ = setup1_run
    arrays = np.load(out / "atoms.npz")
    hidden = arrays["hidden1_atoms"]
    assert hidden.shape == (SETUP1_EPOCHS, SETUP1_HIDDEN, 19)
    assert arrays["output_atoms"].shape == (SETUP1_EPOCHS, 10, 5)
    cosine = arrays["hidden1_self_cosine"]
    assert cosine.shape == (SETUP1_EPOCHS, SETUP1_HIDDEN)
    assert np.all(cosine >= -1e-6) and np.all(cosine <= 2 + 1e-6)
    assert cosine[0].max() > 0  # the weights moved in the first epoch
    assert list(arrays["hidden1_labels"]) == list(Goal.named("optimized").labels)
    assert list(arrays["output_labels"]) == list(Goal.named("output").labels)
    assert np.all(np.isfinite(hidden))
    # the history's median self-cosine agrees with the per-neuron array
    rows = read_history(out)
    for epoch, row in enumerate(rows):
        median = float(row["hidden1_self_cosine_median"])
        assert median == pytest.approx(
            float(np.sort(cosine[epoch])[(SETUP1_HIDDEN - 1) // 2]), abs=1e-6
        )
        mean_atoms = hidden[epoch].mean(0)
        assert float(row["hidden1_{F}{C}"]) == pytest.approx(float(mean_atoms[1]), abs=1e-5)


def test_run_folder_checkpoint_and_summary(setup1_run):
    out, summary = setup1_run
    checkpoint = RunFolder(out).checkpoint()
    assert checkpoint["epoch"] == SETUP1_EPOCHS
    assert "hidden.0.feedforward.weight" in checkpoint["model"]
    saved = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(saved)
    assert saved == json.loads(json.dumps(summary))
    assert saved["epochs"] == SETUP1_EPOCHS and saved["dataset"] == "digits"
    assert saved["model"] == "setup1" and saved["hidden"] == [SETUP1_HIDDEN]
    assert saved["goal"] == "optimized" and saved["seed"] == 0
    assert saved["seconds"] > 0
    for key in ("test_accuracy", "val_accuracy", "train_accuracy"):
        assert 0 <= saved[key] <= 1
