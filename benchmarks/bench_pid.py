"""Benchmark: ``isx_pid_batched`` against a dense-grid I_sx estimator for many neurons.

Both compute the plug-in I_sx atoms of N neurons from one batch (B samples, n = 3 sources binned
into 20 bins, binary target) and backpropagate a goal (random weights . (atoms, H_res)) to the
neurons' logits. The dense formulation, written below, builds every neuron's full
n_bins^n x K histogram in one (N, n_bins^n, K) tensor, takes all 2^n - 1 subset marginals by
summing axes, forms the union masses by inclusion-exclusion, and applies the Moebius inversion.

Each (device, method, N) case runs in a fresh subprocess after a tiny warm-up run, and its time
and peak memory are read as harness.py describes (the memory the case adds at its peak). Times
are the median of ``--repeats`` runs after one warm-up, forward plus backward. The parent
checks that all methods give the same atoms.

    python benchmarks/bench_pid.py            # N = 100, 1000, 2000
    python benchmarks/bench_pid.py --quick    # N = 100 only
    python benchmarks/bench_pid.py --profile 1000   # where the batched estimator's time goes
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile

import harness

N_SOURCES = 3
N_BINS = 20
BATCH = 1024
N_TARGET = 2


WARM_N = 2  # neurons in the tiny warm-up run that precedes the memory baseline
RANGE = 20.0  # hidden-layer binning range (-20, 20), the paper's Table 1 (docs/protocol.md)
METHODS = {
    "batched": "isx_pid_batched",
    "dense": "dense grid (in this script)",
}


# --- the dense-grid formulation ---------------------------------------------------------------


def dense_grid_pid(bins, probs, n_bins):
    """I_sx atoms (N, n_atoms) and H_res (N,) of N neurons via full per-neuron histograms."""
    import torch

    from infomorphic.pid import lattice

    n, batch, neurons = bins.shape
    k = probs.shape[-1]
    lat = lattice(n)
    dtype, device = probs.dtype, probs.device
    grid = n_bins**n

    # joint histogram p(s, t) of every neuron, flattened over the source grid
    key = torch.zeros(batch, neurons, dtype=torch.long, device=device)
    for i in range(n):
        key = key * n_bins + bins[i]
    flat_key = (key + torch.arange(neurons, device=device) * grid).reshape(-1)
    hist = torch.zeros(neurons * grid, k, dtype=dtype, device=device)
    hist = hist.index_add(0, flat_key, probs.reshape(batch * neurons, k) / batch)
    p = hist.reshape(neurons, *(n_bins,) * n, k)

    # marginals of every source subset, with and without the target, broadcast to the grid
    joint, source = [], []
    for subset in lat.subsets:
        axes = [1 + i for i in range(n) if i + 1 not in subset]
        m = p.sum(dim=axes, keepdim=True) if axes else p
        joint.append(m.expand_as(p))
        source.append(m.sum(dim=-1, keepdim=True).expand(*p.shape[:-1], 1))
    coeff = torch.tensor(lat.union_coefficients, dtype=dtype, device=device)
    union_joint = torch.einsum("as,s...->a...", coeff, torch.stack(joint))
    union_source = torch.einsum("as,s...->a...", coeff, torch.stack(source))
    p_target = p.sum(dim=tuple(range(1, n + 1)), keepdim=True)

    support = p > 0
    source_support = support.any(dim=-1, keepdim=True)
    one = torch.ones((), dtype=dtype, device=device)
    local = (
        torch.log2(torch.where(support, union_joint, one))
        - torch.log2(torch.where(source_support, union_source, one))
        - torch.log2(torch.where(support, p_target, one))
    )
    redundancies = (p * local).reshape(len(lat), neurons, -1).sum(dim=-1)  # (A, N)
    atoms = redundancies.T @ torch.tensor(lat.mobius.T, dtype=dtype, device=device)
    p_t = p_target.reshape(neurons, k)
    target_entropy = -(p_t * torch.log2(torch.where(p_t > 0, p_t, one))).sum(dim=-1)
    return atoms, target_entropy - redundancies[lat.top]


# --- one case, in its own process -------------------------------------------------------------


def make_inputs(neurons, device, seed=0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    # aggregated inputs of hidden neurons, binned into 20 equal bins on (-20, 20)
    values = torch.randn(N_SOURCES, BATCH, neurons, generator=gen) * 6.0
    width = 2 * RANGE / N_BINS
    bins = ((values.clamp(-RANGE, RANGE - 1e-3) + RANGE) / width).floor().long()
    logits = torch.randn(BATCH, neurons, generator=gen)
    weights = torch.rand(19, generator=gen) * 2 - 1
    return bins.to(device), logits.to(device), weights.to(device)


def worker(args) -> None:
    import torch

    from infomorphic.pid import isx_pid_batched

    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    def estimate(bins, theta):
        probs = torch.stack([theta, 1 - theta], dim=-1)  # (B, N, 2)
        method = isx_pid_batched if args.method == "batched" else dense_grid_pid
        return method(bins, probs, N_BINS)

    def step(bins, logits0, weights):
        logits = logits0.clone().requires_grad_(True)
        atoms, h_res = estimate(bins, torch.sigmoid(logits))
        goal = (atoms @ weights[:-1]).sum() + (h_res * weights[-1]).sum()
        (-goal).backward()
        return atoms.detach(), logits.grad

    # a tiny run first, so that lazily loaded kernels and thread pools are in the baseline
    step(*make_inputs(WARM_N, device, seed=1))
    inputs = make_inputs(args.neurons, device)
    gc.collect()
    stats, (atoms, _) = harness.measure(lambda: step(*inputs), args.repeats, device)
    torch.save(atoms.cpu(), args.atoms_out)
    print(json.dumps(stats))


# --- where the batched estimator's time goes -----------------------------------------------------


def profile_batched(neurons: int, threads: int) -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from infomorphic.pid import isx_pid_batched
    from infomorphic.pid.batched import group_structure

    torch.set_num_threads(threads)
    bins, logits0, weights = make_inputs(neurons, "cpu")
    theta = torch.sigmoid(logits0)
    probs0 = torch.stack([theta, 1 - theta], dim=-1)

    def best_of(fn):
        return harness.repeat_ms(fn, repeats=3, reduce=min)

    def group_keys():
        with torch.no_grad():
            group_structure(bins, N_BINS, probs0.dtype)

    def forward():
        with torch.no_grad():
            isx_pid_batched(bins, probs0, N_BINS)

    def forward_backward():
        probs = probs0.clone().requires_grad_(True)
        atoms, h_res = isx_pid_batched(bins, probs, N_BINS)
        ((atoms @ weights[:-1]).sum() + (h_res * weights[-1]).sum()).backward()

    print(f"isx_pid_batched, N = {neurons}, {threads} threads (best of 3, ms)")
    print(f"  grouping by bin keys (incl. sorts):         {best_of(group_keys):8.1f}")
    print(f"  forward (no grad), total:                  {best_of(forward):8.1f}")
    print(f"  forward + backward:                        {best_of(forward_backward):8.1f}")
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        forward_backward()
    table = prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total",
        row_limit=15,
        max_name_column_width=28,
        max_shapes_column_width=48,
    )
    print(table)


# --- the parent: run the cases, compare, print the table -----------------------------------------


def run_case(method, neurons, device, args, tmp):
    atoms_out = os.path.join(tmp, f"{method}-{device}-{neurons}.pt")
    arguments = [
        "--method",
        method,
        "--neurons",
        str(neurons),
        "--device",
        device,
        "--repeats",
        str(args.repeats),
        "--threads",
        str(args.threads),
        "--atoms-out",
        atoms_out,
    ]
    result = harness.run_in_subprocess(__file__, arguments, args.threads)
    if "error" in result:
        return result
    result["atoms_out"] = atoms_out
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only N = 100")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CPU and CUDA"
    )
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile isx_pid_batched at N neurons and exit"
    )
    parser.add_argument("--neurons", type=int, nargs="*", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--atoms-out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        args.neurons = args.neurons[0]
        worker(args)
        return

    if args.profile:
        profile_batched(args.profile, args.threads)
        return

    import torch

    sizes = args.neurons or ([100] if args.quick else [100, 1000, 2000])
    devices = ["cpu"] if args.device == "cpu" else ["cuda"] if args.device == "cuda" else ["cpu"]
    if args.device == "auto" and torch.cuda.is_available():
        devices.append("cuda")

    print(
        f"I_sx plug-in estimator, forward + backward: B = {BATCH}, n = {N_SOURCES}, "
        f"{N_BINS} bins, K = {N_TARGET}, float32, {args.threads} CPU threads, "
        f"median of {args.repeats}"
    )
    header = (
        f"{'device':<6} {'N':>5}  {'method':<31} {'time ms':>9} {'peak MiB':>9} "
        f"{'dense/this time':>15} {'dense/this mem':>14} {'max |d atoms| vs dense':>22}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for device in devices:
            for neurons in sizes:
                runs = {m: run_case(m, neurons, device, args, tmp) for m in METHODS}
                dense = runs["dense"]
                reference = torch.load(dense["atoms_out"]) if "error" not in dense else None
                for method, run in runs.items():
                    label = f"{device:<6} {neurons:>5}  {METHODS[method]:<31}"
                    if "error" in run:
                        print(f"{label} failed: {run['error']}")
                        continue
                    t_ms, peak = 1e3 * run["median_s"], run["peak_mib"]
                    speed = mem = diff = "-"
                    if reference is not None:
                        speed = f"{dense['median_s'] / run['median_s']:.1f}x"
                        mem = f"{dense['peak_mib'] / peak:.1f}x" if peak > 0 else "inf"
                        atoms = torch.load(run["atoms_out"])
                        diff = f"{(atoms - reference).abs().max().item():.2e}"
                    print(
                        f"{label} {t_ms:>9.1f} {peak:>9.1f} {speed:>15} {mem:>14} {diff:>22}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
