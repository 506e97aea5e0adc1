"""``infomorphic predict``: classify images with a trained run (``infomorphic.training.load_run``).

The images are raw pixels on the data set's own scale (0..255 for MNIST); they are standardised
with the mean and std the run's data were standardised with (``config.json``), and the network
of the run's last checkpoint classifies them.
"""

from __future__ import annotations

import argparse
import json
import textwrap

from infomorphic.cli.common import positive_int, seed

DESCRIPTION = (
    "Classify images with the network of a trained run folder. IMAGES are raw pixels on the "
    "scale of the run's data set (0..255 for MNIST and Fashion-MNIST: a light digit on a dark "
    "background, 28x28), standardised with the run's saved mean and std. Prints one predicted "
    "class per line, in the order of the images; --json prints each image's class scores too."
)

#: What IMAGES may be (``infomorphic.data.images.read_images`` reads them).
FORMATS = (
    "an IDX image file (gzipped or not, e.g. t10k-images-idx3-ubyte.gz), a .npy array "
    "(n, 784) or (n, 28, 28) of raw pixels, or one 8-bit PGM or PNG image"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="classify images with a trained run",
        description=textwrap.fill(DESCRIPTION, 78),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("run_dir", metavar="RUN_DIR", help="a run folder written by infomorphic train")
    add("images", metavar="IMAGES", nargs="+", help=f"image files: {FORMATS}")
    add(
        "--json",
        action="store_true",
        help="print a JSON list with each image's class and class scores (higher: more "
        "likely) (default: one class per line)",
    )
    add(
        "--seed",
        type=seed,
        default=0,
        help="seed of the hidden neurons' spikes, which the network samples (default %(default)s)",
    )
    add(
        "--device",
        default="cpu",
        help="torch device, e.g. cpu, cuda or cuda:1 (default %(default)s)",
    )
    add(
        "--threads",
        type=positive_int,
        default=None,
        metavar="N",
        help="torch threads (default: the cores that other processes leave free as the "
        "command starts)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import infomorphic.training.inference  # noqa: F401  (loads torch before the threads' count)
    from infomorphic.threads import default_threads, torch_threads

    with torch_threads(args.threads or default_threads()):
        return _predict(args)


def _predict(args: argparse.Namespace) -> int:
    import torch

    from infomorphic.data.images import read_images
    from infomorphic.training.inference import load_run

    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise ValueError(f"--device: want cpu, cuda, cuda:N or mps, got {args.device!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device: {args.device!r} was asked for but torch sees no CUDA device")
    loaded = load_run(args.run_dir, device)
    parts = []
    for path in args.images:
        pixels = read_images(path)
        try:
            parts.append(loaded.standardise(pixels))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    x = torch.cat(parts)
    scores = loaded.scores_of(x, seed=args.seed).cpu()
    classes = scores.argmax(dim=1).tolist()
    if args.json:
        rows = [
            {"class": c, "scores": [round(float(v), 6) for v in row]}
            for c, row in zip(classes, scores, strict=True)
        ]
        print(json.dumps(rows))
    else:
        print("\n".join(map(str, classes)))
    return 0
