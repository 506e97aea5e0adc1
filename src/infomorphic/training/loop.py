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
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from infomorphic.data import Splits, load_dataset, prepare_splits
from infomorphic.errors import InfomorphicError
from infomorphic.networks.base import Classifier
from infomorphic.networks.infomorphic import InfomorphicNetwork
from infomorphic.networks.presets import model_preset
from infomorphic.networks.registry import build_network
from infomorphic.nn.layers import DegenerateBinningWarning
from infomorphic.training.config import EVAL_SPLITS, TrainConfig
from infomorphic.training.evaluation import evaluate, fit_readout
from infomorphic.training.hooks import Hook
from infomorphic.training.interrupt import Terminated, terminate_as_interrupt
from infomorphic.training.members import drop_members
from infomorphic.training.memory import check_memory
from infomorphic.training.recording import NeuronRecorder
from infomorphic.training.steps import EpochMeans, epoch_means, make_step

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


class TrainingDiverged(InfomorphicError, FloatingPointError):
    """An epoch produced non-finite atoms or weights; it was not recorded."""

    def __init__(self, epoch: int, where: str) -> None:
        super().__init__(f"training diverged in epoch {epoch}: non-finite values in {where}")
        self.epoch = epoch
        self.where = where


def load_splits(config: TrainConfig) -> Splits:
    """The configuration's data set, split and standardised (paper section 5)."""
    raw = load_dataset(config.dataset, data_dir=config.data_dir)
    return prepare_splits(raw, config.val_fraction, config.seed)


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
    """Trains one model from a validated configuration; ``fit`` runs the remaining epochs.

    Given several configurations that differ only in their goal, it trains them as one
    population (``population`` members on a member axis, ``InfomorphicNetwork.stack``): each
    member's batches, initial weights, spikes and evaluation draws are those of the same
    configuration trained alone, so its result does not depend on its neighbours (up to float
    rounding). The loop, evaluation and hooks are the same; a population's history is one per
    member (``histories``), hooks see the list of the members' rows, ``fit`` returns one summary
    per member, and a member that diverges is marked (``error`` in its summary) while the others
    go on.
    """

    def __init__(
        self,
        config: TrainConfig | Sequence[TrainConfig],
        splits: Splits | None = None,
        hooks: Sequence[Hook] = (),
    ) -> None:
        solo = isinstance(config, TrainConfig)
        given = [config] if isinstance(config, TrainConfig) else list(config)
        self.configs = [c.validate() for c in given]
        if not self.configs:
            raise ValueError("a population needs at least one configuration")
        self.config = self.configs[0]
        self.population: int | None = None if solo else len(self.configs)
        if not solo:
            _check_population(self.configs)
        self.device = torch_device(self.config.device)
        data = splits if splits is not None else load_splits(self.config)
        self.splits = data.to(self.device)
        check_memory(
            self.config.hidden,
            self.splits.n_features,
            self.splits.n_classes,
            self.device,
            training=self.config.epochs > 0,
            copies=len(self.configs),
        )
        networks = [self._build(c) for c in self.configs]
        # a population's networks are spiking networks (_check_population), which stack
        self.model = networks[0] if solo else type(networks[0]).stack(networks)  # type: ignore[attr-defined]
        self.step = make_step(self.model, self.config, self.device)
        self.batch_generator = torch.Generator().manual_seed(self.config.seed + 1)
        probe = self.splits.x_train[:PROBE_SIZE], self.splits.y_train[:PROBE_SIZE]
        onehot = torch.nn.functional.one_hot(probe[1], self.splits.n_classes).to(probe[0].dtype)
        self.recorder = NeuronRecorder(self.model, (probe[0], onehot))
        warn_degenerate_binning(networks[0], probe[0], onehot)
        self.hooks = list(hooks)
        self.epoch = 0
        self.seconds = 0.0
        self.histories: list[list[dict[str, float]]] = [[] for _ in self.configs]
        self.diverged: list[int | None] = [None] * len(self.configs)
        #: Each member's place among the configurations given (``drop_members`` removes some).
        self.member_ids = list(range(len(self.configs)))
        self._completed: dict[str, Any] | None = None  # see completed_state

    def _build(self, config: TrainConfig) -> Classifier:
        masks = torch.Generator().manual_seed(config.seed)  # sparse lateral masks
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)  # nn.Linear initialises from the global generator
            spec = config.network(self.splits.n_features, self.splits.n_classes)
            return build_network(spec, generator=masks).to(self.device)

    def drop_members(self, members: Sequence[int]) -> None:
        """Remove members (places in the population now) after an epoch, e.g. from a hook's
        ``on_epoch_end``; the others train on exactly as alone (``training.members``)."""
        drop_members(self, members)

    @property
    def history(self) -> list[dict[str, float]]:
        """The run's rows, one per epoch (a population's first member's)."""
        return self.histories[0]

    @history.setter
    def history(self, rows: list[dict[str, float]]) -> None:
        self.histories[0] = rows

    # -- one epoch --------------------------------------------------------------------------
    def train_epoch(self) -> tuple[dict[str, np.ndarray], Any]:
        """One pass over the training data: each layer's mean decomposition (N, A+1), or
        (P, N, A+1) for a population, and the mean over the batches of each batch's accuracy on
        its own training pass (the authors' training accuracy; one per member for a
        population; None if the step keeps no outputs)."""
        self.model.train()
        means = epoch_means(self.step, self.splits, self.config.batch_size, self.batch_generator)
        accuracy = None if means.accuracy is None else means.accuracy.tolist()
        if not means.decompositions:
            return {}, accuracy
        assert isinstance(self.model, InfomorphicNetwork)  # only local goals decompose
        names = self.model.layer_names()
        decompositions = {
            n: m.cpu().numpy() for n, m in zip(names, means.decompositions, strict=True)
        }
        return decompositions, accuracy

    def _check_finite(self, means: dict[str, np.ndarray]) -> None:
        """Raise ``TrainingDiverged`` on non-finite atoms or weights; in a population, mark the
        members whose are (the others train on: nothing mixes members)."""
        if self.population is None:
            broken = [name for name, m in means.items() if not np.isfinite(m).all()]
            if broken or not all(torch.isfinite(p).all() for p in self.model.parameters()):
                raise TrainingDiverged(self.epoch + 1, ", ".join(broken) or "the weights")
            return
        finite = np.ones(self.population, dtype=bool)
        for m in means.values():
            finite &= np.isfinite(m.reshape(self.population, -1)).all(axis=1)
        for p in self.model.parameters():
            finite &= torch.isfinite(p.reshape(self.population, -1)).all(dim=1).cpu().numpy()
        for member in np.flatnonzero(~finite):
            if self.diverged[member] is None:
                self.diverged[member] = self.epoch + 1

    def measure(self, splits: Sequence[str], epoch: int) -> dict[str, Any]:
        """Fit the readout on the training data, then the accuracy of each split named (a list
        of one per member for a population)."""
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

    def _members(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        """A population's ``{key: [one per member]}`` as one dict per member."""
        if self.population is None:
            return [values]
        return [{k: v[m] for k, v in values.items()} for m in range(self.population)]

    # -- the loop ---------------------------------------------------------------------------
    def fit(self) -> dict[str, Any] | list[dict[str, Any]]:
        """Train up to ``config.epochs`` (or until a hook stops the run); the run's summary (one
        per member for a population).

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

    def _fit(self, keep: bool) -> dict[str, Any] | list[dict[str, Any]]:
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
            records = self.recorder.record(means)
            rows = []
            for member, values in enumerate(self._members(metrics)):
                row = {"epoch": self.epoch, **values, "seconds": self.seconds}
                row.update(records[member] if isinstance(records, list) else records)
                self.histories[member].append(row)
                rows.append(row)
            if keep:
                self._completed = self._copy_state()
            shown = rows[0] if self.population is None else rows
            stopped = any([bool(hook.on_epoch_end(self, shown)) for hook in self.hooks])
        if not self.history:  # zero epochs: the untrained model is still measured
            untrained = self._members(self.measure(EVAL_SPLITS, 0))
            for history, values in zip(self.histories, untrained, strict=True):
                history.append({"epoch": 0, **values, "seconds": 0.0})
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

    def final_metrics(self) -> list[dict[str, float]]:
        """Every split's accuracy after the last epoch, one dict per member: the history's,
        plus the splits not measured per epoch (the same numbers they would have had)."""
        last = self.history[-1]
        missing = [s for s in EVAL_SPLITS if f"{s}_accuracy" not in last]
        measured = self._members(self.measure(missing, int(last["epoch"]))) if missing else None
        found = []
        for member, history in enumerate(self.histories):
            row = history[-1]
            values = {
                f"{s}_accuracy": row[f"{s}_accuracy"] for s in EVAL_SPLITS if s not in missing
            }
            values.update(measured[member] if measured else {})
            found.append(values)
        return found

    def summary(self, stopped_early: bool = False) -> dict[str, Any] | list[dict[str, Any]]:
        """The run's summary; one per member for a population (``population`` set, and
        ``error`` with NaN accuracies for a member that diverged)."""
        summaries = []
        for member, metrics in enumerate(self.final_metrics()):
            config = self.configs[member]
            summary = {
                "test_accuracy": metrics["test_accuracy"],
                "val_accuracy": metrics["val_accuracy"],
                "train_accuracy": metrics["train_accuracy"],
                **{
                    k: self.histories[member][-1][k]
                    for k in ("train_batch_accuracy",)
                    if k in self.histories[member][-1]
                },
                "epochs": self.epoch,
                "stopped_early": stopped_early,
                "seconds": self.seconds,
                "dataset": config.dataset,
                "data_source": self.splits.source,
                "model": config.model,
                "hidden": list(config.hidden),
                "goal": self.goal_name(member),
                "activation": config.activation,
                "seed": config.seed,
                "device": config.device,
            }
            if self.population is not None:
                summary["population"] = self.population
                if self.diverged[member] is not None:
                    summary["error"] = f"diverged in epoch {self.diverged[member]}"
                    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
                        summary[key] = float("nan")
            summaries.append(summary)
        return summaries[0] if self.population is None else summaries

    def goal_name(self, member: int = 0) -> Any:
        """The configured goal, or the name of the model's default hidden goal."""
        goal = self.configs[member].goal
        if goal is not None or not isinstance(self.model, InfomorphicNetwork):
            return goal
        goals = [layer.goal for layer in self.model.hidden if layer.goal is not None]
        return goals[0].name if goals else None

    # -- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where the run is (with ``recorder.arrays()``)."""
        state = {
            "epoch": self.epoch,
            "seconds": self.seconds,
            "model": self.model.state_dict(),
            "step": self.step.state_dict(),
            "batch_generator": self.batch_generator.get_state(),
            "history": self.history,
            "recorder": self.recorder.state_dict(),
        }
        if self.population is not None:
            state.update(histories=self.histories, diverged=list(self.diverged))
        return state

    def load_state_dict(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.model.load_state_dict(state["model"])
        self.step.load_state_dict(state["step"])
        self.batch_generator.set_state(state["batch_generator"])
        self.recorder.load_state_dict(state["recorder"], arrays)
        self.epoch = state["epoch"]
        self.seconds = state["seconds"]
        histories = state.get("histories", [state["history"]])
        self.histories = [[dict(row) for row in rows] for rows in histories]
        self.diverged = list(state.get("diverged", self.diverged))


def _check_population(configs: Sequence[TrainConfig]) -> None:
    """Members must differ only in their goal, train locally and eagerly."""
    base = {k: v for k, v in configs[0].to_dict().items() if k != "goal"}
    for config in configs[1:]:
        if {k: v for k, v in config.to_dict().items() if k != "goal"} != base:
            raise ValueError("population members may differ only in their goal")
    if configs[0].compile:
        raise ValueError("population training runs eagerly; drop compile")
    if model_preset(configs[0].model).kind != "infomorphic":
        raise ValueError(
            f"population training needs an infomorphic model, not {configs[0].model}; train "
            "it one run at a time"
        )
