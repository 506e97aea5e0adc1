"""The run folder: its layout, its format version, atomic writes and the readers.

A run folder holds ``config.json`` (the options, the data actually read, the description of
the network built (``network``: a ``NetworkSpec``) and its goals' weights), ``history.csv``
(one row per epoch), ``atoms.npz`` (each neuron's mean atoms per epoch), ``checkpoint.pt`` (to
resume) and, at the end, ``summary.json``. Every file is written
atomically; ``config.json`` and the checkpoint carry ``FORMAT_VERSION``, and readers refuse a
folder written in a format they do not know. Checkpoints load with ``weights_only=True``:
loading one never runs code. Every reader checks what it reads: a damaged file (empty,
truncated, overwritten) raises ``CorruptRunError`` naming the file and what to do, and is never
loaded as if it were whole. A run's ``run_id`` (in ``config.json``, ``atoms.npz`` and the
checkpoint) tells its files from another run's (``run_record``). Folders of older formats are
converted on read: format 2 folders (their ``network`` the older structure, the backprop
baseline's weights under their own names) load, resume and predict.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from infomorphic.errors import InfomorphicError
from infomorphic.files import atomic_write_bytes, atomic_write_text
from infomorphic.networks.presets import model_preset
from infomorphic.networks.spec import NetworkSpec
from infomorphic.nn.protocol import PASSES
from infomorphic.training import run_files
from infomorphic.training.config import TrainConfig
from infomorphic.training.run_record import RUN_ID, check_neurons, check_same_run

if TYPE_CHECKING:
    from infomorphic.networks.base import Classifier

__all__ = [
    "FORMAT_VERSION",
    "CorruptRunError",
    "RunFolder",
    "UnsafeCheckpointError",
    "network_of",
    "stored_network",
]

#: Version of the run folder's layout and checkpoint contents (1: folders without a version;
#: 2: ``network`` the older structure; 3: ``network`` a ``NetworkSpec``).
FORMAT_VERSION = 3
#: The oldest checkpoint format that resumes (format 1 checkpoints lack the step's state).
RESUMABLE_FROM = 2

#: What a checkpoint of the current format holds besides its format version.
_CHECKPOINT_KEYS = (
    "config",
    "epoch",
    "seconds",
    "model",
    "step",
    "batch_generator",
    "history",
    "recorder",
)

START_AGAIN = (
    "start the run again with its options and --force (in Python: train(..., overwrite=True)), "
    "which replaces the folder's files"
)


class CorruptRunError(InfomorphicError, ValueError):
    """A run folder's file is damaged (empty, truncated, not what it should be); the message
    names the file and what to do."""


class UnsafeCheckpointError(InfomorphicError, pickle.UnpicklingError, ValueError):
    """A checkpoint holds objects other than tensors and plain values: loading it could run
    code, so it is refused."""


class RunFolder:
    """One run's folder on disk: paths, writers and readers."""

    CONFIG = run_files.CONFIG
    HISTORY = run_files.HISTORY
    ATOMS = run_files.ATOMS
    CHECKPOINT = run_files.CHECKPOINT
    SUMMARY = run_files.SUMMARY
    RUN_FILES = run_files.RUN_FILES

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
        # uncompressed: random-looking floats barely compress. (The ignore: numpy's stubs let
        # a ** mapping's values reach the allow_pickle flag.)
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
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
        epochs = [int(row["epoch"]) for row in rows]
        if epochs and epochs != list(range(epochs[0], epochs[0] + len(epochs))):
            raise self.corrupt(self.HISTORY, f"the epochs do not follow each other: {epochs}")
        return rows

    def atoms(self) -> dict[str, np.ndarray]:
        """The arrays of ``atoms.npz`` ({} for a run without neuron records); refused when
        they belong to another run than ``config.json``."""
        path = self.file(self.ATOMS)
        if not path.is_file():
            return {}
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an .npz archive")
            with data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # BadZipFile, EOFError, OSError, ValueError: all damage
            what = str(exc) or type(exc).__name__
            raise self.corrupt(self.ATOMS, f"not a readable .npz archive: {what}") from None
        run_id = arrays.pop(RUN_ID, None)
        check_same_run(self, self.ATOMS, None if run_id is None else str(run_id))
        check_neurons(self, arrays)
        return arrays

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
        if state.get("format_version", 1) < RESUMABLE_FROM:
            raise ValueError(
                f"{path} was written by an older infomorphic (format 1) and cannot be resumed; "
                "its history, atoms and summary still read"
            )
        missing = [key for key in _CHECKPOINT_KEYS if key not in state]
        if missing:
            raise self.corrupt(self.CHECKPOINT, f"it lacks {', '.join(missing)}")
        check_same_run(self, self.CHECKPOINT, state.get(RUN_ID))
        return state

    def network(self) -> NetworkSpec:
        """The description of the run's network (an older folder's from its options)."""
        return network_of(self.config(), self)

    def load_model(self, device: str | torch.device = "cpu") -> Classifier:
        """The trained network of the last checkpoint: ``training.inference.load_model``,
        where networks are built (the run folder only stores and reads), kept as a method for
        existing callers."""
        from infomorphic.training.inference import load_model

        return load_model(self, device)


def network_of(config: dict[str, Any], folder: RunFolder | None = None) -> NetworkSpec:
    """The network a run folder's ``config.json`` describes; for a folder older than format 3,
    the one its options built (the backprop baseline then had two passes and the modulated
    activation whatever the options said)."""
    try:
        if config.get("format_version", 1) >= 3:
            return NetworkSpec.from_dict(config["network"]).validate()
        options = TrainConfig.from_dict(config)
        if model_preset(options.model).kind == "backprop":
            options = replace(options, passes=PASSES, activation=None)
        return options.network(config["n_features"], config["n_classes"])
    except (KeyError, ValueError, TypeError) as exc:
        if folder is None:
            raise
        raise folder.corrupt(RunFolder.CONFIG, f"no network it describes: {exc}") from None


def stored_network(spec: NetworkSpec) -> dict[str, Any]:
    """A spec as ``config.json`` keeps it: goals read from files are written out as their
    weights, so the folder alone rebuilds its network."""
    from infomorphic.nn.goals import Goal

    layers = []
    for layer in spec.layers:
        if isinstance(layer.goal, str) and Path(layer.goal).is_file():
            layer = replace(layer, goal=Goal.resolve(layer.goal, tuple(layer.sources)).as_dict())
        layers.append(layer)
    return replace(spec, layers=tuple(layers)).to_dict()
