"""``train``: one run with the usual hooks, from a configuration to a run folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infomorphic.data import Splits
from infomorphic.training.config import CHECKPOINT_INTERVAL_S, TrainConfig
from infomorphic.training.hooks import Hook, ProgressBar
from infomorphic.training.loop import Trainer, TrainingDiverged
from infomorphic.training.run_folder import RunFolder, RunFolderWriter

__all__ = ["train"]


def train(
    config: TrainConfig,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    splits: Splits | None = None,
    progress: bool = True,
    checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    hooks: Sequence[Hook] = (),
) -> dict[str, Any]:
    """Train one model and return its summary.

    With ``out_dir`` the run folder is kept up to date (see ``RunFolder``) and ``resume``
    continues it from its checkpoint; without, nothing is written. ``hooks`` run after the
    folder's writer and the progress bar, in order. ``checkpoint_interval_s``: least time
    between two checkpoint saves (0: every epoch); the last epoch is always saved.
    """
    writer = RunFolderWriter(RunFolder(out_dir), checkpoint_interval_s) if out_dir else None
    if resume and writer is None:
        raise ValueError("resume needs the run folder (out_dir) to resume from")
    all_hooks: list[Hook] = [writer] if writer else []
    all_hooks += [ProgressBar()] if progress else []
    trainer = Trainer(config, splits, [*all_hooks, *hooks])
    if resume:
        writer.resume(trainer)
    try:
        return trainer.fit()
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
            f"{str(exc).split('non-finite values in ', 1)[1]}. {kept}; try another seed, a "
            "smaller learning rate or a different goal",
        ) from None
