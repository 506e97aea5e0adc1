"""The training loop without files: hooks, per-epoch splits, pure evaluation, random streams."""

from __future__ import annotations

import pytest
import torch

from infomorphic.training import Hook, TrainConfig, Trainer, evaluate, fit_readout, train


def config(epochs: int = 3, **kwargs) -> TrainConfig:
    values = {"dataset": "digits", "hidden": [16], "batch_size": 128, "seed": 3, "epochs": epochs}
    return TrainConfig(**{**values, **kwargs})


class Recorder(Hook):
    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.rows: list[dict] = []
        self.stop_at = stop_at

    def on_fit_start(self, trainer):
        self.calls.append("start")

    def on_epoch_end(self, trainer, row):
        self.calls.append(f"epoch{row['epoch']}")
        self.rows.append(dict(row))
        return self.stop_at is not None and row["epoch"] >= self.stop_at

    def on_fit_end(self, trainer, summary):
        self.calls.append("end")


def test_hooks_see_every_epoch_and_nothing_is_written(digits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hook = Recorder()
    summary = train(config(3), splits=digits, progress=False, hooks=[hook])
    assert hook.calls == ["start", "epoch1", "epoch2", "epoch3", "end"]
    assert [r["val_accuracy"] for r in hook.rows][-1] == summary["val_accuracy"]
    assert list(tmp_path.iterdir()) == []  # no run folder asked for, none written


def test_a_hook_stops_the_run_cleanly(digits):
    hook = Recorder(stop_at=2)
    summary = train(config(5), splits=digits, progress=False, hooks=[hook])
    assert summary["epochs"] == 2 and summary["stopped_early"] is True
    assert hook.calls[-1] == "end"


def test_validation_only_epochs_give_the_same_final_numbers(digits):
    """A search measures only the validation split per epoch; the test split, measured once at
    the end, has the value a full run records for its last epoch."""
    full = Trainer(config(3), digits)
    full_summary = full.fit()
    search = Trainer(config(3, eval_splits=("val",)), digits)
    search_summary = search.fit()
    assert all(set(r) & {"train_accuracy", "test_accuracy"} == set() for r in search.history)
    assert [r["val_accuracy"] for r in search.history] == [r["val_accuracy"] for r in full.history]
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert search_summary[key] == full_summary[key]
    silent = Trainer(config(3, eval_splits=()), digits)  # nothing per epoch: the last one only
    silent_summary = silent.fit()
    assert all("val_accuracy" not in r for r in silent.history)
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert silent_summary[key] == full_summary[key]


def test_evaluate_does_not_change_the_model(digits):
    trainer = Trainer(config(1), digits)
    trainer.fit()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.model.polarity.fill_(-1.0)  # a readout that evaluate must leave alone
    flipped = trainer.model.state_dict()["polarity"].clone()
    evaluate(trainer.model, digits, ["train", "val", "test"], 512, seed=0, epoch=1)
    assert torch.equal(trainer.model.polarity, flipped)
    # fitting the readout is the explicit step that changes it
    accuracy = fit_readout(trainer.model, digits, 4096, seed=3, epoch=1)  # as the loop does
    assert torch.equal(trainer.model.polarity, before["polarity"])
    assert accuracy == trainer.history[-1]["train_accuracy"]


def test_training_leaves_the_global_generator_alone(digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    Trainer(config(1), digits).fit()
    assert torch.equal(torch.rand(3), expected)


def test_same_seed_same_run_other_seed_other_run(digits):
    a, b, c = (Trainer(config(2, seed=s), digits) for s in (3, 3, 4))
    for t in (a, b, c):
        t.fit()
    assert a.history[-1]["val_accuracy"] == b.history[-1]["val_accuracy"]
    wa, wb, wc = (t.model.hidden[0].feedforward.weight for t in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"model": "setup9"}, "choose from setup1"),
        ({"epochs": -1}, "epochs: must be an integer >= 0"),
        ({"seed": -3}, r"seed: must be an integer in 0\.\.4294967295"),
        ({"seed": 2**32}, r"seed: must be an integer in 0\.\.4294967295"),
        ({"hidden": [0]}, "hidden layer sizes"),
        ({"device": "foo"}, "device must be"),
        ({"eval_splits": ("val", "dev")}, "eval_splits"),
        ({"activation": "tanh"}, "unknown activation 'tanh'"),
        ({"model": "context-only", "activation": "modulated"}, "needs sources FCL"),
        ({"dataset": "imagenet"}, "unknown dataset"),
        ({"model": "backprop", "compile": True}, "backprop"),
    ],
)
def test_the_configuration_names_what_is_wrong(changes, fragment):
    with pytest.raises(ValueError, match=fragment):
        config(**{"epochs": 1, **changes}).validate()
