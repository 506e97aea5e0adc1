"""The run folder: layout, format version, readers, safe checkpoint loading, the trained model."""

from __future__ import annotations

import argparse
import json
import pickle

import numpy as np
import pytest
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import FORMAT_VERSION, RunFolder, TrainConfig, train


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
    model = folder.load_model()
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
    model = folder.load_model()
    accuracy = float((model.predict(splits.x_test) == splits.y_test).float().mean())
    assert accuracy == pytest.approx(summary["test_accuracy"], abs=1e-9)
    assert np.isfinite(folder.history()[-1]["val_accuracy"])
