#!/usr/bin/env bash
# The prepared GPU check for a session that is lent a device machine: one call, at most
# about 9.5 minutes (the CPU dry run below took 343 s, and 334 s on 2026-11-30).
#   here:   mkdir -p .devdata && cp -r ../shared/data/mnist-10k .devdata/ &&
#           cp -r /usr/share/datasets/fashion-mnist .devdata/   # apt-get install dataset-fashion-mnist
#   device: run(command="bash benchmarks/device_check.sh", carry=[".devdata"], timeout_s=560)
# Each stage has its own time limit and the script goes on when one fails; every table lands in
# $OUT for benchmarks/README.md. The device image has its own torch, so the package runs from
# src/ without installing. Stages, most important first:
#   1. correctness: CUDA against CPU (float64, both estimator variants); the compiled step on CUDA
#      against the eager one (inductor with eager RNG, so the spikes are the same draws);
#   2. bench_train at N = 2000 (setup 2) and 100 (setup 1) for the step variants;
#   3. a full training run: setup 2, N = 2000, 100 epochs on 48,000 Fashion-MNIST training
#      images, --compile (cut off after 150 s; history.csv then holds the epochs done and their
#      seconds);
#   4. bench_pid on CUDA.
# A dry run of the script's plumbing on a machine without a GPU (small sizes, CPU for "cuda"):
#   PATH="$PWD/.venv/bin:$PATH" DEVICE=cpu N_BIG=200 EPOCHS=2 OUT=/tmp/dry bash benchmarks/device_check.sh
set -uo pipefail
DEVICE="${DEVICE:-cuda}" N_BIG="${N_BIG:-2000}" EPOCHS="${EPOCHS:-100}"
export DEVICE N_BIG
export PYTHONPATH="$PWD/src:$PWD/benchmarks" PYTHONUNBUFFERED=1
export INFOMORPHIC_MNIST_DIR="$PWD/.devdata/mnist-10k"
OUT="${OUT:-/tmp/device_out}"
mkdir -p "$OUT"
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*" | tee -a "$OUT/stages.txt"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$OUT/gpu.txt"

stamp "1. correctness"
timeout 120 python3 - <<'PY' 2>&1 | tee "$OUT/cuda_checks.txt"
import os
import torch
from infomorphic.pid import isx_pid, isx_pid_batched
dev, n_big = os.environ["DEVICE"], int(os.environ["N_BIG"])
torch.manual_seed(0)
for n, nb in ((2, 20), (3, 20), (4, 6)):
    bins = torch.randint(0, nb, (n, 1024, 64))
    probs = torch.softmax(torch.randn(1024, 64, 2, dtype=torch.float64), -1).requires_grad_()
    a_cpu, h_cpu = isx_pid_batched(bins, probs, nb)
    g_cpu, = torch.autograd.grad(a_cpu.sum() + h_cpu.sum(), probs)
    for fixed in (False, True):
        probs_gpu = probs.detach().to(dev).requires_grad_()
        a_gpu, h_gpu = isx_pid_batched(bins.to(dev), probs_gpu, nb, fixed_shapes=fixed)
        g_gpu, = torch.autograd.grad(a_gpu.sum() + h_gpu.sum(), probs_gpu)
        print(f"n={n} fixed_shapes={fixed}: max |atoms cuda - cpu| "
              f"{(a_gpu.cpu() - a_cpu).abs().max():.2e}, max |grad cuda - cpu| "
              f"{(g_gpu.cpu() - g_cpu).abs().max():.2e}")
p = torch.rand(3, 3, 2, dtype=torch.float64)
r_cpu, r_gpu = isx_pid(p / p.sum()), isx_pid((p / p.sum()).to(dev))
print("isx_pid cuda - cpu:", (r_gpu.atoms_tensor.cpu() - r_cpu.atoms_tensor).abs().max().item())

import torch._inductor.config as inductor_config
from infomorphic.networks import build_model
inductor_config.fallback_random = True  # the compiled graph draws the same spikes as eager
gen = torch.Generator().manual_seed(0)
model = build_model("setup2", 784, 10, [n_big], generator=gen).to(dev)
x = torch.randn(1024, 784, device=dev)
onehot = torch.nn.functional.one_hot(torch.randint(0, 10, (1024,), device=dev), 10).float()
compiled = torch.compile(model.goal_loss, fullgraph=True, dynamic=False)
results = []
for fn, fixed in ((model.goal_loss, False), (compiled, True)):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(1)
    loss, _ = fn(x, onehot, None, fixed)
    loss.backward()
    results.append((loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
(le, ge), (lc, gc) = results
print(f"compiled vs eager step on {dev}, N = {n_big}: loss {lc:.6f} vs {le:.6f}, max |grad diff| "
      f"{max((a - b).abs().max().item() for a, b in zip(gc, ge)):.2e}")
PY

stamp "2. bench_train N = $N_BIG (setup 2)"
timeout 270 python3 benchmarks/bench_train.py --device "$DEVICE" --neurons "$N_BIG" --repeats 20 \
  --variant groups graphs compiled fixed 2>&1 | tee "$OUT/bench_train_${DEVICE}_${N_BIG}.txt"
stamp "2. bench_train N = 100 (setup 1)"
timeout 90 python3 benchmarks/bench_train.py --device "$DEVICE" --neurons 100 --repeats 20 \
  --variant groups graphs 2>&1 | tee "$OUT/bench_train_${DEVICE}_100.txt"

stamp "3. $EPOCHS-epoch setup-2 run, N = $N_BIG, Fashion-MNIST, --compile (cut at 150 s)"
RUN="$OUT/run_setup2_$N_BIG"
timeout 150 python3 -m infomorphic train --dataset fashion-mnist \
  --data-dir "$PWD/.devdata/fashion-mnist" --model setup2 --hidden "$N_BIG" --epochs "$EPOCHS" \
  --device "$DEVICE" --compile --out "$RUN" --no-progress 2>&1 | tail -5 | tee "$OUT/train.txt"
python3 - "$RUN/history.csv" <<'PY' 2>&1 | tee -a "$OUT/train.txt"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
first, last = rows[0], rows[-1]
later = (float(last["seconds"]) - float(first["seconds"])) / max(len(rows) - 1, 1)
print(f"{len(rows)} epochs done in {float(last['seconds']):.1f} s (training + evaluation; "
      f"epoch 1 with compilation {float(first['seconds']):.1f} s, later epochs {later:.2f} s "
      f"each); test accuracy {float(last['test_accuracy']):.4f}")
PY

stamp "4. bench_pid"
timeout 60 python3 benchmarks/bench_pid.py --device "$DEVICE" --repeats 20 2>&1 \
  | tee "$OUT/bench_pid_${DEVICE}.txt"
stamp "done"
