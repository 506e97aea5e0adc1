"""Benchmark: one full training step of an infomorphic network, against a dense-histogram step.

Workload: one batch of 1,024 real MNIST digits (from ../shared/data/mnist-10k, standardised),
the optimised goal, both layers' goals, backward pass and Adam step of every layer, run as a step
of ``infomorphic.training.steps`` with the paper's optimiser settings; setup 1 (all-to-all
lateral input) for N = 100 and 500, setup 2 (at most 100 lateral inputs) for N = 1000 and 2000.
The baseline is the same step with the I_sx estimator swapped for a straightforward dense-grid
formulation (each neuron's full 20 x 20 x 20 x 2 histogram and all its marginals,
``bench_pid.dense_grid_pid``) as the step's goal loss, run on the same inputs.

Each case runs in its own process (see harness.py). "per epoch" is the measured time of a
training epoch over 48,000 samples (47 batches) for the project's step; for the dense step it is
47 x its per-batch time (marked ~).

    python benchmarks/bench_train.py                  # CPU (and CUDA when present), all N
    python benchmarks/bench_train.py --neurons 100    # one size
    python benchmarks/bench_train.py --profile 1000   # where one step's time goes
"""

from __future__ import annotations

import argparse
import json
import sys

import harness

BATCH = 1024
EPOCH_SAMPLES = 48_000
SIZES = {100: "setup1", 500: "setup1", 1000: "setup2", 2000: "setup2"}


VARIANTS = {
    "groups": "LocalGoalStep, the library's eager step: groups of distinct keys (the default)",
    "fixed": "LocalGoalStep, eager, groups padded to B * N (fixed shapes)",
    "compiled": "LocalGoalStep of torch.compile(fullgraph=True) of the fixed-shape goal loss",
    "graphs": "CompiledLocalGoalStep, the library's compiled step (training --compile): the "
    "same, with mode='reduce-overhead' on CUDA, replayed as CUDA graphs (CPU: as compiled)",
    "breaks": "LocalGoalStep of torch.compile(dynamic=True) of the default goal loss, split at "
    "its graph breaks",
}


