"""Population training: each member trains exactly as the same configuration alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infomorphic.data import load_dataset, prepare_splits
from infomorphic.training import TrainConfig, Trainer
from infomorphic.training.population import PopulationTrainer


@pytest.fixture(scope="module")
def digits():
    return prepare_splits(load_dataset("digits"), 0.2, 0)


def goals(model: str, count: int) -> list:
    rng = np.random.default_rng(1)
    length = 19 if model in ("setup1", "setup2") else 5
    return [None, *(list(rng.uniform(-1, 1, length)) for _ in range(count - 1))]


@pytest.mark.parametrize(
    ("model", "knobs"),
    [
        ("setup1", {}),
        ("setup2", {}),
        ("context-only", {}),
        ("lateral-only", {}),
        # more output bins than the default 20: the output goal's estimate must use them. (With
        # 8, 10 or 16 hidden bins one sample of this data sits on a bin edge of seed 4's first
        # member, float rounding puts it on either side, and the weights part by 3e-4.)
        ("setup1", {"bins": 40, "output_bins": 40}),
        ("context-only", {"bins": 6, "output_bins": 30}),
        ("setup1", {"eval_context": "bias"}),
    ],
)
def test_members_equal_solo_runs(model, knobs, digits):
    configs = [
        TrainConfig(
            dataset="digits",
            model=model,
            hidden=[12],
            batch_size=128,
            epochs=2,
            seed=4,
            goal=goal,
            **knobs,
        )  # fmt: skip
        for goal in goals(model, 3)
    ]
    population = PopulationTrainer(configs, digits)
    summaries = population.fit()
    for member, config in enumerate(configs):
        solo = Trainer(config, digits)
        summary = solo.fit()
        for key in ("val_accuracy", "train_batch_accuracy"):
            assert [r[key] for r in solo.history] == [r[key] for r in population.histories[member]]
        for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
            assert summaries[member][key] == summary[key]
        alone, inside = solo.model.state_dict(), population.model.member(member).state_dict()
        for name, value in alone.items():  # equal up to float rounding
            torch.testing.assert_close(inside[name], value, rtol=1e-4, atol=1e-5)


def test_a_member_does_not_depend_on_its_neighbours(digits):
    base = dict(dataset="digits", hidden=[12], batch_size=128, epochs=2, seed=4)
    mine = TrainConfig(**base, goal="heuristic")
    small = PopulationTrainer([mine], digits).fit()[0]
    other_goals = goals("setup1", 4)[1:]
    large = PopulationTrainer(
        [TrainConfig(**base, goal=g) for g in other_goals[:2]] + [mine], digits
    ).fit()[2]
    assert small["val_accuracy"] == large["val_accuracy"]


def test_population_refuses_what_it_cannot_vectorise(digits):
    base = dict(dataset="digits", hidden=[12], epochs=1)
    with pytest.raises(ValueError, match="differ only in their goal"):
        PopulationTrainer([TrainConfig(**base), TrainConfig(**base, seed=1)], digits)
    with pytest.raises(ValueError, match="one trained hidden layer without feedback"):
        PopulationTrainer([TrainConfig(**base, model="setup3")], digits)
    with pytest.raises(ValueError, match="eagerly"):
        PopulationTrainer([TrainConfig(**base, compile=True)], digits)
