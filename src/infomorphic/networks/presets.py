"""The registry of models: each name with its network as data, a function of the sizes.

Torch-free on purpose, so that the configuration and the command line can list and validate
model names without loading torch. A preset is a function ``(n_inputs, n_classes, hidden) ->
NetworkSpec`` (``infomorphic.networks.spec``); ``infomorphic.networks.registry`` builds the
network a spec describes. To add a model, register a ``ModelPreset`` here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infomorphic.errors import ConfigError
from infomorphic.networks.spec import (
    EVAL_CONTEXTS,
    LATERAL_ALL,
    LATERAL_NONE,
    LayerSpec,
    NetworkSpec,
    OutputSpec,
)
from infomorphic.nn.protocol import HIDDEN_RANGE

__all__ = [
    "EVAL_CONTEXTS",
    "MODELS",
    "SPARSE_LATERAL",
    "Context",
    "ModelPreset",
    "hidden_layers",
    "model_preset",
    "model_spec",
    "register_model",
]

#: Setups 2 and 3 give each hidden neuron at most this many random lateral inputs (paper
#: section 5.1).
SPARSE_LATERAL = 100


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

    @classmethod
    def of(cls, sources: Sequence[str]) -> Context | None:
        """A layer's context sources (``("label", "output")``) as a flag; None for none."""
        flags = [cls.LABEL if s == "label" else cls.FEEDBACK for s in sources]
        if not flags:
            return None
        flag = flags[0]
        for part in flags[1:]:
            flag |= part
        return flag

    def __str__(self) -> str:
        return "+".join(str(m.name).lower() for m in Context if m in self)


#: A preset's network as a function of the data's sizes and the hidden layer sizes.
SpecFunction = Callable[[int, int, Sequence[int]], NetworkSpec]


@dataclass(frozen=True)
class ModelPreset:
    """A named network: ``build(n_inputs, n_classes, hidden)`` gives its ``NetworkSpec``.

    The read-only properties (``kind``, ``sources``, ``context``, ``lateral``, ``activation``,
    ``hidden_goal``) describe its first hidden layer (a model without one: none), for listings
    and for the code that predates network specs; ``has_hidden`` says whether it has any.
    """

    name: str
    summary: str
    build: SpecFunction

    def spec(
        self, n_inputs: int = 1, n_classes: int = 2, hidden: Sequence[int] = (100,)
    ) -> NetworkSpec:
        """The network of these sizes (the defaults serve to read the structure)."""
        return self.build(n_inputs, n_classes, tuple(hidden))

    @property
    def _first(self) -> LayerSpec | None:
        layers = self.spec().layers
        return layers[0] if layers else None

    @property
    def has_hidden(self) -> bool:
        """Whether its network has hidden layers (the readout-only model has none)."""
        return self._first is not None

    @property
    def kind(self) -> str:
        return self.spec().kind

    @property
    def sources(self) -> str:
        return self._first.sources if self._first else ""

    @property
    def context(self) -> Context | None:
        return Context.of(self._first.context) if self._first else None

    @property
    def lateral(self) -> int | None:
        """None for all-to-all lateral input, else at most this many random inputs."""
        return self._first.max_lateral if self._first else None

    @property
    def activation(self) -> str | None:
        return self._first.activation if self._first else None

    @property
    def hidden_goal(self) -> Any:
        """The hidden layers' default goal (None: they learn no goal)."""
        return self._first.goal if self._first and self.kind == "infomorphic" else None


MODELS: dict[str, ModelPreset] = {}


def register_model(preset: ModelPreset) -> ModelPreset:
    """Add a preset to ``MODELS`` (refusing a name that is taken)."""
    if preset.name in MODELS:
        raise ValueError(f"a model named {preset.name!r} is already registered")
    MODELS[preset.name] = preset
    return preset


def model_preset(name: str) -> ModelPreset:
    """The preset called ``name``; a ``ConfigError`` (field ``model``) lists the names."""
    if name not in MODELS:
        raise ConfigError("model", f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


def model_spec(
    model: str,
    n_inputs: int,
    n_classes: int,
    hidden: Sequence[int] = (100,),
    options: Mapping[str, Any] | None = None,
) -> NetworkSpec:
    """The validated spec of ``model`` at these sizes with ``options`` set (see
    ``NetworkSpec.with_options``: ``{"layers.goal": "heuristic", "output.bins": 8}``)."""
    preset = model_preset(model)
    sizes = list(hidden)
    if preset.has_hidden and (
        not sizes or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in sizes)
    ):
        raise ConfigError("hidden", f"hidden layer sizes must be positive integers, got {sizes}")
    return preset.spec(n_inputs, n_classes, sizes).with_options(options or {}).validate()


