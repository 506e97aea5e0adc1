"""Members leaving a population: what a pruned trial of a search leaves behind. A member's
weights, optimiser moments and spike stream live at its place on the member axis of every
tensor, so keeping some members is an index along that axis; nothing mixes members, and the
survivors train on exactly as they would alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch

from infomorphic.training.steps import make_step

if TYPE_CHECKING:
    from infomorphic.training.loop import Trainer

__all__ = ["drop_members", "select_members"]


def select_members(state: dict[str, Any], members: Sequence[int]) -> dict[str, Any]:
    """A population step's ``state_dict`` for the ``members`` named: each optimiser's moments
    (a leading member axis, as every weight of a population has) and spike streams of those
    members; step counts are shared."""
    index = torch.tensor(list(members))

    def pick(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.ndim > 0:
            return value.index_select(0, index.to(value.device))
        return value

    optimizers = []
    for saved in state["optimizers"]:
        moments = {i: {k: pick(v) for k, v in entry.items()} for i, entry in saved["state"].items()}
        optimizers.append({**saved, "state": moments})
    generators = state["generator"]
    if not isinstance(generators, list):
        raise ValueError("this step trains no population")
    return {**state, "optimizers": optimizers, "generator": [generators[m] for m in members]}


def drop_members(trainer: Trainer, members: Sequence[int]) -> None:
    """Remove ``members`` (places in ``trainer``'s population as it is now) after an epoch:
    their weights, optimiser moments, spike streams and histories are dropped. The trainer's
    ``member_ids`` keeps each remaining member's place among the configurations first given."""
    if trainer.population is None:
        raise ValueError("only a population's members can be dropped")
    gone = set(members)
    keep = [m for m in range(trainer.population) if m not in gone]
    if not keep:
        raise ValueError("a population keeps at least one member")
    if len(keep) == trainer.population:
        return
    state = select_members(trainer.step.state_dict(), keep)
    trainer.model = trainer.model.select(keep)  # type: ignore[operator]  # a population
    trainer.step = make_step(trainer.model, trainer.config, trainer.device)
    trainer.step.load_state_dict(state)
    trainer.recorder.select(trainer.model, keep)
    for name in ("configs", "histories", "diverged", "member_ids"):
        setattr(trainer, name, [getattr(trainer, name)[m] for m in keep])
    trainer.population = len(keep)
    if trainer._completed is not None:  # dropped after the epoch's state was kept
        trainer._completed = trainer._copy_state()
