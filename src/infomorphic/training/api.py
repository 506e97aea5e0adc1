"""``train``: one run with the usual hooks, from a configuration to a run folder; what a run
folder may be used for (refused when it holds a run, replaced, resumed: ``resume_from``). When
two configurations are the same run is ``training.same_run``'s (``config_differences``, exported
here too)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from infomorphic.data import Splits
from infomorphic.errors import InfomorphicError
from infomorphic.locks import hold
from infomorphic.threads import torch_threads
from infomorphic.training.config import CHECKPOINT_INTERVAL_S, OPTIONS, TrainConfig
from infomorphic.training.hooks import Hook, ProgressBar
from infomorphic.training.loop import Trainer, TrainingDiverged
from infomorphic.training.run_folder import RUN_ID, START_AGAIN, CorruptRunError, RunFolder
from infomorphic.training.same_run import config_differences
from infomorphic.training.writer import RunFolderWriter

__all__ = ["RunExistsError", "config_differences", "resume_from", "resumed_config", "train"]


class RunExistsError(InfomorphicError, FileExistsError):
    """The run folder already holds a run, and neither resuming nor overwriting was asked for."""


def train(
    config: TrainConfig,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    splits: Splits | None = None,
    progress: bool = True,
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    hooks: Sequence[Hook] = (),
    threads: int | None = None,
) -> dict[str, Any]:
    """Train one model and return its summary.

    With ``out_dir`` the run folder is kept up to date (see ``RunFolder``). A folder that
    already holds run files is refused (``RunExistsError``) unless ``resume`` (continue it from
    its checkpoint, the same configuration) or ``overwrite`` (delete its run files once the
    configuration and the data have loaded, then start afresh). Without ``out_dir`` nothing is
    written. ``hooks`` run after the folder's writer and the progress bar, in order.
    ``checkpoint_interval_s``: least time between two checkpoint saves (0: every epoch); the
    last epoch is always saved, and so is the last completed epoch when the run is interrupted
    (``KeyboardInterrupt``, re-raised with ``saved_epoch`` and ``run_folder`` set on it).
    The run folder is locked while the run writes it (``infomorphic.locks``): a second writer
    gets ``FolderLockedError`` naming this one. ``threads``: torch threads for this run, the
    caller's setting given back afterwards; None: torch's current setting, or when resuming the
    run's own (config.json records it: float rounding depends on the thread count, and a run
    resumed with its own continues exactly as it would have).
    """
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other: continue the run or replace it")
    folder = RunFolder(out_dir) if out_dir else None
    if folder is None and resume:
        raise ValueError("resume needs the run folder (out_dir) to resume from")
    lock = hold(folder.path, "run folder") if folder is not None else contextlib.nullcontext()
    recorded = recorded_threads(folder) if resume and folder is not None else None
    with lock, torch_threads(threads or recorded):
        return _train(
            config, folder, resume, overwrite, splits, progress, checkpoint_interval_s, hooks
        )


def _train(
    config: TrainConfig,
    folder: RunFolder | None,
    resume: bool,
    overwrite: bool,
    splits: Splits | None,
    progress: bool,
    checkpoint_interval_s: float,
    hooks: Sequence[Hook],
) -> dict[str, Any]:
    if folder is not None and not (resume or overwrite):
        present = folder.run_files()
        if present:
            raise RunExistsError(
                f"{folder.path} already holds a run ({', '.join(present)}); resume it "
                "(--resume; resume=True) or replace it (--force; overwrite=True), or choose "
                "another folder"
            )
    if folder is not None and resume and folder.has_checkpoint:
        folder.check_checkpoint()  # a damaged checkpoint is refused before the data load
    writer = RunFolderWriter(folder, checkpoint_interval_s) if folder is not None else None
    all_hooks: list[Hook] = [writer] if writer else []
    all_hooks += [ProgressBar()] if progress else []
    try:
        trainer = Trainer(config, splits, [*all_hooks, *hooks])
        if resume:
            assert writer is not None  # resuming needs a folder: train checked it
            resume_from(writer, trainer)
        elif overwrite and folder is not None:
            folder.clear()
        return cast(dict[str, Any], trainer.fit())  # one configuration: one summary
    except KeyboardInterrupt as exc:
        exc.saved_epoch = writer.saved_epoch if writer else None  # type: ignore[attr-defined]
        exc.run_folder = folder.path if folder else None  # type: ignore[attr-defined]
        raise
    except TrainingDiverged as exc:
        if writer is None:
            raise
        kept = (
            f"{writer.folder.path} keeps the checkpoint of epoch {writer.saved_epoch} (--resume "
            "continues from there)"
            if writer.saved_epoch is not None
            else "no checkpoint was saved yet"
        )
        raise TrainingDiverged(
            exc.epoch,
            f"{exc.where}. {kept}; try another seed, a smaller learning rate or a different goal",
        ) from None


def recorded_threads(folder: RunFolder) -> int | None:
    """The torch threads a run folder's run trained with (None when it does not say)."""
    try:
        threads = folder.config().get("threads")
    except (OSError, ValueError):  # missing or damaged: resuming names that itself
        return None
    return threads if isinstance(threads, int) and not isinstance(threads, bool) else None


