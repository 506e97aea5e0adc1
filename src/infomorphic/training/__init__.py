"""Training and evaluation of the paper's networks, with run folders.

``config`` (torch-free) holds the options and the paper's optimisers; ``steps`` the step
strategies; ``loop`` the ``Trainer`` that calls ``hooks``; ``evaluation`` the pure accuracy
functions; ``recording`` the per-epoch neuron statistics; ``run_folder`` the folder's layout and
readers (its file names, torch-free, in ``run_files``); ``writer`` the hook that keeps it up to
date; ``tensorboard`` a hook for TensorBoard (optional extra); ``api.train`` wires them
together. Names load lazily, so ``config`` is torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infomorphic._lazy import lazy_getattr
from infomorphic.training.config import (
    CHECKPOINT_INTERVAL_S,
    EVAL_SPLITS,
    OPTIMIZERS,
    AdamSettings,
    TrainConfig,
)

if TYPE_CHECKING:
    from infomorphic.training.api import train
    from infomorphic.training.evaluation import accuracy, evaluate, fit_readout
    from infomorphic.training.hooks import Hook, ProgressBar
    from infomorphic.training.inference import LoadedRun, load_model, load_run
    from infomorphic.training.loop import Trainer, TrainingDiverged, load_splits
    from infomorphic.training.run_folder import FORMAT_VERSION, RunFolder
    from infomorphic.training.steps import make_step
    from infomorphic.training.tensorboard import TensorBoardHook
    from infomorphic.training.writer import RunFolderWriter

__getattr__ = lazy_getattr(
    __name__,
    {
        "train": "api",
        "accuracy": "evaluation",
        "evaluate": "evaluation",
        "fit_readout": "evaluation",
        "Hook": "hooks",
        "ProgressBar": "hooks",
        "LoadedRun": "inference",
        "load_model": "inference",
        "load_run": "inference",
        "Trainer": "loop",
        "TrainingDiverged": "loop",
        "load_splits": "loop",
        "FORMAT_VERSION": "run_folder",
        "RunFolder": "run_folder",
        "RunFolderWriter": "writer",
        "make_step": "steps",
        "TensorBoardHook": "tensorboard",
    },
)

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "EVAL_SPLITS",
    "FORMAT_VERSION",
    "OPTIMIZERS",
    "AdamSettings",
    "Hook",
    "LoadedRun",
    "ProgressBar",
    "RunFolder",
    "RunFolderWriter",
    "TensorBoardHook",
    "TrainConfig",
    "Trainer",
    "TrainingDiverged",
    "accuracy",
    "evaluate",
    "fit_readout",
    "load_model",
    "load_run",
    "load_splits",
    "make_step",
    "train",
]
