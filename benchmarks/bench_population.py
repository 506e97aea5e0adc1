"""Population training: one training step of P networks that differ only in their goal, three
ways, each in a fresh process (see harness.py):

- solo: P separate networks, one step each (what P trials alone cost);
- members: one network with a member axis on every weight (``Trainer(configs)``, the library's
  choice: the same layer code, members side by side on the estimator's neuron axis);
- vmap: ``torch.func.vmap`` over the stacked parameters of one network (the alternative the
  issue named). vmap cannot batch the estimator's grouping (``torch.unique``: dynamic shapes),
  so it runs the fixed-shape estimator that compiled steps use, and it cannot give member p the
  spike stream of its own run (random numbers inside vmap come from one generator), so its
  members would not equal their solo runs; it is timed for the comparison only (gradients, no
  optimiser step).

Setup 1 on mnist-10k, N = 100, batches of 1,024, random goals (numpy seed 7; the same goal in
every hidden layer of a member):

    python benchmarks/bench_population.py                       # P = 4 and 8, 1 thread
    python benchmarks/bench_population.py --members 8 --threads 2
    python benchmarks/bench_population.py --model setup2 --hidden 200,100 --modes solo,members
    python benchmarks/bench_population.py --model setup3 --modes solo,members
    python benchmarks/bench_population.py --tiny                # digits, N = 16: a smoke test
    PYTHONPATH=/path/to/other/src python benchmarks/bench_population.py --modes solo,members

The last form times another version of the package (an A/B comparison; a version before
``Trainer(configs)`` runs its ``PopulationTrainer``).
"""

from __future__ import annotations

import argparse
import json
import sys

import harness

MODES = ("solo", "members", "vmap")


def goals(count: int, weights: int = 19) -> list[list[float]]:
    import numpy as np

    rng = np.random.default_rng(7)
    return [list(map(float, g)) for g in rng.uniform(-1, 1, (count, weights))]


def _configs(args) -> list:
    """Members of ``args.model`` of ``args.hidden`` (--tiny: N = 16 per layer), random goals
    of as many weights as the first hidden layer's sources call for."""
    from infomorphic.pid.lattice import lattice
    from infomorphic.training import TrainConfig

    hidden = [int(n) for n in args.hidden.split(",")]
    hidden = [16] * len(hidden) if args.tiny else hidden
    base = dict(dataset="digits" if args.tiny else "mnist", model=args.model, hidden=hidden)
    spec = TrainConfig(**base).validate().network(1, 2)
    weights = len(lattice(len(spec.layers[0].sources))) + 1
    return [TrainConfig(**base, goal=g) for g in goals(args.members, weights)]


def _data(tiny: bool):
    from infomorphic.data import load_dataset, prepare_splits

    if tiny:
        return prepare_splits(load_dataset("digits"), 0.2, 0)
    return prepare_splits(load_dataset("mnist", data_dir=harness.MNIST_DIR, download=False))


def _population(configs, splits):
    """One step of every member: the library's population (``Trainer(configs)``; an older
    version's ``PopulationTrainer``)."""
    try:
        from infomorphic.training.population import PopulationTrainer  # versions before
    except ImportError:
        from infomorphic.training import Trainer

        return Trainer(configs, splits).step
    return PopulationTrainer(configs, splits).step


def _vmap(configs, splits):
    import torch
    from torch.func import functional_call, grad, stack_module_state, vmap

    from infomorphic.training import Trainer

    networks = [Trainer(c, splits).model for c in configs]
    params, buffers = stack_module_state(networks)
    template = networks[0]

    def loss(p, b, x, onehot):
        return functional_call(template, {**p, **b}, (x, onehot, None, True)).loss

    template.forward = template.goal_loss  # functional_call calls forward: the goal loss
    step = vmap(grad(loss), in_dims=(0, 0, None, None), randomness="different")

    def run(x, y):
        onehot = torch.nn.functional.one_hot(y, splits.n_classes).to(x.dtype)
        return step(params, buffers, x, onehot)

    return run


def worker(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from infomorphic.training import Trainer

    splits = _data(args.tiny)
    configs = _configs(args)
    x, y = splits.x_train[: args.batch], splits.y_train[: args.batch]
    if args.mode == "solo":
        steps = [Trainer(c, splits).step for c in configs]

        def step():
            for one in steps:
                one(x, y)

    elif args.mode == "members":
        population = _population(configs, splits)

        def step():
            population(x, y)

    else:
        gradients = _vmap(configs, splits)

        def step():
            gradients(x, y)

    stats, _ = harness.measure(step, args.repeats, "cpu")
    print(json.dumps({"ms": 1e3 * stats["median_s"], "peak_mib": stats["peak_mib"]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="4,8", help="population sizes (default 4,8)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--model", default="setup1", help="setup1, setup2, setup3, ...")
    parser.add_argument("--hidden", default="100", help="hidden sizes, e.g. 200,100")
    parser.add_argument("--tiny", action="store_true", help="digits, N = 16: a smoke test")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.members = int(args.members)
        worker(args)
        return 0
    sizes = "16 per layer" if args.tiny else args.hidden
    data = f"digits, N = {sizes}" if args.tiny else f"mnist-10k, N = {sizes}"
    print(
        f"{args.model}, {data}, batches of {args.batch}, {args.threads} thread(s), median of "
        f"{args.repeats} steps after one warm-up"
    )
    print(f"Machine: {harness.machine_description()}")
    header = f"{'mode':<8} {'P':>3} {'ms/step':>9} {'ms/member':>10} {'vs solo':>8} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for members in (int(m) for m in args.members.split(",")):
        rows = {}
        for mode in args.modes.split(","):
            arguments = ["--mode", mode, "--members", str(members), "--threads"]
            arguments += [str(args.threads), "--repeats", str(args.repeats), "--batch"]
            arguments += [str(args.batch), *(["--tiny"] if args.tiny else [])]
            arguments += ["--model", args.model, "--hidden", args.hidden]
            rows[mode] = harness.run_in_subprocess(__file__, arguments, args.threads)
        solo = rows.get("solo", {}).get("ms")
        for mode, row in rows.items():
            if "error" in row:
                print(f"{mode:<8} {members:>3} failed: {row['error']}")
                continue
            ratio = f"{solo / row['ms']:.2f}x" if solo else "n/a"
            per_member = row["ms"] / members
            print(
                f"{mode:<8} {members:>3} {row['ms']:>9.1f} {per_member:>10.1f} {ratio:>8} "
                f"{row['peak_mib']:>9.1f}"
            )
    print("vs solo: the solo mode's time over this mode's (above 1: faster than P single steps).")
    print("vmap: gradients only, fixed-shape estimator, members not equal to their solo runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
