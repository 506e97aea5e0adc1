"""Keeping a run folder up to date while a run trains: ``RunFolderWriter``, a hook, and
``config.json``'s content (``resolved_config``); the folder's layout and readers are
``run_folder``'s."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from infomorphic.training.config import CHECKPOINT_INTERVAL_S, OPTIMIZERS, TrainConfig
from infomorphic.training.hooks import EpochRow, FitSummary, Hook
from infomorphic.training.run_folder import RunFolder, stored_network
from infomorphic.training.run_record import RUN_ID, new_run_id

if TYPE_CHECKING:
    from infomorphic.training.loop import Trainer

__all__ = ["RunFolderWriter", "resolved_config"]


def resolved_config(trainer: Trainer) -> dict[str, Any]:
    """config.json's content: the options, the data read and the network built from them."""
    from infomorphic.networks.infomorphic import InfomorphicNetwork

    splits, model = trainer.splits, trainer.model
    cfg = trainer.config.to_dict()
    mean, std = float(splits.mean), float(splits.std)
    # the raw pixels' range in the training split: prediction refuses images far outside it
    low, high = (round(float(v) * std + mean, 4) for v in splits.x_train.aminmax())
    cfg.update(
        data_source=splits.source,
        n_train=len(splits.y_train),
        n_val=len(splits.y_val),
        n_test=len(splits.y_test),
        n_features=splits.n_features,
        n_classes=splits.n_classes,
        standardisation={"mean": mean, "std": std, "min": low, "max": high},
        threads=torch.get_num_threads(),  # float rounding depends on it: resuming reuses it
    )
    cfg["network"] = stored_network(trainer.config.network(splits.n_features, splits.n_classes))
    if isinstance(model, InfomorphicNetwork):
        layers = zip(model.layer_names(), model.trainable_layers(), strict=True)
        cfg["goals"] = {
            name: layer.goal.as_dict() for name, layer in layers if layer.goal is not None
        }
        cfg["optimizers"] = {k: vars(OPTIMIZERS[k]) for k in ("hidden", "output")}
    else:
        cfg["optimizers"] = {"backprop": vars(OPTIMIZERS["backprop"])}
    return cfg


class RunFolderWriter(Hook):
    """Keeps a run folder up to date: history after every epoch; atoms and checkpoint after the
    first epoch, at most every ``checkpoint_interval_s`` seconds, and after the last one. On an
    interruption (Ctrl-C, or SIGTERM turned into one) it saves the last completed epoch.
    ``infomorphic.training.api.resume_from`` continues a trainer from the folder's checkpoint."""

    wants_completed_state = True

    def __init__(
        self, folder: RunFolder, checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S
    ) -> None:
        if not checkpoint_interval_s >= 0:
            raise ValueError(f"checkpoint_interval_s must be >= 0, got {checkpoint_interval_s}")
        self.folder = folder
        self.interval = checkpoint_interval_s
        self.saved_epoch: int | None = None
        self.last_save = time.monotonic()
        #: This run's identity in its files; a resumed run keeps its checkpoint's.
        self.run_id = new_run_id()

    def save(self, trainer: Trainer) -> None:
        """Write the atoms and the checkpoint now."""
        self._write(trainer.config, trainer.state_dict(), trainer.recorder.arrays())

    def _write(
        self, config: TrainConfig, state: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> None:
        if arrays:  # first: the checkpoint counts its epochs
            self.folder.write_atoms({**arrays, RUN_ID: np.array(self.run_id)})
        self.folder.write_checkpoint({"config": config.to_dict(), **state, RUN_ID: self.run_id})
        self.saved_epoch = state["epoch"]
        self.last_save = time.monotonic()

    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.population is not None:
            raise ValueError("a population's members have no run folder; train them one by one")
        self.folder.write_config({**resolved_config(trainer), RUN_ID: self.run_id})
        if trainer.history:  # resumed: drop an interrupted run's rows after the checkpoint
            self.folder.write_history(trainer.history)
        self.last_save = time.monotonic()

    def on_epoch_end(self, trainer: Trainer, row: EpochRow) -> None:
        self.folder.write_history(trainer.history)
        due = (
            trainer.epoch == trainer.config.epochs
            or self.saved_epoch is None
            or time.monotonic() - self.last_save >= self.interval
        )
        if due:
            self.save(trainer)

    def on_interrupt(self, trainer: Trainer) -> None:
        """Save the last completed epoch (the untrained model if none) unless it is saved."""
        completed = trainer.completed_state()
        if completed is None:
            return
        state, arrays = completed
        if self.saved_epoch is not None and self.saved_epoch >= state["epoch"]:
            return
        if not self.folder.file(RunFolder.CONFIG).is_file():
            self.folder.write_config({**resolved_config(trainer), RUN_ID: self.run_id})
        if state["history"]:
            self.folder.write_history(state["history"])
        self._write(trainer.config, state, arrays)

    def on_fit_end(self, trainer: Trainer, summary: FitSummary) -> None:
        # without per-epoch splits the readout (the output polarity) was first fitted by the
        # final measurement, after the last epoch's save: save again, or the checkpoint's
        # network would not be the one the summary measured
        refitted = not trainer.config.eval_splits
        if self.saved_epoch != trainer.epoch or trainer.epoch == 0 or refitted:
            self.folder.write_history(trainer.history)
            self.save(trainer)
        assert isinstance(summary, dict)  # a run folder holds one run
        self.folder.write_summary(summary)
