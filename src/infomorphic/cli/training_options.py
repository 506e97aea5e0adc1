"""The options of a training run that ``train``, ``search`` and ``ablate`` share, and the
validated configuration they give: choices and defaults from the torch-free
``infomorphic.training.config``, errors that name the option at fault."""

from __future__ import annotations

import argparse
import re

from infomorphic.cli.common import hidden_sizes
from infomorphic.nn.activations import HIDDEN_ACTIVATIONS
from infomorphic.training.config import (
    DATASETS,
    DEFAULTS,
    EVAL_CONTEXTS,
    MODEL_NAMES,
    TrainConfig,
)

__all__ = ["add_training_options", "config_from_args"]

#: TrainConfig fields as named in ``validate``'s messages -> their options, most specific first
#: ("unknown hidden activation" is about --activation, not --hidden).
_FIELD_OPTIONS = (
    ("output_bins", "--output-bins"),
    ("eval_samples", "--eval-samples"),
    ("eval_context", "--eval-context"),
    ("passes", "--passes"),
    ("bins", "--bins"),
    ("activation", "--activation"),
    ("eval_splits", "--eval-splits"),
    ("batch_size", "--batch-size"),
    ("compile", "--compile"),
    ("dataset", "--dataset"),
    ("model", "--model"),
    ("epochs", "--epochs"),
    ("seed", "--seed"),
    ("device", "--device"),
    ("hidden", "--hidden"),
)


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options of a training run that ``train`` and ``search`` share (data, model, sizes,
    activation, epochs, seed, batch size, device)."""
    add = parser.add_argument
    add(
        "--dataset",
        choices=DATASETS,
        default=DEFAULTS["dataset"],
        metavar="NAME",
        help="data set: %(choices)s (default %(default)s; digits and mnist-sample work offline)",
    )
    add(
        "--data-dir",
        metavar="DIR",
        default=DEFAULTS["data_dir"],
        help="folder holding the data set's files (MNIST-style IDX files; CIFAR-10 python "
        "batches); default: the data search path and cache, downloading if need be",
    )
    add(
        "--model",
        choices=MODEL_NAMES,
        default=DEFAULTS["model"],
        metavar="NAME",
        help="network to train: %(choices)s (default %(default)s; see models below)",
    )
    add(
        "--hidden",
        type=hidden_sizes,
        default=",".join(map(str, DEFAULTS["hidden"])),
        metavar="N[,N...]",
        help="hidden layer sizes (default %(default)s)",
    )
    add(
        "--activation",
        choices=HIDDEN_ACTIVATIONS,
        default=DEFAULTS["activation"],
        metavar="NAME",
        help="hidden activation: %(choices)s (default: the model's own; see below)",
    )
    add(
        "--epochs",
        type=int,
        default=DEFAULTS["epochs"],
        help="training epochs; 0 evaluates the untrained network (default %(default)s)",
    )
    add("--seed", type=int, default=DEFAULTS["seed"], help="random seed (default %(default)s)")
    add(
        "--batch-size",
        type=int,
        default=DEFAULTS["batch_size"],
        metavar="N",
        help="training batch size (default %(default)s)",
    )
    add(
        "--device",
        default=DEFAULTS["device"],
        help="torch device, e.g. cpu, cuda or cuda:1 (default %(default)s)",
    )
    add(
        "--passes",
        type=int,
        default=DEFAULTS["passes"],
        metavar="P",
        help="lateral passes of recurrent networks; the goals see the last one (the paper: "
        "%(default)s)",
    )
    add(
        "--bins",
        type=int,
        default=DEFAULTS["bins"],
        metavar="B",
        help="bins per source of the hidden layers' goal estimate (the paper: %(default)s)",
    )
    add(
        "--output-bins",
        type=int,
        default=DEFAULTS["output_bins"],
        metavar="B",
        help="bins per source of the output layer's goal estimate (the paper: %(default)s)",
    )
    add(
        "--eval-samples",
        type=int,
        default=DEFAULTS["eval_samples"],
        metavar="K",
        help="spike samples averaged per evaluated image (the paper: %(default)s)",
    )
    add(
        "--eval-context",
        choices=EVAL_CONTEXTS,
        default=DEFAULTS["eval_context"],
        help="a label context in evaluation, without labels: zero (C = 0, the paper's text) or "
        "bias (a zero label through the context map, as the authors' code) (default "
        "%(default)s)",
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The validated configuration; a ValueError names the option at fault."""
    config = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        model=args.model,
        hidden=list(args.hidden),
        goal=getattr(args, "goal", DEFAULTS["goal"]),
        activation=args.activation,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        batch_size=args.batch_size,
        eval_splits=tuple(getattr(args, "eval_splits", DEFAULTS["eval_splits"])),
        compile=getattr(args, "compile", False),
        passes=args.passes,
        bins=args.bins,
        output_bins=args.output_bins,
        eval_samples=args.eval_samples,
        eval_context=getattr(args, "eval_context", DEFAULTS["eval_context"]),
    )
    try:
        return config.validate()
    except ValueError as exc:
        message = str(exc)
        for field, option in _FIELD_OPTIONS:
            if re.search(rf"\b{field}\b", message):
                raise ValueError(f"{option}: {message}") from None
        raise
