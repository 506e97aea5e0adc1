"""A network described as data: its layers, each with everything that defines it, and the output.

Torch-free, so the configuration and the command line can build, validate and print a network
without loading torch. ``NetworkSpec.validate`` is the one place a network's structure is
checked; it raises ``ConfigError`` naming the field (``hidden2.bins``, ``output.bins``,
``passes``). ``infomorphic.networks.registry.build_network`` turns a spec into a network, and a
run folder's ``config.json`` stores the spec of its network (``to_dict``/``from_dict``).

A layer's sources follow from its wiring: F always, C when it has a context (the label, feedback
from the output layer, or both), L when it has lateral input (all-to-all or at most K random
inputs per neuron).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from infomorphic.errors import ConfigError
from infomorphic.nn.activations import ACTIVATIONS
from infomorphic.nn.activations import activation as activation_entry
from infomorphic.nn.goal_files import is_layer_name, is_per_layer
from infomorphic.nn.protocol import HIDDEN_RANGE, N_BINS, PASSES

__all__ = [
    "CONTEXT_SOURCES",
    "EVAL_CONTEXTS",
    "KINDS",
    "LATERAL_ALL",
    "LATERAL_NONE",
    "GoalSpec",
    "LayerSpec",
    "NetworkSpec",
    "OutputSpec",
    "is_layer_name",
    "is_per_layer",
    "weight_count",
]

#: A goal as a configuration gives it: a name, a file, a vector or {atom label: weight}.
GoalSpec = str | Sequence[float] | Mapping[str, float]

#: How a network learns: local goals, backprop through a spiking network, a plain MLP.
KINDS = ("infomorphic", "backprop", "mlp")
#: What a layer's context may hold: the label, and feedback from the output layer.
CONTEXT_SOURCES = ("label", "output")
#: What a label context is in evaluation, when there is no label: ``zero``, C = 0 (the paper's
#: section 4), or ``bias``, an all-zero label through the context map, so C is the map's bias
#: (the authors' implementation; docs/protocol.md).
EVAL_CONTEXTS = ("zero", "bias")
LATERAL_NONE = "none"
LATERAL_ALL = "all"


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer.

    ``goal``: what its neurons maximise (None: they learn no goal: a fixed random layer, or a
    network trained end to end); ``bins`` per source of the goal's estimate; ``bin_range``: the
    range (LOW, HIGH) of fixed bins, or None for adaptive bins (per neuron and batch, scaled by
    the largest value); ``activation``: an entry of
    ``infomorphic.nn.activations.ACTIVATIONS``; ``context``: among ``CONTEXT_SOURCES`` (empty:
    none); ``lateral``: ``"none"``, ``"all"`` (all-to-all) or K (at most K random inputs).
    """

    name: str
    size: int
    goal: GoalSpec | None = "optimized"
    bins: int = N_BINS
    bin_range: tuple[float, float] | None = HIDDEN_RANGE
    activation: str = "modulated"
    context: tuple[str, ...] = ("label",)
    lateral: str | int = LATERAL_ALL

    @property
    def sources(self) -> str:
        """ "FCL", "FC", "FL" (or "F" alone, a plain perceptron)."""
        return "F" + ("C" if self.context else "") + ("L" if self.lateral != LATERAL_NONE else "")

    @property
    def binning(self) -> str:
        """``fixed`` (on ``bin_range``) or ``adaptive``."""
        return "adaptive" if self.bin_range is None else "fixed"

    @property
    def feedback(self) -> bool:
        """Whether the context holds the output layer's feedback."""
        return "output" in self.context

    @property
    def max_lateral(self) -> int | None:
        """At most this many lateral inputs per neuron; None for all-to-all (or none)."""
        return self.lateral if isinstance(self.lateral, int) else None

    def _check(self, kind: str) -> None:
        where = self.name
        if not is_layer_name(self.name):
            raise ConfigError(f"{where}.name", "hidden layers are named hidden1, hidden2, ...")
        _positive_int(f"{where}.size", self.size, 1)
        if kind == "mlp":
            if self.context or self.lateral != LATERAL_NONE or self.goal is not None:
                raise ConfigError(where, "an MLP's layers have no context, lateral input or goal")
            if self.activation != "sigmoid":
                raise ConfigError(f"{where}.activation", "an MLP's layers use the sigmoid")
            return
        _positive_int(f"{where}.bins", self.bins, 2)
        if self.bin_range is not None:
            _check_range(f"{where}.bin_range", self.bin_range)
        unknown = [c for c in self.context if c not in CONTEXT_SOURCES]
        if unknown or len(set(self.context)) < len(self.context):
            raise ConfigError(
                f"{where}.context",
                f"distinct sources among {', '.join(CONTEXT_SOURCES)}, got {list(self.context)}",
            )
        if self.lateral not in (LATERAL_NONE, LATERAL_ALL):
            _positive_int(f"{where}.lateral", self.lateral, 1, "'none', 'all' or an integer")
        if self.sources not in ("FCL", "FC", "FL"):
            raise ConfigError(
                f"{where}.context", "a spiking layer needs a context or lateral input (or both)"
            )
        try:
            entry = activation_entry(self.activation, self.sources)
        except ValueError as exc:
            raise ConfigError(f"{where}.activation", str(exc)) from None
        wanted = ("hidden",) if kind == "backprop" or self.goal is not None else ("fixed",)
        if entry.role not in wanted:
            allowed = [n for n, a in ACTIVATIONS.items() if a.role in wanted]
            what = "a layer with a goal" if wanted == ("hidden",) else "a layer without a goal"
            raise ConfigError(
                f"{where}.activation",
                f"{self.activation!r} is not an activation for {what}; choose from "
                f"{', '.join(allowed)}",
            )
        if kind == "backprop" and self.goal is not None:
            raise ConfigError(f"{where}.goal", "a network trained by backprop has no goals")
        if self.goal is not None:
            _check_goal(f"{where}.goal", self.goal, self.sources)


