"""The numbers of the paper's protocol that several layers share, written once (torch-free).

20 bins per source, on (-20, 20) for the hidden layers' fixed binning: the paper's Table 1
(appendix A.4) and section 4; two lateral passes: section 4 and appendix A.9 (docs/protocol.md).
"""

from __future__ import annotations

__all__ = ["HIDDEN_RANGE", "N_BINS", "PASSES"]

#: Bins per source of a layer's goal estimate.
N_BINS = 20
#: The range of the hidden layers' fixed binning; values outside land in the end bins.
HIDDEN_RANGE = (-20.0, 20.0)
#: Lateral passes of a recurrent network; the goals see the last.
PASSES = 2