def hidden_layers(
    hidden: Sequence[int],
    *,
    goal: Any = "optimized",
    activation: str = "modulated",
    context: tuple[str, ...] = ("label",),
    lateral: str | int = LATERAL_ALL,
) -> tuple[LayerSpec, ...]:
    """Hidden layers alike but for their sizes, bottom-up; trivariate layers bin on the fixed
    range, bivariate ones adaptively (the authors' published configuration, docs/protocol.md)."""
    sources = "F" + ("C" if context else "") + ("L" if lateral != LATERAL_NONE else "")
    bin_range = HIDDEN_RANGE if sources == "FCL" else None
    return tuple(
        LayerSpec(
            f"hidden{k + 1}",
            size,
            goal=goal,
            bin_range=bin_range,
            activation=activation,
            context=context,
            lateral=lateral,
        )
        for k, size in enumerate(hidden)
    )


def _infomorphic(**wiring: Any) -> SpecFunction:
    def build(n_inputs: int, n_classes: int, hidden: Sequence[int]) -> NetworkSpec:
        return NetworkSpec("infomorphic", n_inputs, n_classes, hidden_layers(hidden, **wiring))

    return build


def _backprop(n_inputs: int, n_classes: int, hidden: Sequence[int]) -> NetworkSpec:
    wired = hidden_layers(hidden, goal=None)  # setup 1's wiring, trained end to end
    return NetworkSpec("backprop", n_inputs, n_classes, wired, OutputSpec(goal=None))


def _readout(n_inputs: int, n_classes: int, hidden: Sequence[int]) -> NetworkSpec:
    return NetworkSpec("infomorphic", n_inputs, n_classes, ())  # no hidden layer at all


def _mlp(n_inputs: int, n_classes: int, hidden: Sequence[int]) -> NetworkSpec:
    plain = hidden_layers(hidden, goal=None, activation="sigmoid", context=(), lateral=LATERAL_NONE)
    return NetworkSpec("mlp", n_inputs, n_classes, plain, OutputSpec(goal=None))


for _preset in (
    ModelPreset(
        "setup1",
        "label context, all-to-all lateral input (paper setup 1)",
        _infomorphic(),
    ),
    ModelPreset(
        "setup2",
        "label context, at most 100 random lateral inputs",
        _infomorphic(lateral=SPARSE_LATERAL),
    ),
    ModelPreset(
        "setup3",
        "output-layer feedback as context, sparse lateral input",
        _infomorphic(context=("output",), lateral=SPARSE_LATERAL),
    ),
    ModelPreset(
        "context-only",
        "bivariate hidden neurons with label context only",
        _infomorphic(goal="context-heuristic", activation="bivariate", lateral=LATERAL_NONE),
    ),
    ModelPreset(
        "lateral-only",
        "bivariate hidden neurons with lateral input only",
        _infomorphic(goal="lateral-heuristic", activation="bivariate", context=()),
    ),
    ModelPreset(
        "random-hidden",
        "fixed random hidden layer (step activation); only the output layer learns",
        _infomorphic(goal=None, activation="step", lateral=LATERAL_NONE),
    ),
    ModelPreset(
        "backprop",
        "the paper's baseline: setup 1's connectivity and spikes, trained end to end with "
        "cross-entropy through a sigmoid surrogate",
        _backprop,
    ),
    ModelPreset(
        "mlp",
        "a plain sigmoid multilayer perceptron of the same sizes, cross-entropy on its logits",
        _mlp,
    ),
    ModelPreset(
        "readout-only",
        "no hidden layer: the infomorphic output layer on the inputs, the label as its context "
        "and the output goal (the authors' readout baseline of Fig. 8); ignores --hidden",
        _readout,
    ),
    ModelPreset(
        "deep-feedback",
        "label and output feedback as context in every layer (paper appendix A.10)",
        _infomorphic(context=("label", "output"), lateral=SPARSE_LATERAL),
    ),
):
    register_model(_preset)