@dataclass(frozen=True)
class OutputSpec:
    """The output layer: one bivariate neuron per class (F from the layer below, the label as
    its context, adaptive bins), with its goal and its bins per source."""

    goal: GoalSpec | None = "output"
    bins: int = N_BINS


@dataclass(frozen=True)
class NetworkSpec:
    """A whole network: its kind (``KINDS``), data sizes, hidden layers bottom-up, the output
    layer, the lateral passes (recurrent networks; the goals see the last) and what a label
    context is in evaluation."""

    kind: str
    n_inputs: int
    n_classes: int
    layers: tuple[LayerSpec, ...]
    output: OutputSpec = field(default_factory=OutputSpec)
    passes: int = PASSES
    eval_context: str = "zero"

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    @property
    def uses_feedback(self) -> bool:
        return any(layer.feedback for layer in self.layers)

    @property
    def recurrent(self) -> bool:
        """Lateral input or feedback: the network runs ``passes`` passes."""
        return self.uses_feedback or any(lay.lateral != LATERAL_NONE for lay in self.layers)

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def validate(self) -> NetworkSpec:
        """Check every field; a ``ConfigError`` names the first one at fault."""
        if self.kind not in KINDS:
            raise ConfigError("kind", f"choose from {', '.join(KINDS)}, got {self.kind!r}")
        _positive_int("n_inputs", self.n_inputs, 1)
        _positive_int("n_classes", self.n_classes, 2)
        names = [layer.name for layer in self.layers]
        if names != [f"hidden{k + 1}" for k in range(len(names))]:
            raise ConfigError("layers", f"name the layers hidden1, hidden2, ... in order: {names}")
        if self.kind != "infomorphic" and not self.layers:
            raise ConfigError("hidden", f"a {self.kind} network needs at least one hidden layer")
        for layer in self.layers:
            layer._check(self.kind)
        if self.kind == "mlp":
            return self
        _positive_int("passes", self.passes, 2)
        if self.eval_context not in EVAL_CONTEXTS:
            raise ConfigError("eval_context", f"choose from {', '.join(EVAL_CONTEXTS)}")
        _positive_int("output.bins", self.output.bins, 2)
        if self.kind == "infomorphic" and self.output.goal is None:
            raise ConfigError("output.goal", "the output layer of an infomorphic network learns")
        if self.kind == "backprop" and self.output.goal is not None:
            raise ConfigError("output.goal", "a network trained by backprop has no goals")
        if self.output.goal is not None:
            _check_goal("output.goal", self.output.goal, "FC")
        return self

    def with_options(self, options: Mapping[str, Any]) -> NetworkSpec:
        """This spec with options set: ``{"layers.bins": 10, "output.bins": 8, "passes": 3}``.

        A ``layers.<field>`` value is one value for every hidden layer or ``{layer: value}``
        (``is_per_layer``); None (also per layer) keeps the spec's own value, and so does a layer
        the field does not apply to (a layer without a goal takes no goal, bins or bin range; an
        MLP takes none of them). Not validated: call ``validate``.
        """
        spec = self
        for path, value in options.items():
            if value is None:
                continue
            head, _, name = path.partition(".")
            if head == "layers":
                spec = replace(spec, layers=_set_per_layer(spec, name, value))
            elif head == "output":
                spec = replace(spec, output=replace(spec.output, **{name: value}))
            else:
                spec = replace(spec, **{head: value})
        return spec

    def without_goals(self) -> NetworkSpec:
        """The same structure with every goal removed: what population members share."""
        layers = tuple(replace(layer, goal=None) for layer in self.layers)
        return replace(self, layers=layers)

    # -- storage ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, for ``config.json``."""
        layers = [
            {
                **{f.name: getattr(layer, f.name) for f in fields(layer)},
                "goal": _plain_goal(layer.goal),
                "context": list(layer.context),
                "bin_range": None if layer.bin_range is None else list(layer.bin_range),
            }
            for layer in self.layers
        ]
        output = {"goal": _plain_goal(self.output.goal), "bins": self.output.bins}
        rest = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**rest, "layers": layers, "output": output}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> NetworkSpec:
        """From ``to_dict``'s values (a ``ConfigError`` names a missing or unknown field)."""
        try:
            layers = tuple(
                LayerSpec(
                    **{
                        **layer,
                        "context": tuple(layer.get("context", ("label",))),
                        "bin_range": _pair(layer.get("bin_range", HIDDEN_RANGE)),
                    }
                )
                for layer in values["layers"]
            )
            output = OutputSpec(**values.get("output", {}))
            rest = {k: v for k, v in values.items() if k not in ("layers", "output")}
            return cls(layers=layers, output=output, **rest)
        except (TypeError, KeyError) as exc:
            raise ConfigError("network", f"not a network description: {exc}") from None


