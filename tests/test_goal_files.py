"""``nn.goal_files``, the one goal-file grammar: every form of a goal file reads to the same
weights through every entry point that takes a goal (the network's layers, ``Goal``, the
explain report, the search's enqueued goal); files of one goal per layer, written and read
back, and the errors that name the file and the entry."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PUBLISHED_CIFAR

from infomorphic.nn.goals import Goal
from infomorphic.reports.explain import goal_from_spec, goals_from_spec
from infomorphic.search.space import GoalSpace
from infomorphic.training.config import TrainConfig

SOURCES = ("F", "C", "L")
#: One trivariate goal (19 weights: 18 atoms in lattice order, then H_res), every weight
#: distinct so that a misplaced one shows.
WEIGHTS = [round(0.05 * k - 0.4, 2) for k in range(19)]


def _labels() -> tuple[str, ...]:
    return Goal.resolve(WEIGHTS, SOURCES).labels


def forms() -> dict[str, str]:
    """The same goal written in each form of the grammar (docs/goals.md, "Goal files")."""
    labels = _labels()
    by_label = dict(zip(labels, WEIGHTS, strict=True))
    return {
        "plain.txt": " ".join(str(w) for w in WEIGHTS),
        "commas.csv": ",".join(str(w) for w in WEIGHTS),
        "list.json": json.dumps(WEIGHTS),
        "labels.json": json.dumps(by_label),
        "weights.json": json.dumps({"weights": WEIGHTS, "name": "mine"}),
        "sources.json": json.dumps({"weights": by_label, "sources": list(SOURCES)}),
        "string.json": json.dumps(",".join(str(w) for w in WEIGHTS)),
    }


@pytest.mark.parametrize("name", list(forms()))
def test_every_form_reads_the_same_through_every_entry_point(tmp_path, name):
    path = tmp_path / name
    path.write_text(forms()[name])
    expected = tuple(WEIGHTS)
    # the goal object, as layers resolve a configuration's goal
    assert Goal.resolve(str(path), SOURCES).weights == pytest.approx(expected)
    assert Goal.from_file(path, SOURCES).weights == pytest.approx(expected)
    # the explain report (infomorphic explain)
    assert goal_from_spec(str(path), SOURCES).weights == pytest.approx(expected)
    assert goal_from_spec(str(path)).weights == pytest.approx(expected)
    # a run's network (infomorphic train --goal FILE): every hidden layer's goal
    config = TrainConfig(dataset="digits", hidden=[8, 6], goal=str(path))
    for layer in config.network(64, 10).layers:
        assert Goal.resolve(layer.goal, tuple(layer.sources)).weights == pytest.approx(expected)
    # the search's enqueued goal (infomorphic search --enqueue FILE)
    params = GoalSpace(SOURCES).params(str(path))
    assert [params[label] for label in _labels()] == pytest.approx(list(expected))


def test_a_per_layer_file_reads_the_same_through_every_entry_point(tmp_path):
    path = tmp_path / "layers.json"
    other = [0.0] * 18 + [1.0]
    path.write_text(json.dumps({"hidden1": WEIGHTS, "hidden2": other}))
    explained = goals_from_spec(str(path), SOURCES)
    assert explained["hidden1"].weights == pytest.approx(tuple(WEIGHTS))
    assert explained["hidden2"].weights == pytest.approx(tuple(other))
    config = TrainConfig(dataset="digits", hidden=[8, 6], goal=str(path))
    first, second = config.network(64, 10).layers
    assert Goal.resolve(first.goal, tuple(first.sources)).weights == pytest.approx(tuple(WEIGHTS))
    assert Goal.resolve(second.goal, tuple(second.sources)).weights == pytest.approx(tuple(other))
    space = GoalSpace(SOURCES, layers=("hidden1", "hidden2"))
    params = space.params(str(path))
    labels = _labels()
    assert [params[f"hidden1.{a}"] for a in labels] == pytest.approx(WEIGHTS)
    assert [params[f"hidden2.{a}"] for a in labels] == pytest.approx(other)
    with pytest.raises(ValueError, match="one goal per layer"):
        goal_from_spec(str(path))


# ------------------------------------------------------------------- goal files per layer


def test_a_goal_file_holds_one_goal_per_layer(tmp_path):
    from infomorphic.nn.goal_files import read_goal_file

    path = tmp_path / "layers.json"
    path.write_text(
        json.dumps(
            {
                "hidden1": "optimized",
                "hidden2": {"{F}{C}": 1.0, "H_res": -0.5},
                "hidden3": PUBLISHED_CIFAR,
                "hidden4": {"weights": {"{a}{b}": 1.0}, "sources": ["a", "b", "c"], "name": "n"},
                "hidden5": "0.1, 0.2, 0.3, 0.4, 0.5",
            }
        )
    )
    parsed = read_goal_file(path)
    assert parsed.per_layer and parsed.layers == tuple(f"hidden{k}" for k in range(1, 6))
    sources = ("F", "C", "L")
    goals = {k: Goal.from_text(text, sources) for k, text in parsed.goals.items() if k != "hidden5"}
    assert goals["hidden1"] == Goal.named("optimized")
    assert goals["hidden2"].as_dict()["{F}{C}"] == 1.0 and goals["hidden2"].weights[-1] == -0.5
    assert list(goals["hidden3"].weights) == PUBLISHED_CIFAR
    # labels in the file's own source names: {a}{b} is the layer's {F}{C}
    assert goals["hidden4"].as_dict()["{F}{C}"] == 1.0 and goals["hidden4"].name == "n"
    assert Goal.from_text(parsed.goals["hidden5"], ("F", "C")).weights == (0.1, 0.2, 0.3, 0.4, 0.5)
    with pytest.raises(ValueError, match="one goal per layer"):
        Goal.from_file(path, sources)  # a file of several goals is no goal of one layer


def test_goal_files_write_and_read_back(tmp_path):
    from infomorphic.nn.goal_files import read_goal_file, write_goal_file

    optimized, heuristic = Goal.named("optimized"), Goal.named("heuristic")
    layers = write_goal_file(
        tmp_path / "two.json", {"hidden1": optimized.as_dict(), "hidden2": heuristic.as_dict()}
    )
    parsed = read_goal_file(layers)
    assert Goal.from_text(parsed.goals["hidden1"], ("F", "C", "L")).weights == optimized.weights
    assert Goal.from_text(parsed.goals["hidden2"], ("F", "C", "L")).weights == heuristic.weights
    one = write_goal_file(tmp_path / "one.json", {None: optimized.as_dict()}, name="best")
    goal = Goal.from_file(one, ("F", "C", "L"))
    assert goal.weights == optimized.weights and goal.name == "best"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"hidden1": "optimized", "{F}{C}": 1}', "mixes layer names"),
        ('{"hidden1": [1, "x"]}', "layer hidden1: goal weight 2 is 'x'"),
        ('{"hidden1": {"weights": [1], "extra": 2}}', "unknown keys 'extra'"),
        ('{"hidden1": true}', "expected a list of weights"),
        ('{"{F}{C}": 1e999}', "not a finite number"),
        ("[]", "an empty list"),
    ],
)
def test_goal_file_errors_name_the_file_and_the_entry(tmp_path, text, fragment):
    from infomorphic.nn.goal_files import read_goal_file

    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(fragment)) as error:
        read_goal_file(path)
    assert str(path) in str(error.value)
