"""``training.inference``: a trained run for prediction (``load_run``, ``LoadedRun``) from the
library and through ``infomorphic predict``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import MNIST_10K, needs_mnist_10k, write_pgm, write_png

from infomorphic.cli import main
from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import LoadedRun, RunFolder, TrainConfig, load_run, train


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run") / "digits"
    train(TrainConfig(dataset="digits", hidden=[10], epochs=1), folder, progress=False)
    return folder


def test_prediction_api_return_types(run_dir: Path) -> None:
    from infomorphic.data import load_dataset

    run = load_run(run_dir)
    images = load_dataset("digits").x_test[:7]
    scores, classes = run.scores(images, seed=3), run.predict(images, seed=3)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float32 and scores.shape == (7, 10)
    assert isinstance(classes, np.ndarray) and classes.dtype == np.int64 and classes.shape == (7,)
    np.testing.assert_array_equal(classes, scores.argmax(axis=1))
    x = run.standardise(images)
    assert isinstance(x, torch.Tensor)
    tensor_scores = run.scores_of(x, seed=3)
    assert isinstance(tensor_scores, torch.Tensor)
    np.testing.assert_array_equal(tensor_scores.cpu().numpy(), scores)  # the same numbers


def test_load_run_and_predict_on_digits(finished, digits, tmp_path, capsys):
    run = load_run(finished[1])
    assert isinstance(run, LoadedRun) and run.n_features == 64 and run.n_classes == 10
    raw = load_dataset("digits")
    assert torch.equal(run.standardise(raw.x_test), digits.x_test)
    predicted = run.predict(raw.x_test.reshape(-1, 8, 8))
    accuracy = float((predicted == raw.y_test).mean())
    assert accuracy == pytest.approx(RunFolder(finished[1]).summary()["test_accuracy"], abs=0.06)
    # the command line: .npy (n, 64) and (n, 8, 8), PGM and PNG of single images, --json
    images = np.rint(raw.x_test[:5] * 255 / 16).astype(np.uint8).reshape(5, 8, 8)
    np.save(tmp_path / "flat.npy", images.reshape(5, 64).astype(np.float32) * 16 / 255)
    np.save(tmp_path / "square.npy", images.astype(np.float32) * 16 / 255)
    # 8-bit image files of the run's own pixel scale (digits: 0..16)
    single = raw.x_test[0].reshape(8, 8).astype(np.uint8)
    write_pgm(tmp_path / "one.pgm", single)
    write_png(tmp_path / "one.png", single)
    printed = []
    for name in ("flat.npy", "square.npy"):
        assert main(["predict", str(finished[1]), str(tmp_path / name)]) == 0
        printed.append(capsys.readouterr().out.splitlines())
    assert (
        printed[0]
        == printed[1]
        == [str(c) for c in run.predict(images.astype(np.float32) * 16 / 255)]
    )
    assert main(["predict", str(finished[1]), str(tmp_path / "flat.npy"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [str(r["class"]) for r in rows] == printed[0]
    assert all(len(r["scores"]) == 10 and r["class"] == np.argmax(r["scores"]) for r in rows)
    # several files: one line per image, in order; wrong sizes are named
    files = [str(tmp_path / n) for n in ("flat.npy", "one.pgm", "one.png")]
    assert main(["predict", str(finished[1]), *files]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 7
    np.save(tmp_path / "wrong.npy", np.zeros((3, 28, 28)))
    assert main(["predict", str(finished[1]), str(tmp_path / "wrong.npy")]) == 2
    assert "takes 64 pixels per image" in capsys.readouterr().err


@needs_mnist_10k
@pytest.mark.slow
def test_predict_mnist_idx_files(tmp_path, capsys):
    out = tmp_path / "mnist"
    argv = [
        "train",
        "--dataset",
        "mnist",
        "--data-dir",
        str(MNIST_10K),
        "--hidden",
        "30",
        "--batch-size",
        "64",
        "--epochs",
        "2",
        "--eval-splits",
        "",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(argv) == 0
    images = MNIST_10K / "t10k-images-idx3-ubyte.gz"
    from infomorphic.data.images import read_images

    splits = prepare_splits(load_dataset("mnist", data_dir=MNIST_10K), 0.2, 0)
    assert torch.equal(load_run(out).standardise(read_images(images)), splits.x_test)
    capsys.readouterr()
    assert main(["predict", str(out), str(images)]) == 0
    predicted = np.array([int(v) for v in capsys.readouterr().out.split()])
    from infomorphic.data.idx import read_idx

    labels = read_idx(MNIST_10K / "t10k-labels-idx1-ubyte.gz", 1)
    assert len(predicted) == len(labels) == 2000
    summary = RunFolder(out).summary()
    assert (predicted == labels).mean() == pytest.approx(summary["test_accuracy"], abs=0.05)
