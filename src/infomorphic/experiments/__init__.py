"""Experiments: grids of training runs that the benchmarks, search, ablations and figures share.

``runner`` holds the engine (``grid``, ``RunSpec``, ``run_grid``); it imports torch only in
the worker processes that train. ``naming`` names run folders (``run_name``), and whether a
folder holds the same run is ``training.same_run``'s one rule.
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
