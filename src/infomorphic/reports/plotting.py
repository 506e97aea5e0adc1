"""What the report figures share: matplotlib (Agg unless pyplot is loaded), PNG bytes, colours.

The ablation and inspection figures (``ablation_figures``, ``inspection_figures``) draw with
these helpers and return each figure as PNG bytes; the reports write them.
"""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "HIGHLIGHT",
    "NEGATIVE",
    "NEUTRAL",
    "POSITIVE",
    "png_bytes",
    "require_matplotlib",
]

POSITIVE, NEGATIVE, NEUTRAL, HIGHLIGHT = "#2166ac", "#b2182b", "#9e9e9e", "#d6604d"
DPI = 100


def require_matplotlib() -> Any:
    """matplotlib.pyplot (Agg unless pyplot was loaded already), or an ImportError that names
    the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "reports draw their figures with matplotlib: pip install 'infomorphic[figures]'"
        ) from None
    if "matplotlib.pyplot" not in sys.modules:  # never switch a backend the caller chose
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (tight bounding box); the figure is closed."""
    plt = require_matplotlib()
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()
