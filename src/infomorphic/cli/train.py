"""``infomorphic train``: one training run into a run folder (``infomorphic.training.api.train``).

Every choice and default comes from the torch-free ``infomorphic.training.config`` (and the model
and activation tables it reads), and ``TrainConfig.validate`` checks the values, so that the
parser (and ``--help``) does not load torch and never disagrees with the library.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

from infomorphic.cli.common import comma_list, hidden_sizes, print_error, seconds
from infomorphic.networks.presets import MODELS
from infomorphic.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from infomorphic.training.config import (
    CHECKPOINT_INTERVAL_S,
    DATASETS,
    DEFAULTS,
    EVAL_SPLITS,
    MODEL_NAMES,
    TrainConfig,
)

DESCRIPTION = (
    "Train a network whose neurons each maximise their own PID goal (no backpropagated error), "
    "or the backprop baseline, evaluate it every epoch, and keep the run folder up to date: "
    "config.json, history.csv, atoms.npz, checkpoint.pt and, at the end, summary.json."
)

#: TrainConfig fields as named in ``validate``'s messages -> their options, most specific first
#: ("unknown hidden activation" is about --activation, not --hidden).
_FIELD_OPTIONS = (
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


def _epilog() -> str:
    """The models (summary, default goal and activation) and the hidden activations' formulas."""
    lines = ["models:"]
    for name, preset in MODELS.items():
        lines += textwrap.wrap(
            preset.summary, 78, initial_indent=f"  {name:<15}", subsequent_indent=" " * 17
        )
        if preset.kind == "infomorphic" and preset.hidden_goal is not None:
            lines.append(
                f"{'':17}default goal {preset.hidden_goal}, activation {preset.activation}"
            )
    lines += ["", "hidden activations:"]
    lines += [f"  {name:<15}{ACTIVATIONS[name].formula}" for name in HIDDEN_ACTIVATIONS]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an infomorphic network (or the backprop baseline) and evaluate it",
        description=textwrap.fill(DESCRIPTION, 78),
        epilog=_escape(_epilog()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_training_options(parser)
    add = parser.add_argument
    add(
        "--goal",
        metavar="NAME|FILE",
        default=DEFAULTS["goal"],
        help="hidden-layer goal: a named goal (heuristic, optimized, cifar, context-heuristic, "
        "lateral-optimized, ...) or a JSON/text file of weights; default: the model's own "
        "(see models below)",
    )
    add(
        "--eval-splits",
        type=comma_list,
        default=",".join(DEFAULTS["eval_splits"]),
        metavar="SPLIT[,SPLIT...]",
        help=f"splits measured after every epoch, among {', '.join(EVAL_SPLITS)}; the others "
        "are measured once after the last epoch (default %(default)s)",
    )
    add(
        "--out",
        metavar="DIR",
        help="run folder (default runs/<model>-<dataset>-<hidden>-seed<seed>)",
    )
    add(
        "--resume",
        action="store_true",
        help="continue the run in the run folder from its checkpoint (default: refuse a "
        "folder that holds one)",
    )
    add(
        "--compile",
        action="store_true",
        help="compile each training step into one graph (CUDA graphs on a GPU); pays off on "
        "GPUs, not on CPUs (default: off)",
    )
    add(
        "--checkpoint-every",
        type=seconds,
        default=CHECKPOINT_INTERVAL_S,
        metavar="SECONDS",
        help="least time between checkpoint saves; an interruption loses at most this much "
        "training (0: after every epoch; default %(default)g)",
    )
    add("--no-progress", action="store_true", help="no progress bar (default: show one)")
    parser.set_defaults(func=run)


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
    )
    try:
        return config.validate()
    except ValueError as exc:
        message = str(exc)
        for field, option in _FIELD_OPTIONS:
            if re.search(rf"\b{field}\b", message):
                raise ValueError(f"{option}: {message}") from None
        raise


def run_folder(args: argparse.Namespace, config: TrainConfig) -> Path:
    """``--out``, or ``runs/<model>-<dataset>-<hidden>-seed<seed>``."""
    if args.out:
        return Path(args.out)
    hidden = "-".join(str(h) for h in config.hidden)
    return Path(f"runs/{config.model}-{config.dataset}-{hidden}-seed{config.seed}")


def run(args: argparse.Namespace) -> int:
    from infomorphic.data import DataUnavailableError

    config = config_from_args(args)
    out = run_folder(args, config)
    if (out / "checkpoint.pt").exists() and not args.resume:
        raise ValueError(
            f"{out} already holds a run; pass --resume to continue it, or --out to choose "
            "another folder (nothing is overwritten)"
        )
    print(f"{'resuming' if args.resume else 'run folder'}: {out}", file=sys.stderr)

    from infomorphic.training.api import train  # loads torch

    try:
        summary = train(
            config, out, resume=args.resume, progress=not args.no_progress,
            checkpoint_interval_s=args.checkpoint_every,
        )  # fmt: skip
    except (DataUnavailableError, FloatingPointError) as exc:  # TrainingDiverged included
        return print_error(exc)
    print(
        f"{summary['model']} on {summary['dataset']}: test accuracy "
        f"{summary['test_accuracy']:.4f} (val {summary['val_accuracy']:.4f}, train "
        f"{summary['train_accuracy']:.4f}) after {summary['epochs']} epochs in "
        f"{summary['seconds']:.1f} s; results in {out}"
    )
    return 0
