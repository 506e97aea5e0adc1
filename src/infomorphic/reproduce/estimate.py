"""What a reproduction will cost, before it is paid for: hours on 2 CPU cores and on one GPU.

A rough model from the timings in benchmarks/README.md ("Compute estimates"), each number with
its source there:

- ``CPU_US_PER_SAMPLE``: microseconds of one CPU core per training sample and epoch, by hidden
  size. N = 100: a 100-epoch setup-1 run on mnist-10k (6,400 training images) took 21.9 s in
  one thread (bench_search, mode solo2, evaluation once at the end included); N = 500, 1000
  and 2000: that figure times the step-time ratios of bench_train (53.9, 96.3 and 262.5 ms
  against 11.5 ms at N = 100). Other sizes are interpolated on a log-log scale; sizes below
  100 cost what N = 100 costs (the step's fixed work dominates there); every model costs what
  setups 1 and 2 cost at its size (bivariate models and backprop are cheaper: the estimate
  errs high), a deep network the sum of its layers.
- ``INPUT_SHARE``: the share of the N = 100 step that grows with the number of inputs (the
  matrix products: 3.1 of 11.5 ms, profiling note 3): CIFAR-10's 3,072 inputs against MNIST's
  784 make a sample 1.8 times dearer.
- ``EVAL_FRACTION``: an evaluated sample costs this share of a trained one (from the
  Fashion-MNIST run of benchmarks/README.md: 91.4 s for 100 epochs with every split evaluated
  after every epoch, of which 47 steps x 11.5 ms per epoch were training).
- ``GPU_STEP_S``: not measured (no GPU was lent to the sessions that wrote the benchmarks): the
  eager step on a GPU is bound by about 450 kernel launches (benchmarks/README.md, "Step
  variants"), taken here at 10 microseconds each, so 5 ms per step at any N up to 2000.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from infomorphic.training.config import TrainConfig

__all__ = [
    "CORES",
    "CPU_US_PER_SAMPLE",
    "DATA_SIZES",
    "EVAL_FRACTION",
    "GPU_STEP_S",
    "INPUT_SHARE",
    "Estimate",
    "estimate_runs",
    "run_cost",
]

CPU_US_PER_SAMPLE = {100: 34.2, 500: 160.3, 1000: 286.4, 2000: 780.7}
INPUT_SHARE = 0.27
#: Inputs per image where they are not MNIST's 784.
INPUTS = {"cifar10": 3072, "digits": 64}
EVAL_FRACTION = 0.47
GPU_STEP_S = 0.005
CORES = 2
#: (training images before the validation hold-out, test images) of each data set when it
#: cannot be read to count them.
DATA_SIZES = {
    "mnist": (60_000, 10_000),
    "fashion-mnist": (60_000, 10_000),
    "cifar10": (50_000, 10_000),
    "mnist-sample": (4_000, 1_000),
    "digits": (1_438, 359),
}


def _us_per_sample(hidden: Sequence[int]) -> float:
    """One CPU core's microseconds per training sample and epoch of a network with these
    hidden layers (the output layer alone for none)."""
    sizes = sorted(CPU_US_PER_SAMPLE)

    def one(n: int) -> float:
        if n <= sizes[0]:
            return CPU_US_PER_SAMPLE[sizes[0]]
        if n >= sizes[-1]:
            return CPU_US_PER_SAMPLE[sizes[-1]] * n / sizes[-1]
        for low, high in zip(sizes, sizes[1:], strict=False):
            if low <= n <= high:
                t = math.log(n / low) / math.log(high / low)
                a, b = CPU_US_PER_SAMPLE[low], CPU_US_PER_SAMPLE[high]
                return math.exp(math.log(a) + t * (math.log(b) - math.log(a)))
        raise AssertionError("unreachable")

    return sum(one(n) for n in hidden) if hidden else one(0)


@dataclass(frozen=True)
class RunCost:
    """One run's estimated cost: CPU core-seconds and GPU seconds."""

    core_s: float
    gpu_s: float


def run_cost(config: TrainConfig, n_train_total: int, n_test: int) -> RunCost:
    """The estimated cost of training ``config`` on a data set of ``n_train_total`` training
    images (before the validation hold-out) and ``n_test`` test images."""
    n_val = round(n_train_total * config.val_fraction)
    n_train = n_train_total - n_val
    inputs = INPUTS.get(config.dataset, 784)
    us = _us_per_sample(config.hidden) * (1 - INPUT_SHARE + INPUT_SHARE * inputs / 784)
    per_epoch_eval = 0
    if config.eval_splits:  # the readout is fitted on the training split, then each split
        sizes = {"train": 0, "val": n_val, "test": n_test}
        per_epoch_eval = n_train + sum(sizes[s] for s in config.eval_splits)
    final_eval = n_train + n_val + n_test
    evaluated = config.epochs * per_epoch_eval + final_eval
    core_s = 1e-6 * us * (config.epochs * n_train + EVAL_FRACTION * evaluated)
    steps = config.epochs * math.ceil(n_train / config.batch_size)
    eval_batches = math.ceil(evaluated / config.eval_batch_size)
    gpu_s = GPU_STEP_S * max(1, len(config.hidden)) * (steps + eval_batches / 3)
    return RunCost(core_s, gpu_s)


@dataclass(frozen=True)
class Estimate:
    """A grid's estimated cost: runs, of them still to train, search trials, and hours."""

    runs: int
    to_train: int
    core_hours: float
    gpu_hours: float
    trials: int = 0

    @property
    def cpu_hours(self) -> float:
        """Hours on this project's machine: ``CORES`` runs at a time, one core each."""
        return self.core_hours / CORES

    def __str__(self) -> str:
        trials = f" and {self.trials} search trials" if self.trials else ""
        return (
            f"{self.to_train} of {self.runs} runs{trials} to train: about "
            f"{_hours(self.cpu_hours)} on "
            f"{CORES} CPU cores ({_hours(self.core_hours)} of one core), about "
            f"{_hours(self.gpu_hours)} on one GPU (assumed {GPU_STEP_S * 1e3:g} ms per step, not "
            "measured; benchmarks/README.md, Compute estimates)"
        )


def _hours(hours: float) -> str:
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h"


def estimate_runs(
    configs: Sequence[TrainConfig],
    sizes: dict[str, tuple[int, int]],
    done: Sequence[bool] = (),
    trials: Sequence[tuple[TrainConfig, int]] = (),
) -> Estimate:
    """The cost of the runs not ``done`` (a flag per config; none done by default) and of the
    search ``trials`` ((trial configuration, how many)); ``sizes``: (training images before the
    hold-out, test images) by data set name."""
    flags = list(done) or [False] * len(configs)
    searched = [config for config, count in trials for _ in range(count)]
    core = gpu = 0.0
    for config, finished in zip(
        [*configs, *searched], flags + [False] * len(searched), strict=True
    ):
        if finished:
            continue
        train_total, test = sizes.get(config.dataset, DATA_SIZES.get(config.dataset, (0, 0)))
        cost = run_cost(config, train_total, test)
        core += cost.core_s
        gpu += cost.gpu_s
    return Estimate(len(configs), flags.count(False), core / 3600, gpu / 3600, len(searched))
