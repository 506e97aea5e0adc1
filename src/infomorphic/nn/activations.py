"""The table of activation functions: each name, its formula, the sources it needs, its role.

The one place an activation name is validated. It imports nothing heavy, so the command line
can list the choices without loading torch; ``InfomorphicLayer`` implements each entry (a test
keeps the two in step) with the pure functions of ``infomorphic.nn.functional``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ACTIVATIONS", "HIDDEN_ACTIVATIONS", "Activation", "activation"]


@dataclass(frozen=True)
class Activation:
    """One activation: what it computes and which neurons may use it.

    ``sources``: the source sets it accepts (``None``: any). ``role``: ``"hidden"`` for the
    trained hidden neurons a user may choose, ``"output"`` for the bivariate output layer,
    ``"fixed"`` for the untrained random hidden layer (a deterministic step, no goal),
    ``"perceptron"`` for the hidden units of a plain MLP.
    """

    name: str
    formula: str
    sources: tuple[str, ...] | None
    role: Literal["hidden", "output", "fixed", "perceptron"]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        # The paper's trivariate activation (section 3): F drives, C and L modulate its gain.
        Activation(
            "modulated", "F [0.8 + 0.1 sigma(2 F C) + 0.1 sigma(2 F L)]", ("FCL",), "hidden"
        ),
        # The paper's linear alternative (section 4).
        Activation("linear", "F + 0.1 C + 0.1 L", None, "hidden"),
        # Bivariate hidden neurons: X is the second source (C or L).
        Activation("bivariate", "F [0.9 + 0.2 sigma(2 F X)]", ("FC", "FL"), "hidden"),
        Activation("output", "F (the context enters only the goal)", None, "output"),
        Activation("step", "1 if F > 0 else 0 (fixed random weights)", None, "fixed"),
        # The plain multilayer perceptron's hidden units, trained end to end.
        Activation("sigmoid", "sigma(F), no spikes (a plain perceptron)", None, "perceptron"),
    )
}

HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(
    name for name, a in ACTIVATIONS.items() if a.role == "hidden"
)


def activation(name: str, sources: str | None = None) -> Activation:
    """The table entry for ``name``, checked against the neuron's ``sources`` ("FCL", "FC"...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    entry = ACTIVATIONS[name]
    if sources is not None and entry.sources is not None and sources not in entry.sources:
        raise ValueError(
            f"the {name} activation needs sources {' or '.join(entry.sources)}, not {sources}"
        )
    return entry
