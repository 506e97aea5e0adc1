"""The training loop: epochs of a step strategy, evaluation, neuron records, hooks.

``Trainer`` knows nothing of files: a ``RunFolderWriter`` hook keeps a run folder, and
``train`` (in ``infomorphic.training.api``) wires the usual hooks together. Random streams are
the run's own (batch order, spikes, evaluation), seeded from ``config.seed``; the model is
initialised inside a fork of torch's global generator, so the caller's global state is left
as it was. An interruption (Ctrl-C; SIGTERM inside ``terminate_as_interrupt``) drops the
current epoch and lets the hooks save the last completed one (``Hook.on_interrupt``).
"""

from __future__ import annotations

import copy
import signal
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import torch

from infomorphic.data import Splits, iterate_batches, load_dataset, prepare_splits
from infomorphic.networks.infomorphic import InfomorphicNetwork
from infomorphic.networks.registry import build_model
from infomorphic.nn.layers import DegenerateBinningWarning
from infomorphic.training.config import EVAL_SPLITS, TrainConfig
from infomorphic.training.evaluation import evaluate, fit_readout
from infomorphic.training.hooks import Hook
from infomorphic.training.recording import NeuronRecorder
from infomorphic.training.steps import StepOutput, make_step

__all__ = [
    "EpochMeans",
    "Terminated",
    "TrainingDiverged",
    "Trainer",
    "epoch_means",
    "load_splits",
    "terminate_as_interrupt",
    "warn_degenerate_binning",
]

#: Training images on which each epoch measures how much the last lateral pass still moves
#: the hidden layers (the history's ``hidden<k>_pass_change``).
PROBE_SIZE = 1024


class TrainingDiverged(FloatingPointError):
    """An epoch produced non-finite atoms or weights; it was not recorded."""

    def __init__(self, epoch: int, where: str) -> None:
        super().__init__(f"training diverged in epoch {epoch}: non-finite values in {where}")
        self.epoch = epoch


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption by ``terminate_as_interrupt``."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``), so that a
    terminated run saves its last completed epoch as an interrupted one does. Only in the main
    thread (elsewhere the block runs unchanged)."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def load_splits(config: TrainConfig) -> Splits:
    """The configuration's data set, split and standardised (paper section 5)."""
    raw = load_dataset(config.dataset, data_dir=config.data_dir)
    return prepare_splits(raw, config.val_fraction, config.seed)


class EpochMeans(NamedTuple):
    """An epoch's steps averaged over its batches: each decomposition, and the batches'
    accuracy on their own training pass (None if the step keeps no outputs)."""

    decompositions: list[torch.Tensor]
    accuracy: torch.Tensor | None


def epoch_means(
    step: Callable[[torch.Tensor, torch.Tensor], StepOutput],
    splits: Splits,
    batch_size: int,
    generator: torch.Generator,
) -> EpochMeans:
    """One shuffled pass of ``step`` over the training split; each of the decompositions it
    returns ([] for a step that returns none) and its batch accuracy, averaged over the
    batches. A last batch of one sample is skipped: a batch's PID needs at least two."""
    sums: list[torch.Tensor] = []
    accuracy: torch.Tensor | None = None
    batches = 0
    for xb, yb in iterate_batches(
        splits.x_train, splits.y_train, batch_size, shuffle=True, generator=generator
    ):
        if len(yb) < 2:
            continue
        decompositions, batch_accuracy = step(xb, yb)
        if batches == 0:
            sums = [d.clone() for d in decompositions]
            accuracy = None if batch_accuracy is None else batch_accuracy.clone()
        else:
            sums = [s + d for s, d in zip(sums, decompositions, strict=True)]
            if accuracy is not None and batch_accuracy is not None:
                accuracy = accuracy + batch_accuracy
        batches += 1
    return EpochMeans([s / batches for s in sums], None if accuracy is None else accuracy / batches)


def warn_degenerate_binning(model: Any, x: torch.Tensor, onehot: torch.Tensor) -> None:
    """A ``DegenerateBinningWarning`` for each layer of the untrained ``model`` whose bins hold
    all of its pre-activations on the batch in one cell, before any training is paid for."""
    if not isinstance(model, InfomorphicNetwork):
        return
    generator = torch.Generator(device=x.device).manual_seed(0)  # no stream of the run's
    for message in model.degenerate_binning(x, onehot, generator):
        warnings.warn(message, DegenerateBinningWarning, stacklevel=3)


