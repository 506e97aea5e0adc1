"""Infomorphic neurons and layers on top of the PID estimator (``functional`` is the pure core)."""

from infomorphic.nn import functional
from infomorphic.nn.goals import NAMED_GOALS, Goal
from infomorphic.nn.layers import InfomorphicLayer, LayerState, lateral_mask

__all__ = ["NAMED_GOALS", "Goal", "InfomorphicLayer", "LayerState", "functional", "lateral_mask"]
