"""Shared-exclusion partial information decomposition (I_sx), exact and differentiable.

``lattice`` gives the antichains and their Moebius inversion, ``isx_pid`` decomposes one joint
PMF exactly (optionally pointwise), and ``isx_pid_batched`` is the many-neuron plug-in estimator
that training uses. This package knows nothing of neurons.
"""

from infomorphic.pid.batched import BatchedPID, isx_pid_batched, isx_pid_binary
from infomorphic.pid.isx import PIDResult, PointwisePID, isx_pid
from infomorphic.pid.lattice import Lattice, format_antichain, lattice

__all__ = [
    "BatchedPID",
    "Lattice",
    "PIDResult",
    "PointwisePID",
    "format_antichain",
    "isx_pid",
    "isx_pid_batched",
    "isx_pid_binary",
    "lattice",
]