def make_step(
    model_name: str, neurons: int, device: str, method: str, seed: int = 0, variant: str = "groups"
):
    """A closure that performs one training step on a fixed batch, the step, and the epoch data.

    Every variant is a step of ``infomorphic.training.steps`` (one Adam per trainable layer with
    the paper's settings); the variants differ only in the goal loss the step runs. The goal
    losses written here draw their spikes from ``step.generator``, the step's own generator (the
    closures read ``step`` when called, after it is built), as the library's default does.
    """
    import torch

    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.networks import GoalLoss, build_model
    from infomorphic.training import steps

    raw = load_dataset("mnist", data_dir=harness.MNIST_DIR, download=False)
    splits = prepare_splits(raw, 0.2, seed).to(device)
    generator = torch.Generator().manual_seed(seed)
    model = build_model(
        model_name, splits.n_features, splits.n_classes, [neurons], generator=generator
    ).to(device)
    dev = torch.device(device)

    def compile_goal_loss(**options):
        return torch.compile(model.goal_loss, backend=steps.COMPILE_BACKEND, **options)

    if method == "dense":
        from bench_pid import dense_grid_pid

        def dense_goals(layer, state):
            probs = torch.stack([state.theta, 1 - state.theta], dim=-1)
            atoms, residual = dense_grid_pid(layer.bins(state), probs, layer.n_bins)
            decomposition = torch.cat([atoms, residual[:, None]], 1)
            return decomposition @ layer.goal_weights, decomposition.detach()

        def goal_loss(x, onehot):
            states = model.run(x, onehot, step.generator)
            hidden, hidden_d = dense_goals(model.hidden[0], states.hidden[0])
            output, output_d = dense_goals(model.output, states.output)
            return GoalLoss(-(hidden.sum() + output.sum()), [hidden_d, output_d])

        step = steps.LocalGoalStep(model, dev, seed, goal_loss)
    elif variant == "groups":
        step = steps.LocalGoalStep(model, dev, seed)
    elif variant == "fixed":
        step = steps.LocalGoalStep(
            model, dev, seed, lambda x, onehot: model.goal_loss(x, onehot, step.generator, True)
        )
    elif variant == "breaks":
        eager_compiled = compile_goal_loss(dynamic=True)
        step = steps.LocalGoalStep(
            model, dev, seed, lambda x, onehot: eager_compiled(x, onehot, step.generator)
        )
    elif variant == "graphs":
        step = steps.CompiledLocalGoalStep(model, dev, seed)
    else:  # compiled: one graph without CUDA graphs; spikes from the global RNG, as "graphs"
        compiled = compile_goal_loss(fullgraph=True, dynamic=False)
        step = steps.LocalGoalStep(
            model, dev, seed, lambda x, onehot: compiled(x, onehot, None, True)
        )
        torch.manual_seed(seed)

    x, y = splits.x_train[:BATCH], splits.y_train[:BATCH]

    def epoch_data():
        repeat = -(-EPOCH_SAMPLES // len(splits.y_train))
        epoch_x = splits.x_train.repeat(repeat, 1)[:EPOCH_SAMPLES]
        return epoch_x, splits.y_train.repeat(repeat)[:EPOCH_SAMPLES]

    return (lambda: step(x, y)), step, epoch_data


def worker(args) -> None:
    import time

    import torch

    torch.set_num_threads(args.threads)
    model_name = SIZES.get(args.neurons, "setup2")
    batch_step, step, epoch_data = make_step(
        model_name, args.neurons, args.device, args.method, variant=args.variant
    )
    stats, _ = harness.measure(batch_step, args.repeats, args.device)
    if args.method != "dense" and args.epoch:
        epoch_x, epoch_y = epoch_data()
        cuda = args.device.startswith("cuda")
        order = torch.randperm(len(epoch_y), generator=torch.Generator().manual_seed(0))
        order = order.to(epoch_y.device)
        tail = len(order) % BATCH
        if tail:  # a smaller last batch: compiled variants build its graph here, not in the timing
            step(epoch_x[:tail], epoch_y[:tail])
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for begin in range(0, len(order), BATCH):
            idx = order[begin : begin + BATCH]
            step(epoch_x[idx], epoch_y[idx])
        if cuda:
            torch.cuda.synchronize()
        stats["epoch_s"] = time.perf_counter() - start
    print(json.dumps(stats))


def profile_step(
    neurons: int, threads: int, device: str = "cpu", variant: str = "groups", steps: int = 5
) -> None:
    """Median step time and a torch.profiler table over ``steps`` steps."""

    import torch

    torch.set_num_threads(threads)
    cuda = device.startswith("cuda")
    batch_step, _, _ = make_step(
        SIZES.get(neurons, "setup2"), neurons, device, "project", variant=variant
    )
    for _ in range(2):  # with measure's own warm-up: three steps before the timed ten
        batch_step()
    median = 1e3 * harness.measure(batch_step, 10, device)[0]["median_s"]
    print(f"N = {neurons}, {device}, {variant}, {threads} threads: median step {median:.2f} ms")
    activities = [torch.profiler.ProfilerActivity.CPU]
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(steps):
            batch_step()
        if cuda:
            torch.cuda.synchronize()
    print(f"profile of {steps} steps (divide times by {steps} for one step):")
    sort_by = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort_by, row_limit=20))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, nargs="*", default=None)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-dense", action="store_true", help="skip the dense baseline")
    parser.add_argument(
        "--dense-max",
        type=int,
        default=1000,
        help="largest N for the dense baseline on CPU (it needs GBs)",
    )
    parser.add_argument("--no-epoch", dest="epoch", action="store_false")
    parser.add_argument(
        "--variant",
        nargs="*",
        choices=list(VARIANTS),
        default=None,
        help="how the project's step runs (default: groups; several give several rows)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=["project", "dense"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--profile", type=int, metavar="N", help="where one step's time goes at this N"
    )
    args = parser.parse_args()
    if args.profile:
        device = "cuda" if args.device == "cuda" else "cpu"
        profile_step(args.profile, args.threads, device, (args.variant or ["groups"])[0])
        return 0
    if args.worker:
        args.neurons = args.neurons[0]
        args.variant = args.variant[0] if args.variant else "groups"
        worker(args)
        return 0

    import torch

    devices = ["cpu"] if args.device in ("auto", "cpu") else []
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        devices.append("cuda")
    sizes = args.neurons or list(SIZES)
    print(
        f"Training step (2 passes, both layers' goals, backward, Adam), batch {BATCH}, "
        f"float32; {args.threads} CPU threads; median of {args.repeats}"
    )
    print(f"Machine: {harness.machine_description()}")
    variants = args.variant or ["groups"]
    header = (
        f"{'device':<6} {'N':>5} {'model':<7} {'variant':<9}| {'step ms':>8} {'epoch s':>8} "
        f"{'+MiB':>6} {'peak':>6} | {'dense ms':>9} {'epoch s':>8} {'+MiB':>6} {'peak':>6} | "
        f"{'speed-up':>8} {'mem':>6}"
    )
    print(header)
    print("-" * len(header))
    for device in devices:
        for n in sizes:
            common = [
                "--neurons",
                str(n),
                "--device",
                device,
                "--repeats",
                str(args.repeats),
                "--threads",
                str(args.threads),
            ]
            if not args.epoch:
                common.append("--no-epoch")
            skip_dense = args.no_dense or (device == "cpu" and n > args.dense_max)
            slow = (
                {"error": "skipped"}
                if skip_dense
                else harness.run_in_subprocess(
                    __file__, [*common, "--method", "dense"], args.threads
                )
            )
            for variant in variants:
                fast = harness.run_in_subprocess(
                    __file__, [*common, "--method", "project", "--variant", variant], args.threads
                )
                print(_row(device, n, variant, fast, slow), flush=True)
    print("+MiB: memory the step adds at its peak (CPU: resident set; GPU: allocated tensors);")
    print("peak: whole-process peak resident set (CPU); mem: dense +MiB / project +MiB.")
    for variant in variants:
        print(f"variant {variant}: {VARIANTS[variant]}")
    return 0


