"""Command-line interface: ``infomorphic <command> ...`` (also ``python -m infomorphic``).

Each sub-command is a pair of functions: ``_add_<name>_command(subparsers)`` declares its
arguments and sets ``func`` to ``_run_<name>(args) -> int``. To add a command, write the pair and
append the ``_add_...`` function to ``COMMANDS``. ``main`` turns ``ValueError`` and ``OSError``
(e.g. a missing file) into ``infomorphic: error: <message>`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

PROG = "infomorphic"
ERROR_EXIT = 2


def _version() -> str:
    try:
        return version("infomorphic")
    except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        return "unknown"


# ---------------------------------------------------------------------------------------------
# pid


def _add_pid_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pid",
        help="shared-exclusion PID (I_sx) of a distribution given as a CSV table",
        description=(
            "Decompose the information that 2 to 4 source columns of a CSV table carry about a "
            "target column into I_sx PID atoms (bits). The table needs a header row and a "
            "probability column named 'p' (summing to 1) or a count column named 'count' "
            "(normalised); values are categorical, and repeated rows accumulate."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="CSV table of the joint distribution")
    parser.add_argument(
        "--target",
        metavar="NAME",
        help="target column (default: the last column that is not the weight column)",
    )
    parser.add_argument(
        "--weight-column",
        metavar="NAME",
        help="column of probabilities or counts (default: the column named 'p' or 'count')",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--pointwise",
        action="store_true",
        help="also give the local (pointwise) atoms of every realisation",
    )
    parser.set_defaults(func=_run_pid)


def _pointwise_records(result, sources, target, alphabets) -> list[dict[str, Any]]:
    pw = result.pointwise
    names = [*sources, target]
    records = []
    for r, realisation in enumerate(pw.realisations):
        records.append(
            {
                "values": {
                    name: alphabets[name][k] for name, k in zip(names, realisation, strict=True)
                },
                "p": float(pw.probabilities[r]),
                "atoms": dict(zip(result.labels, pw.atoms[r].tolist(), strict=True)),
                "atoms_plus": dict(zip(result.labels, pw.atoms_plus[r].tolist(), strict=True)),
                "atoms_minus": dict(zip(result.labels, pw.atoms_minus[r].tolist(), strict=True)),
            }
        )
    return records


def _pointwise_table(records: list[dict[str, Any]], names: list[str], labels) -> str:
    header = [*names, "p", *labels]
    rows = [
        [
            *(rec["values"][name] for name in names),
            f"{rec['p']:.6f}",
            *(f"{rec['atoms'][label]:.6f}" for label in labels),
        ]
        for rec in records
    ]
    widths = [max(len(header[c]), *(len(row[c]) for row in rows)) for c in range(len(header))]
    n_values = len(names)

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(w) if c < n_values else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * len(fmt(header))
    lines = ["Local atoms of each realisation (bits)", rule, fmt(header), rule]
    lines += [fmt(row) for row in rows]
    lines.append(rule)
    return "\n".join(lines)


def _run_pid(args: argparse.Namespace) -> int:
    # Imported here so that other commands (and --help, --version) do not pay for torch.
    from infomorphic.pid.isx import isx_pid
    from infomorphic.pid.table import pmf_from_table

    p, sources, target, alphabets = pmf_from_table(
        args.file, target=args.target, weight_column=args.weight_column
    )
    result = isx_pid(p, source_names=sources, pointwise=args.pointwise)
    records = _pointwise_records(result, sources, target, alphabets) if args.pointwise else None

    if args.json:
        out = result.to_dict()
        out["sources"] = list(sources)
        out["target"] = target
        out["alphabets"] = alphabets
        if records is not None:
            out["pointwise"] = records
        print(json.dumps(out, indent=2))
        return 0

    print(f"{args.file}: target {target}, sources {', '.join(sources)}")
    print(result)
    if records is not None:
        print()
        print(_pointwise_table(records, [*sources, target], result.labels))
    return 0


# ---------------------------------------------------------------------------------------------
# train

# Twins of networks.MODELS and training.CHECKPOINT_INTERVAL_S, so that building the parser
# (--help) does not import torch; tests/test_cli.py keeps them equal.
MODEL_CHOICES = (
    "setup1", "setup2", "setup3", "context-only", "lateral-only", "random-hidden", "backprop",
    "deep-feedback",
)  # fmt: skip
DEFAULT_CHECKPOINT_EVERY = 30.0


def _hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--hidden wants sizes like 100 or 800,200: {text!r}"
        ) from exc
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be positive integers: {text!r}")
    return sizes


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"want a number of seconds, got {text!r}") from exc
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"want a number of seconds >= 0, got {text!r}")
    return value


def _add_train_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an infomorphic network (or the backprop baseline) and evaluate it",
        description=(
            "Train a network whose neurons each maximise their own PID goal (no backpropagated "
            "error), evaluate it every epoch, and keep the run folder up to date: config.json, "
            "history.csv, atoms.npz, checkpoint.pt and, at the end, summary.json."
        ),
    )
    parser.add_argument(
        "--dataset",
        default="mnist-sample",
        help="mnist, fashion-mnist, cifar10, digits or mnist-sample "
        "(default; 5,000 real MNIST digits that work offline)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder holding the data set's files (MNIST-style IDX files; CIFAR-10 python batches)",
    )
    parser.add_argument("--model", default="setup1", choices=MODEL_CHOICES)
    parser.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=[100],
        metavar="N[,N...]",
        help="hidden layer sizes (default 100)",
    )
    parser.add_argument(
        "--goal",
        metavar="NAME|FILE",
        help="hidden-layer goal: heuristic, optimized, cifar, a bivariate goal name "
        "(context-heuristic, context-optimized, lateral-heuristic, lateral-optimized, ...) "
        "or a JSON/text file of weights; default: optimized for trivariate models, the "
        "heuristic bivariate goal for context-only and lateral-only",
    )
    parser.add_argument(
        "--activation",
        choices=("modulated", "linear", "bivariate"),
        help="hidden activation (default: the model's own)",
    )
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="run folder (default runs/<model>-<dataset>-<hidden>-seed<seed>)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="compile each training step into one graph (CUDA graphs on a GPU); pays off on "
        "GPUs, not on CPUs",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_seconds,
        default=DEFAULT_CHECKPOINT_EVERY,
        metavar="SECONDS",
        help="least time between checkpoint saves; an interruption loses at most this much "
        "training (0: after every epoch; default %(default)g)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from infomorphic.data import DataUnavailableError
    from infomorphic.training import TrainConfig, train

    hidden_text = "-".join(str(h) for h in args.hidden)
    out = Path(args.out or f"runs/{args.model}-{args.dataset}-{hidden_text}-seed{args.seed}")
    if (out / "checkpoint.pt").exists() and not args.resume:
        raise ValueError(
            f"{out} already holds a run; pass --resume to continue it, or --out to choose "
            "another folder (nothing is overwritten)"
        )
    config = TrainConfig(
        dataset=args.dataset,
        data_dir=args.data_dir,
        model=args.model,
        hidden=list(args.hidden),
        goal=args.goal,
        activation=args.activation,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        batch_size=args.batch_size,
        compile=args.compile,
    )
    try:
        summary = train(
            config, out, resume=args.resume, progress=not args.no_progress,
            checkpoint_interval_s=args.checkpoint_every,
        )  # fmt: skip
    except (DataUnavailableError, FloatingPointError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ERROR_EXIT
    print(
        f"{summary['model']} on {summary['dataset']}: test accuracy "
        f"{summary['test_accuracy']:.4f} (val {summary['val_accuracy']:.4f}, train "
        f"{summary['train_accuracy']:.4f}) after {summary['epochs']} epochs in "
        f"{summary['seconds']:.1f} s; results in {out}"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# parser and entry point

#: One ``_add_<name>_command(subparsers)`` per sub-command, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_train_command,
    _add_pid_command,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Infomorphic networks and the shared-exclusion PID (I_sx).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else ERROR_EXIT)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ERROR_EXIT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
