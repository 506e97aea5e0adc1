"""Shared-exclusion partial information decomposition (I_sx), exact and differentiable.

``lattice`` gives the antichains and their Moebius inversion, ``isx_pid`` decomposes one joint
PMF exactly (optionally pointwise), ``isx_pid_rows`` the same from a table's observed rows
(never building the dense array), and ``isx_pid_batched`` is the many-neuron plug-in estimator
that training uses. This package knows nothing of neurons.
"""

from infomorphic.pid.batched import BatchedPID, isx_pid_batched, isx_pid_binary
from infomorphic.pid.isx import isx_pid, isx_pid_rows
from infomorphic.pid.lattice import Lattice, format_antichain, lattice
from infomorphic.pid.result import PIDResult, PointwisePID, format_bits

__all__ = [
    "BatchedPID",
    "Lattice",
    "PIDResult",
    "PointwisePID",
    "format_antichain",
    "format_bits",
    "isx_pid",
    "isx_pid_batched",
    "isx_pid_binary",
    "isx_pid_rows",
    "lattice",
]
