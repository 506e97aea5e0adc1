"""The command line's run options, generated from the option table: each option once, its
choices and default in the help, per-layer values, errors that name the flag, configuration
files."""

from __future__ import annotations

import argparse

import pytest

from infomorphic.cli import build_parser, main
from infomorphic.cli.training_options import config_from_args
from infomorphic.training.config import OPTIONS


def subparser(command: str) -> argparse.ArgumentParser:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[command]


def parse(*argv: str):
    return config_from_args(build_parser().parse_args(["train", *argv]))


@pytest.mark.parametrize("command", ["train", "search", "ablate"])
def test_each_run_option_is_one_flag_with_its_choices_and_default(command):
    parser = subparser(command)
    flags = [s for a in parser._actions for s in a.option_strings]
    assert len(flags) == len(set(flags))
    for entry in OPTIONS.values():
        if command == "ablate" and entry.field == "goal":
            continue  # ablate's own --goal, the goal it ablates (below)
        taken = entry.cli_flag and command in entry.commands
        actions = [a for a in parser._actions if entry.cli_flag in a.option_strings]
        assert len(actions) == (1 if taken else 0), entry.field
        if not actions:
            continue
        text = actions[0].help % {"default": actions[0].default, "choices": ""}
        assert "default" in text, entry.field
        if entry.choices is not None:  # argparse's own choices, or (per layer) in the help
            listed = ", ".join(map(str, entry.choices)) in text
            assert listed or tuple(actions[0].choices or ()) == entry.choices, entry.field
    help_text = " ".join(parser.format_help().split())
    assert "--bins [LAYER=]B" in help_text and "per layer: --bins hidden2=B" in help_text


def test_train_search_and_ablate_take_the_goal_of_the_run_per_layer():
    for command in ("train", "search", "ablate"):
        (action,) = [a for a in subparser(command)._actions if "--goal" in a.option_strings]
        assert "per layer: --goal hidden2=" in action.help and "docs/goals.md" in action.help
    assert any("--layer" in a.option_strings for a in subparser("ablate")._actions)


def test_per_layer_values_on_the_command_line():
    config = parse("--hidden", "20,10", "--bins", "12", "--bins", "hidden2=8")
    assert config.bins == {"hidden1": 12, "hidden2": 8}
    config = parse("--hidden", "20,10", "--goal", "hidden2=heuristic")
    assert config.goal == {"hidden1": None, "hidden2": "heuristic"}
    config = parse("--hidden", "20,10", "--activation", "hidden1=linear", "--activation", "linear")
    assert config.activation == "linear"  # one value in every layer
    assert parse("--bins", "hidden1=9").bins == 9


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "20,10", "--bins", "hidden2=1"], "--bins hidden2=...: must be an integer"),
        (["--hidden", "20,10", "--bins", "hidden3=8"], "--bins hidden3=...: the network has no"),
        (["--goal", "no-such-goal"], "--goal: unknown goal 'no-such-goal'"),
        (["--activation", "bivariate"], "--activation: the bivariate activation needs"),
        (["--output-bins", "1"], "--output-bins: must be an integer >= 2"),
        (["--activation", "hidden1=tanh"], "invalid choice: 'tanh'"),
        (["--passes", "two"], "--passes: want a whole number"),
    ],
)
def test_errors_name_the_flag(argv, message, capsys):
    assert main(["train", "--epochs", "0", "--dataset", "digits", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_print_config_reads_back_per_layer_values(tmp_path, capsys):
    argv = ["train", "--hidden", "20,10", "--bins", "hidden2=8", "--goal", "hidden1=heuristic"]
    assert main([*argv, "--print-config"]) == 0
    printed = capsys.readouterr().out
    assert 'bins = ["20", "hidden2=8"]' in printed and 'goal = ["hidden1=heuristic"]' in printed
    path = tmp_path / "run.toml"
    path.write_text(printed)
    assert main(["train", "--config", str(path), "--print-config"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == printed.splitlines()[1:]
    path.write_text('hidden = [20, 10]\nbins = {hidden2 = 8}\nactivation = "linear"\n')
    assert main(["train", "--config", str(path), "--print-config"]) == 0
    again = capsys.readouterr().out
    assert 'bins = ["20", "hidden2=8"]' in again and 'activation = "linear"' in again
