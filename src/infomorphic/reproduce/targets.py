"""The paper's results as targets: which runs each needs, the published numbers, the scales.

A target lists its runs as (group, x, configuration) triples: the group is a line or a box of
the figure (a model, a goal), x its position (a hidden size, a number of bins; None for a
single box), and the configuration one seed of it. The published numbers are the paper's
(section 5, Fig. 3-11, appendix A.9-A.10; medians of 10 runs unless a target says otherwise).
Torch-free: the command line takes its choices (``TARGET_NAMES``, ``SCALES``) from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from infomorphic.reproduce.scales import SCALES, Scale
from infomorphic.training.config import TrainConfig

__all__ = [
    "SCALES",
    "SEARCHED",
    "TARGETS",
    "TARGET_NAMES",
    "PaperValue",
    "Scale",
    "Target",
    "target",
]


Run = tuple[str, float | None, TrainConfig]
#: A published number (percent, or the unit of the metric), or a published range (low, high).
PaperValue = float | tuple[float, float]


@dataclass(frozen=True)
class Target:
    """One figure or table: its runs, how to draw and tabulate them, the paper's numbers.

    ``kind``: "boxes" (one box per group), "lines" (the metric against x per group) or
    "panels" (Fig. 8: train and test error against N, bivariate and trivariate side by side).
    ``metric``: the summary or last-epoch history value compared with the paper; ``extra``:
    further metrics tabulated beside it; ``curve``: a history column drawn over the epochs of
    each run (convergence); ``average``: how seeds are summarised ("median", or "mean" where
    the paper reports means); ``paper_extra``: published values of the extra metrics;
    ``shape``: the paper's claim about the figure's shape, checked on our numbers.
    """

    name: str
    title: str
    runs: Callable[[TrainConfig, Scale], list[Run]]
    kind: str
    xlabel: str = ""
    metric: str = "test_accuracy"
    extra: tuple[str, ...] = ()
    curve: str | None = None
    paper: dict[tuple[str, float | None], PaperValue] = field(default_factory=dict)
    paper_extra: dict[tuple[str, str, float | None], PaperValue] = field(default_factory=dict)
    average: str = "median"
    log_x: bool = False
    note: str = ""
    shape: str = ""
    eval_per_epoch: bool = False


def _seeds(base: TrainConfig, scale: Scale, group: str, x: float | None, **changes) -> list[Run]:
    return [(group, x, replace(base, seed=s, **changes)) for s in range(scale.seeds)]


def _fig3b(base: TrainConfig, scale: Scale) -> list[Run]:
    groups: list[tuple[str, dict[str, Any]]] = [
        ("setup 1", {"model": "setup1"}),
        ("setup 2", {"model": "setup2"}),
        ("setup 3", {"model": "setup3"}),
        ("context-only", {"model": "context-only"}),
        ("lateral-only", {"model": "lateral-only"}),
        ("random hidden", {"model": "random-hidden"}),
        ("backprop", {"model": "backprop"}),
        # appendix A.9: how much a third lateral pass still changes the firing probabilities
        ("setup 1, 3 passes", {"model": "setup1", "passes": 3}),
    ]
    return [r for g, c in groups for r in _seeds(base, scale, g, None, hidden=[scale.hidden], **c)]


def _fig3c(base: TrainConfig, scale: Scale) -> list[Run]:
    models = [
        ("setup 1", "setup1"),
        ("setup 2", "setup2"),
        ("setup 3", "setup3"),
        ("backprop", "backprop"),
    ]
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
        for r in _seeds(base, scale, group, None, model="setup1", hidden=[scale.hidden], goal=goal)
    ]


def _fig5(base: TrainConfig, scale: Scale) -> list[Run]:
    return [r for r in _fig3c(base, scale) if r[0] in ("setup 1", "setup 2")]


#: Fig. 8's groups as the authors' figure code draws them (MainFigures.ipynb): panel, label,
#: model, goal. Both optimised bivariate models use the second published goal
#: (``optimized_2_100``); "optimised sparse" is setup 2 (at most 100 lateral inputs), which for
#: N <= 101 is setup 1 itself (no neuron has more than 100 others), so it reuses those runs.
FIG8_GROUPS: tuple[tuple[str, str, str, str | None], ...] = (
    ("bivariate", "lateral heuristic", "lateral-only", None),
    ("bivariate", "lateral optimised", "lateral-only", "lateral-optimized-2"),
    ("bivariate", "context heuristic", "context-only", None),
    ("bivariate", "context optimised", "context-only", "context-optimized-2"),
    ("trivariate", "heuristic", "setup1", "heuristic"),
    ("trivariate", "optimised", "setup1", None),
    ("trivariate", "optimised sparse", "setup2", None),
    ("trivariate", "with feedback", "setup3", None),
    ("baseline", "random projection", "random-hidden", None),
    ("baseline", "backprop", "backprop", None),
    ("baseline", "readout only", "readout-only", None),
)


def _fig8(base: TrainConfig, scale: Scale) -> list[Run]:
    runs: list[Run] = []
    for _, group, model, goal in FIG8_GROUPS:
        if model == "readout-only":  # no hidden layer: one line across the panels
            runs += _seeds(base, scale, group, None, model=model)
            continue
        for n in scale.fig8_sizes:
            same = "setup1" if model == "setup2" and n <= 101 else model
            runs += _seeds(base, scale, group, n, model=same, hidden=[n], goal=goal)
    return runs


#: Fig. 10's batch sizes: powers of two around the paper's 1024 (the figure's x values are
#: not in the paper's text or the authors' repository).
BATCH_SIZES = (128, 256, 512, 1024, 2048)
#: Fig. 11's bins per source (hidden and output layers). Even counts only: on the symmetric
#: fixed range (-20, 20) an odd count puts a cell around 0 that holds every initial
#: pre-activation (|F| < 3), so the layer never learns (DegenerateBinningWarning); the
#: authors' code does the same, so the paper's figure cannot have used odd counts there. Its
#: x values are not known here; these span too few (2: the sign) to many (100).
BIN_COUNTS = (2, 4, 10, 20, 40, 100)


def _sweep(option: str, values: Sequence[int]) -> Callable[[TrainConfig, Scale], list[Run]]:
    def runs(base: TrainConfig, scale: Scale) -> list[Run]:
        out = []
        for value in values:
            changes = {option: value, "output_bins": value} if option == "bins" else {option: value}
            out += _seeds(
                base,
                scale,
                "setup 1",
                value,
                model="setup1",
                hidden=[scale.hidden],
                epochs=scale.long_epochs,
                eval_splits=("val", "test"),
                **changes,
            )
        return out

    return runs


def _linear(base: TrainConfig, scale: Scale) -> list[Run]:
    return [
        r
        for group, activation in (("modulated", "modulated"), ("linear", "linear"))
        for r in _seeds(
            base, scale, group, None, model="setup1", hidden=[scale.hidden], activation=activation
        )
    ]


def _deep(base: TrainConfig, scale: Scale) -> list[Run]:
    return [
        r
        for group, model, hidden in (
            ("800-200, label context", "setup2", [800, 200]),
            ("600-200-200, label context", "setup2", [600, 200, 200]),
            ("1600-400, label and feedback", "deep-feedback", [1600, 400]),
        )
        for r in _seeds(
            base, scale, group, None, model=model, hidden=[h * scale.hidden // 100 for h in hidden]
        )
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
        for r in _seeds(cifar, scale, group, None, model=model, hidden=[scale.hidden], goal=goal)
    ]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "fig3b",
            "Setups at N = 100 (paper Fig. 3B)",
            _fig3b,
            "boxes",
            extra=("hidden1_pass_change",),
            paper={("setup 1", None): 94.9},
            paper_extra={("hidden1_pass_change", "setup 1, 3 passes", None): 1e-4},
            note="Setup 2 at N = 100 is setup 1 (no neuron has more than 100 others), so their "
            "runs agree. `hidden1_pass_change`: the mean absolute change of the hidden firing "
            "probabilities made by the last lateral pass (last epoch, label context); with 2 "
            "passes that is the lateral input's whole effect, with 3 passes what the third "
            "still changes, the convergence appendix A.9 puts at about 1e-4.",
            shape="trivariate setups 1 and 2 above the bivariate models and the random hidden "
            "layer; setup 3 below setup 1; setup 1 about as good as backprop",
        ),
        Target(
            "fig3c",
            "Test accuracy against hidden size (paper Fig. 3C)",
            _fig3c,
            "lines",
            xlabel="hidden neurons N",
            log_x=True,
            paper={("setup 1", 100): 94.9, ("setup 2", 2000): 97.5, ("backprop", 2000): 98.0},
            shape="setup 1 peaks at N = 500 and then declines; setup 2 keeps improving with N "
            "(97.5% at N = 2000, backprop 98.0%)",
        ),
        Target(
            "fig4",
            "Heuristic against optimised goal (paper Fig. 4A)",
            _fig4,
            "boxes",
            paper={("heuristic goal", None): 92.8, ("optimised goal", None): 94.9},
            note="The ablations of Fig. 4B-C: the table3 target, `infomorphic ablate`.",
            shape="the optimised goal beats the heuristic one",
        ),
        Target(
            "fig5",
            "Self-cosine distance of hidden weights against N (paper Fig. 5)",
            _fig5,
            "lines",
            xlabel="hidden neurons N",
            metric="hidden1_self_cosine_median",
            curve="hidden1_self_cosine_median",
            log_x=True,
            note="The self-cosine distance of each neuron's feedforward weights between "
            "consecutive epochs (median over neurons), drawn over the epochs for each N "
            "(figure_curves.png); the table holds the last epoch.",
            shape="the last epoch's distance grows with N in setup 1 and stays flat beyond "
            "N = 100 in setup 2",
        ),
        Target(
            "fig8",
            "Every model and objective, train and test error (paper Fig. 8)",
            _fig8,
            "panels",
            xlabel="hidden neurons N",
            extra=("train_batch_accuracy",),
            log_x=True,
            paper={
                ("heuristic", 100): 92.8,
                ("optimised", 100): 94.9,
                ("optimised sparse", 2000): 97.5,
                ("backprop", 2000): 98.0,
            },
            note="Train accuracy is the authors' measure (`train_batch_accuracy`: each "
            "training batch's accuracy on its own training pass, label context present, "
            "averaged over the last epoch); test accuracy as everywhere. Both bivariate "
            "optimised models use the authors' second goals (`optimized_2_100`), as their "
            "figure does; optimised sparse is setup 2, equal to setup 1 for N <= 100.",
            shape="at N = 100 the trivariate models with the label above every bivariate "
            "model and the random projection; the one with feedback below them there but above "
            "every bivariate model at larger N (section 3, Fig. 3B's caption); backprop ahead "
            "of setup 2 at N = 2000 (98.0% against 97.5%)",
        ),
        Target(
            "fig10",
            "Batch size (paper Fig. 10)",
            _sweep("batch_size", BATCH_SIZES),
            "lines",
            xlabel="batch size",
            log_x=True,
            curve="test_accuracy",
            eval_per_epoch=True,
            note="Setup 1, N = 100, the optimised goal; the scale's long epochs (the paper: "
            "1000), validation and test accuracy after every epoch (figure_curves.png). The "
            "paper's batch sizes are not in its text or the authors' repository: powers of two "
            "around its 1024.",
            shape="the final accuracy is the same for every batch size; smaller batches "
            "converge in fewer epochs",
        ),
        Target(
            "fig11",
            "Number of bins (paper Fig. 11)",
            _sweep("bins", BIN_COUNTS),
            "lines",
            xlabel="bins per source",
            log_x=True,
            curve="test_accuracy",
            eval_per_epoch=True,
            note="Setup 1, N = 100, the optimised goal, the same bin count for hidden and "
            "output layers; the scale's long epochs, accuracy after every epoch "
            "(figure_curves.png). The paper's bin counts and values are not in our copy of "
            "it (Fig. 4A's 94.9% with 20 bins is another experiment: 100 epochs). Even counts "
            "only: an odd count on (-20, 20) puts every initial pre-activation into the "
            "middle cell and the network stays at chance.",
            shape="too few bins train noisily, more bins converge faster, the best accuracy "
            "lies in a middle range",
        ),
        Target(
            "linear",
            "Linear against modulated activation (paper section 4)",
            _linear,
            "boxes",
            paper={("modulated", None): 94.9, ("linear", None): (94.9, 95.1)},
            note="The paper gives 94.9-95.1% for the linear activation (a range).",
            shape="the linear activation about as good as the modulated one",
        ),
        Target(
            "deep",
            "Deeper networks (paper appendix A.10)",
            _deep,
            "boxes",
            average="mean",
            paper={
                ("800-200, label context", None): 97.2,
                ("600-200-200, label context", None): 97.1,
                ("1600-400, label and feedback", None): 97.7,
            },
            note="The paper reports means here (appendix A.10): ours are means too.",
            shape="the deep networks about as good as setup 2 of the same size (97.2-97.7%)",
        ),
        Target(
            "cifar",
            "CIFAR-10 (paper Fig. 4D)",
            _cifar,
            "boxes",
            paper={("own goal", None): 42.5, ("MNIST goal", None): 41.1, ("backprop", None): 42.2},
            shape="the CIFAR goal slightly above the MNIST goal, both about backprop",
        ),
    )
}

#: Targets that search goal space or ablate a goal (``infomorphic.reproduce.searched``).
SEARCHED = {
    "fig6": "six goal searches of setup 1 (three TPE, three CMA-ES with H_res = 0), each with "
    "its best goal and importance, and the published and found goals trained again",
    "table3": "the zero and cumulative ablation of the optimised goal: its critical weights",
}

#: Every target, in the paper's order, as the command line lists them.
TARGET_NAMES: tuple[str, ...] = (
    "fig3b",
    "fig3c",
    "fig4",
    "fig5",
    "fig6",
    "fig8",
    "fig10",
    "fig11",
    "table3",
    "deep",
    "linear",
    "cifar",
)


def target(name: str) -> Target:
    if name not in TARGETS:
        known = ", ".join([*TARGET_NAMES, "all"])
        raise ValueError(f"unknown target {name!r}; choose from {known}")
    return TARGETS[name]
