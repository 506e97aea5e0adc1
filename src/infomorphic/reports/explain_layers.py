"""Goals side by side: the goals of one network's layers (or any goals of the same sources)
as one table, a row per atom with each goal's weight and effect, for ``explain`` of a goal
file of one goal per layer and a per-layer search's report; ``explain_spec`` gives
``infomorphic explain``'s whole output."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence

from infomorphic.reports.explain import (
    DEFAULT_SHARE,
    GoalExplanation,
    explain_goal,
    goals_from_spec,
)

__all__ = ["FORMS", "explain_spec", "side_by_side_markdown", "side_by_side_text"]

#: The forms ``explain_spec`` writes.
FORMS = ("text", "json", "markdown")


def side_by_side_markdown(
    explanations: Mapping[str | None, GoalExplanation], fixed: Sequence[str] = ()
) -> list[str]:
    """Goals of one network's layers (or any goals of the same sources) side by side: one
    row per atom with its weight and effect in each, and its meaning; then each goal's
    dominant weights in a sentence. ``fixed``: weights (``<layer>.<atom>``) marked fixed."""
    names = [str(k) if k is not None else "goal" for k in explanations]
    first = next(iter(explanations.values()))
    head = "| # | atom | " + " | ".join(f"{n}: weight | {n}: effect" for n in names)
    lines = [head + " | meaning |", "|---:|---|" + "---:|---|" * len(names) + "---|"]
    for k, row in enumerate(first.rows):
        cells = []
        for layer, explanation in explanations.items():
            mine = explanation.rows[k]
            where = f"{layer}.{mine.label}" if layer else mine.label
            mark = " (fixed)" if where in fixed else ""
            cells.append(f"{mine.weight:+.3f}{mark} | {mine.effect}")
        meaning = row.meaning.replace("|", "&#124;")
        lines.append(f"| {row.index} | `{row.label}` | " + " | ".join(cells) + f" | {meaning} |")
    lines.append("")
    for name, explanation in zip(names, explanations.values(), strict=True):
        lines.append(f"- {name}: {explanation.summary}")
    return lines


def side_by_side_text(explanations: Mapping[str, GoalExplanation], width: int = 100) -> str:
    """The same as plain text: one row per atom, each goal's weight and effect."""
    names = list(explanations)
    first = next(iter(explanations.values()))
    header = ["#", "atom", *(f"{n}" for n in names)]
    rows = [
        [
            str(row.index),
            row.label,
            *(f"{e.rows[k].weight:+.3f} {e.rows[k].effect}" for e in explanations.values()),
        ]
        for k, row in enumerate(first.rows)
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i == 0 else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines = [line(header), *(line(r) for r in rows), ""]
    for name, explanation in explanations.items():
        lines += textwrap.wrap(f"{name}: {explanation.summary}", width, subsequent_indent="  ")
    return "\n".join(lines)


def explain_spec(
    spec: str,
    source_names: Sequence[str] | None = None,
    share: float = DEFAULT_SHARE,
    layer: str | None = None,
    form: str = "text",
) -> str:
    """GOAL as the command line takes it, explained in ``form`` (text, json or markdown): one
    goal's table, or for a file of one goal per layer each layer's (``layer``: that one's
    alone), then all side by side when their atoms are the same."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; choose from {', '.join(FORMS)}")
    goals = goals_from_spec(spec, source_names)
    if layer is not None:
        if layer not in goals:
            layers = ", ".join(k for k in goals if k) or "none (it holds one goal)"
            raise ValueError(f"--layer: {spec} has no goal for {layer}; its layers: {layers}")
        goals = {None: goals[layer]}
    explanations = {k: explain_goal(g, share=share) for k, g in goals.items()}
    if None in explanations:  # one goal
        explanation = explanations[None]
        if form == "json":
            return explanation.to_json()
        return explanation.to_markdown() if form == "markdown" else explanation.to_text()
    # one goal per layer: each layer's, then all side by side (when their atoms are the same)
    alike = len({tuple(r.label for r in e.rows) for e in explanations.values()}) == 1
    named = {str(k): e for k, e in explanations.items()}  # every key a layer's name here
    if form == "json":
        return json.dumps({"layers": {k: e.to_dict() for k, e in explanations.items()}}, indent=2)
    if form == "markdown":
        parts = [f"## {k}\n\n{e.to_markdown()}" for k, e in explanations.items()]
        if alike:
            parts.append("## Side by side\n\n" + "\n".join(side_by_side_markdown(explanations)))
        return "\n\n".join(parts)
    parts = [f"== {k} ==\n{e.to_text()}" for k, e in explanations.items()]
    if alike:
        parts.append(f"== side by side ==\n{side_by_side_text(named)}")
    return "\n\n".join(parts)
