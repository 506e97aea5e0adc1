"""The paper's results as targets: which runs each needs, and the published numbers.

A target lists its runs as (group, x, configuration) triples: the group is a line or a box of
the figure (a model, a goal), x its position (a hidden size, a number of bins; None for a
single box), and the configuration one seed of it. The published numbers are the paper's
medians over 10 runs on full MNIST (section 5, Fig. 3-11, appendix A.10); see docs/reproduce.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from infomorphic.training.config import TrainConfig

__all__ = ["SCALES", "TARGETS", "Scale", "Target", "target"]


@dataclass(frozen=True)
class Scale:
    """How big a reproduction is: seeds per point, epochs, the largest hidden size."""

    name: str
    seeds: int
    epochs: int
    sizes: tuple[int, ...]


SCALES = {
    # 2 CPU cores, real data available offline (mnist-10k: 8,000 training images).
    "quick": Scale("quick", seeds=3, epochs=100, sizes=(100, 200, 500, 1000)),
    # The paper's protocol: 10 seeds, 100 epochs, hidden sizes up to 2,000 (full data; a GPU or
    # a long CPU run).
    "paper": Scale("paper", seeds=10, epochs=100, sizes=(50, 100, 200, 500, 1000, 2000)),
}

Run = tuple[str, float | None, TrainConfig]


@dataclass(frozen=True)
class Target:
    """One figure or table: its runs, how to plot them, and the paper's numbers to compare."""

    name: str
    title: str
    runs: Callable[[TrainConfig, Scale], list[Run]]
    kind: str  # "boxes" (one box per group), "lines" (accuracy against x per group)
    xlabel: str = ""
    metric: str = "test_accuracy"
    paper: dict[tuple[str, float | None], float] | None = None  # percent
    log_x: bool = False
    note: str = ""


def _seeds(base: TrainConfig, scale: Scale, group: str, x: float | None, **changes) -> list[Run]:
    return [(group, x, replace(base, seed=s, **changes)) for s in range(scale.seeds)]


def _fig3b(base: TrainConfig, scale: Scale) -> list[Run]:
    groups = [
        ("setup 1", {"model": "setup1"}),
        ("setup 2", {"model": "setup2"}),
        ("setup 3", {"model": "setup3"}),
        ("context-only", {"model": "context-only"}),
        ("lateral-only", {"model": "lateral-only"}),
        ("random hidden", {"model": "random-hidden"}),
        ("backprop", {"model": "backprop"}),
    ]
    return [r for g, c in groups for r in _seeds(base, scale, g, None, hidden=[100], **c)]


def _fig3c(base: TrainConfig, scale: Scale) -> list[Run]:
    models = [("setup 1", "setup1"), ("setup 2", "setup2"), ("setup 3", "setup3"),
              ("backprop", "backprop")]  # fmt: skip
    return [
        r
        for group, model in models
        for n in scale.sizes
        for r in _seeds(base, scale, group, n, model=model, hidden=[n])
    ]


def _fig4(base: TrainConfig, scale: Scale) -> list[Run]:
    return [
        r
        for group, goal in (("heuristic goal", "heuristic"), ("optimised goal", "optimized"))
        for r in _seeds(base, scale, group, None, model="setup1", hidden=[100], goal=goal)
    ]


def _fig5(base: TrainConfig, scale: Scale) -> list[Run]:
    return [r for r in _fig3c(base, scale) if r[0] in ("setup 1", "setup 2")]


def _fig8(base: TrainConfig, scale: Scale) -> list[Run]:
    runs = _fig3b(base, scale)
    for group, model, goal in (
        ("setup 1, heuristic", "setup1", "heuristic"),
        ("context-only, optimised", "context-only", "context-optimized"),
        ("lateral-only, optimised", "lateral-only", "lateral-optimized"),
        ("mlp", "mlp", None),
    ):
        runs += _seeds(base, scale, group, None, model=model, hidden=[100], goal=goal)
    return runs


def _sweep(option: str, values: tuple[int, ...]) -> Callable[[TrainConfig, Scale], list[Run]]:
    def runs(base: TrainConfig, scale: Scale) -> list[Run]:
        out = []
        for value in values:
            changes = {option: value}
            if option == "bins":
                changes["output_bins"] = value
            out += _seeds(base, scale, "setup 1", value, model="setup1", hidden=[100], **changes)
        return out

    return runs


