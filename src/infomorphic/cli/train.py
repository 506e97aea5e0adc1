"""``infomorphic train``: one training run into a run folder (``infomorphic.training.api.train``).

Every choice and default comes from the torch-free ``infomorphic.training.config`` (and the model
and activation tables it reads), and ``TrainConfig.validate`` checks the values, so that the
parser (and ``--help``) does not load torch and never disagrees with the library.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from pathlib import Path
from typing import Any

from infomorphic.cli.common import (
    INTERRUPTED_EXIT,
    PROG,
    TERMINATED_EXIT,
    network_threads,
    seconds,
)
from infomorphic.cli.training_options import add_training_options, config_from_args, option_flag
from infomorphic.locks import hold
from infomorphic.networks.presets import MODELS
from infomorphic.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from infomorphic.threads import default_threads
from infomorphic.training.config import CHECKPOINT_INTERVAL_S, DEFAULTS, OPTIONS, TrainConfig
from infomorphic.training.hooks import Hook
from infomorphic.training.run_files import RUN_FILES

DESCRIPTION = (
    "Train a network whose neurons each maximise their own PID goal (no backpropagated error), "
    "or the backprop baseline, evaluate it every epoch, and keep the run folder up to date: "
    "config.json, history.csv, atoms.npz, checkpoint.pt and, at the end, summary.json."
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
    add_training_options(parser, "train")
    add = parser.add_argument
    add(
        "--out",
        metavar="DIR",
        help="run folder (default runs/<model>-<dataset>-<hidden>-seed<seed>)",
    )
    add(
        "--resume",
        action="store_true",
        help="continue the run in the run folder from its checkpoint with the run's own "
        "options: `--out DIR --resume` is enough; options given as well must agree with the "
        "run's, except --epochs, which may extend it (default: refuse a folder that holds a run)",
    )
    add(
        "--force",
        action="store_true",
        help="start afresh in a run folder that holds a run, replacing its files (they are "
        "named before training starts) (default: refuse such a folder)",
    )
    add(
        "--checkpoint-every",
        type=seconds,
        default=CHECKPOINT_INTERVAL_S,
        metavar="SECONDS",
        help="least time between checkpoint saves; an interruption loses at most this much "
        "training (0: after every epoch; default %(default)g)",
    )
    add(
        "--tensorboard",
        metavar="DIR",
        help="also log accuracies and each layer's atoms per epoch for TensorBoard into "
        "DIR/<run folder name> (`tensorboard --logdir DIR`; needs the tensorboard extra; "
        "default: off)",
    )
    add("--no-progress", action="store_true", help="no progress bar (default: show one)")
    add(
        "--dry-run",
        action="store_true",
        help="check the options and the run folder, say what would be trained, and stop "
        "(nothing is written) (default: off)",
    )
    parser.set_defaults(func=run)


def run_folder(args: argparse.Namespace, config: TrainConfig) -> Path:
    """``--out``, or ``experiments.naming.default_run_folder``."""
    from infomorphic.experiments.naming import default_run_folder

    return Path(args.out) if args.out else default_run_folder(config)


#: The options of ``train`` that are fields of ``TrainConfig`` (the same names).
CONFIG_OPTIONS = tuple(f for f, o in OPTIONS.items() if o.cli_flag and "train" in o.commands)


def given_options(args: argparse.Namespace, config: TrainConfig) -> set[str]:
    """The options the user gave (``main`` records them); without that record, those whose
    value in ``config`` (the configuration they give) is not the default."""
    given = getattr(args, "given_options", None)
    if given is not None:
        return set(given)
    values = config.to_dict()
    return {f for f in CONFIG_OPTIONS if values[f] != DEFAULTS[f]}


def resume_config(args: argparse.Namespace, out: Path) -> TrainConfig:
    """The run's saved configuration, extended by the options given with ``--resume``
    (``--epochs``); any other option given must agree with the run's, or a ValueError names it."""
    if not (out / "checkpoint.pt").is_file():
        present = [name for name in RUN_FILES if (out / name).is_file()]
        if present:
            raise ValueError(
                f"--resume: {out} holds {', '.join(present)} but no checkpoint.pt to resume "
                "from; --force starts the run again in it (replacing those files)"
            )
        raise ValueError(f"--resume: {out} holds no run to resume")
    wanted = config_from_args(args)
    if not (out / "config.json").is_file():  # the library compares with the checkpoint's
        return wanted
    from infomorphic.training.api import resumed_config

    given = {f: getattr(wanted, f) for f in CONFIG_OPTIONS if f in given_options(args, wanted)}
    return resumed_config(out, given, option_name=option_flag)


def _history_rows(path: Path) -> int | None:
    try:
        return max(len(path.read_text().splitlines()) - 1, 0)
    except (OSError, UnicodeDecodeError):
        return None


