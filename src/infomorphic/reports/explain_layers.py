"""Goals side by side: the goals of one network's layers (or any goals of the same sources)
as one table, a row per atom with each goal's weight and effect, for ``explain`` of a goal
file of one goal per layer and a per-layer search's report."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from infomorphic.reports.explain import GoalExplanation

__all__ = ["side_by_side_markdown", "side_by_side_text"]


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
