"""The run folder: its layout, its format version, atomic writes and the readers.

A run folder holds ``config.json`` (the resolved configuration, goals and the data actually
read), ``history.csv`` (one row per epoch), ``atoms.npz`` (each neuron's mean atoms per epoch),
``checkpoint.pt`` (to resume) and, at the end, ``summary.json``. Every file is written
atomically; ``config.json`` and the checkpoint carry ``FORMAT_VERSION``, and readers refuse a
folder written in a format they do not know. Checkpoints load with ``weights_only=True``:
loading one never runs code.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.training.config import CHECKPOINT_INTERVAL_S, OPTIMIZERS, TrainConfig
from infomorphic.training.hooks import Hook

if TYPE_CHECKING:
    from infomorphic.networks.base import Classifier
    from infomorphic.training.loop import Trainer

__all__ = ["FORMAT_VERSION", "RunFolder", "RunFolderWriter"]

#: Version of the run folder's layout and checkpoint contents (1: folders without a version).
FORMAT_VERSION = 2


class RunFolder:
    """One run's folder on disk: paths, writers and readers."""

    CONFIG = "config.json"
    HISTORY = "history.csv"
    ATOMS = "atoms.npz"
    CHECKPOINT = "checkpoint.pt"
    SUMMARY = "summary.json"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def has_checkpoint(self) -> bool:
        return self.file(self.CHECKPOINT).is_file()

    @property
    def is_finished(self) -> bool:
        return self.file(self.SUMMARY).is_file()

    # -- writers ----------------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        payload = {"format_version": FORMAT_VERSION, **config}
        atomic_write_text(self.file(self.CONFIG), json.dumps(payload, indent=2))

    def write_history(self, rows: list[dict[str, float]]) -> None:
        columns: list[str] = []
        for row in rows:
            columns += [c for c in row if c not in columns]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.file(self.HISTORY), text.getvalue())

    def write_atoms(self, arrays: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # uncompressed: random-looking floats barely compress
        atomic_write_bytes(self.file(self.ATOMS), buffer.getvalue())

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        buffer = io.BytesIO()
        torch.save({"format_version": FORMAT_VERSION, **state}, buffer)
        atomic_write_bytes(self.file(self.CHECKPOINT), buffer.getvalue())

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.file(self.SUMMARY), json.dumps(summary, indent=2))

    # -- readers ----------------------------------------------------------------------------
    def _require(self, name: str) -> Path:
        path = self.file(name)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: is {self.path} a run folder?")
        return path

    def _check_version(self, found: object, name: str) -> None:
        version = 1 if found is None else found
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise ValueError(
                f"{self.file(name)} has run-folder format {found!r}; this infomorphic reads "
                f"formats 1 to {FORMAT_VERSION} (upgrade infomorphic to read it)"
            )

    def config(self) -> dict[str, Any]:
        """The resolved configuration as saved (``format_version`` included)."""
        data = json.loads(self._require(self.CONFIG).read_text())
        self._check_version(data.get("format_version"), self.CONFIG)
        return data

    def train_config(self) -> TrainConfig:
        """The run's ``TrainConfig``."""
        return TrainConfig.from_dict(self.config())

    def history(self) -> list[dict[str, float]]:
        """One dict per epoch; numbers as floats (``epoch`` as int)."""
        with self._require(self.HISTORY).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            {k: int(v) if k == "epoch" else float(v) for k, v in row.items() if v != ""}
            for row in rows
        ]

    def atoms(self) -> dict[str, np.ndarray]:
        """The arrays of ``atoms.npz`` ({} for a run without neuron records)."""
        path = self.file(self.ATOMS)
        if not path.is_file():
            return {}
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    def summary(self) -> dict[str, Any]:
        return json.loads(self._require(self.SUMMARY).read_text())

    def checkpoint(self, map_location: str | torch.device = "cpu") -> dict[str, Any]:
        """The checkpoint's contents, loaded without running code (``weights_only=True``)."""
        path = self._require(self.CHECKPOINT)
        state = torch.load(path, map_location=map_location, weights_only=True)
        self._check_version(state.get("format_version"), self.CHECKPOINT)
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path} was written by an older infomorphic (format 1) and cannot be resumed; "
                "its history, atoms and summary still read"
            )
        return state

    def load_model(self, device: str | torch.device = "cpu") -> Classifier:
        """The trained network of the last checkpoint, ready to ``predict``."""
        from infomorphic.networks.registry import build_model

        config = self.config()
        state = self.checkpoint(map_location=device)
        model = build_model(
            config["model"], config["n_features"], config["n_classes"], config["hidden"],
            config["goal"], config["activation"],
        )  # fmt: skip
        model.load_state_dict(state["model"])
        return model.to(device)


