"""Shared test fixtures and oracles.

Real data is located relative to the repository (``../shared/data/mnist-10k`` beside the
checkout) or by ``INFOMORPHIC_MNIST_DIR``; tests that need it skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
