"""The registry of models: each name with a typed preset of its structure.

Torch-free on purpose, so that the configuration and the command line can list and validate
model names without loading torch. ``infomorphic.networks.registry`` turns a preset into a
network. To add a model, register a ``ModelPreset`` here (and, for a new kind of network, a
builder in ``registry.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EVAL_CONTEXTS",
    "MODELS",
    "SPARSE_LATERAL",
    "Context",
    "ModelPreset",
    "model_preset",
    "register_model",
]

#: Setups 2 and 3 give each hidden neuron at most this many random lateral inputs (paper
#: section 5.1).
SPARSE_LATERAL = 100

#: What a label context is in evaluation, when there is no label: ``zero``, C = 0 (the paper's
#: section 4, the default), or ``bias``, an all-zero label vector through the context map, so C
#: is the map's bias (the authors' implementation; docs/protocol.md, "Evaluation").
EVAL_CONTEXTS = ("zero", "bias")


class Context(enum.Flag):
    """What the hidden layers receive as context: the label, the output layer's feedback, both."""

    LABEL = 1
    FEEDBACK = 2

    @classmethod
    def parse(cls, text: str | Context) -> Context:
        """From ``"label"``, ``"feedback"`` or ``"label+feedback"`` (the saved form)."""
        if isinstance(text, Context):
            return text
        try:
            parts = [cls[part.strip().upper()] for part in str(text).split("+")]
        except KeyError:
            raise ValueError(
                f"context must be label, feedback or label+feedback, got {text!r}"
            ) from None
        flag = parts[0]
        for part in parts[1:]:
            flag |= part
        return flag

    def __str__(self) -> str:
        return "+".join(m.name.lower() for m in Context if m in self)


@dataclass(frozen=True)
class ModelPreset:
    """A named network structure. ``kind`` picks the builder; the rest configures it.

    ``sources``: the hidden neurons' sources ("FCL" trivariate, "FC" context-only, "FL"
    lateral-only); ``lateral``: None for all-to-all lateral input, else at most this many random
    inputs per neuron; ``activation``: an entry of ``infomorphic.nn.activations.ACTIVATIONS``;
    ``hidden_goal``: the default goal of the hidden layers (None: they are not trained). The
    ``"backprop"`` kind (the paper's baseline) uses ``lateral`` too; ``"mlp"`` uses only
    ``name``, ``summary`` and ``kind``; ``"readout"`` (no hidden layer: the output layer on the
    inputs) none of the hidden layers' fields.
    """

    name: str
    summary: str
    kind: Literal["infomorphic", "backprop", "mlp", "readout"] = "infomorphic"
    sources: str = "FCL"
    context: Context = Context.LABEL
    lateral: int | None = None
    activation: str = "modulated"
    hidden_goal: str | None = "optimized"


MODELS: dict[str, ModelPreset] = {}


def register_model(preset: ModelPreset) -> ModelPreset:
    """Add a preset to ``MODELS`` (refusing a name that is taken)."""
    if preset.name in MODELS:
        raise ValueError(f"a model named {preset.name!r} is already registered")
    MODELS[preset.name] = preset
    return preset


def model_preset(name: str) -> ModelPreset:
    """The preset called ``name``, or a ValueError that lists the registered names."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


for _preset in (
    ModelPreset("setup1", "label context, all-to-all lateral input (paper setup 1)"),
    ModelPreset(
        "setup2", "label context, at most 100 random lateral inputs", lateral=SPARSE_LATERAL
    ),
    ModelPreset(
        "setup3",
        "output-layer feedback as context, sparse lateral input",
        context=Context.FEEDBACK,
        lateral=SPARSE_LATERAL,
    ),
    ModelPreset(
        "context-only",
        "bivariate hidden neurons with label context only",
        sources="FC",
        activation="bivariate",
        hidden_goal="context-heuristic",
    ),
    ModelPreset(
        "lateral-only",
        "bivariate hidden neurons with lateral input only",
        sources="FL",
        activation="bivariate",
        hidden_goal="lateral-heuristic",
    ),
    ModelPreset(
        "random-hidden",
        "fixed random hidden layer (step activation); only the output layer learns",
        sources="FC",
        activation="step",
        hidden_goal=None,
    ),
    ModelPreset(
        "backprop",
        "the paper's baseline: setup 1's connectivity and spikes, trained end to end with "
        "cross-entropy through a sigmoid surrogate",
        kind="backprop",
        hidden_goal=None,
    ),
    ModelPreset(
        "mlp",
        "a plain sigmoid multilayer perceptron of the same sizes, cross-entropy on its logits",
        kind="mlp",
        hidden_goal=None,
    ),
    ModelPreset(
        "readout-only",
        "no hidden layer: the infomorphic output layer on the inputs, the label as its context "
        "and the output goal (the authors' readout baseline of Fig. 8); ignores --hidden",
        kind="readout",
        hidden_goal=None,
    ),
    ModelPreset(
        "deep-feedback",
        "label and output feedback as context in every layer (paper appendix A.10)",
        context=Context.LABEL | Context.FEEDBACK,
        lateral=SPARSE_LATERAL,
    ),
):
    register_model(_preset)