def _row(device: str, n: int, variant: str, fast: dict, slow: dict) -> str:
    """One table row: the project's step, the dense step, and their ratios."""
    model = SIZES.get(n, "setup2")
    row = f"{device:<6} {n:>5} {model:<7} {variant:<9}| "
    if "error" in fast:
        return row + f"failed: {fast['error']}"
    epoch = fast.get("epoch_s", float("nan"))
    proc = fast.get("process_peak_mib", float("nan"))
    row += f"{1e3 * fast['median_s']:>8.1f} {epoch:>8.2f} {fast['peak_mib']:>6.0f} {proc:>6.0f} | "
    if "error" in slow:
        row += f"{'-':>9} {'-':>8} {'-':>6} {'-':>6} | {'-':>8} {'-':>6}"
        if slow["error"] != "skipped":
            row += f"  (dense failed: {slow['error']})"
        return row
    dense_epoch = slow["median_s"] * -(-EPOCH_SAMPLES // BATCH)
    mem = slow["peak_mib"] / max(fast["peak_mib"], 1.0)
    proc = slow.get("process_peak_mib", float("nan"))
    return row + (
        f"{1e3 * slow['median_s']:>9.1f} {'~' + format(dense_epoch, '.1f'):>8} "
        f"{slow['peak_mib']:>6.0f} {proc:>6.0f} | "
        f"{slow['median_s'] / fast['median_s']:>7.1f}x {mem:>5.1f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
