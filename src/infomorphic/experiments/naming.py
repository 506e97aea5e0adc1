"""Run folders' names, in one place: a grid's run (``run_name``: every option that is not its
default shows in the name, so the runs of a grid never share a folder) and ``infomorphic
train``'s folder when ``--out`` is not given (``default_run_folder``). Both names are kept as
earlier versions wrote them, so existing folders are found again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from infomorphic.training.config import OPTIONS, TrainConfig

__all__ = ["default_run_folder", "run_name"]


def _goal_tag(goal: Any) -> str:
    if goal is None:
        return "default"
    if isinstance(goal, str):
        return Path(goal).stem if os.sep in goal else goal
    import hashlib
    import json

    return "goal-" + hashlib.sha1(json.dumps(goal, sort_keys=True).encode()).hexdigest()[:10]


def run_name(config: TrainConfig) -> str:
    """A folder name that tells runs of a grid apart: model, goal, data, sizes, epochs, seed,
    then the tag of every option (``OPTIONS``) whose value is not its default."""
    hidden = "-".join(str(h) for h in config.hidden) or "0"  # 0: no hidden layer
    name = (
        f"{config.model}-{_goal_tag(config.goal)}-{config.dataset}-N{hidden}-e{config.epochs}"
        f"-seed{config.seed}"
    )
    return name + "".join(o.name_tag(getattr(config, o.field)) for o in OPTIONS.values())


def default_run_folder(config: TrainConfig) -> Path:
    """``runs/<model>-<dataset>-<hidden>-seed<seed>``: where ``infomorphic train`` writes
    without ``--out``."""
    hidden = "-".join(str(h) for h in config.hidden)
    return Path(f"runs/{config.model}-{config.dataset}-{hidden}-seed{config.seed}")
