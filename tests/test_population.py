"""Population training: each member trains exactly as the same configuration alone, whatever
the structure (stacked layers, feedback, bins), through the same Trainer and hooks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import Hook, TrainConfig, Trainer


@pytest.fixture(scope="module")
def digits():
    return prepare_splits(load_dataset("digits"), 0.2, 0)


def goals(model: str, count: int) -> list:
    rng = np.random.default_rng(1)
    length = 5 if model in ("context-only", "lateral-only") else 19
    return [None, *(list(rng.uniform(-1, 1, length)) for _ in range(count - 1))]


def assert_members_equal_solo(configs, digits):
    population = Trainer(configs, digits)
    summaries = population.fit()
    assert len(summaries) == len(configs) and population.model.members == len(configs)
    for member, config in enumerate(configs):
        solo = Trainer(config, digits)
        summary = solo.fit()
        mine = population.histories[member]
        for key in ("train_accuracy", "val_accuracy", "test_accuracy", "train_batch_accuracy"):
            assert [r[key] for r in solo.history] == [r[key] for r in mine], key
            assert summaries[member][key] == summary[key]
        assert summaries[member]["goal"] == summary["goal"]
        for theirs, ours in zip(solo.history, mine, strict=True):
            assert set(theirs) == set(ours)  # every column of a solo run
            for key, value in theirs.items():
                if key != "seconds":
                    assert ours[key] == pytest.approx(value, rel=1e-3, abs=1e-4), key
        alone, inside = solo.model.state_dict(), population.model.member(member).state_dict()
        assert set(alone) == set(inside)
        for name, value in alone.items():  # float rounding, amplified by a rare spike flip
            torch.testing.assert_close(inside[name], value, rtol=1e-2, atol=5e-3)


def assert_first_step_equals_solo(configs, digits):
    """One step: every member's decomposition and update are the solo run's to float rounding
    (the estimator sums a population's neurons in other blocks, so the last bits may differ)."""
    population = Trainer(configs, digits)
    solos = [Trainer(c, digits) for c in configs]
    x, y = digits.x_train[:128], digits.y_train[:128]
    step = population.step(x, y)
    for member, solo in enumerate(solos):
        alone = solo.step(x, y)
        for ours, theirs in zip(step.decompositions, alone.decompositions, strict=True):
            torch.testing.assert_close(ours[member], theirs, rtol=1e-5, atol=1e-6)
        assert float(step.accuracy[member]) == float(alone.accuracy)
        inside = population.model.member(member).state_dict()
        for name, value in solo.model.state_dict().items():  # Adam scales a tiny gradient's
            torch.testing.assert_close(inside[name], value, rtol=1e-5, atol=2e-5)  # rounding


def config(model: str, goal, **changes) -> TrainConfig:
    values = dict(dataset="digits", model=model, hidden=[12], batch_size=256, epochs=2, seed=4)
    return TrainConfig(**{**values, **changes, "goal": goal})


SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "model",
    [
        "setup1",
        "setup3",
        "context-only",
        pytest.param("setup2", marks=SLOW),
        pytest.param("lateral-only", marks=SLOW),
        pytest.param("deep-feedback", marks=SLOW),
    ],
)
def test_members_equal_solo_runs(model, digits):
    hidden = [10, 6] if model == "deep-feedback" else [12]
    configs = [config(model, goal, hidden=hidden) for goal in goals(model, 2)]
    assert_first_step_equals_solo(configs, digits)
    assert_members_equal_solo(configs, digits)


def test_members_equal_solo_runs_with_stacked_layers_and_other_bins(digits):
    changes = dict(hidden=[10, 6], bins=8, output_bins=6, passes=3)
    configs = [config("setup1", goal, **changes) for goal in goals("setup1", 2)]
    assert_first_step_equals_solo(configs, digits)
    assert_members_equal_solo(configs, digits)


def test_members_keep_the_evaluation_context(digits):
    configs = [config("setup1", goal, eval_context="bias") for goal in goals("setup1", 2)]
    assert_members_equal_solo(configs, digits)