def torch_device(name: str) -> torch.device:
    """The device named in a configuration; a ValueError when torch cannot see it."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but torch sees no CUDA device")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} was asked for but torch sees no MPS device")
    return device


class Trainer:
    """Trains one model from a validated configuration; ``fit`` runs the remaining epochs."""

    def __init__(
        self, config: TrainConfig, splits: Splits | None = None, hooks: Sequence[Hook] = ()
    ) -> None:
        self.config = config.validate()
        self.device = torch_device(config.device)
        self.splits = (splits if splits is not None else load_splits(config)).to(self.device)
        masks = torch.Generator().manual_seed(config.seed)  # sparse lateral masks
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)  # nn.Linear initialises from the global generator
            self.model = build_model(
                config.model, self.splits.n_features, self.splits.n_classes, config.hidden,
                config.goal, config.activation, generator=masks, passes=config.passes,
                bins=config.bins, output_bins=config.output_bins,
                eval_context=config.eval_context,
            ).to(self.device)  # fmt: skip
        self.step = make_step(self.model, config, self.device)
        self.batch_generator = torch.Generator().manual_seed(config.seed + 1)
        probe = self.splits.x_train[:PROBE_SIZE], self.splits.y_train[:PROBE_SIZE]
        onehot = torch.nn.functional.one_hot(probe[1], self.splits.n_classes).to(probe[0].dtype)
        self.recorder = NeuronRecorder(self.model, (probe[0], onehot))
        warn_degenerate_binning(self.model, probe[0], onehot)
        self.hooks = list(hooks)
        self.epoch = 0
        self.seconds = 0.0
        self.history: list[dict[str, float]] = []
        self._completed: dict[str, Any] | None = None  # see completed_state

    # -- one epoch --------------------------------------------------------------------------
    def train_epoch(self) -> tuple[dict[str, np.ndarray], float | None]:
        """One pass over the training data: each layer's mean decomposition (N, A+1), and the
        mean over the batches of each batch's accuracy on its own training pass (the authors'
        training accuracy; None if the step keeps no outputs)."""
        self.model.train()
        means = epoch_means(self.step, self.splits, self.config.batch_size, self.batch_generator)
        accuracy = None if means.accuracy is None else float(means.accuracy)
        if not means.decompositions:
            return {}, accuracy
        names = self.model.layer_names()
        decompositions = {
            n: m.cpu().numpy() for n, m in zip(names, means.decompositions, strict=True)
        }
        return decompositions, accuracy

    def _check_finite(self, means: dict[str, np.ndarray]) -> None:
        broken = [name for name, m in means.items() if not np.isfinite(m).all()]
        if broken or not all(torch.isfinite(p).all() for p in self.model.parameters()):
            raise TrainingDiverged(self.epoch + 1, ", ".join(broken) or "the weights")

    def measure(self, splits: Sequence[str], epoch: int) -> dict[str, float]:
        """Fit the readout on the training data, then the accuracy of each split named."""
        cfg = self.config
        train_accuracy = fit_readout(
            self.model, self.splits, cfg.eval_batch_size, cfg.seed, epoch, cfg.eval_samples
        )
        rest = [s for s in splits if not (s == "train" and train_accuracy is not None)]
        metrics = evaluate(
            self.model, self.splits, rest, cfg.eval_batch_size, cfg.seed, epoch, cfg.eval_samples
        )
        if "train" in splits and train_accuracy is not None:
            metrics["train_accuracy"] = train_accuracy
        return {f"{s}_accuracy": metrics[f"{s}_accuracy"] for s in splits}

    # -- the loop ---------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train up to ``config.epochs`` (or until a hook stops the run); the run's summary.

        On ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM inside ``terminate_as_interrupt``) the
        current epoch is dropped, every hook's ``on_interrupt`` runs (a run folder saves the
        last completed epoch) and the interruption is raised again.
        """
        keep = any(hook.wants_completed_state for hook in self.hooks)
        self._completed = None
        try:
            if keep:
                self._completed = self._copy_state()
            return self._fit(keep)
        except KeyboardInterrupt:
            for hook in self.hooks:
                hook.on_interrupt(self)
            raise

    def _fit(self, keep: bool) -> dict[str, Any]:
        for hook in self.hooks:
            hook.on_fit_start(self)
        stopped = False
        while self.epoch < self.config.epochs and not stopped:
            start = time.perf_counter()
            means, batch_accuracy = self.train_epoch()
            self._check_finite(means)
            self.epoch += 1
            splits = self.config.eval_splits
            metrics = self.measure(splits, self.epoch) if splits else {}
            if batch_accuracy is not None:
                metrics["train_batch_accuracy"] = batch_accuracy
            self.seconds += time.perf_counter() - start
            row = {"epoch": self.epoch, **metrics, "seconds": self.seconds}
            row.update(self.recorder.record(means))
            self.history.append(row)
            if keep:
                self._completed = self._copy_state()
            stopped = any([bool(hook.on_epoch_end(self, row)) for hook in self.hooks])
        if not self.history:  # zero epochs: the untrained model is still measured
            self.history.append({"epoch": 0, **self.measure(EVAL_SPLITS, 0), "seconds": 0.0})
        summary = self.summary(stopped_early=stopped)
        for hook in self.hooks:
            hook.on_fit_end(self, summary)
        return summary

    def _copy_state(self) -> dict[str, Any]:
        state = self.state_dict()
        history = state.pop("history")
        copied = copy.deepcopy(state)  # tensors cloned: training changes them in place
        copied["history"] = list(history)  # rows are never changed once appended
        return copied

    def completed_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """``(state_dict(), recorder arrays)`` as they were after the last completed epoch (the
        untrained model before the first), for a hook's ``on_interrupt``; None unless a hook
        sets ``wants_completed_state``."""
        state = self._completed
        if state is None:
            return None
        counts = state["recorder"]["atoms_epochs"]
        cosine = state["recorder"]["cosine_epochs"]
        arrays = {}
        for key, value in self.recorder.arrays().items():
            if key.endswith("_atoms"):
                value = value[: counts.get(key[: -len("_atoms")], 0)]
            elif key.endswith("_self_cosine"):
                value = value[: cosine.get(key[: -len("_self_cosine")], 0)]
            arrays[key] = value
        if not any(counts.values()):
            arrays = {}
        return state, arrays

    def final_metrics(self) -> dict[str, float]:
        """Every split's accuracy after the last epoch: the history's, plus the splits not
        measured per epoch (the same numbers they would have had)."""
        last = self.history[-1]
        missing = [s for s in EVAL_SPLITS if f"{s}_accuracy" not in last]
        found = {f"{s}_accuracy": last[f"{s}_accuracy"] for s in EVAL_SPLITS if s not in missing}
        if missing:
            found.update(self.measure(missing, int(last["epoch"])))
        return found

    def summary(self, stopped_early: bool = False) -> dict[str, Any]:
        metrics = self.final_metrics()
        return {
            "test_accuracy": metrics["test_accuracy"],
            "val_accuracy": metrics["val_accuracy"],
            "train_accuracy": metrics["train_accuracy"],
            **{k: self.history[-1][k] for k in ("train_batch_accuracy",) if k in self.history[-1]},
            "epochs": self.epoch,
            "stopped_early": stopped_early,
            "seconds": self.seconds,
            "dataset": self.config.dataset,
            "data_source": self.splits.source,
            "model": self.config.model,
            "hidden": list(self.config.hidden),
            "goal": self.goal_name(),
            "activation": self.config.activation,
            "seed": self.config.seed,
            "device": self.config.device,
        }

    def goal_name(self) -> str | list[float] | dict[str, float] | None:
        """The configured goal, or the name of the model's default hidden goal."""
        if self.config.goal is not None or not isinstance(self.model, InfomorphicNetwork):
            return self.config.goal
        goals = [layer.goal.name for layer in self.model.hidden if layer.goal is not None]
        return goals[0] if goals else None

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where the run is (with ``recorder.arrays()``)."""
        return {
            "epoch": self.epoch,
            "seconds": self.seconds,
            "model": self.model.state_dict(),
            "step": self.step.state_dict(),
            "batch_generator": self.batch_generator.get_state(),
            "history": self.history,
            "recorder": self.recorder.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(state["model"])
        self.step.load_state_dict(state["step"])
        self.batch_generator.set_state(state["batch_generator"])
        self.recorder.load_state_dict(state["recorder"], arrays)
        self.epoch = state["epoch"]
        self.seconds = state["seconds"]
        self.history = [dict(row) for row in state["history"]]
