"""The paper's networks: each described as data (``spec``), chosen by name from a registry.

``spec`` (torch-free) describes a network layer by layer (``NetworkSpec``); ``presets``
(torch-free) holds ``MODELS``, each a function of the sizes giving a spec; ``registry`` builds
the network a spec describes (``build_network``; ``build_model`` by name); every network is a
``base.Classifier`` (one readout interface); ``infomorphic`` holds the spiking networks' one
forward pass and ``backprop`` the baseline trained through it. Names are imported lazily, so
that reading the registry does not load torch.
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
    model_spec,
    register_model,
)
from infomorphic.networks.spec import LayerSpec, NetworkSpec, OutputSpec

if TYPE_CHECKING:
    from infomorphic.networks.backprop import BackpropNetwork, MLPNetwork
    from infomorphic.networks.base import Classifier
    from infomorphic.networks.infomorphic import (
        GoalLoss,
        InfomorphicNetwork,
        LayerGoals,
        NetworkStates,
        SpikingNetwork,
    )
    from infomorphic.networks.registry import build_model, build_network, network_spec

__getattr__ = lazy_getattr(
    __name__,
    {
        "BackpropNetwork": "backprop",
        "MLPNetwork": "backprop",
        "Classifier": "base",
        "GoalLoss": "infomorphic",
        "InfomorphicNetwork": "infomorphic",
        "LayerGoals": "infomorphic",
        "NetworkStates": "infomorphic",
        "SpikingNetwork": "infomorphic",
        "build_model": "registry",
        "build_network": "registry",
        "network_spec": "registry",
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
    "LayerGoals",
    "LayerSpec",
    "MLPNetwork",
    "ModelPreset",
    "NetworkSpec",
    "NetworkStates",
    "OutputSpec",
    "SpikingNetwork",
    "build_model",
    "build_network",
    "model_preset",
    "model_spec",
    "network_spec",
    "register_model",
]
