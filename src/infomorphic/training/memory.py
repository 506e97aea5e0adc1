"""Refuse a network that cannot fit in memory before allocating it.

``--hidden 100000000`` asked torch for 313 GB and ended in an allocator's traceback. A lower
bound of a network's memory is cheap to know from its layer sizes (the feedforward weights
alone; with training, their gradients and Adam's two moments too), and so is the memory free
on the device; a network whose bound does not fit is refused with both numbers. The bound
never overestimates, so nothing that fits is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch

from infomorphic.networks.spec import weight_count

__all__ = ["check_memory", "free_memory"]

#: Bytes per weight while training: the weight, its gradient and Adam's two moments (float32).
TRAINING_BYTES = 4 * 4
WEIGHT_BYTES = 4


def _meminfo_available(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_free(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    try:
        limit = (root / "memory.max").read_text().strip()
        used = int((root / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - used)


def free_memory(device: torch.device) -> int | None:
    """Bytes free for a new allocation on ``device`` (None where that is unknown)."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    if device.type != "cpu":
        return None
    known = [v for v in (_meminfo_available(), _cgroup_free()) if v is not None]
    if not known:
        try:
            import os

            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return min(known)


def _size(n: float) -> str:
    units = ("bytes", "KB", "MB", "GB", "TB", "PB")
    power = min(int(math.log(max(n, 1), 1000)), len(units) - 1)
    return f"{n / 1000**power:.1f} {units[power]}"


def check_memory(
    hidden: Sequence[int],
    n_features: int,
    n_classes: int,
    device: torch.device,
    training: bool = True,
    copies: int = 1,
) -> None:
    """Raise ValueError when ``copies`` networks of these sizes cannot fit in the memory free
    on ``device``."""
    weights = weight_count(n_features, hidden, n_classes) * copies
    need = weights * (TRAINING_BYTES if training else WEIGHT_BYTES)
    free = free_memory(device)
    if free is None or need <= free:
        return
    what = "weights, their gradients and Adam's state" if training else "weights"
    sizes = ",".join(map(str, hidden))
    raise ValueError(
        f"hidden layer sizes {sizes} need at least {_size(need)} of memory for the network's "
        f"{what} ({weights:,} weights of {n_features} inputs and {n_classes} classes), and "
        f"{device.type} has {_size(free)} free; choose smaller layers"
    )
