"""Hooks: what the training loop calls around the epochs.

A hook records (a run folder), reports (a progress bar, a search trial) or stops the run: an
``on_epoch_end`` that returns True asks the loop to stop cleanly after that epoch (for a
population, whose hooks see the list of its members' rows, every member stops); an exception
raised by a hook (a pruned search trial, say) leaves the loop at once. An interruption
(``KeyboardInterrupt``) calls every hook's ``on_interrupt`` before it leaves the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

    from infomorphic.training.loop import Trainer

__all__ = ["EpochRow", "FitSummary", "Hook", "ProgressBar"]

#: What ``on_epoch_end`` sees: the epoch's history row, or a population's rows, one per member.
EpochRow = dict[str, float] | list[dict[str, float]]
#: What ``on_fit_end`` sees: the run's summary, or a population's summaries, one per member.
FitSummary = dict[str, Any] | list[dict[str, Any]]


class Hook:
    """Base class with do-nothing methods; override the ones you need."""

    #: True: the loop keeps a copy of the state after every epoch, for ``on_interrupt``.
    wants_completed_state: bool = False

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before the first epoch of this ``fit`` (after any resume)."""

    def on_epoch_end(self, trainer: Trainer, row: EpochRow) -> bool | None:
        """After each epoch, with its history row (a population: one per member, in order);
        return True to stop after it."""
        return None

    def on_fit_end(self, trainer: Trainer, summary: FitSummary) -> None:
        """After the last epoch and the final evaluation, with the run's summary (a
        population: one per member, in order)."""

    def on_interrupt(self, trainer: Trainer) -> None:
        """The run was interrupted (Ctrl-C, or SIGTERM turned into ``KeyboardInterrupt``); the
        loop re-raises after every hook's ``on_interrupt``. ``trainer.completed_state()`` is
        the state of the last completed epoch (the current one is dropped) when some hook sets
        ``wants_completed_state``."""


class ProgressBar(Hook):
    """A tqdm bar over epochs with the latest accuracies."""

    def __init__(self) -> None:
        self.bar: tqdm[Any] | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=trainer.config.epochs,
            initial=trainer.epoch,
            unit="epoch",
            desc=trainer.config.model,
        )

    def on_epoch_end(self, trainer: Trainer, row: EpochRow) -> None:
        if self.bar is not None:
            self.bar.update(1)
            rows = row if isinstance(row, list) else [row]  # a population: its best members
            shown = {
                k[: -len("_accuracy")]: f"{max(r[k] for r in rows):.3f}"
                for k in rows[0]
                if "accuracy" in k
            }
            self.bar.set_postfix(shown)

    def on_fit_end(self, trainer: Trainer, summary: FitSummary) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_interrupt(self, trainer: Trainer) -> None:
        self.on_fit_end(trainer, {})
