"""Training end to end on the small offline data sets: learning, the run folder, resume, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import read_history

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.networks import build_model
from infomorphic.training import (
    RunFolder,
    RunFolderWriter,
    TrainConfig,
    Trainer,
    loop,
    steps,
    train,
)

# --------------------------------------------------------------------------------- learning


def test_setup1_learns_digits(setup1_run):
    _, summary = setup1_run
    assert summary["test_accuracy"] > 0.7  # chance is 0.1
    assert summary["val_accuracy"] > 0.7
    assert summary["train_accuracy"] > 0.7


@pytest.mark.parametrize(("model", "least"), [("backprop", 0.6), ("mlp", 0.8)])
def test_backprop_learns_digits(model, least, digits, tmp_path):
    config = TrainConfig(
        dataset="digits", model=model, hidden=[50], epochs=10, batch_size=32, seed=0
    )
    summary = train(config, tmp_path, splits=digits, progress=False)
    assert summary["test_accuracy"] > least  # observed 0.76 (backprop), 0.92 (mlp)
    assert summary["model"] == model
    assert not (tmp_path / "atoms.npz").exists()  # no PID atoms for backprop
    assert len(read_history(tmp_path)) == 10


def test_setup1_learns_mnist_sample(tmp_path):
    splits = prepare_splits(load_dataset("mnist-sample"), 0.2, 0)
    config = TrainConfig(
        dataset="mnist-sample", model="setup1", hidden=[50], epochs=3, batch_size=64, seed=0
    )
    summary = train(config, tmp_path, splits=splits, progress=False)
    assert summary["test_accuracy"] > 0.6  # observed 0.81


# ----------------------------------------------------------------------------------- resume


def small_config(epochs: int, **kwargs) -> TrainConfig:
    settings = {
        "dataset": "digits",
        "model": "setup1",
        "hidden": [20],
        "batch_size": 128,
        "seed": 5,
        "epochs": epochs,
    }
    settings.update(kwargs)
    return TrainConfig(**settings)


def assert_same_run(straight, resumed):
    """Two run folders hold the same run: history, final weights and per-epoch atoms."""
    a, b = read_history(straight), read_history(resumed)
    assert len(a) == len(b)
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert [r[key] for r in a] == [r[key] for r in b]
    wa = RunFolder(straight).checkpoint()["model"]
    wb = RunFolder(resumed).checkpoint()["model"]
    assert wa.keys() == wb.keys()
    for name in wa:
        assert torch.equal(wa[name], wb[name]), name
    assert (straight / "atoms.npz").is_file() == (resumed / "atoms.npz").is_file()
    if (straight / "atoms.npz").is_file():
        xa, xb = np.load(straight / "atoms.npz"), np.load(resumed / "atoms.npz")
        assert xa.files == xb.files
        for key in set(xa.files) - {"run_id"}:  # each run has its own identity
            assert np.array_equal(xa[key], xb[key]), key


@pytest.mark.parametrize("model", ["setup1", "setup3", "backprop"])
def test_resume_is_identical_to_an_uninterrupted_run(model, digits, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(small_config(4, model=model), straight, splits=digits, progress=False)
    train(small_config(2, model=model), split, splits=digits, progress=False)
    assert len(read_history(split)) == 2
    train(small_config(4, model=model), split, resume=True, splits=digits, progress=False)
    assert len(read_history(split)) == 4
    assert_same_run(straight, split)
    if model != "backprop":
        assert np.load(split / "atoms.npz")["hidden1_self_cosine"].shape[0] == 4


@pytest.mark.slow
def test_compiled_training_resumes_exactly(digits, tmp_path, monkeypatch):
    """--compile: one graph per batch size, spikes from the checkpointed global generator.
    aot_eager stands in for inductor (no C compiler needed; the same traced graph)."""
    monkeypatch.setattr(steps, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(small_config(3, compile=True), straight, splits=digits, progress=False)
    train(small_config(1, compile=True), split, splits=digits, progress=False)
    train(small_config(3, compile=True), split, resume=True, splits=digits, progress=False)
    assert_same_run(straight, split)
    with pytest.raises(ValueError, match="compile"):
        train(small_config(4), split, resume=True, splits=digits, progress=False)
    with pytest.raises(ValueError, match="backprop"):
        train(small_config(1, model="backprop", compile=True), tmp_path / "bp", splits=digits)


def test_compiled_step_equals_the_eager_step_on_the_same_random_stream(monkeypatch):
    """The compiled step draws its spikes from torch's global generator; the eager fixed-shape
    step given the same global state must produce the same loss, atoms and updated weights."""
    monkeypatch.setattr(steps, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    x = torch.randn(64, 12, generator=torch.Generator().manual_seed(0)) * 3
    y = torch.arange(64) % 4
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = build_model("setup1", 12, 4, [6])
        if compiled:
            step = steps.CompiledLocalGoalStep(model, torch.device("cpu"), seed=11)
        else:
            step = steps.LocalGoalStep(
                model,
                torch.device("cpu"),
                seed=0,
                goal_loss=lambda x, onehot, model=model: model.goal_loss(x, onehot, None, True),
            )
            torch.manual_seed(11)  # what the compiled step seeds the global generator with
        with torch.random.fork_rng(devices=[]):
            decompositions = [d.clone() for _ in range(2) for d in step(x, y).decompositions]
        results.append((decompositions, {k: v.clone() for k, v in model.state_dict().items()}))
    (eager_atoms, eager_weights), (compiled_atoms, compiled_weights) = results
    for a, b in zip(eager_atoms, compiled_atoms, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for name, value in eager_weights.items():
        torch.testing.assert_close(value, compiled_weights[name], rtol=1e-5, atol=1e-6)


class Killed(BaseException):
    """Stands for a hard kill (SIGKILL, a crash): no hook sees it, unlike KeyboardInterrupt."""


def test_checkpoint_interval_and_interrupted_run(digits, tmp_path, monkeypatch):
    """With a long interval the checkpoint is saved after epoch 1 and the last epoch only, the
    history after every epoch; a run killed in epoch 3 resumes from epoch 1's checkpoint
    and ends exactly like an uninterrupted one. (Ctrl-C saves the last completed epoch:
    tests/test_hardening.py.)"""
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    train(small_config(4), straight, splits=digits, progress=False, checkpoint_interval_s=1e9)
    assert torch.load(straight / "checkpoint.pt", weights_only=False)["epoch"] == 4

    real_evaluate = loop.evaluate
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(loop, "evaluate", interrupted)
    with pytest.raises(Killed):
        train(small_config(4), cut, splits=digits, progress=False, checkpoint_interval_s=1e9)
    assert len(read_history(cut)) == 2
    assert torch.load(cut / "checkpoint.pt", weights_only=False)["epoch"] == 1
    assert np.load(cut / "atoms.npz")["hidden1_atoms"].shape[0] == 1
    monkeypatch.setattr(loop, "evaluate", real_evaluate)
    # resuming for no more epochs than the checkpoint holds: history.csv drops epoch 2's row,
    # which the checkpoint does not have
    summary = train(small_config(1), cut, resume=True, splits=digits, progress=False)
    assert summary["epochs"] == 1 and len(read_history(cut)) == 1
    train(small_config(4), cut, resume=True, splits=digits, progress=False)
    assert len(read_history(cut)) == 4
    assert_same_run(straight, cut)
    with pytest.raises(ValueError, match="checkpoint_interval_s"):
        RunFolderWriter(RunFolder(tmp_path / "x"), checkpoint_interval_s=-1)


def test_resume_with_a_different_config(digits, tmp_path):
    train(small_config(1), tmp_path, splits=digits, progress=False)
    with pytest.raises(ValueError, match="seed"):
        train(small_config(2, seed=6), tmp_path, resume=True, splits=digits, progress=False)
    with pytest.raises(ValueError, match="hidden"):
        train(small_config(2, hidden=[21]), tmp_path, resume=True, splits=digits, progress=False)


def test_resume_needs_the_atoms_file(digits, tmp_path):
    """The checkpoint keeps only how many epochs of atoms.npz belong to it."""
    train(small_config(2), tmp_path, splits=digits, progress=False)
    state = RunFolder(tmp_path).checkpoint()
    assert "neuron_atoms" not in state and state["recorder"]["atoms_epochs"]["hidden1"] == 2
    (tmp_path / "atoms.npz").unlink()
    with pytest.raises(FileNotFoundError, match="atoms.npz"):
        train(small_config(3), tmp_path, resume=True, splits=digits, progress=False)


def test_resume_without_checkpoint(digits, tmp_path):
    with pytest.raises(FileNotFoundError):
        train(small_config(1), tmp_path / "empty", resume=True, splits=digits, progress=False)


def test_zero_epochs_evaluates_the_untrained_model(digits, tmp_path):
    summary = train(small_config(0), tmp_path, splits=digits, progress=False)
    assert summary["epochs"] == 0
    assert 0 <= summary["test_accuracy"] <= 1


def test_bad_train_config(digits, tmp_path):
    with pytest.raises(ValueError):
        train(small_config(1, model="nope"), tmp_path, splits=digits, progress=False)
    with pytest.raises(ValueError):
        train(small_config(-1), tmp_path, splits=digits, progress=False)
    with pytest.raises(ValueError):
        train(small_config(1, hidden=[0]), tmp_path, splits=digits, progress=False)


def test_divergence_stops_before_saving_a_broken_epoch(digits, tmp_path, monkeypatch):
    trainer = Trainer(small_config(1), digits, [RunFolderWriter(RunFolder(tmp_path), 0)])
    trainer.fit()
    good = (tmp_path / "checkpoint.pt").read_bytes()
    trainer.config.epochs = 2
    with torch.no_grad():
        trainer.model.hidden[0].feedforward.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="diverged in epoch 2"):
        trainer.fit()
    assert (tmp_path / "checkpoint.pt").read_bytes() == good
