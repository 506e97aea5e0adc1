#!/usr/bin/env bash
# The prepared GPU check for a session that is lent a device machine (one call, about 6 minutes):
#   here:   mkdir -p .devdata && cp -r ../shared/data/mnist-10k .devdata/ && echo /.devdata/ >> .git/info/exclude
#   device: run(command="bash benchmarks/device_check.sh", carry=[".devdata"], timeout_s=540)
# It checks the CUDA path against the CPU in float64, then times the training step and the
# estimator on the GPU; the tables land in $OUT for benchmarks/README.md. The device image has
# its own torch, so the package runs from src/ without installing.
set -uo pipefail
export PYTHONPATH="$PWD/src" PYTHONUNBUFFERED=1 INFOMORPHIC_MNIST_DIR="$PWD/.devdata/mnist-10k"
OUT="${OUT:-/tmp/device_out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 - <<'PY' 2>&1 | tee "$OUT/cuda_checks.txt"
import torch
from infomorphic.pid import isx_pid_batched, isx_pid
torch.manual_seed(0)
for n, nb in ((2, 20), (3, 20), (4, 6)):
    bins = torch.randint(0, nb, (n, 1024, 64))
    probs = torch.softmax(torch.randn(1024, 64, 2, dtype=torch.float64), -1).requires_grad_()
    a_cpu, h_cpu = isx_pid_batched(bins, probs, nb)
    g_cpu, = torch.autograd.grad(a_cpu.sum() + h_cpu.sum(), probs)
    probs_gpu = probs.detach().cuda().requires_grad_()
    a_gpu, h_gpu = isx_pid_batched(bins.cuda(), probs_gpu, nb)
    g_gpu, = torch.autograd.grad(a_gpu.sum() + h_gpu.sum(), probs_gpu)
    print(f"n={n}: max |atoms cuda - cpu| {(a_gpu.cpu() - a_cpu).abs().max():.2e}, "
          f"max |grad cuda - cpu| {(g_gpu.cpu() - g_cpu).abs().max():.2e}")
p = torch.rand(3, 3, 2, dtype=torch.float64)
r_cpu, r_gpu = isx_pid(p / p.sum()), isx_pid((p / p.sum()).cuda())
print("isx_pid cuda - cpu:", (r_gpu.atoms_tensor.cpu() - r_cpu.atoms_tensor).abs().max().item())
PY
python3 -m infomorphic.cli train --dataset mnist --data-dir "$INFOMORPHIC_MNIST_DIR" --model setup2 \
  --hidden 2000 --epochs 3 --device cuda --out "$OUT/run_setup2" --no-progress 2>&1 | tee "$OUT/train_cuda.txt"
python3 benchmarks/bench_train.py --device cuda --repeats 20 2>&1 | tee "$OUT/bench_train_cuda.txt"
python3 benchmarks/bench_pid.py --device cuda --repeats 20 2>&1 | tee "$OUT/bench_pid_cuda.txt"
