"""Goals side by side and ``explain``'s output (``infomorphic.reports.explain_layers``)."""

from __future__ import annotations

import json

import pytest

from infomorphic.nn.goals import Goal
from infomorphic.reports import explain_goal
from infomorphic.reports.explain_layers import explain_spec


def test_explain_spec_gives_one_goals_table_in_each_form():
    optimized = explain_goal(Goal.named("optimized"))
    assert explain_spec("optimized") == optimized.to_text()
    assert explain_spec("optimized", form="markdown") == optimized.to_markdown()
    assert json.loads(explain_spec("optimized", form="json")) == optimized.to_dict()
    assert explain_goal(Goal.named("optimized"), share=1.0).to_text() == explain_spec(
        "optimized", share=1.0
    )
    with pytest.raises(ValueError, match="unknown form"):
        explain_spec("optimized", form="html")


def test_explain_spec_of_a_file_of_one_goal_per_layer(tmp_path):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps({"hidden1": "optimized", "hidden2": "heuristic"}))
    text = explain_spec(str(path))
    assert text.index("== hidden1 ==") < text.index("== hidden2 ==") < text.index("side by side")
    layers = json.loads(explain_spec(str(path), form="json"))["layers"]
    assert layers["hidden2"]["weights"] == list(Goal.named("heuristic").weights)
    one = explain_spec(str(path), layer="hidden2")
    assert one.startswith("Goal 'heuristic' for 3 sources") and "== hidden1 ==" not in one
    with pytest.raises(ValueError, match="no goal for hidden3; its layers: hidden1, hidden2"):
        explain_spec(str(path), layer="hidden3")