def resolved_config(trainer: Trainer) -> dict[str, Any]:
    """config.json's content: the options, the data read and the network built from them."""
    from infomorphic.networks.infomorphic import InfomorphicNetwork

    splits, model = trainer.splits, trainer.model
    cfg = trainer.config.to_dict()
    cfg.update(
        data_source=splits.source,
        n_train=len(splits.y_train), n_val=len(splits.y_val), n_test=len(splits.y_test),
        n_features=splits.n_features, n_classes=splits.n_classes,
        standardisation={"mean": float(splits.mean), "std": float(splits.std)},
    )  # fmt: skip
    if isinstance(model, InfomorphicNetwork):
        cfg["network"] = model.config.to_dict()
        layers = zip(model.layer_names(), model.trainable_layers(), strict=True)
        cfg["goals"] = {name: layer.goal.as_dict() for name, layer in layers}
        cfg["optimizers"] = {k: vars(OPTIMIZERS[k]) for k in ("hidden", "output")}
    else:
        cfg["optimizers"] = {"backprop": vars(OPTIMIZERS["backprop"])}
    return cfg


class RunFolderWriter(Hook):
    """Keeps a run folder up to date: history after every epoch; atoms and checkpoint after the
    first epoch, at most every ``checkpoint_interval_s`` seconds, and after the last one."""

    def __init__(
        self, folder: RunFolder, checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S
    ) -> None:
        if not checkpoint_interval_s >= 0:
            raise ValueError(f"checkpoint_interval_s must be >= 0, got {checkpoint_interval_s}")
        self.folder = folder
        self.interval = checkpoint_interval_s
        self.saved_epoch: int | None = None
        self.last_save = time.monotonic()

    def resume(self, trainer: Trainer) -> None:
        """Continue ``trainer`` from the folder's checkpoint (the same configuration)."""
        state = self.folder.checkpoint(map_location=trainer.device)
        saved = TrainConfig.from_dict(state["config"]).to_dict()
        mine = trainer.config.to_dict()
        differing = [k for k in mine if k != "epochs" and saved.get(k) != mine[k]]
        if differing:
            details = ", ".join(f"{k}: run {saved.get(k)!r} vs now {mine[k]!r}" for k in differing)
            raise ValueError(f"cannot resume: the configuration differs ({details})")
        arrays = self.folder.atoms()
        if state["recorder"]["atoms_epochs"] and not arrays:
            raise FileNotFoundError(
                f"cannot resume: {self.folder.file(RunFolder.ATOMS)} is missing; the checkpoint "
                "needs it"
            )
        trainer.load_state_dict(state, arrays)
        self.saved_epoch = trainer.epoch

    def save(self, trainer: Trainer) -> None:
        """Write the atoms and the checkpoint now."""
        arrays = trainer.recorder.arrays()
        if arrays:
            self.folder.write_atoms(arrays)  # first: the checkpoint counts its epochs
        self.folder.write_checkpoint({"config": trainer.config.to_dict(), **trainer.state_dict()})
        self.saved_epoch = trainer.epoch
        self.last_save = time.monotonic()

    def on_fit_start(self, trainer: Trainer) -> None:
        self.folder.write_config(resolved_config(trainer))  # also creates the folder
        if trainer.history:  # resumed: drop an interrupted run's rows after the checkpoint
            self.folder.write_history(trainer.history)
        self.last_save = time.monotonic()

    def on_epoch_end(self, trainer: Trainer, row: dict[str, float]) -> None:
        self.folder.write_history(trainer.history)
        due = (
            trainer.epoch == trainer.config.epochs
            or self.saved_epoch is None
            or time.monotonic() - self.last_save >= self.interval
        )
        if due:
            self.save(trainer)

    def on_fit_end(self, trainer: Trainer, summary: dict[str, Any]) -> None:
        if self.saved_epoch != trainer.epoch or trainer.epoch == 0:
            self.folder.write_history(trainer.history)
            self.save(trainer)
        self.folder.write_summary(summary)
