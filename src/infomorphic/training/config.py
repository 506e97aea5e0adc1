"""What a training run does: its options, declared once, and the paper's optimisers.

Each field of ``TrainConfig`` is declared with its ``Option`` (``infomorphic.training.options``):
flag, default, choices, help, checks, whether it is per layer and which field of the network's
description it sets. ``OPTIONS`` is that table; the command line, configuration files and run
names are generated from it. ``TrainConfig.validate`` is the one place a configuration is
checked (the network's structure by ``NetworkSpec.validate``), raising a ``ConfigError`` that
names the field. Torch-free, so that the command line builds its parser (and ``--help``)
without loading torch.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from infomorphic.data.loading import DATASET_NAMES, dataset_key
from infomorphic.errors import ConfigError
from infomorphic.networks.presets import EVAL_CONTEXTS, MODELS, model_preset, model_spec
from infomorphic.networks.spec import NetworkSpec, is_per_layer
from infomorphic.nn.activations import HIDDEN_ACTIVATIONS
from infomorphic.nn.goal_files import layer_goals, parse_numbers
from infomorphic.nn.protocol import N_BINS, PASSES
from infomorphic.training.options import (
    Option,
    at_least,
    comma_items,
    hidden_sizes,
    integer,
    number_pair,
    option,
    plain,
    show_items,
)

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "DATASETS",
    "DEFAULTS",
    "EVAL_CONTEXTS",
    "EVAL_SPLITS",
    "MAX_SEED",
    "MODEL_NAMES",
    "OPTIMIZERS",
    "OPTIONS",
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

#: The largest seed: every generator a run seeds (torch's, numpy's, optuna's samplers) takes
#: it, and the seeds derived from it stay within 64 bits.
MAX_SEED = 2**32 - 1

#: Least time between two checkpoint saves of a run folder (tens of MB for large layers).
CHECKPOINT_INTERVAL_S = 30.0

#: The data sets ``infomorphic.data.load_dataset`` knows.
DATASETS: tuple[str, ...] = DATASET_NAMES

MODEL_NAMES: tuple[str, ...] = tuple(MODELS)
EVAL_SPLITS: tuple[str, ...] = ("train", "val", "test")
_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


def _sizes(value: Any) -> None:
    if not value or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in value):
        raise ValueError(f"hidden layer sizes must be positive integers, got {value}")


def _device(value: Any) -> None:
    if not isinstance(value, str) or not _DEVICE.match(value):
        raise ValueError(f"device must be cpu, cuda, cuda:N or mps, got {value!r}")


def _fraction(value: Any) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {value}")


def _goal_value(value: Any) -> Any:
    """An inline vector (``"0.1,0.2,..."``) as its numbers; any other goal as it is."""
    if isinstance(value, str):
        numbers = parse_numbers(value)
        return value if numbers is None else numbers
    return list(value) if isinstance(value, tuple) else value


def _splits_tag(value: Any) -> str:
    """Splits measured after every epoch: none (the grids' own choice) and all (train's
    default) keep the names they always had; any other choice is tagged, e.g. -evvt for val
    and test."""
    splits = tuple(value)
    return "-ev" + "".join(s[0] for s in splits) if splits and splits != EVAL_SPLITS else ""


def _splits(value: Any) -> None:
    if any(s not in EVAL_SPLITS for s in value) or len(set(value)) < len(value):
        raise ValueError(
            f"eval_splits must be distinct names among {', '.join(EVAL_SPLITS)}, got {value}"
        )


@dataclass
class TrainConfig:
    """What a training run does; saved in the run folder's ``config.json``.

    ``goal``, ``activation`` and ``bins`` are per layer: one value for every hidden layer, or
    ``{"hidden1": ..., "hidden2": ...}`` (layers not named keep the default). ``eval_splits``:
    the splits measured after every epoch; none at all for a search whose objective is the last
    epoch alone, ``("val",)`` for one that prunes. Whatever is not measured per epoch (the test
    split above all) is measured once after the last epoch, so it can never select or stop
    anything.
    """

    dataset: str = option(
        "mnist-sample",
        "data set: %(choices)s (default %(default)s; digits and mnist-sample work offline)",
        choices=DATASETS,
        choice_key=dataset_key,
        metavar="NAME",
    )
    data_dir: str | None = option(
        None,
        "folder holding the data set's files (MNIST-style IDX files; CIFAR-10 python "
        "batches); default: the data search path and cache, downloading if need be",
        metavar="DIR",
    )
    model: str = option(
        "setup1",
        "network to train: %(choices)s (default %(default)s; see models below)",
        choices=MODEL_NAMES,
        metavar="NAME",
    )
    hidden: list[int] = option(
        [100],
        "hidden layer sizes (default %(default)s)",
        factory=True,
        parse=hidden_sizes,
        show=show_items,
        check=_sizes,
        normalize=lambda v: list(v) if isinstance(v, (list, tuple)) else v,
        metavar="N[,N...]",
    )
    goal: Any = option(
        None,
        "hidden-layer goal: a named goal (heuristic, optimized, cifar, context-heuristic, "
        "lateral-optimized, ...), an inline vector, or a goal file (one goal, or one per "
        "layer: docs/goals.md); default: the model's own (see models below)",
        normalize=_goal_value,
        per_layer=True,
        spec="layers.goal",
        metavar="NAME|FILE",
    )
    activation: Any = option(
        None,
        "hidden activation: %(choices)s (default: the model's own; see below)",
        choices=HIDDEN_ACTIVATIONS,
        per_layer=True,
        spec="layers.activation",
        tag="",
        metavar="NAME",
    )
    epochs: int = option(
        100,
        "training epochs; 0 evaluates the untrained network (default %(default)s)",
        parse=integer,
        check=at_least(0),
    )
    seed: int = option(
        0, "random seed (default %(default)s)", parse=integer, check=at_least(0, MAX_SEED)
    )
    device: str = option(
        "cpu", "torch device, e.g. cpu, cuda or cuda:1 (default %(default)s)", check=_device
    )
    batch_size: int = option(
        1024,
        "training batch size (default %(default)s)",
        parse=integer,
        check=at_least(2),
        tag="b",
        metavar="N",
    )
    val_fraction: float = option(
        0.2, "validation share of the training set", flag="", check=_fraction
    )
    eval_batch_size: int = option(
        4096, "evaluation batch size", flag="", parse=integer, check=at_least(1)
    )
    # The paper's protocol knobs: lateral passes (appendix A.9), the goals' bins per source for
    # hidden and output layers (Fig. 11), and spike samples averaged per evaluated image (1:
    # the paper's single sample).
    passes: int = option(
        PASSES,
        "lateral passes of recurrent networks; the goals see the last one (default "
        "%(default)s, the paper's)",
        parse=integer,
        check=at_least(2),
        spec="passes",
        tag="p",
        metavar="P",
    )
    bins: Any = option(
        N_BINS,
        "bins per source of the hidden layers' goal estimate (default %(default)s, the paper's)",
        parse=integer,
        check=at_least(2),
        per_layer=True,
        spec="layers.bins",
        tag="bins",
        metavar="B",
    )
    bin_range: Any = option(
        None,
        "range LOW,HIGH of the hidden layers' fixed bins; values outside land in the end bins "
        "(default: the model's own: -20,20 for trivariate layers as in the paper, adaptive bins "
        "for bivariate ones; write --bin-range=-20,20)",
        parse=number_pair,
        normalize=number_pair,
        show=show_items,
        per_layer=True,
        spec="layers.bin_range",
        tag="br",
        metavar="LOW,HIGH",
    )
    output_bins: int = option(
        N_BINS,
        "bins per source of the output layer's goal estimate (default %(default)s, the paper's)",
        parse=integer,
        check=at_least(2),
        spec="output.bins",
        tag="obins",
        metavar="B",
    )
    eval_samples: int = option(
        1,
        "spike samples averaged per evaluated image (default %(default)s, the paper's)",
        parse=integer,
        check=at_least(1),
        tag="es",
        metavar="K",
    )
    # What a label context is in evaluation (no label): "zero", the paper's C = 0 (section 4),
    # or "bias", a zero label through the context map, as the authors' code (docs/protocol.md).
    eval_context: str = option(
        "zero",
        "a label context in evaluation, without labels: zero (C = 0, the paper's text) or bias "
        "(a zero label through the context map, as the authors' code) (default %(default)s)",
        choices=EVAL_CONTEXTS,
        spec="eval_context",
        tag="ctx",
    )
    eval_splits: tuple[str, ...] = option(
        EVAL_SPLITS,
        f"splits measured after every epoch, among {', '.join(EVAL_SPLITS)}; the others are "
        "measured once after the last epoch (default %(default)s)",
        parse=comma_items,
        show=show_items,
        check=_splits,
        normalize=lambda v: tuple(v) if isinstance(v, (list, tuple)) else v,
        tag=_splits_tag,
        metavar="SPLIT[,SPLIT...]",
        commands=("train",),
    )
    # One fused graph per batch size for the infomorphic step (fixed-shape estimator, spikes
    # from torch's global generator); CUDA graphs on a GPU. Slower on a CPU.
    compile: bool = option(
        False,
        "compile each training step into one graph (CUDA graphs on a GPU); pays off on GPUs, "
        "not on CPUs (default: off)",
        tag="compiled",
        commands=("train",),
    )

    @property
    def layer_names(self) -> tuple[str, ...]:
        """``hidden1``, ``hidden2``, ...: the names per-layer values use."""
        return tuple(f"hidden{k + 1}" for k in range(len(self.hidden)))

    def validate(self) -> TrainConfig:
        """Check every option (and the network they describe); per-layer values become one
        value when every layer has the same. A ``ConfigError`` names the field at fault
        (``bins``, or ``hidden2.bins`` for one layer's value)."""
        layers: tuple[str, ...] = ()
        for entry in OPTIONS.values():
            value = getattr(self, entry.field)
            if entry.field == "hidden" and not model_preset(self.model).has_hidden:
                self.hidden = []  # the output layer on the inputs (readout-only): no sizes
                continue
            if entry.per_layer and not layers and entry.default is None and value is not None:
                raise ConfigError(
                    entry.field,
                    f"{self.model} has no hidden layer: it takes no hidden "
                    f"{entry.field.replace('_', ' ')} (got {value!r})",
                )
            setattr(self, entry.field, entry.validated(value, layers))
            if entry.field == "hidden":
                layers = self.layer_names
        if self.compile and model_preset(self.model).kind != "infomorphic":
            raise ConfigError(
                "compile", "compile applies to infomorphic models; backprop runs eagerly"
            )
        self.network(1, 2)  # the structure; the data's sizes do not change what is allowed
        return self

    def network(self, n_inputs: int, n_classes: int) -> NetworkSpec:
        """The description of the network these options build for data of these sizes."""
        options = {e.spec: getattr(self, e.field) for e in OPTIONS.values() if e.spec}
        if self.hidden:  # a file of one goal per layer: each layer's goal
            options["layers.goal"] = layer_goals(self.goal, self.layer_names)
        try:
            return model_spec(self.model, n_inputs, n_classes, self.hidden, options)
        except ConfigError as exc:
            raise self._named(exc) from None

    def _named(self, error: ConfigError) -> ConfigError:
        """A network's ``ConfigError`` by the option that set the field (``hidden2.bins`` ->
        ``bins``, or ``hidden2.bins`` when bins were given per layer; ``output.bins`` ->
        ``output_bins``); a field no option sets is the model's."""
        layer, name = error.layer, error.option
        if error.field in ("model", "hidden") or name == "size":
            return ConfigError("hidden" if name in ("hidden", "size") else "model", error.message)
        path = f"layers.{name}" if layer and layer.startswith("hidden") else error.field
        entry = next((e for e in OPTIONS.values() if e.spec == path), None)
        if entry is None:
            return ConfigError("model", f"{self.model}: {error}")
        per_layer = layer and is_per_layer(getattr(self, entry.field))
        return ConfigError(f"{layer}.{entry.field}" if per_layer else entry.field, error.message)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (tuples become lists)."""
        return {k: plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """From a saved ``config.json`` (extra keys, such as the resolved network, ignored)."""
        kept: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            if name in values:
                entry, value = OPTIONS[name], values[name]
                if entry.per_layer and is_per_layer(value):
                    kept[name] = {k: entry.normalize(v) for k, v in value.items()}
                else:
                    kept[name] = entry.normalize(value)
        return cls(**kept)


#: The option table: every option of a run, in ``TrainConfig``'s order.
OPTIONS: dict[str, Option] = {
    f.name: replace(f.metadata["option"], field=f.name) for f in fields(TrainConfig)
}

#: The defaults of every option, for the command line.
DEFAULTS: dict[str, Any] = TrainConfig().to_dict()
