"""Solo training is bit for bit what it was before the network was described as data, and a run
folder written by that code still resumes and predicts.

``tests/data/golden_histories.json`` and ``tests/data/old_run/`` were written by
``tests/data/make_fixtures.py`` with the code of main at commit 6409264 (one torch thread, torch's
AVX2 kernels: ``ATEN_CPU_CAPABILITY=avx2``, which tests/conftest.py sets for every test session).
Every number is compared exactly: a refactor that changes the order of one floating-point
operation fails. Kernels of another instruction set round differently, so on a machine that
cannot run the fixtures' kernels the exact comparison is skipped, saying why.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.networks.backprop import _rename_old_weights
from infomorphic.training import RunFolder, TrainConfig, Trainer, load_run, train

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = json.loads((DATA / "golden_histories.json").read_text())
OLD_RUN_EXPECTED = json.loads((DATA / "old_run_expected.json").read_text())


@pytest.fixture(scope="module")
def digits():
    return prepare_splits(load_dataset("digits"), 0.2, 0)


@pytest.fixture
def one_thread():
    """The fixtures were written with one torch thread (the count changes float rounding)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != GOLDEN["cpu_capability"]:
        pytest.skip(
            f"the fixtures pin {GOLDEN['cpu_capability']} kernels; this session runs {capability} "
            "(set ATEN_CPU_CAPABILITY=avx2 before torch is imported, on a machine with AVX2)"
        )
    before = torch.get_num_threads()
    torch.set_num_threads(GOLDEN["threads"])
    yield
    torch.set_num_threads(before)


def _config(values: dict) -> TrainConfig:
    values = dict(values)
    values["eval_splits"] = tuple(values["eval_splits"])
    return TrainConfig(**values)


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_solo_training_is_bit_identical(case, digits, one_thread):
    expected = GOLDEN["cases"][case]
    trainer = Trainer(_config(expected["config"]), digits)
    summary = trainer.fit()
    history = [{k: v for k, v in row.items() if k != "seconds"} for row in trainer.history]
    assert history == expected["history"]
    assert {k: summary[k] for k in expected["summary"]} == expected["summary"]
    assert summary["goal"] == expected["goal"]
    sums = {k: float(v.double().sum()) for k, v in trainer.model.state_dict().items()}
    saved = dict(expected["parameter_sums"])
    if case.startswith("backprop"):  # its weights moved into the spiking network's layers
        _rename_old_weights(trainer.model, saved, "")
    assert sums == saved


def test_an_old_run_folder_resumes_to_the_end_and_predicts(digits, tmp_path, one_thread):
    out = tmp_path / "old_run"
    shutil.copytree(DATA / "old_run", out)
    folder = RunFolder(out)
    assert not folder.is_finished and folder.has_checkpoint
    summary = train(folder.train_config(), out, resume=True, splits=digits, progress=False)
    expected = OLD_RUN_EXPECTED
    assert {k: summary[k] for k in expected["summary"]} == expected["summary"]
    history = [{k: v for k, v in row.items() if k != "seconds"} for row in folder.history()]
    assert history == expected["history"]
    generator = torch.Generator().manual_seed(0)
    predictions = folder.load_model().predict(digits.x_test[:50], generator)
    assert predictions.tolist() == expected["predictions_seed0_first50_test"]
    run = load_run(out)
    assert (
        run.model.predict(digits.x_test[:50], torch.Generator().manual_seed(0)).tolist()
        == (expected["predictions_seed0_first50_test"])
    )


def test_an_old_run_folder_loads_before_it_is_resumed(digits):
    run = load_run(DATA / "old_run")
    assert run.n_features == 64 and run.n_classes == 10
    predictions = run.predict(load_dataset("digits").x_test[:5])
    assert predictions.shape == (5,)


RUN_NAMES = json.loads((DATA / "run_names.json").read_text())


@pytest.mark.parametrize("case", RUN_NAMES, ids=[c["name"] for c in RUN_NAMES])
def test_run_names_are_what_they_were(case):
    from infomorphic.experiments.runner import run_name

    assert run_name(_config(case["config"])) == case["name"]
