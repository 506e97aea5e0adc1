"""The paper's networks, chosen by name from a registry of typed presets.

``presets`` (torch-free) holds ``MODELS``; ``registry.build_model`` builds one; every network
is a ``base.Classifier`` (one readout interface); ``infomorphic`` holds the infomorphic
networks and ``backprop`` the baseline. Names are imported lazily, so that reading the
registry does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infomorphic._lazy import lazy_getattr
from infomorphic.networks.presets import (
    MODELS,
    SPARSE_LATERAL,
    Context,
    ModelPreset,
    model_preset,
    register_model,
)

if TYPE_CHECKING:
    from infomorphic.networks.backprop import BackpropNetwork, MLPNetwork
    from infomorphic.networks.base import Classifier
    from infomorphic.networks.infomorphic import (
        GoalLoss,
        InfomorphicNetwork,
        LayerGoals,
        NetworkConfig,
        NetworkStates,
    )
    from infomorphic.networks.registry import build_model, model_config

__getattr__ = lazy_getattr(
    __name__,
    {
        "BackpropNetwork": "backprop",
        "MLPNetwork": "backprop",
        "Classifier": "base",
        "GoalLoss": "infomorphic",
        "InfomorphicNetwork": "infomorphic",
        "LayerGoals": "infomorphic",
        "NetworkConfig": "infomorphic",
        "NetworkStates": "infomorphic",
        "build_model": "registry",
        "model_config": "registry",
    },
)

__all__ = [
    "MODELS",
    "SPARSE_LATERAL",
    "BackpropNetwork",
    "Classifier",
    "Context",
    "GoalLoss",
    "InfomorphicNetwork",
    "MLPNetwork",
    "LayerGoals",
    "ModelPreset",
    "NetworkConfig",
    "NetworkStates",
    "build_model",
    "model_config",
    "model_preset",
    "register_model",
]
