"""Benchmark: the pieces of the training step and run, one at a time.

    python benchmarks/bench_parts.py estimator   # the estimator's share of the step, N = 100, 1000
    python benchmarks/bench_parts.py lateral     # masked dense vs sparse CSR lateral product
    python benchmarks/bench_parts.py sort        # grouping keys: torch.unique of int64 vs int32
    python benchmarks/bench_parts.py save        # one run-folder save at N = 2000, epochs 1, 100
    python benchmarks/bench_parts.py memory      # the process's resident memory, stage by stage

Everything runs in this process on one real mnist-10k batch of 1,024 digits (or random tensors
of the training shapes), median of 9 after two warm-ups, 2 threads unless --threads says.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import harness

BATCH = 1024
SIZES = {100: "setup1", 1000: "setup2", 2000: "setup2"}


def median_ms(fn) -> float:
    return harness.repeat_ms(fn, repeats=9, warmups=2)


def real_batch():
    import torch

    from infomorphic.data import load_dataset, prepare_splits

    splits = prepare_splits(load_dataset("mnist", data_dir=harness.MNIST_DIR), 0.2, 0)
    x, y = splits.x_train[:BATCH], splits.y_train[:BATCH]
    return splits, x, torch.nn.functional.one_hot(y, splits.n_classes).float()


def estimator_share() -> None:
    splits, x, onehot = real_batch()
    for n in (100, 1000):
        _estimator_case(n, splits, x, onehot)


def _estimator_case(n, splits, x, onehot) -> None:
    import torch

    from infomorphic.networks import build_model
    from infomorphic.pid import isx_pid_binary

    gen = torch.Generator().manual_seed(0)
    model = build_model(SIZES[n], splits.n_features, splits.n_classes, [n], generator=gen)
    state = model.run(x, onehot, torch.Generator().manual_seed(0)).hidden[0]
    bins, weights = model.hidden[0].bins(state), torch.randn(18)
    theta = state.theta.detach().clone().requires_grad_(True)

    def forward():
        with torch.no_grad():
            isx_pid_binary(bins, theta, 20, check_inputs=False)

    def forward_backward():
        atoms, h_res = isx_pid_binary(bins, theta, 20, check_inputs=False)
        ((atoms @ weights).sum() + h_res.sum()).backward()

    def step():
        model.goal_loss(x, onehot, torch.Generator().manual_seed(0)).loss.backward()

    print(
        f"N = {n:>4} ({SIZES[n]}): hidden-layer estimator forward {median_ms(forward):.2f} ms, "
        f"forward + backward {median_ms(forward_backward):.2f} ms; goal_loss forward + "
        f"backward {median_ms(step):.2f} ms"
    )


def lateral_product() -> None:
    for n in (1000, 2000):
        _lateral_case(n)


def _lateral_case(n: int) -> None:
    import torch

    from infomorphic.nn.layers import lateral_mask

    mask = lateral_mask(n, 100, torch.Generator().manual_seed(0))
    weight = torch.randn(n, n, requires_grad=True)
    spikes, grad = torch.randn(BATCH, n).sign(), torch.randn(BATCH, n)
    rows, cols = mask.nonzero().T
    crow = torch.zeros(n + 1, dtype=torch.long)
    crow[1:] = torch.bincount(rows, minlength=n).cumsum(0)

    def dense():
        weight.grad = None
        torch.nn.functional.linear(spikes, weight * mask).backward(grad)

    def sparse():
        weight.grad = None
        matrix = torch.sparse_csr_tensor(crow, cols, weight[rows, cols], (n, n))
        (matrix @ spikes.T).T.backward(grad)

    print(
        f"N = {n}, 100 inputs per neuron, product + weight gradient: masked dense "
        f"{median_ms(dense):.1f} ms, sparse CSR {median_ms(sparse):.1f} ms"
    )


def sort_keys() -> None:
    import torch

    for n in (100, 1000, 2000):
        gen = torch.Generator().manual_seed(0)
        keys = torch.randint(0, 30, (BATCH, n), generator=gen) * 17 + torch.arange(n) * 8000
        for dtype in (torch.int64, torch.int32):
            flat = keys.reshape(-1).to(dtype)

            def unique(flat=flat):
                torch.unique(flat, return_inverse=True, return_counts=True)

            print(
                f"N = {n:>4}: torch.unique of {flat.numel():,} {dtype} keys "
                f"{median_ms(unique):.2f} ms"
            )


def run_folder_save() -> None:
    """One save of a run folder as the training run makes it, setup 2, N = 2000, after epoch 1
    and epoch 100: ``history.csv`` (rewritten after every epoch), then what
    ``RunFolderWriter.save`` writes, ``atoms.npz`` (every epoch's mean atoms and self-cosine
    distances) and ``checkpoint.pt`` (the Trainer's state after a real training step: weights,
    Adam moments, generators, history). The atoms are random float32 of the trained shapes."""
    import numpy as np

    from infomorphic.training import RunFolder, RunFolderWriter, TrainConfig, Trainer

    splits, _, _ = real_batch()
    config = TrainConfig(
        dataset="mnist", data_dir=str(harness.MNIST_DIR), model="setup2", hidden=[2000], epochs=100
    )
    trainer = Trainer(config, splits=splits)
    x, y = trainer.splits.x_train[:BATCH], trainer.splits.y_train[:BATCH]
    shapes = [d.shape for d in trainer.step(x, y)]  # one real step: Adam holds its moments
    layers = list(zip(trainer.model.layer_names(), shapes, strict=True))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as out:
        folder = RunFolder(out)
        writer = RunFolderWriter(folder)
        for epochs in (1, 100):
            while trainer.epoch < epochs:  # the records of an epoch, as Trainer.fit keeps them
                trainer.epoch += 1
                means = {name: rng.random(shape, dtype=np.float32) for name, shape in layers}
                row = {
                    "epoch": trainer.epoch,
                    "train_accuracy": 0.9,
                    "val_accuracy": 0.9,
                    "test_accuracy": 0.9,
                    "seconds": 10.0 * trainer.epoch,
                }
                row.update(trainer.recorder.record(means))
                trainer.history.append(row)
            start = time.perf_counter()
            folder.write_history(trainer.history)
            writer.save(trainer)
            seconds = time.perf_counter() - start
            sizes = {f.name: f"{f.stat().st_size / 2**20:.1f} MB" for f in Path(out).iterdir()}
            print(
                f"setup 2, N = 2000, after epoch {epochs}: one full save {seconds:.3f} s; {sizes}"
            )


def _resident_mib() -> tuple[float, float]:
    """(current, peak) resident set of this process."""
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def process_memory() -> None:
    """Resident memory after each stage of setting up one training step (setup 1, N = 100);
    run by ``main`` before anything imports torch."""
    marks = [("start (Python, harness)", _resident_mib()[0])]
    import torch

    marks.append(("import torch", _resident_mib()[0]))
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.networks import build_model

    raw = load_dataset("mnist", data_dir=harness.MNIST_DIR)
    marks.append(("mnist-10k read", _resident_mib()[0]))
    splits = prepare_splits(raw, 0.2, 0)
    del raw
    model = build_model(
        "setup1",
        splits.n_features,
        splits.n_classes,
        [100],
        generator=torch.Generator().manual_seed(0),
    )
    marks.append(("standardised splits and the model", _resident_mib()[0]))
    from infomorphic.training.steps import LocalGoalStep

    step = LocalGoalStep(model, torch.device("cpu"), seed=0)  # the paper's Adam per layer
    marks.append(("the training step (two Adam)", _resident_mib()[0]))
    x, y = splits.x_train[:BATCH], splits.y_train[:BATCH]
    for _ in range(3):
        step(x, y)
    marks.append(("three training steps (peak)", _resident_mib()[1]))
    for name, mib in marks:
        print(f"  {name:<36} {mib:6.0f} MiB")


PARTS = {
    "estimator": estimator_share,
    "lateral": lateral_product,
    "sort": sort_keys,
    "save": run_folder_save,
    "memory": process_memory,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=list(PARTS))
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    if args.part != "memory":  # memory must see torch's import itself
        import torch

        torch.set_num_threads(args.threads)
    PARTS[args.part]()
    print(f"Machine: {harness.machine_description()}, {args.threads} threads")  # imports torch
    return 0


if __name__ == "__main__":
    sys.exit(main())