class _Announce(Hook):
    """Prints the data's split sizes (and where a resumed run stands) as training starts."""

    def __init__(self, progress_bar: bool) -> None:
        self.progress_bar = progress_bar

    def on_fit_start(self, trainer) -> None:
        import torch

        splits, config = trainer.splits, trainer.config
        resumed = f"; resumed after epoch {trainer.epoch}" if trainer.epoch else ""
        threads = torch.get_num_threads()
        line = (
            f"data: {splits.name}, {len(splits.y_train)} training / {len(splits.y_val)} "
            f"validation / {len(splits.y_test)} test images; {config.epochs} epochs{resumed}; "
            f"{threads} thread{'s' if threads > 1 else ''}"
        )
        if self.progress_bar:  # above the bar, which is already drawn
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)


def _interrupted(exc: KeyboardInterrupt, out: Path) -> int:
    """One line: what was kept and the command that continues; the exit status (130/143)."""
    from infomorphic.training.loop import Terminated

    terminated = isinstance(exc, Terminated)
    what = "terminated (SIGTERM)" if terminated else "interrupted"
    saved = getattr(exc, "saved_epoch", None)
    if saved is not None or (out / "checkpoint.pt").is_file():
        epoch = f"epoch {saved}" if saved is not None else "its last checkpoint"
        message = (
            f"{what}: {out} keeps {epoch}; continue with: {PROG} train --out "
            f"{shlex.quote(str(out))} --resume"
        )
    else:
        message = f"{what} before the run folder was written; nothing to resume"
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    return TERMINATED_EXIT if terminated else INTERRUPTED_EXIT


def run(args: argparse.Namespace) -> int:
    if args.resume and args.force:
        raise ValueError("--resume and --force exclude each other: continue the run, or replace it")
    out = run_folder(args, config_from_args(args))
    if args.dry_run:
        config, out = _checked(args, out)
        threads = args.threads or "the cores free as training starts"
        print(
            f"would train {config.model} {','.join(map(str, config.hidden))} on "
            f"{config.dataset} for {config.epochs} epochs (seed {config.seed}) into {out}, "
            f"threads: {threads}"
        )
        return 0
    with hold(out, "run folder"):  # a second writer is refused before anything is read
        return _run(args, out)


def _checked(args: argparse.Namespace, out: Path) -> tuple[TrainConfig, Path]:
    """The configuration to train and its folder, after the folder's checks (nothing written)."""
    if args.resume:
        return resume_config(args, out), out
    config = config_from_args(args)
    present = [name for name in RUN_FILES if (out / name).is_file()]
    if present and not args.force:
        raise ValueError(
            f"{out} already holds a run ({', '.join(present)}); pass --resume to continue "
            "it, --force to replace it, or --out to choose another folder (nothing is "
            "overwritten)"
        )
    return config, out


def _run(args: argparse.Namespace, out: Path) -> int:

    config, out = _checked(args, out)
    if args.resume:
        print(f"resuming: {out}", file=sys.stderr)
    else:
        present = [name for name in RUN_FILES if (out / name).is_file()]
        if present:
            rows = _history_rows(out / "history.csv") if "history.csv" in present else None
            epochs = f", {rows} epochs of history" if rows else ""
            print(f"--force: replacing {out}'s {', '.join(present)}{epochs}", file=sys.stderr)
        print(f"run folder: {out}", file=sys.stderr)

    from infomorphic.training.api import train  # loads torch
    from infomorphic.training.loop import terminate_as_interrupt

    progress = not args.no_progress
    # overwrite= only when asked: the library's default otherwise
    options: dict[str, Any] = {"overwrite": True} if args.force else {}
    # a resumed run continues with its own thread count (config.json), unless --threads
    # a fresh run: the cores free, at most as many as its network profits from
    most = network_threads(config.dataset, config.hidden)
    threads = args.threads or (None if args.resume else default_threads(most=most))
    hooks: list[Hook] = [_Announce(progress)]
    if args.tensorboard:
        from infomorphic.training.tensorboard import TensorBoardHook

        hooks.append(TensorBoardHook(Path(args.tensorboard) / out.resolve().name))
    try:
        with terminate_as_interrupt():
            summary = train(
                config,
                out,
                resume=args.resume,
                progress=progress,
                checkpoint_interval_s=args.checkpoint_every,
                hooks=hooks,
                threads=threads,
                **options,
            )
    except KeyboardInterrupt as exc:
        return _interrupted(exc, out)
    print(
        f"{summary['model']} on {summary['dataset']}: test accuracy "
        f"{summary['test_accuracy']:.4f} (val {summary['val_accuracy']:.4f}, train "
        f"{summary['train_accuracy']:.4f}) after {summary['epochs']} epochs in "
        f"{summary['seconds']:.1f} s; results in {out}"
    )
    print(f"show them with: {PROG} inspect {shlex.quote(str(out))}")
    return 0
