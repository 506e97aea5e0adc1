"""The TensorBoard hook and ``train --tensorboard``: the event files read back hold each epoch's
accuracies (equal to history.csv) and each layer's mean atoms (equal to atoms.npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infomorphic.cli import main
from infomorphic.training import RunFolder, TensorBoardHook, TrainConfig, train

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="the tensorboard extra is not installed (pip install -e '.[tensorboard]')",
)


def read_events(log_dir: Path) -> event_accumulator.EventAccumulator:
    events = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"histograms": 0})
    events.Reload()
    return events


def scalars(events: event_accumulator.EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in events.Scalars(tag)]


def test_cli_tensorboard_logs_accuracies_and_atoms(tmp_path: Path) -> None:
    out, logs = tmp_path / "runs" / "small", tmp_path / "tb"
    argv = [
        "train",
        "--dataset",
        "digits",
        "--hidden",
        "12",
        "--epochs",
        "3",
        "--batch-size",
        "256",
        "--out",
        str(out),
        "--tensorboard",
        str(logs),
        "--no-progress",
    ]
    assert main(argv) == 0
    events = read_events(logs / "small")  # one subfolder per run folder
    folder = RunFolder(out)
    history, atoms = folder.history(), folder.atoms()
    for split in ("train", "val", "test"):
        expected = [(int(row["epoch"]), row[f"{split}_accuracy"]) for row in history]
        got = scalars(events, f"accuracy/{split}")
        assert [step for step, _ in got] == [1, 2, 3]
        np.testing.assert_allclose([v for _, v in got], [v for _, v in expected], rtol=1e-6)
    for layer in ("hidden1", "output"):
        labels = [str(label) for label in atoms[f"{layer}_labels"]]
        per_epoch = atoms[f"{layer}_atoms"].mean(axis=1)  # (epochs, A + 1): mean over neurons
        for column, label in enumerate(labels):
            got = [v for _, v in scalars(events, f"{layer}/atoms/{label}")]
            np.testing.assert_allclose(got, per_epoch[:, column], rtol=1e-5, atol=1e-6)
        histogram = events.Histograms(f"{layer}/neurons/{labels[0]}")
        assert [h.step for h in histogram] == [1, 2, 3]
        assert histogram[-1].histogram_value.num == atoms[f"{layer}_atoms"].shape[1]  # neurons
    assert "hidden1/goal" in events.Tags()["scalars"]
    assert "config" in str(events.Tags())


def test_hook_from_python_and_resume_continues_the_steps(tmp_path: Path) -> None:
    config = TrainConfig(dataset="digits", hidden=[8], epochs=2, batch_size=256)
    train(config, tmp_path / "run", progress=False, hooks=[TensorBoardHook(tmp_path / "tb")])
    longer = TrainConfig(dataset="digits", hidden=[8], epochs=3, batch_size=256)
    train(
        longer,
        tmp_path / "run",
        resume=True,
        progress=False,
        hooks=[TensorBoardHook(tmp_path / "tb")],
    )
    steps = [step for step, _ in scalars(read_events(tmp_path / "tb"), "accuracy/val")]
    assert steps == [1, 2, 3]


def test_backprop_run_logs_accuracies_only(tmp_path: Path) -> None:
    config = TrainConfig(dataset="digits", model="mlp", hidden=[8], epochs=1, batch_size=256)
    train(config, progress=False, hooks=[TensorBoardHook(tmp_path / "tb")])
    tags = read_events(tmp_path / "tb").Tags()
    scalars = set(tags["scalars"])  # every accuracy of the history, nothing of neurons
    assert {"accuracy/test", "accuracy/train", "accuracy/val"} <= scalars
    assert all(tag.startswith("accuracy/") for tag in scalars) and not tags["histograms"]
