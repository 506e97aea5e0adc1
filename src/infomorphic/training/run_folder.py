"""The run folder: its layout, its format version, atomic writes and the readers.

A run folder holds ``config.json`` (the resolved configuration, goals and the data actually
read), ``history.csv`` (one row per epoch), ``atoms.npz`` (each neuron's mean atoms per epoch),
``checkpoint.pt`` (to resume) and, at the end, ``summary.json``. Every file is written
atomically; ``config.json`` and the checkpoint carry ``FORMAT_VERSION``, and readers refuse a
folder written in a format they do not know. Checkpoints load with ``weights_only=True``:
loading one never runs code. Every reader checks what it reads: a damaged file (empty,
truncated, overwritten) raises ``CorruptRunError`` naming the file and what to do, and is never
loaded as if it were whole.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import time
import zipfile
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

__all__ = [
    "FORMAT_VERSION",
    "CorruptRunError",
    "RunFolder",
    "RunFolderWriter",
    "UnsafeCheckpointError",
]

#: Version of the run folder's layout and checkpoint contents (1: folders without a version).
FORMAT_VERSION = 2

#: What a checkpoint of the current format holds besides its format version.
_CHECKPOINT_KEYS = (
    "config", "epoch", "seconds", "model", "step", "batch_generator", "history", "recorder",
)  # fmt: skip

START_AGAIN = (
    "start the run again with its options and --force (in Python: train(..., overwrite=True)), "
    "which replaces the folder's files"
)


class CorruptRunError(ValueError):
    """A run folder's file is damaged (empty, truncated, not what it should be); the message
    names the file and what to do."""


class UnsafeCheckpointError(pickle.UnpicklingError, ValueError):
    """A checkpoint holds objects other than tensors and plain values: loading it could run
    code, so it is refused."""


class RunFolder:
    """One run's folder on disk: paths, writers and readers."""

    CONFIG = "config.json"
    HISTORY = "history.csv"
    ATOMS = "atoms.npz"
    CHECKPOINT = "checkpoint.pt"
    SUMMARY = "summary.json"
    #: Every file a run writes, in the order a run writes them.
    RUN_FILES = (CONFIG, HISTORY, ATOMS, CHECKPOINT, SUMMARY)

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

    def run_files(self) -> list[str]:
        """The names of the run files present (``RUN_FILES`` order); [] for a new folder."""
        return [name for name in self.RUN_FILES if self.file(name).is_file()]

    def clear(self) -> list[str]:
        """Delete the run files (nothing else in the folder); the names deleted."""
        present = self.run_files()
        for name in present:
            self.file(name).unlink()
        return present

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

    def _advice(self, name: str) -> str:
        if name == self.HISTORY and self.has_checkpoint:
            return "`infomorphic train --out DIR --resume` rewrites it from the checkpoint"
        if name == self.SUMMARY and self.has_checkpoint:
            return "`infomorphic train --out DIR --resume` writes it again from the checkpoint"
        if name == self.CHECKPOINT:
            return f"the run cannot be resumed from it; {START_AGAIN}"
        return f"restore it from a copy, or {START_AGAIN}"

    def corrupt(self, name: str, what: str) -> CorruptRunError:
        """The error for a damaged file ``name``: what is wrong with it and what to do."""
        advice = self._advice(name).replace("DIR", str(self.path))
        return CorruptRunError(f"{self.file(name)} is damaged ({what}); {advice}")

    def _read_json(self, name: str) -> dict[str, Any]:
        raw = self._require(name).read_bytes()
        if not raw.strip():
            raise self.corrupt(name, "empty file")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.corrupt(name, "not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise self.corrupt(name, f"not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise self.corrupt(name, f"a JSON {type(data).__name__}, not an object")
        return data

    def config(self) -> dict[str, Any]:
        """The resolved configuration as saved (``format_version`` included)."""
        data = self._read_json(self.CONFIG)
        self._check_version(data.get("format_version"), self.CONFIG)
        return data

    def train_config(self) -> TrainConfig:
        """The run's ``TrainConfig``."""
        try:
            return TrainConfig.from_dict(self.config())
        except (TypeError, KeyError) as exc:
            raise self.corrupt(self.CONFIG, f"not a training configuration: {exc}") from None

    def history(self) -> list[dict[str, float]]:
        """One dict per epoch; numbers as floats (``epoch`` as int)."""
        raw = self._require(self.HISTORY).read_bytes()
        if not raw:
            raise self.corrupt(self.HISTORY, "empty file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.corrupt(self.HISTORY, "not UTF-8 text") from None
        if not text.endswith("\n"):
            raise self.corrupt(self.HISTORY, "it ends in the middle of a line: truncated")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = reader.fieldnames or []
        if "epoch" not in columns:
            raise self.corrupt(self.HISTORY, "no header line with an epoch column")
        rows = []
        for line, row in enumerate(reader, start=2):
            if None in row or None in row.values():
                raise self.corrupt(
                    self.HISTORY, f"line {line} does not have the header's {len(columns)} fields"
                )
            try:
                rows.append(
                    {k: int(v) if k == "epoch" else float(v) for k, v in row.items() if v != ""}
                )
            except ValueError:
                raise self.corrupt(self.HISTORY, f"line {line} holds a non-number") from None
            if "epoch" not in rows[-1]:
                raise self.corrupt(self.HISTORY, f"line {line} has no epoch")
        epochs = [row["epoch"] for row in rows]
        if epochs and epochs != list(range(epochs[0], epochs[0] + len(epochs))):
            raise self.corrupt(self.HISTORY, f"the epochs do not follow each other: {epochs}")
        return rows

    def atoms(self) -> dict[str, np.ndarray]:
        """The arrays of ``atoms.npz`` ({} for a run without neuron records)."""
        path = self.file(self.ATOMS)
        if not path.is_file():
            return {}
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an .npz archive")
            with data:
                return {k: data[k] for k in data.files}
        except Exception as exc:  # BadZipFile, EOFError, OSError, ValueError: all damage
            what = str(exc) or type(exc).__name__
            raise self.corrupt(self.ATOMS, f"not a readable .npz archive: {what}") from None

    def summary(self) -> dict[str, Any]:
        return self._read_json(self.SUMMARY)

    def check_checkpoint(self) -> None:
        """Raise ``CorruptRunError`` unless the checkpoint is a whole archive (every member's
        checksum right), without loading it; FileNotFoundError if there is none."""
        path = self._require(self.CHECKPOINT)
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            what = "empty file" if path.stat().st_size == 0 else f"not a whole archive: {exc}"
            raise self.corrupt(self.CHECKPOINT, what) from None
        if bad is not None:
            raise self.corrupt(self.CHECKPOINT, f"wrong checksum of its member {bad}")

    def checkpoint(self, map_location: str | torch.device = "cpu") -> dict[str, Any]:
        """The checkpoint's contents, loaded without running code (``weights_only=True``)."""
        self.check_checkpoint()
        path = self.file(self.CHECKPOINT)
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as exc:
            raise UnsafeCheckpointError(
                f"{path} holds objects other than tensors and plain values, so it was not "
                f"loaded (loading it could run code): {str(exc).splitlines()[-1]}"
            ) from None
        except (RuntimeError, EOFError, OSError, ValueError, KeyError) as exc:
            raise self.corrupt(self.CHECKPOINT, f"unreadable: {exc}") from None
        if not isinstance(state, dict):
            raise self.corrupt(self.CHECKPOINT, f"holds a {type(state).__name__}, not a dict")
        self._check_version(state.get("format_version"), self.CHECKPOINT)
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path} was written by an older infomorphic (format 1) and cannot be resumed; "
                "its history, atoms and summary still read"
            )
        missing = [key for key in _CHECKPOINT_KEYS if key not in state]
        if missing:
            raise self.corrupt(self.CHECKPOINT, f"it lacks {', '.join(missing)}")
        return state

    def load_model(self, device: str | torch.device = "cpu") -> Classifier:
        """The trained network of the last checkpoint, ready to ``predict``."""
        from infomorphic.networks.registry import build_model

        config = self.config()
        state = self.checkpoint(map_location=device)
        try:
            model = build_model(
                config["model"], config["n_features"], config["n_classes"], config["hidden"],
                config["goal"], config["activation"], passes=config.get("passes", 2),
                bins=config.get("bins", 20), output_bins=config.get("output_bins", 20),
                eval_context=config.get("eval_context", "zero"),
            )  # fmt: skip
        except KeyError as exc:
            raise self.corrupt(self.CONFIG, f"it lacks {exc}") from None
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise self.corrupt(
                self.CHECKPOINT, f"its weights do not fit config.json's network: {exc}"
            ) from None
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

    def save(self, trainer: Trainer) -> None:
        """Write the atoms and the checkpoint now."""
        self._write(trainer.config, trainer.state_dict(), trainer.recorder.arrays())

    def _write(
        self, config: TrainConfig, state: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> None:
        if arrays:
            self.folder.write_atoms(arrays)  # first: the checkpoint counts its epochs
        self.folder.write_checkpoint({"config": config.to_dict(), **state})
        self.saved_epoch = state["epoch"]
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

    def on_interrupt(self, trainer: Trainer) -> None:
        """Save the last completed epoch (the untrained model if none) unless it is saved."""
        completed = trainer.completed_state()
        if completed is None:
            return
        state, arrays = completed
        if self.saved_epoch is not None and self.saved_epoch >= state["epoch"]:
            return
        if not self.folder.file(RunFolder.CONFIG).is_file():
            self.folder.write_config(resolved_config(trainer))
        if state["history"]:
            self.folder.write_history(state["history"])
        self._write(trainer.config, state, arrays)

    def on_fit_end(self, trainer: Trainer, summary: dict[str, Any]) -> None:
        # without per-epoch splits the readout (the output polarity) was first fitted by the
        # final measurement, after the last epoch's save: save again, or the checkpoint's
        # network would not be the one the summary measured
        refitted = not trainer.config.eval_splits
        if self.saved_epoch != trainer.epoch or trainer.epoch == 0 or refitted:
            self.folder.write_history(trainer.history)
            self.save(trainer)
        self.folder.write_summary(summary)
