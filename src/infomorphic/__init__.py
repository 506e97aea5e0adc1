"""Infomorphic networks: neurons that learn from local goals written in shared-exclusion PID.

Layers of the package, each importing only those below it: ``pid`` (the I_sx measure) <- ``nn``
(neurons and layers) <- ``networks`` (the paper's networks) <- ``training`` (with ``data``
beside it) <- ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("infomorphic")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled source tree
    __version__ = "unknown"
