"""Infomorphic neurons and layers on top of the PID estimator.

``functional`` is the pure tensor core (binning, activations, sampling, goals), ``activations``
the torch-free table of activation names, ``goals`` the goal vectors and ``layers`` the
``InfomorphicLayer`` module. Names load lazily, so the activation table is torch-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infomorphic._lazy import lazy_getattr
from infomorphic.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, Activation

if TYPE_CHECKING:
    from infomorphic.nn import functional
    from infomorphic.nn.goals import NAMED_GOALS, Goal
    from infomorphic.nn.layers import InfomorphicLayer, LayerState, lateral_mask

_getattr = lazy_getattr(
    __name__,
    {
        "NAMED_GOALS": "goals",
        "Goal": "goals",
        "InfomorphicLayer": "layers",
        "LayerState": "layers",
        "lateral_mask": "layers",
    },
)


def __getattr__(name: str):
    if name == "functional":
        import importlib

        return importlib.import_module("infomorphic.nn.functional")
    return _getattr(name)


__all__ = [
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "NAMED_GOALS",
    "Activation",
    "Goal",
    "InfomorphicLayer",
    "LayerState",
    "functional",
    "lateral_mask",
]
