"""Experiments: grids of training runs that the benchmarks, search, ablations and figures share.

``runner`` holds the engine (``grid``, ``RunSpec``, ``run_grid``); it imports torch only in
the worker processes that train.
"""

from infomorphic.experiments.runner import (
    Progress,
    RunResult,
    RunSpec,
    grid,
    run_grid,
    run_name,
    run_one,
)

__all__ = ["Progress", "RunResult", "RunSpec", "grid", "run_grid", "run_name", "run_one"]
