"""The protocol knobs of the paper's sweeps through the training loop: lateral passes, bins,
evaluation samples; and the per-epoch measure of the lateral passes' convergence."""

from __future__ import annotations

import pytest

from infomorphic.training import RunFolder, TrainConfig, Trainer, train


def config(**changes) -> TrainConfig:
    values = {"dataset": "digits", "hidden": [12], "batch_size": 128, "epochs": 2, "seed": 1}
    return TrainConfig(**{**values, **changes})


def test_knobs_reach_the_network_and_the_saved_run(digits, tmp_path):
    trainer = Trainer(config(passes=3, bins=8, output_bins=6), digits)
    assert trainer.model.config.passes == 3
    assert trainer.model.hidden[0].n_bins == 8 and trainer.model.output.n_bins == 6
    train(config(passes=3, bins=8, output_bins=6), tmp_path, splits=digits, progress=False)
    loaded = RunFolder(tmp_path).load_model()
    assert loaded.config.passes == 3 and loaded.hidden[0].n_bins == 8


def test_each_epoch_records_the_last_lateral_pass_change(digits):
    trainer = Trainer(config(), digits)
    trainer.fit()
    changes = [row["hidden1_pass_change"] for row in trainer.history]
    assert all(0 < c < 1 for c in changes)  # a mean |change| of firing probabilities
    more = Trainer(config(passes=6), digits)
    more.fit()
    assert "hidden1_pass_change" in more.history[-1]
    bivariate = Trainer(config(model="context-only"), digits)  # not recurrent: nothing
    bivariate.fit()
    assert "hidden1_pass_change" not in bivariate.history[-1]


def test_more_evaluation_samples_average_the_readout(digits):
    one = Trainer(config(eval_samples=1), digits)
    one.fit()
    many = Trainer(config(eval_samples=8), digits)
    many.fit()
    # the same training (evaluation draws from its own streams), a different readout
    assert [r["hidden1_goal"] for r in one.history] == [r["hidden1_goal"] for r in many.history]
    assert 0 <= many.history[-1]["test_accuracy"] <= 1


def _rows(trainer: Trainer) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in trainer.history]


def test_a_per_layer_value_alike_in_every_layer_trains_as_the_shared_value(digits):
    shared = Trainer(config(hidden=[10, 6], goal="heuristic", bins=12), digits)
    shared.fit()
    alike = {"hidden1": "heuristic", "hidden2": "heuristic"}
    per_layer = Trainer(
        config(hidden=[10, 6], goal=alike, bins={"hidden1": 12, "hidden2": 12}), digits
    )
    per_layer.fit()
    assert _rows(per_layer) == _rows(shared)
    # naming the model's own goal for one layer is the model's default in every layer
    default = Trainer(config(hidden=[10, 6]), digits)
    default.fit()
    named = Trainer(config(hidden=[10, 6], goal={"hidden1": "optimized"}), digits)
    assert named.config.goal == {"hidden1": "optimized", "hidden2": None}
    named.fit()
    assert _rows(named) == _rows(default)


def test_per_layer_values_reach_their_layers(digits):
    changes = dict(hidden=[10, 6], goal={"hidden2": "heuristic"}, bins={"hidden1": 6})
    trainer = Trainer(config(**changes), digits)
    first, second = trainer.model.hidden
    assert (first.n_bins, second.n_bins) == (6, 20)
    assert (first.goal.name, second.goal.name) == ("optimized", "heuristic")
    trainer.fit()
    assert {"hidden1_goal", "hidden2_goal"} <= set(trainer.history[-1])


def test_the_bin_range_is_a_per_layer_option(digits, tmp_path):
    trainer = Trainer(config(hidden=[10, 6], bin_range={"hidden2": (-5, 5)}), digits)
    assert [layer.bin_range for layer in trainer.model.hidden] == [(-20.0, 20.0), (-5.0, 5.0)]
    assert trainer.config.bin_range == {"hidden1": None, "hidden2": (-5.0, 5.0)}
    # a range gives a bivariate layer fixed bins instead of its adaptive ones
    bivariate = Trainer(config(model="context-only", bin_range="-8,8"), digits)
    assert bivariate.model.hidden[0].binning == "fixed"
    assert bivariate.model.hidden[0].bin_range == (-8.0, 8.0)
    # the paper's range, given, is the model's own: the same run
    from infomorphic.training.api import config_differences

    assert config_differences(config(), config(bin_range=(-20, 20))) == []
    assert config_differences(config(), config(bin_range=(-5, 5))) == ["bin_range"]
    train(config(bin_range=(-5, 5), epochs=1), tmp_path, splits=digits, progress=False)
    loaded = RunFolder(tmp_path)
    assert loaded.train_config().bin_range == (-5.0, 5.0)
    assert loaded.load_model().hidden[0].bin_range == (-5.0, 5.0)


def test_the_bin_range_on_the_command_line_and_in_run_names():
    from infomorphic.cli import build_parser
    from infomorphic.cli.training_options import config_from_args
    from infomorphic.errors import ConfigError
    from infomorphic.experiments.runner import run_name

    args = build_parser().parse_args(["train", "--hidden", "10,6", "--bin-range=hidden2=-5,5"])
    assert config_from_args(args).bin_range == {"hidden1": None, "hidden2": (-5.0, 5.0)}
    assert run_name(config(bin_range=(-5, 5))).endswith("-br-5_5")
    assert run_name(config()) == run_name(config(bin_range=None))
    with pytest.raises(ConfigError) as caught:
        config(bin_range=(5, -5)).validate()
    assert caught.value.field == "bin_range"
