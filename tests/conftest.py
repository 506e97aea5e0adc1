"""Shared test fixtures and oracles.

Real data is located relative to the repository (``../shared/data/mnist-10k`` beside the
checkout) or by ``INFOMORPHIC_MNIST_DIR``; tests that need it skip when it is absent.
"""

from __future__ import annotations

import csv
import itertools
import os
import struct
import zlib
from pathlib import Path

# Torch picks its CPU kernels (AVX2, AVX-512) once, from the machine; floating-point results
# differ between them in the last bits. The bit-for-bit fixtures (tests/test_golden.py) were
# written with AVX2 kernels, which every x86-64 machine of the last decade has, so every test
# session uses them unless the caller chose otherwise. Set before torch is first imported.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "avx2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MNIST_10K = Path(
    os.environ.get("INFOMORPHIC_MNIST_DIR", REPO.parent / "shared" / "data" / "mnist-10k")
)

needs_mnist_10k = pytest.mark.skipif(
    not MNIST_10K.is_dir(),
    reason=f"real MNIST subset not found at {MNIST_10K} (set INFOMORPHIC_MNIST_DIR)",
)


@pytest.fixture(scope="session")
def mnist_10k_dir() -> Path:
    """The real MNIST subset (8,000 train / 2,000 test digits, IDX files)."""
    if not MNIST_10K.is_dir():
        pytest.skip(f"real MNIST subset not found at {MNIST_10K} (set INFOMORPHIC_MNIST_DIR)")
    return MNIST_10K


@pytest.fixture(autouse=True)
def _thread_count_kept():
    """Every test leaves torch's thread count as it found it: the library gives a changed count
    back (``infomorphic.threads.torch_threads``), and a leaked count would change the float
    rounding of later tests that compare runs bit for bit."""
    before = torch.get_num_threads()
    yield
    after = torch.get_num_threads()
    if after != before:
        torch.set_num_threads(before)
        pytest.fail(f"the test left torch's thread count at {after}; it found {before}")


# --- oracles shared by the PID tests --------------------------------------------------------------
#
# Plain functions, written from the definitions and independent of ``infomorphic``: nothing below
# imports or calls the package, so a test that compares the package with them compares it with
# something it did not compute itself. Sources are numbered from 1; the target is the last axis.


def entropy(q) -> float:
    """Shannon entropy in bits of the probabilities ``q`` (any shape; zeros are skipped)."""
    q = np.asarray(q, dtype=np.float64).ravel()
    q = q[q > 0]
    return float(-(q * np.log2(q)).sum())


def mutual_information(p: np.ndarray, subset) -> float:
    """I(T : S_subset) in bits from marginals of the joint ``p`` (sources..., target)."""
    n = p.ndim - 1
    drop = tuple(axis for axis in range(n) if axis + 1 not in subset)
    joint = p.sum(axis=drop)  # (S_subset..., T)
    return entropy(joint.sum(axis=-1)) + entropy(p.sum(axis=tuple(range(n)))) - entropy(joint)


def precedes(beta, alpha) -> bool:
    """beta <= alpha in the Williams-Beer order: every set of alpha contains a set of beta."""
    return all(any(set(b) <= set(a) for b in beta) for a in alpha)


def parse(label: str) -> tuple[tuple[int, ...], ...]:
    """An antichain from its label: '{1}{23}' -> ((1,), (2, 3))."""
    return tuple(tuple(int(c) for c in part) for part in label.strip("{}").split("}{"))


def invert(redundancies: dict[str, float]) -> dict[str, float]:
    """Atoms from redundancies (keyed by label) by the recursion Pi(a) = I(a) - sum_{b < a} Pi(b),
    with the order of ``precedes``: a Moebius inversion that builds no matrix."""
    nodes = {label: parse(label) for label in redundancies}
    strictly_below = {
        a: [b for b in nodes if b != a and precedes(nodes[b], nodes[a])] for a in nodes
    }
    atoms: dict[str, float] = {}
    for a in sorted(nodes, key=lambda a: len(strictly_below[a])):
        atoms[a] = redundancies[a] - sum(atoms[b] for b in strictly_below[a])
    return atoms


def random_pmf(shape, seed: int, zero_fraction: float = 0.0) -> np.ndarray:
    """A seeded random PMF of ``shape``; about ``zero_fraction`` of its entries exactly zero."""
    rng = np.random.default_rng(seed)
    p = rng.random(shape) ** 2
    if zero_fraction:
        p[rng.random(shape) < zero_fraction] = 0.0
    return p / p.sum()


def gate(function, n_inputs: int = 2, n_target: int = 2) -> np.ndarray:
    """Joint PMF of uniform independent binary inputs and the deterministic target
    t = function(*s), shape (2,) * n_inputs + (n_target,)."""
    p = np.zeros((2,) * n_inputs + (n_target,))
    for s in itertools.product((0, 1), repeat=n_inputs):
        p[(*s, function(*s))] = 1 / 2**n_inputs
    return p


def dense_pmf(bins: torch.Tensor, probs: torch.Tensor, j: int, n_bins: int) -> torch.Tensor:
    """Neuron j's plug-in joint p(s, t) = (1/B) sum_i [s_i = s] probs_i(t) as a dense
    n_bins^n x K tensor, differentiable in ``probs``.

    ``bins`` (n_sources, B, N) holds integer bin indices and ``probs`` (B, N, K) each sample's
    distribution over the K target values, the inputs of the batched estimators.
    """
    n, batch, _ = bins.shape
    k = probs.shape[-1]
    p = torch.zeros((n_bins,) * n + (k,), dtype=probs.dtype)
    index = tuple(bins[i, :, j].long()[:, None].expand(batch, k) for i in range(n))
    index += (torch.arange(k)[None, :].expand(batch, k),)
    return p.index_put_(index, probs[:, j, :] / batch, accumulate=True)


