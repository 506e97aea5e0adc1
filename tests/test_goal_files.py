"""``nn.goal_files``, the one goal-file grammar: every form of a goal file reads to the same
weights through every entry point that takes a goal (the network's layers, ``Goal``, the
explain report, the search's enqueued goal)."""

from __future__ import annotations

import json

import pytest

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
