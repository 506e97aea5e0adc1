"""``TensorBoardHook``: a run's accuracies and its neurons' atoms in TensorBoard, epoch by epoch.

Needs the optional ``tensorboard`` package (``pip install "infomorphic[tensorboard]"``); the
rest of the package never imports it. Each epoch logs, with the epoch as the step:

* ``accuracy/<split>``: every accuracy measured (train, val, test as configured);
* ``<layer>/atoms/<atom>``: the layer's atoms (and ``H_res``) averaged over neurons, in bits;
* ``<layer>/goal``: the layer's goal, the weighted sum of its mean atoms;
* ``<layer>/self_cosine_median``: how far the hidden weights turned this epoch (paper eq. 4);
* ``<layer>/neurons/<atom>`` (histograms): each atom's spread across the layer's neurons.

A resumed run continues the same event files: events after the checkpoint's epoch, written
before an interruption, are dropped (TensorBoard's ``purge_step``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from infomorphic.training.hooks import EpochRow, FitSummary, Hook

if TYPE_CHECKING:
    from infomorphic.training.loop import Trainer

__all__ = ["TensorBoardHook"]

_NEEDS = 'TensorBoard logging needs the tensorboard package: pip install "infomorphic[tensorboard]"'


class TensorBoardHook(Hook):
    """Writes TensorBoard event files into ``log_dir`` (``tensorboard --logdir`` its parent
    to compare runs side by side). ``histograms``: also log each atom's spread across neurons."""

    def __init__(self, log_dir: str | Path, histograms: bool = True) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # torch's wrapper imports tensorboard itself
            raise ImportError(_NEEDS) from exc
        self._writer_class = SummaryWriter
        self.log_dir = Path(log_dir)
        self.histograms = histograms
        self.writer: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        purge = trainer.epoch + 1 if trainer.epoch else None
        self.writer = self._writer_class(str(self.log_dir), purge_step=purge)
        if not trainer.epoch:
            config = json.dumps(trainer.config.to_dict(), indent=2)
            self.writer.add_text("config", f"```\n{config}\n```", 0)

    def on_epoch_end(self, trainer: Trainer, row: EpochRow) -> None:
        if self.writer is None:
            return
        if isinstance(row, list):
            raise TypeError("TensorBoardHook logs one run, not a population's members")
        step = int(row["epoch"])
        layers = trainer.recorder.atoms
        for key, value in row.items():
            if key.endswith("_accuracy"):
                self.writer.add_scalar(f"accuracy/{key[: -len('_accuracy')]}", value, step)
                continue
            layer, _, rest = key.partition("_")
            if layer not in layers or key in ("epoch", "seconds"):
                continue
            if rest in ("goal", "self_cosine_median", "pass_change"):
                self.writer.add_scalar(f"{layer}/{rest}", value, step)
            else:
                self.writer.add_scalar(f"{layer}/atoms/{rest}", value, step)
        if self.histograms:
            self._log_histograms(trainer, step)
        self.writer.flush()

    def _log_histograms(self, trainer: Trainer, step: int) -> None:
        model = trainer.recorder.model
        if model is None:
            return
        for name, layer in zip(model.layer_names(), model.trainable_layers(), strict=True):
            epochs = trainer.recorder.atoms.get(name)
            if not epochs or layer.goal is None:
                continue
            last = np.asarray(epochs[-1])  # (N, A + 1)
            for column, label in enumerate(layer.goal.labels):
                self.writer.add_histogram(f"{name}/neurons/{label}", last[:, column], step)

    def on_fit_end(self, trainer: Trainer, summary: FitSummary) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def on_interrupt(self, trainer: Trainer) -> None:
        self.on_fit_end(trainer, {})