def _linear(base: TrainConfig, scale: Scale) -> list[Run]:
    return [
        r
        for group, activation in (("modulated", "modulated"), ("linear", "linear"))
        for r in _seeds(
            base, scale, group, None, model="setup1", hidden=[100], activation=activation
        )  # fmt: skip
    ]


def _deep(base: TrainConfig, scale: Scale) -> list[Run]:
    return [
        r
        for group, model, hidden in (
            ("800-200, label context", "setup2", [800, 200]),
            ("600-200-200, label context", "setup2", [600, 200, 200]),
            ("1600-400, label and feedback", "deep-feedback", [1600, 400]),
        )
        for r in _seeds(base, scale, group, None, model=model, hidden=hidden)
    ]


def _cifar(base: TrainConfig, scale: Scale) -> list[Run]:
    cifar = replace(base, dataset="cifar10")
    return [
        r
        for group, model, goal in (
            ("own goal", "setup1", "cifar"),
            ("MNIST goal", "setup1", "optimized"),
            ("backprop", "backprop", None),
        )
        for r in _seeds(cifar, scale, group, None, model=model, hidden=[100], goal=goal)
    ]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("fig3b", "Setups at N = 100 (paper Fig. 3B)", _fig3b, "boxes",
               paper={("setup 1", None): 94.9}),
        Target("fig3c", "Test accuracy against hidden size (paper Fig. 3C)", _fig3c, "lines",
               xlabel="hidden neurons N", log_x=True,
               paper={("setup 1", 100): 94.9, ("setup 2", 2000): 97.5, ("backprop", 2000): 98.0},
               note="The paper: setup 1 peaks at N = 500 and then declines; setup 2 keeps "
               "improving to 97.5% at N = 2000 (backprop 98.0%)."),
        Target("fig4", "Heuristic against optimised goal (paper Fig. 4A)", _fig4, "boxes",
               paper={("heuristic goal", None): 92.8, ("optimised goal", None): 94.9},
               note="The ablations of Fig. 4B-C: `infomorphic ablate --goal optimized`."),
        Target("fig5", "Self-cosine distance of hidden weights against N (paper Fig. 5)", _fig5,
               "lines", xlabel="hidden neurons N", metric="hidden1_self_cosine_median",
               log_x=True,
               note="The paper: the last epoch's self-cosine distance grows with N in setup 1 "
               "and stays flat beyond N = 100 in setup 2."),
        Target("fig8", "Every model and objective, train and test (paper Fig. 8)", _fig8,
               "boxes", metric="train_accuracy"),
        Target("fig10", "Batch size (paper Fig. 10)", _sweep("batch_size", (128, 256, 512, 1024,
               2048)), "lines", xlabel="batch size", log_x=True),
        Target("fig11", "Number of bins (paper Fig. 11)", _sweep("bins", (5, 10, 20, 40)),
               "lines", xlabel="bins per source", log_x=True, paper={("setup 1", 20): 94.9}),
        Target("linear", "Linear against modulated activation (paper section 4)", _linear,
               "boxes", paper={("modulated", None): 94.9, ("linear", None): 95.0},
               note="The paper: 94.9-95.1% with the linear activation."),
        Target("deep", "Deeper networks (paper appendix A.10)", _deep, "boxes",
               paper={("800-200, label context", None): 97.2,
                      ("600-200-200, label context", None): 97.1,
                      ("1600-400, label and feedback", None): 97.7}),
        Target("cifar", "CIFAR-10 (paper Fig. 4D)", _cifar, "boxes",
               paper={("own goal", None): 42.5, ("MNIST goal", None): 41.1,
                      ("backprop", None): 42.2}),
    )
}  # fmt: skip

#: Targets that search goal space or ablate a goal: run by their own commands.
DELEGATED = {
    "fig6": "infomorphic search --sampler tpe --trials 300 ... then infomorphic search-report",
    "table3": "infomorphic ablate --goal optimized --kinds zero",
}


def target(name: str) -> Target:
    if name not in TARGETS:
        known = ", ".join([*TARGETS, *DELEGATED, "all"])
        raise ValueError(f"unknown target {name!r}; choose from {known}")
    return TARGETS[name]
