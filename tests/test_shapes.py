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


def test_fig8_compares_trivariate_bivariate_and_random_at_the_smallest_size():
    tri = {g: [90.0] for g in ("heuristic", "optimised", "optimised sparse", "with feedback")}
    bi = {g: [80.0] for g in ("lateral heuristic", "lateral optimised", "context heuristic")}
    groups = {**tri, **bi, "context optimised": [85.0], "random projection": [60.0]}
    said = shape_sentence("fig8", "c", values(groups, 100.0))
    assert "Here: Holds at N = 100: trivariate test accuracy 90.00%..90.00%" in said
    assert "bivariate 80.00%..85.00%, random projection 60.00%" in said
    del groups["with feedback"]
    assert "Cannot tell yet: not every model" in shape_sentence("fig8", "c", values(groups, 100.0))


def test_cifar_and_fig11():
    groups = {"own goal": [40.0], "MNIST goal": [38.0], "backprop": [45.0]}
    assert "Here: Holds: own goal 40.00%" in shape_sentence("cifar", "c", values(groups))
    del groups["backprop"]
    assert "Cannot tell yet" in shape_sentence("cifar", "c", values(groups))
    sweep = {
        "test_accuracy": {("bins", 10.0): [80.0], ("bins", 20.0): [85.0], ("bins", 40.0): [82.0]}
    }
    assert "Here: Holds: best at 20 bins" in shape_sentence("fig11", "c", sweep)