# -- image files for the image reader and predict -------------------------------------------
def write_pgm(path: Path, image: np.ndarray) -> None:
    height, width = image.shape
    path.write_bytes(b"P5\n# digit\n%d %d\n255\n" % (width, height) + image.tobytes())


def write_png(path: Path, image: np.ndarray) -> None:
    """An RGB PNG using every row filter (0-4) in turn, to test the decoder."""
    rgb = np.repeat(image[..., None], 3, axis=2).astype(np.int64)
    height, width, _ = rgb.shape
    rows, previous = [], np.zeros(width * 3, np.int64)
    for y in range(height):
        line, kind = rgb[y].reshape(-1), y % 5
        left = np.concatenate([np.zeros(3, np.int64), line[:-3]])
        corner = np.concatenate([np.zeros(3, np.int64), previous[:-3]])
        if kind == 0:
            guess = np.zeros_like(line)
        elif kind == 1:
            guess = left
        elif kind == 2:
            guess = previous
        elif kind == 3:
            guess = (left + previous) // 2
        else:
            p = left + previous - corner
            pa, pb, pc = abs(p - left), abs(p - previous), abs(p - corner)
            guess = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, corner))
        rows.append(bytes([kind]) + ((line - guess) % 256).astype(np.uint8).tobytes())
        previous = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


# -- runs shared by several test modules ------------------------------------------------------
SETUP1_EPOCHS, SETUP1_HIDDEN = 15, 50


@pytest.fixture(scope="module")
def digits():
    """The bundled digits split as the tests' runs split them (20% validation, seed 0)."""
    from infomorphic.data import load_dataset, prepare_splits

    return prepare_splits(load_dataset("digits"), 0.2, 0)


@pytest.fixture(scope="session")
def setup1_run(tmp_path_factory):
    """setup 1 on digits (observed test accuracy 0.86 with seed 0)."""
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.training import TrainConfig, train

    out = tmp_path_factory.mktemp("setup1")
    config = TrainConfig(
        dataset="digits",
        model="setup1",
        hidden=[SETUP1_HIDDEN],
        epochs=SETUP1_EPOCHS,
        batch_size=64,
        seed=0,
    )
    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    summary = train(config, out, splits=splits, progress=False)
    return out, summary


def read_history(out):
    with open(out / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


#: The small run of the hardening and inference tests (seed 0: the digits fixture's split, so
#: that runs of the command line, which split by the run's seed, are the library's runs).
SMALL = {"dataset": "digits", "model": "setup1", "hidden": [12], "batch_size": 256, "seed": 0}


@pytest.fixture(scope="session")
def finished(tmp_path_factory):
    """A finished 2-epoch run (every run file present) and the straight 4-epoch run."""
    from infomorphic.data import load_dataset, prepare_splits
    from infomorphic.training import TrainConfig, train

    splits = prepare_splits(load_dataset("digits"), 0.2, 0)
    base = tmp_path_factory.mktemp("finished")
    train(TrainConfig(**SMALL, epochs=2), base / "run", splits=splits, progress=False)
    train(TrainConfig(**SMALL, epochs=4), base / "straight4", splits=splits, progress=False)
    return base / "run", base / "straight4"


# The paper's cumulative order, least important first (SPEC.md section 5: indices 4, 16, 10,
# 17, 5, 9, 8, 14, 18, 13, 12, 6, 15, 3, 7, 1, 0, 2, 11 of the 19-vector), typed as labels.
PAPER_ORDER_LABELS = [
    "{F}{CL}",
    "{CL}",
    "{FC}{FL}{CL}",
    "{FCL}",
    "{C}{FL}",
    "{L}",
    "{C}",
    "{FC}",
    "H_res",
    "{FL}{CL}",
    "{FC}{CL}",
    "{L}{FC}",
    "{FL}",
    "{C}{L}",
    "{F}",
    "{F}{C}",
    "{F}{C}{L}",
    "{F}{L}",
    "{FC}{FL}",
]


# The paper's Table 2 (appendix A.8) order of the atoms of three sources.
TABLE_2 = (
    "{F}{C}{L}",
    "{F}{C}",
    "{F}{L}",
    "{C}{L}",
    "{F}{CL}",
    "{C}{FL}",
    "{L}{FC}",
    "{F}",
    "{C}",
    "{L}",
    "{FC}{FL}{CL}",
    "{FC}{FL}",
    "{FC}{CL}",
    "{FL}{CL}",
    "{FC}",
    "{FL}",
    "{CL}",
    "{FCL}",
    "H_res",
)


# The CIFAR-10 goal, typed from the authors' published configuration (docs/protocol.md,
# "Named goals"; the paper draws it in Fig. 4.D).
PUBLISHED_CIFAR = [
    0.9837820726191796,
    0.6048455749515627,
    -0.21334943315606067,
    0.24265712902806794,
    0.33962813939570347,
    -0.5790385828040313,
    0.04999679463591504,
    0.03361529158166076,
    0.5973862257913375,
    -0.07824457437830484,
    0.4762356584665217,
    -0.8475447215243984,
    -0.3991893069538312,
    0.5563392672403792,
    0.2714717752741452,
    -0.46227689740518685,
    -0.06276458120619889,
    -0.26289699781803655,
    0.0,
]
