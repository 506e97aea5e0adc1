"""What a training run does: the options, their choices and defaults, the paper's optimisers.

Torch-free, so that the command line builds its parser (and ``--help``) from these choices
without loading torch. ``TrainConfig.validate`` is the one place an option's value is checked;
everything that builds or runs a network takes a validated configuration.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from infomorphic.data.loading import DATASET_NAMES, dataset_key
from infomorphic.networks.presets import EVAL_CONTEXTS, MODELS, model_preset
from infomorphic.nn.activations import HIDDEN_ACTIVATIONS, activation

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "DATASETS",
    "DEFAULTS",
    "EVAL_CONTEXTS",
    "EVAL_SPLITS",
    "MODEL_NAMES",
    "OPTIMIZERS",
    "AdamSettings",
    "TrainConfig",
]


@dataclass(frozen=True)
class AdamSettings:
    """Learning rate and (coupled, L2) weight decay of one Adam optimiser."""

    lr: float
    weight_decay: float


#: The paper's optimisers (Table 1): one Adam per infomorphic layer, or one for backprop.
OPTIMIZERS: dict[str, AdamSettings] = {
    "hidden": AdamSettings(lr=0.002, weight_decay=0.00035),
    "output": AdamSettings(lr=0.003, weight_decay=0.00015),
    "backprop": AdamSettings(lr=0.001, weight_decay=0.0),
}

#: Least time between two checkpoint saves of a run folder (tens of MB for large layers).
CHECKPOINT_INTERVAL_S = 30.0

#: The data sets ``infomorphic.data.load_dataset`` knows.
DATASETS: tuple[str, ...] = DATASET_NAMES

MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
EVAL_SPLITS: tuple[str, ...] = ("train", "val", "test")
_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


@dataclass
class TrainConfig:
    """What a training run does; saved in the run folder's ``config.json``.

    ``eval_splits``: the splits measured after every epoch; none at all for a search whose
    objective is the last epoch alone, ``("val",)`` for one that prunes. Whatever is not
    measured per epoch (the test split above all) is measured once after the last epoch, so it
    can never select or stop anything.
    """

    dataset: str = "mnist-sample"
    data_dir: str | None = None
    model: str = "setup1"
    hidden: list[int] = field(default_factory=lambda: [100])
    goal: str | list[float] | dict[str, float] | None = None  # None: the model's own default
    activation: str | None = None  # None: the model's own
    epochs: int = 100
    seed: int = 0
    device: str = "cpu"
    batch_size: int = 1024
    val_fraction: float = 0.2
    eval_batch_size: int = 4096
    eval_splits: tuple[str, ...] = EVAL_SPLITS
    # The paper's protocol knobs: lateral passes (appendix A.9), the goals' bins per source for
    # hidden and output layers (Fig. 11), and spike samples averaged per evaluated image (1:
    # the paper's single sample).
    passes: int = 2
    bins: int = 20
    output_bins: int = 20
    eval_samples: int = 1
    # What a label context is in evaluation (no label): "zero", the paper's C = 0 (section 4),
    # or "bias", a zero label through the context map, as the authors' code (docs/protocol.md).
    eval_context: str = "zero"
    # One fused graph per batch size for the infomorphic step (fixed-shape estimator, spikes
    # from torch's global generator); CUDA graphs on a GPU. Slower on a CPU.
    compile: bool = False

    def validate(self) -> TrainConfig:
        """Check every option; raise ValueError naming the option and the allowed values."""
        preset = model_preset(self.model)
        if dataset_key(self.dataset) not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose from {', '.join(DATASETS)}")
        if preset.kind == "readout":  # no hidden layer: the output layer on the inputs
            if self.goal is not None or self.activation is not None:
                raise ValueError(
                    f"{self.model} has no hidden layer: it takes no hidden goal or activation "
                    f"(got goal {self.goal!r}, activation {self.activation!r})"
                )
            self.hidden = []
        elif not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden layer sizes must be positive integers, got {self.hidden}")
        if self.activation is not None:
            if self.activation not in HIDDEN_ACTIVATIONS:
                raise ValueError(
                    f"unknown hidden activation {self.activation!r}; choose from "
                    f"{', '.join(HIDDEN_ACTIVATIONS)}"
                )
            if preset.kind == "infomorphic" and preset.hidden_goal is not None:
                activation(self.activation, preset.sources)
        _check_int("epochs", self.epochs, 0)
        _check_int("seed", self.seed, 0)
        _check_int("batch_size", self.batch_size, 2)
        _check_int("eval_batch_size", self.eval_batch_size, 1)
        _check_int("passes", self.passes, 2)
        _check_int("bins", self.bins, 2)
        _check_int("output_bins", self.output_bins, 2)
        _check_int("eval_samples", self.eval_samples, 1)
        if self.eval_context not in EVAL_CONTEXTS:
            raise ValueError(
                f"eval_context must be one of {', '.join(EVAL_CONTEXTS)}, got {self.eval_context!r}"
            )
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not _DEVICE.match(self.device):
            raise ValueError(f"device must be cpu, cuda, cuda:N or mps, got {self.device!r}")
        splits = tuple(self.eval_splits)
        if any(s not in EVAL_SPLITS for s in splits) or len(set(splits)) < len(splits):
            raise ValueError(
                f"eval_splits must be distinct names among {', '.join(EVAL_SPLITS)}, got {splits}"
            )
        self.eval_splits = splits
        if self.compile and preset.kind not in ("infomorphic", "readout"):
            raise ValueError("compile applies to infomorphic models; backprop runs eagerly")
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        out = asdict(self)
        out["eval_splits"] = list(self.eval_splits)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """From a saved ``config.json`` (extra keys, such as the resolved network, ignored)."""
        names = {f.name for f in fields(cls)}
        kept = {k: v for k, v in values.items() if k in names}
        if "eval_splits" in kept:
            kept["eval_splits"] = tuple(kept["eval_splits"])
        if "hidden" in kept:
            kept["hidden"] = list(kept["hidden"])
        return cls(**kept)


#: The defaults of every option, for the command line.
DEFAULTS: dict[str, Any] = TrainConfig().to_dict()


def _check_int(name: str, value: object, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
