"""The parts of a search report that read goals layer by layer: the importance of each
layer's weights, and each goal against the paper's optimised single-layer goal (the cosine of
the two weight vectors and the signs of the four weights its Table 3 calls critical).

Pure functions of a study's numbers (``infomorphic.search.report`` gathers them; each
layer's best goal in words, side by side, is ``infomorphic.reports.explain_layers``); a study
that searched one shared goal is the case of one "layer" named None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from infomorphic.nn.goals import Goal
from infomorphic.reports.ablation import PAPER_CRITICAL

__all__ = [
    "against_paper",
    "by_layer",
    "importance_by_layer",
    "layer_title",
    "markdown_against_paper",
    "markdown_importance",
    "split_name",
]

#: The paper's optimised goal of setup 1 at N = 100 (Fig. 4.A), the reference of every goal.
PAPER_GOAL = "optimized"


def split_name(name: str) -> tuple[str | None, str]:
    """``hidden2.{F}{C}`` -> ``("hidden2", "{F}{C}")``; an atom alone -> ``(None, atom)``."""
    layer, dot, atom = name.partition(".")
    return (layer, atom) if dot and layer.startswith("hidden") else (None, name)


def by_layer(weights: Mapping[str, float]) -> dict[str | None, dict[str, float]]:
    """A trial's weights (named by atom or ``layer.atom``) grouped by layer, in order."""
    grouped: dict[str | None, dict[str, float]] = {}
    for name, value in weights.items():
        layer, atom = split_name(name)
        grouped.setdefault(layer, {})[atom] = float(value)
    return grouped


def layer_title(layer: str | None) -> str:
    return "every layer" if layer is None else layer


def against_paper(
    goals: Mapping[str | None, Mapping[str, float]], sources: Sequence[str]
) -> dict[str, Any] | None:
    """Each goal beside the paper's optimised goal: the cosine similarity of the two weight
    vectors (H_res included) and, weight by weight, whether the paper's four critical weights
    (Table 3) keep their sign. None for goals of other sources than F, C, L."""
    if tuple(sources) != ("F", "C", "L"):
        return None
    paper = Goal.named(PAPER_GOAL).as_dict()
    found = {}
    for layer, weights in goals.items():
        a = [weights[label] for label in paper]
        b = list(paper.values())
        norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
        signs = {
            label: (weights[label] > 0) == (value > 0) and weights[label] != 0
            for label, value in PAPER_CRITICAL.items()
        }
        found[layer_title(layer)] = {
            "cosine": sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0,
            "critical_signs": signs,
            "critical_agree": sum(signs.values()),
        }
    return {"reference": PAPER_GOAL, "critical": dict(PAPER_CRITICAL), "goals": found}


def importance_by_layer(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The importance rows (``infomorphic.search.report.importances``) regrouped: each layer's
    share of the total and, per atom, each layer's MDI and permutation shares."""
    layers: dict[str, dict[str, float]] = {}
    atoms: dict[str, dict[str, dict[str, float]]] = {}
    for row in rows:
        layer, atom = split_name(row["name"])
        name = layer_title(layer)
        totals = layers.setdefault(name, {"mdi": 0.0, "permutation": 0.0})
        totals["mdi"] += row["mdi"]
        totals["permutation"] += row["permutation"]
        atoms.setdefault(atom, {})[name] = {
            "mdi": row["mdi"],
            "permutation": row["permutation"],
            "mdi_rank": row["mdi_rank"],
        }
    order = sorted(atoms, key=lambda a: -max(v["mdi"] for v in atoms[a].values()))
    return {"layers": layers, "atoms": {a: atoms[a] for a in order}}


def markdown_importance(grouped: Mapping[str, Any]) -> list[str]:
    """Importance per layer: each layer's share, then each atom's shares side by side."""
    layers = list(grouped["layers"])
    lines = [
        "Each layer's share of the importance (MDI; permutation): "
        + "; ".join(
            f"{name} {v['mdi']:.3f} ({v['permutation']:.3f})"
            for name, v in grouped["layers"].items()
        )
        + ".",
        "",
        "| atom | " + " | ".join(f"{n}: MDI (rank) | {n}: permutation" for n in layers) + " |",
        "|---|" + "---:|---:|" * len(layers),
    ]
    for atom, per_layer in grouped["atoms"].items():
        cells = []
        for name in layers:
            v = per_layer.get(name)
            cells.append(
                "fixed | fixed"
                if v is None
                else f"{v['mdi']:.3f} ({v['mdi_rank']}) | {v['permutation']:.3f}"
            )
        lines.append(f"| `{atom}` | " + " | ".join(cells) + " |")
    return lines


def markdown_against_paper(comparison: Mapping[str, Any]) -> list[str]:
    """The comparison with the paper's optimised goal as a table."""
    critical = dict(comparison["critical"])
    columns = " | ".join(f"`{label}` ({value:+.2f})" for label, value in critical.items())
    lines = [
        f"Each best goal beside the paper's optimised goal (`{comparison['reference']}`, Fig. "
        "4.A): the cosine similarity of the 19 weights, and whether each of the four weights "
        "the paper's Table 3 calls critical has the paper's sign.",
        "",
        f"| goal | cosine | {columns} | signs kept |",
        "|---|---:|" + "---|" * len(critical) + "---:|",
    ]
    for name, found in comparison["goals"].items():
        marks = " | ".join("yes" if found["critical_signs"][c] else "no" for c in critical)
        lines.append(
            f"| {name} | {found['cosine']:+.3f} | {marks} | {found['critical_agree']} of "
            f"{len(critical)} |"
        )
    return lines
