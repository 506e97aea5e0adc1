"""``search.space``: the goal space named by atom, or by layer and atom; fixed weights, known
goals as parameters, and errors that say what is wrong."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from infomorphic.nn.goals import Goal
from infomorphic.search.space import GoalSpace, parse_fixed


def test_space_names_every_weight_by_its_atom():
    space = GoalSpace.for_model("setup1")
    assert space.labels == Goal.named("optimized").labels and len(space.labels) == 19
    assert GoalSpace.for_model("context-only").labels == ("{F}", "{C}", "{F}{C}", "{FC}", "H_res")
    fixed = GoalSpace.for_model("setup1", parse_fixed(["H_res=0", "{F}{C} = 0.5"]))
    assert len(fixed.searched) == 17 and "H_res" not in fixed.searched
    params = {name: 0.25 for name in fixed.searched}
    weights = fixed.weights(params)
    assert weights[-1] == 0.0 and weights[fixed.labels.index("{F}{C}")] == 0.5
    heuristic = GoalSpace.for_model("setup1", {"H_res": 0.0}).params("heuristic")
    assert heuristic["{F}{C}"] == 1.0 and sum(heuristic.values()) == 1.0


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: parse_fixed(["H_res"]), "NAME=VALUE"),
        (lambda: parse_fixed(["H_res=abc"]), "not a number"),
        (lambda: GoalSpace.for_model("setup1", {"{F}{X}": 0}), "cannot fix {F}{X}"),
        (lambda: GoalSpace.for_model("backprop"), "no hidden goal"),
        (lambda: GoalSpace.for_model("setup1", {"H_res": 0.5}).params("optimized"), "fixes it"),
    ],
)
def test_space_errors_say_what_is_wrong(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


def test_a_per_layer_space_names_each_weight_by_layer_and_atom():
    from infomorphic.training import TrainConfig

    config = TrainConfig(model="setup2", hidden=[20, 10]).validate()
    fixed = parse_fixed(["H_res=0", "hidden1.H_res=0.25", "hidden2.{F}{C}=0.5"])
    space = GoalSpace.for_config(config, "all", fixed)
    assert space.layers == ("hidden1", "hidden2") and len(space.labels) == 38
    assert space.labels[0] == "hidden1.{F}{C}{L}" and space.labels[-1] == "hidden2.H_res"
    assert space.fixed == {"hidden1.H_res": 0.25, "hidden2.{F}{C}": 0.5, "hidden2.H_res": 0.0}
    assert len(space.searched) == 35
    params = {name: 0.125 for name in space.searched}
    goal = space.weights(params)
    assert set(goal) == {"hidden1", "hidden2"} and goal["hidden1"][-1] == 0.25
    assert goal["hidden2"][1] == 0.5 and goal["hidden2"][-1] == 0.0 and goal["hidden2"][0] == 0.125
    # --enqueue optimized: the paper's goal in every searched layer (fixed weights must agree)
    free = GoalSpace.for_config(config, "all")
    enqueued = free.params("optimized")
    assert free.weights(enqueued) == {k: list(Goal.named("optimized").weights) for k in goal}
    # a goal per layer: a mapping or a goal file of one goal per layer
    both = free.params({"hidden1": "optimized", "hidden2": "heuristic"})
    assert both["hidden1.{F}{L}"] == Goal.named("optimized").as_dict()["{F}{L}"]
    assert both["hidden2.{F}{C}"] == 1.0 and both["hidden2.{F}{L}"] == 0.0
    with pytest.raises(ValueError, match="no goal for hidden2"):
        free.params({"hidden1": "optimized"})


def test_goal_layers_search_some_layers_and_the_others_keep_their_goal():
    from infomorphic.training import TrainConfig

    config = TrainConfig(hidden=[20, 10], goal={"hidden1": "heuristic"}).validate()
    space = GoalSpace.for_config(config, "hidden2", {"H_res": 0.0})
    assert space.layers == ("hidden2",) and space.fixed == {"hidden2.H_res": 0.0}
    params = {name: -0.5 for name in space.searched}
    trial = space.trial_goal(config, params)
    assert trial == {"hidden1": "heuristic", "hidden2": [-0.5] * 18 + [0.0]}
    shared = GoalSpace.for_config(TrainConfig(hidden=[20, 10]).validate())
    assert shared.layers == () and shared.labels == Goal.named("optimized").labels
    assert shared.trial_goal(config, {n: 0.0 for n in shared.searched}) == [0.0] * 19


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: GoalSpace.for_config(c, "hidden3"), "hidden3 is no hidden layer with a goal"),
        (lambda c: GoalSpace.for_config(c, None, {"hidden1.H_res": 0}), "shares one goal"),
        (lambda c: GoalSpace.for_config(c, "all", {"hidden3.H_res": 0}), "cannot fix hidden3"),
        (lambda c: GoalSpace.for_config(c, "hidden1,hidden1"), "distinct layer names"),
        (
            lambda c: GoalSpace.for_config(c).params(
                {"hidden1": "optimized", "hidden2": "heuristic"}
            ),
            "differs between layers",
        ),
        (lambda c: GoalSpace.for_config(replace(c, goal="heuristic"), "all"), "--goal: the search"),
    ],
)
def test_per_layer_space_errors_say_what_is_wrong(call, fragment):
    from infomorphic.training import TrainConfig

    with pytest.raises(ValueError, match=re.escape(fragment)):
        call(TrainConfig(hidden=[20, 10]).validate())
