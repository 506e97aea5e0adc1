"""``reproduce.shapes``: the paper's claims judged on hand-made medians."""

from __future__ import annotations

from infomorphic.reproduce.shapes import shape_sentence

FIG3B = {
    "setup 1": [90.0, 91.0, 92.0],
    "setup 2": [89.0, 90.0],
    "setup 3": [85.0],
    "context-only": [80.0],
    "lateral-only": [70.0],
    "random hidden": [75.0],
    "backprop": [97.0],
}


def values(groups: dict[str, list[float]], x: float | None = None) -> dict:
    return {"test_accuracy": {(g, x): v for g, v in groups.items()}}


def test_fig3b_holds_fails_and_waits():
    said = shape_sentence("fig3b", "claim", values(FIG3B))
    assert said.startswith("The paper: claim. Here: Holds: setups 1 and 2 at 91.00% and 89.50%")
    assert "against at most 80.00% for" in said and "setup 3 at 85.00%" in said
    worse = {**FIG3B, "context-only": [95.0]}
    assert "Here: Does not hold: " in shape_sentence("fig3b", "claim", values(worse))
    missing = {g: v for g, v in FIG3B.items() if g != "backprop"}
    assert "Cannot tell yet: not every group" in shape_sentence("fig3b", "c", values(missing))
    assert shape_sentence("fig3b", "", values(FIG3B)) == ""


def fig8_values(changes: dict[str, list[float]] | None = None) -> dict:
    """Medians at N = 100 and N = 1000 that hold the paper's claims, with ``changes`` at
    N = 100 (a group named ``<group>@1000`` changes N = 1000)."""
    small = {g: [90.0] for g in ("heuristic", "optimised", "optimised sparse")}
    small |= {g: [80.0] for g in ("lateral heuristic", "lateral optimised", "context heuristic")}
    small |= {"context optimised": [85.0], "random projection": [60.0], "with feedback": [84.0]}
    large = {g: [v[0] + 3] for g, v in small.items()} | {"with feedback": [92.0]}
    large |= {"backprop": [94.0, 95.0]}
    for name, value in (changes or {}).items():
        group, _, at = name.partition("@")
        (large if at else small)[group] = value
    found = {(g, 100.0): v for g, v in small.items()} | {(g, 1000.0): v for g, v in large.items()}
    return {"test_accuracy": found | {("readout only", None): [89.0]}}


def test_fig8_judges_the_papers_claims_at_100_and_the_largest_size():
    said = shape_sentence("fig8", "c", fig8_values())
    assert "Here: Holds: at N = 100 the trivariate models with the label 90.00%..90.00% " in said
    assert "against bivariate 80.00%..85.00% and random projection 60.00%" in said
    said_feedback = "with feedback 84.00% at N = 100 and 92.00% at N = 1000 (best bivariate there"
    assert said_feedback + " 88.00%)" in said
    assert "backprop 94.50%, optimised sparse 93.00% (spreads 1.00 and 0.00 points)" in said
    assert "Readout only (no hidden layer): 89.00%" in said
    # each claim can fail on its own; the readout and backprop are reported, never judged
    for broken in (
        {"context optimised": [91.0]},  # a bivariate model above a trivariate one at N = 100
        {"random projection": [95.0]},
        {"with feedback": [95.0]},  # feedback not below the label setups at N = 100
        {"with feedback@1000": [87.0]},  # nor above every bivariate model later
    ):
        assert "Here: Does not hold: " in shape_sentence("fig8", "c", fig8_values(broken))
    assert "Here: Holds" in shape_sentence("fig8", "c", fig8_values({"backprop@1000": [1.0]}))
    missing = fig8_values()
    del missing["test_accuracy"][("with feedback", 100.0)]
    assert "Cannot tell yet: not every model" in shape_sentence("fig8", "c", missing)
    only_small = {k: v for k, v in fig8_values()["test_accuracy"].items() if k[1] != 1000.0}
    said = shape_sentence("fig8", "c", {"test_accuracy": only_small})
    assert "Cannot tell yet: the feedback model needs a larger N" in said


def test_cifar_and_fig11():
    groups = {"own goal": [40.0], "MNIST goal": [38.0], "backprop": [45.0]}
    assert "Here: Holds: own goal 40.00%" in shape_sentence("cifar", "c", values(groups))
    del groups["backprop"]
    assert "Cannot tell yet" in shape_sentence("cifar", "c", values(groups))
    sweep = {
        "test_accuracy": {("bins", 10.0): [80.0], ("bins", 20.0): [85.0], ("bins", 40.0): [82.0]}
    }
    assert "Here: Holds: best at 20 bins" in shape_sentence("fig11", "c", sweep)