def weight_count(n_features: int, hidden: Sequence[int], n_classes: int) -> int:
    """The feedforward weights of a network with these layer sizes (no context, lateral or
    bias weights: a lower bound of every model's count), torch-free for the command line."""
    sizes = [n_features, *hidden, n_classes]
    return sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))


def _set_per_layer(spec: NetworkSpec, name: str, value: object) -> tuple[LayerSpec, ...]:
    per_layer: Mapping[str, Any] = (
        value if is_per_layer(value) else {layer.name: value for layer in spec.layers}
    )
    unknown = [k for k in per_layer if k not in spec.layer_names]
    if unknown:
        known = ", ".join(spec.layer_names) or "none"
        raise ConfigError(
            f"{unknown[0]}.{name}",
            f"the network has no layer {unknown[0]} (its hidden layers: {known})",
        )
    layers = []
    for layer in spec.layers:
        given = per_layer.get(layer.name)
        if given is not None and _applies(layer, name, spec.kind):
            layer = replace(layer, **{name: given})
        layers.append(layer)
    return tuple(layers)


def _applies(layer: LayerSpec, name: str, kind: str) -> bool:
    """Whether an option for the field ``name`` changes ``layer`` (of a ``kind`` network)."""
    if kind == "mlp":
        return False
    if name in ("goal", "bins", "bin_range"):
        return layer.goal is not None
    if name == "activation":
        return kind == "backprop" or layer.goal is not None
    return True


def _pair(value: object) -> object:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _plain_goal(goal: object) -> object:
    if goal is None or isinstance(goal, str):
        return goal
    if isinstance(goal, Mapping):
        return {str(k): float(v) for k, v in goal.items()}
    weights: Any = getattr(goal, "weights", goal)  # a Goal object: its weights; else numbers
    return [float(w) for w in weights]


def _positive_int(name: str, value: object, least: int, what: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(name, f"{what or f'must be an integer >= {least}'}, got {value!r}")


def _check_range(name: str, value: object) -> None:
    try:
        low, high = (float(v) for v in value)  # type: ignore[attr-defined]  # checked here
    except (TypeError, ValueError):
        raise ConfigError(name, f"want two numbers LOW,HIGH, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(name, f"want finite LOW < HIGH, got {low:g},{high:g}")


def _check_goal(name: str, goal: GoalSpec, sources: str) -> None:
    """The goal must resolve for the layer's sources (a name, a file, a vector, a dict)."""
    from infomorphic.nn.goals import Goal  # the PID lattice: loads torch, only when validating

    try:
        Goal.resolve(goal, tuple(sources))
    except (ValueError, OSError, TypeError) as exc:
        raise ConfigError(name, str(exc)) from None
