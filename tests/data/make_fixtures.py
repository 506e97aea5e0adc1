"""Writes the fixtures that pin the training arithmetic of the code before the network was
described as data (main at commit 6409264): ``golden_histories.json`` (three epochs of every
model on the built-in ``digits`` set), ``old_run/`` (a run folder stopped after its first of two
epochs, with ``old_run_expected.json``, the numbers of the same run trained straight through)
and ``run_names.json`` (the run names of a set of configurations).

Kept for the record: running it with later code rewrites the fixtures from that code, which is
never what a test wants. They were written with that commit's ``src`` first on the path:
``git archive 6409264 src | tar -x -C /tmp/old && ATEN_CPU_CAPABILITY=avx2
PYTHONPATH=/tmp/old/src python tests/data/make_fixtures.py`` (torch's AVX2 kernels: the first
fixtures, written with AVX-512 kernels, failed on a machine without them; the file's
``cpu_capability`` was added by hand).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import Hook, TrainConfig, Trainer, train

HERE = Path(__file__).resolve().parent
BASE = {"dataset": "digits", "batch_size": 128, "epochs": 3, "seed": 3}

#: name -> options over BASE; small sizes, the sparse-lateral models above 101 neurons so that
#: their random lateral masks are drawn.
CASES: dict[str, dict] = {
    "setup1": {"model": "setup1", "hidden": [16]},
    "setup2": {"model": "setup2", "hidden": [110]},
    "setup3": {"model": "setup3", "hidden": [110]},
    "context-only": {"model": "context-only", "hidden": [16]},
    "lateral-only": {"model": "lateral-only", "hidden": [16]},
    "random-hidden": {"model": "random-hidden", "hidden": [16]},
    "backprop": {"model": "backprop", "hidden": [16]},
    "mlp": {"model": "mlp", "hidden": [16, 8]},
    "deep-feedback": {"model": "deep-feedback", "hidden": [110, 12]},
    "setup1-stacked": {"model": "setup1", "hidden": [16, 10]},
    "setup1-bins10": {"model": "setup1", "hidden": [16], "bins": 10},
    "setup1-output-bins8": {"model": "setup1", "hidden": [16], "output_bins": 8},
    "setup1-passes3": {"model": "setup1", "hidden": [16], "passes": 3},
    "setup1-linear": {"model": "setup1", "hidden": [16], "activation": "linear"},
    "setup1-heuristic": {"model": "setup1", "hidden": [16], "goal": "heuristic"},
    "setup1-vector-goal": {
        "model": "setup1",
        "hidden": [16],
        "goal": [round(0.1 * ((k * 7) % 19) - 0.9, 2) for k in range(19)],
    },
    "setup1-eval-samples2": {"model": "setup1", "hidden": [16], "eval_samples": 2},
    "setup1-val-only": {"model": "setup1", "hidden": [16], "eval_splits": ["val"]},
    "setup1-eval-context-bias": {"model": "setup1", "hidden": [16], "eval_context": "bias"},
    "backprop-eval-context-bias": {"model": "backprop", "hidden": [16], "eval_context": "bias"},
    "readout-only": {"model": "readout-only", "hidden": [16]},
    "setup3-everything": {
        "model": "setup3",
        "hidden": [16],
        "bins": 8,
        "output_bins": 6,
        "passes": 3,
        "goal": "heuristic",
    },
}


def parameter_sums(model: torch.nn.Module) -> dict[str, float]:
    """Each tensor of the state dict summed in float64: a compact fingerprint of the weights."""
    return {k: float(v.double().sum()) for k, v in model.state_dict().items()}


def golden(splits) -> dict:
    cases = {}
    for name, options in CASES.items():
        config = TrainConfig(**{**BASE, **options})
        if "eval_splits" in options:
            config.eval_splits = tuple(options["eval_splits"])
        trainer = Trainer(config, splits)
        summary = trainer.fit()
        history = [{k: v for k, v in row.items() if k != "seconds"} for row in trainer.history]
        cases[name] = {
            "config": trainer.config.to_dict(),
            "history": history,
            "summary": {k: summary[k] for k in ("train_accuracy", "val_accuracy", "test_accuracy")},
            "goal": summary["goal"],
            "parameter_sums": parameter_sums(trainer.model),
        }
        print(name, summary["test_accuracy"], file=sys.stderr)
    return {"threads": 1, "base": BASE, "cases": cases}


class StopAfterFirst(Hook):
    def on_epoch_end(self, trainer, row):
        if trainer.epoch == 1:
            raise KeyboardInterrupt  # as a Ctrl-C after epoch 1: the folder keeps epoch 1


def old_run(splits) -> None:
    out = HERE / "old_run"
    shutil.rmtree(out, ignore_errors=True)
    config = TrainConfig(
        dataset="digits",
        model="setup1",
        hidden=[8],
        batch_size=256,
        epochs=2,
        seed=5,
        bins=10,
        output_bins=8,
    )
    try:
        train(config, out, splits=splits, progress=False, hooks=[StopAfterFirst()])
    except KeyboardInterrupt:
        pass
    straight = Trainer(config, splits)
    summary = straight.fit()
    generator = torch.Generator().manual_seed(0)
    predictions = straight.model.predict(splits.x_test[:50], generator)
    expected = {
        "summary": {k: summary[k] for k in ("train_accuracy", "val_accuracy", "test_accuracy")},
        "history": [{k: v for k, v in r.items() if k != "seconds"} for r in straight.history],
        "predictions_seed0_first50_test": predictions.tolist(),
    }
    (HERE / "old_run_expected.json").write_text(json.dumps(expected, indent=1) + "\n")


#: Configurations whose run names must stay (options over TrainConfig's defaults).
NAMED: list[dict] = [
    {},
    {"model": "setup2", "hidden": [800, 200]},
    {"goal": "heuristic"},
    {"goal": "/some/dir/my-goal.json"},
    {"goal": [0.1] * 19},
    {"goal": {"{F}{C}": 1.0}},
    {"activation": "linear"},
    {"batch_size": 512},
    {"passes": 3},
    {"bins": 10},
    {"output_bins": 8},
    {"eval_samples": 4},
    {"eval_context": "bias"},
    {"eval_splits": ["val"]},
    {"eval_splits": ["val", "test"]},
    {"eval_splits": []},
    {"compile": True},
    {"model": "readout-only"},
    {
        "model": "backprop",
        "passes": 3,
        "bins": 5,
        "activation": "linear",
        "batch_size": 64,
        "eval_samples": 2,
        "output_bins": 30,
    },
    {
        "model": "deep-feedback",
        "hidden": [600, 200, 200],
        "dataset": "mnist",
        "epochs": 30,
        "seed": 7,
    },
    {"model": "random-hidden", "dataset": "fashion-mnist", "eval_splits": ["val"]},
    {
        "model": "context-only",
        "goal": "context-optimized",
        "activation": "bivariate",
        "bins": 12,
        "passes": 4,
        "output_bins": 10,
        "eval_samples": 3,
        "batch_size": 100,
        "compile": True,
        "eval_context": "bias",
    },
]


def run_names() -> list[dict]:
    from infomorphic.experiments.runner import run_name

    named = []
    for options in NAMED:
        config = TrainConfig(**options)
        config.eval_splits = tuple(config.eval_splits)
        config.validate()
        named.append({"config": config.to_dict(), "name": run_name(config)})
    return named


def main() -> None:
    torch.set_num_threads(1)
    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    (HERE / "golden_histories.json").write_text(json.dumps(golden(splits), indent=1) + "\n")
    old_run(splits)
    (HERE / "run_names.json").write_text(json.dumps(run_names(), indent=1) + "\n")


if __name__ == "__main__":
    main()