def resume_from(writer: RunFolderWriter, trainer: Trainer) -> None:
    """Continue ``trainer`` from the checkpoint of ``writer``'s folder (the same
    configuration, but for the number of epochs)."""
    folder = writer.folder
    if not folder.has_checkpoint:
        present = folder.run_files()
        held = (
            f"{folder.path} holds {', '.join(present)} but no checkpoint; {START_AGAIN}"
            if present
            else f"{folder.path} holds no run"
        )
        raise FileNotFoundError(
            f"cannot resume: {folder.file(RunFolder.CHECKPOINT)} does not exist ({held})"
        )
    state = folder.checkpoint(map_location=trainer.device)
    try:
        saved = TrainConfig.from_dict(state["config"])
    except (TypeError, AttributeError) as exc:
        raise folder.corrupt(RunFolder.CHECKPOINT, f"its configuration: {exc}") from None
    done = state.get("epoch")
    if isinstance(done, int) and trainer.config.epochs < done:
        raise ValueError(
            f"cannot resume with epochs {trainer.config.epochs}: the run in {folder.path} has "
            f"trained {done} epochs already, and resuming only extends a run (give --epochs "
            f"{done} or more, or leave it out)"
        )
    differing = config_differences(saved, trainer.config)
    if differing:
        old, new = saved.to_dict(), trainer.config.to_dict()
        details = ", ".join(f"{k}: run {old.get(k)!r} vs now {new[k]!r}" for k in differing)
        raise ValueError(f"cannot resume: the configuration differs ({details})")
    arrays = folder.atoms()
    if any(state["recorder"]["atoms_epochs"].values()) and not arrays:
        raise FileNotFoundError(
            f"cannot resume: {folder.file(RunFolder.ATOMS)} is missing; the checkpoint needs it"
        )
    try:
        trainer.load_state_dict(state, arrays)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise CorruptRunError(
            f"cannot resume: {folder.file(RunFolder.CHECKPOINT)} and "
            f"{folder.file(RunFolder.ATOMS)} do not fit together ({exc}); {START_AGAIN}"
        ) from None
    writer.saved_epoch = trainer.epoch
    writer.run_id = state.get(RUN_ID) or writer.run_id


def resumed_config(
    out_dir: str | Path,
    given: Mapping[str, Any],
    option_name: Callable[[str], str] = str,
) -> TrainConfig:
    """The configuration of the run in ``out_dir`` (its ``config.json``) with the options
    ``given`` again ({TrainConfig field: value}): ``epochs`` may differ (more extend the run);
    any other must be the run's own or resolve to it (``config_differences``), else a
    ValueError names each, by ``option_name(field)``, with both values."""
    folder = RunFolder(out_dir)
    saved = folder.train_config()
    candidate = replace(saved, **given)
    differing = config_differences(saved, candidate)
    if differing:
        details = ", ".join(
            f"{option_name(f)} {_shown(getattr(candidate, f), f)} (the run has "
            f"{_shown(getattr(saved, f), f, saved.model)})"
            for f in differing
        )
        raise ValueError(
            f"resuming continues the run in {folder.path} with its own options, and these "
            f"differ: {details}; leave them out, or start a new run (in another folder, or "
            "replacing this one: --force, overwrite=True)"
        )
    try:
        return replace(saved, epochs=candidate.epochs).validate()
    except ValueError as exc:
        raise folder.corrupt(RunFolder.CONFIG, str(exc)) from None


def _shown(value: object, field: str = "", model: str = "") -> str:
    """A value as it would be typed (a default goal or activation by its name)."""
    from infomorphic.networks.presets import MODELS

    if value is None and field in ("goal", "activation") and model in MODELS:
        preset = MODELS[model]
        return f"{preset.hidden_goal if field == 'goal' else preset.activation}, {model}'s default"
    if isinstance(value, (list, tuple)) and not value:
        return "''"
    return OPTIONS[field].shown(value) if field in OPTIONS else str(value)
