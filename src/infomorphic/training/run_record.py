"""A run's identity in its folder's files.

``RunFolderWriter`` gives every run a ``run_id`` and writes it into ``config.json``,
``atoms.npz`` and the checkpoint (a resumed run keeps its own). The readers compare: an
``atoms.npz`` or a checkpoint copied in from another run folder is refused by name instead of
being shown, or resumed, as this run's. Runs written before run ids get the one check their
files allow: the atoms' neuron counts against ``config.json``'s network.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from infomorphic.training.run_folder import RunFolder

__all__ = ["RUN_ID", "check_neurons", "check_same_run", "new_run_id"]

#: The key of a run's identity in config.json, atoms.npz and the checkpoint.
RUN_ID = "run_id"


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def _config_or_none(folder: RunFolder) -> dict[str, Any] | None:
    try:
        return folder.config() if folder.file(folder.CONFIG).is_file() else None
    except ValueError:  # CorruptRunError included
        return None  # its own reader names that damage


def check_same_run(folder: RunFolder, name: str, run_id: str | None) -> None:
    """Refuse a file whose run id is not config.json's (both recorded)."""
    config = _config_or_none(folder)
    own = config.get(RUN_ID) if config else None
    if run_id is not None and own is not None and run_id != own:
        raise folder.corrupt(
            name,
            f"it belongs to another run (run id {run_id}; {folder.CONFIG} has {own}), "
            "copied in from another run folder?",
        )


def check_neurons(folder: RunFolder, arrays: dict[str, np.ndarray]) -> None:
    """Refuse atoms whose layers have other neuron counts than config.json's network (a
    run without run ids: the only sign of another run's atoms)."""
    config = _config_or_none(folder)
    if not config or not isinstance(config.get("hidden"), list):
        return
    sizes = {f"hidden{k + 1}": n for k, n in enumerate(config["hidden"])}
    if isinstance(config.get("n_classes"), int):
        sizes["output"] = config["n_classes"]
    for name, size in sizes.items():
        atoms = arrays.get(f"{name}_atoms")
        if atoms is not None and (atoms.ndim != 3 or atoms.shape[1] != size):
            found = atoms.shape[1] if atoms.ndim > 1 else "no"
            raise folder.corrupt(
                folder.ATOMS,
                f"its {name} layer has {found} neurons where {folder.CONFIG}'s has {size}: "
                "atoms of another run?",
            )