def test_members_keep_the_output_bins(digits):
    """A member's output goal is estimated with the output bins asked for (once always 20)."""
    configs = [config("setup1", goal, output_bins=30, epochs=1) for goal in goals("setup1", 2)]
    trainer = Trainer(configs, digits)
    assert trainer.model.output.n_bins == 30
    assert_first_step_equals_solo(configs, digits)
    assert_members_equal_solo(configs, digits)


def test_members_with_per_layer_goals(digits):
    per_layer = [{"hidden1": "heuristic", "hidden2": g} for g in goals("setup1", 3)[1:]]
    configs = [config("setup1", goal, hidden=[10, 6]) for goal in per_layer]
    assert_members_equal_solo(configs, digits)


def test_a_member_does_not_depend_on_its_neighbours(digits):
    mine = config("setup1", "heuristic")
    small = Trainer([mine], digits).fit()[0]
    others = [config("setup1", g) for g in goals("setup1", 4)[1:3]]
    large = Trainer([*others, mine], digits).fit()[2]
    assert small["val_accuracy"] == large["val_accuracy"]


def test_hooks_see_every_members_row(digits):
    seen = []

    class Record(Hook):
        def on_epoch_end(self, trainer, row):
            seen.append([r["val_accuracy"] for r in row])

    configs = [config("setup1", g, epochs=2) for g in goals("setup1", 3)]
    trainer = Trainer(configs, digits, hooks=[Record()])
    trainer.fit()
    assert seen == [[h[e]["val_accuracy"] for h in trainer.histories] for e in range(2)]


def test_a_diverged_member_is_marked_and_the_others_go_on(digits):
    configs = [config("setup1", g) for g in goals("setup1", 2)]
    trainer = Trainer(configs, digits)
    with torch.no_grad():
        trainer.model.hidden[0].feedforward.weight[1].fill_(float("nan"))
    summaries = trainer.fit()
    assert "error" in summaries[1] and math.isnan(summaries[1]["val_accuracy"])
    assert "error" not in summaries[0] and summaries[0]["val_accuracy"] > 0


def test_population_refuses_what_it_cannot_train(digits):
    base = dict(dataset="digits", hidden=[12], epochs=1)
    with pytest.raises(ValueError, match="differ only in their goal"):
        Trainer([TrainConfig(**base), TrainConfig(**base, seed=1)], digits)
    with pytest.raises(ValueError, match="eagerly"):
        Trainer([TrainConfig(**base, compile=True)], digits)
    with pytest.raises(ValueError, match="infomorphic model"):
        Trainer([TrainConfig(**base, model="backprop")], digits)


def test_a_dropped_member_leaves_the_survivors_as_their_solo_runs(digits):
    """Members pruned after the first epoch leave the population (weights, optimiser moments,
    spike streams gone); each survivor still trains exactly as its run alone."""

    class DropAfterFirst(Hook):
        def on_epoch_end(self, trainer, row):
            if trainer.epoch == 1:
                trainer.drop_members([0, 2])

    configs = [config("setup1", g, epochs=3, hidden=[10, 6]) for g in goals("setup1", 4)]
    population = Trainer(configs, digits, hooks=[DropAfterFirst()])
    summaries = population.fit()
    assert population.member_ids == [1, 3] and population.model.members == 2
    assert len(summaries) == 2 and all(s["epochs"] == 3 for s in summaries)
    for place, member in enumerate(population.member_ids):
        solo = Trainer(configs[member], digits)
        summary = solo.fit()
        mine = population.histories[place]
        for key in ("train_accuracy", "val_accuracy", "test_accuracy", "train_batch_accuracy"):
            assert [r[key] for r in solo.history] == [r[key] for r in mine], key
            assert summaries[place][key] == summary[key]
        inside = population.model.member(place).state_dict()
        for name, value in solo.model.state_dict().items():
            torch.testing.assert_close(inside[name], value, rtol=1e-2, atol=5e-3)


def test_dropping_members_checks_what_it_is_asked(digits):
    configs = [config("setup1", g, epochs=1) for g in goals("setup1", 2)]
    trainer = Trainer(configs, digits)
    with pytest.raises(ValueError, match="at least one member"):
        trainer.drop_members([0, 1])
    trainer.drop_members([])  # nothing to drop
    assert trainer.model.members == 2
    with pytest.raises(ValueError, match="population"):
        Trainer(configs[0], digits).drop_members([0])
