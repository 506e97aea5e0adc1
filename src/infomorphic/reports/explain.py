"""Goals in words: one row per atom (weight, meaning, effect) and the few weights that dominate.

The meanings come from ``infomorphic.reports.words``, which generates them from each atom's
antichain. ``explain_goal`` explains a ``Goal``; ``explain_weights`` takes bare weights and source
names (the hook for other reports, e.g. a search study's best trial); ``goal_from_spec`` reads the
command line's GOAL (a name, a file or an inline vector). docs/goals.md shows how to read it.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infomorphic.nn.goal_files import GoalText, parse_numbers, read_goal_file
from infomorphic.nn.goals import NAMED_GOALS, RESIDUAL, Goal
from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES, lattice
from infomorphic.reports.words import (
    atom_kind,
    describe_antichain,
    describe_residual,
    join_words,
    names_of,
    parse_antichain,
)

#: Default source names per number of sources: the paper's feedforward, context and lateral
#: inputs, and M for a fourth input class (e.g. a modulatory one) that the paper does not use.
DEFAULT_SOURCES: dict[int, tuple[str, ...]] = {
    2: ("F", "C"),
    3: ("F", "C", "L"),
    4: ("F", "C", "L", "M"),
}
#: Length of a goal vector (atoms, then H_res) -> number of sources: 5 -> 2, 19 -> 3, 167 -> 4.
VECTOR_SOURCES = {len(lattice(n)) + 1: n for n in range(MIN_SOURCES, MAX_SOURCES + 1)}
DEFAULT_SHARE = 0.5


@dataclass(frozen=True)
class AtomRow:
    """One term of a goal: its position (1-based), label, weight and what it means."""

    index: int
    label: str
    lattice_label: str
    antichain: tuple[tuple[str, ...], ...]  # () for H_res
    kind: str
    weight: float
    meaning: str
    effect: str  # e.g. "strongly encode", "slightly suppress", "neutral"
    push: str  # what the weight's sign asks of the neuron, in a sentence

    @property
    def summary(self) -> str:
        """E.g. "strongly encode the redundant information between F and C"."""
        return self.effect if self.kind == "residual" else f"{self.effect} the {self.headline}"

    @property
    def headline(self) -> str:
        return self.meaning.split(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "antichain": [list(m) for m in self.antichain]}


#: (is H_res, sign) -> (verb, what the weight asks of the neuron)
_PUSH = {
    (False, 1): ("encode", "a positive weight pushes the neuron to encode this in its output"),
    (False, -1): ("suppress", "a negative weight pushes the neuron to keep this out of its output"),
    (True, 1): (
        "add noise",
        "a positive weight rewards output variability beyond what the "
        "inputs explain (noise, unpredictability)",
    ),
    (True, -1): (
        "reduce noise",
        "a negative weight pushes the output to be determined by the inputs",
    ),
}


def _effect(weight: float, largest: float, residual: bool) -> tuple[str, str]:
    if weight == 0:
        return "neutral", "a zero weight leaves it alone"
    ratio = abs(weight) / largest
    strength = "strongly" if ratio >= 0.75 else "moderately" if ratio >= 0.25 else "slightly"
    verb, push = _PUSH[residual, 1 if weight > 0 else -1]
    return f"{strength} {verb}", push


@dataclass(frozen=True)
class GoalExplanation:
    """A goal as rows in lattice order (H_res last) plus its dominant terms."""

    name: str
    source_names: tuple[str, ...]
    rows: tuple[AtomRow, ...]
    dominant: tuple[AtomRow, ...]
    share: float

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(row.weight for row in self.rows)

    @property
    def total_abs_weight(self) -> float:
        return sum(abs(w) for w in self.weights)

    @property
    def covered(self) -> float:
        total = self.total_abs_weight
        return sum(abs(r.weight) for r in self.dominant) / total if total else 0.0

    @property
    def summary(self) -> str:
        """One sentence: what the dominant weights ask for."""
        if not self.dominant:
            return "All weights are zero: the goal asks nothing of the neuron."
        parts = []
        for verb, sign in (("encode", 1), ("suppress", -1)):
            labels = [
                r.label for r in self.dominant if r.kind != "residual" and r.weight * sign > 0
            ]
            if labels:
                parts.append(f"{verb} {join_words(labels)}")
        parts += [r.effect.split(" ", 1)[1] for r in self.dominant if r.kind == "residual"]
        return (
            f"Mostly: {'; '.join(parts)} ({len(self.dominant)} of {len(self.rows)} weights, "
            f"{self.covered:.0%} of the total absolute weight)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sources": list(self.source_names),
            "n_sources": len(self.source_names),
            "labels": [row.label for row in self.rows],
            "weights": list(self.weights),
            "rows": [row.to_dict() for row in self.rows],
            "dominant": {
                "share": self.share,
                "covered": self.covered,
                "total_abs_weight": self.total_abs_weight,
                "atoms": [
                    {"label": r.label, "weight": r.weight, "summary": r.summary}
                    for r in self.dominant
                ],
                "summary": self.summary,
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _intro(self) -> str:
        n = len(self.source_names)
        return (
            f"Goal {self.name!r} for {n} sources ({', '.join(self.source_names)}): "
            f"{len(self.rows) - 1} atoms in lattice order, then H_res. A positive weight pushes "
            "the neuron to encode that information in its output, a negative one to keep it out."
        )

    def _dominant_lines(self) -> list[str]:
        head = (
            f"Dominant weights (the fewest whose absolute values make up {self.share:.0%} of "
            f"the total {self.total_abs_weight:.2f}):"
        )
        width = max((len(r.label) for r in self.dominant), default=0)
        return [head] + [
            f"  {r.label:<{width}}  {r.weight:+.3f}  {r.summary}" for r in self.dominant
        ]

    def to_text(self, width: int = 100) -> str:
        """A plain-text table; the meaning column wraps at ``width`` characters."""
        header = ("#", "atom", "weight", "effect", "meaning")
        cells = [(str(r.index), r.label, f"{r.weight:+.3f}", r.effect) for r in self.rows]
        w = [max(len(header[c]), *(len(row[c]) for row in cells)) for c in range(4)]
        indent = sum(w) + 2 * 4
        wrap = max(width - indent, 30)

        def line(first: tuple[str, ...], meaning: str) -> list[str]:
            start = "  ".join(
                (c.rjust(k) if i in (0, 2) else c.ljust(k))
                for i, (c, k) in enumerate(zip(first, w, strict=True))
            )
            chunks = textwrap.wrap(meaning, wrap) or [""]
            return [f"{start}  {chunks[0]}"] + [" " * indent + chunk for chunk in chunks[1:]]

        lines = textwrap.wrap(self._intro(), width) + [""] + line(header[:4], header[4])
        for row, cell in zip(self.rows, cells, strict=True):
            lines += line(cell, row.meaning)
        head, *dominant = self._dominant_lines()
        lines += ["", *textwrap.wrap(head, width)]
        hang = " " * (max((len(r.label) for r in self.dominant), default=0) + 12)
        for text in dominant:
            lines += textwrap.wrap(text, width, subsequent_indent=hang)
        lines += ["", *textwrap.wrap(self.summary, width)]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        lines = [
            self._intro(),
            "",
            "| # | atom | weight | effect | meaning |",
            "|---:|---|---:|---|---|",
        ]
        lines += [
            f"| {r.index} | `{r.label}` | {r.weight:+.3f} | {r.effect} | "
            f"{r.meaning.replace('|', '&#124;')} |"
            for r in self.rows
        ]
        head, *dominant = self._dominant_lines()
        return "\n".join(
            [*lines, "", head, "", *(f"- {d.strip()}" for d in dominant), "", self.summary]
        )


def dominant_rows(rows: Sequence[AtomRow], share: float = DEFAULT_SHARE) -> tuple[AtomRow, ...]:
    """The fewest rows, largest absolute weight first, whose absolute weights make up at least
    ``share`` of the total; rows tied with the last one are kept too, zero weights never."""
    if not 0 < share <= 1:
        raise ValueError(f"the dominant share must be in (0, 1], got {share}")
    ranked = sorted((r for r in rows if r.weight != 0), key=lambda r: -abs(r.weight))
    total = sum(abs(r.weight) for r in ranked)
    chosen: list[AtomRow] = []
    for row in ranked:
        if chosen and sum(abs(r.weight) for r in chosen) >= share * total * (1 - 1e-12):
            if abs(row.weight) != abs(chosen[-1].weight):
                break
        chosen.append(row)
    return tuple(chosen)


def explain_goal(goal: Goal, share: float = DEFAULT_SHARE) -> GoalExplanation:
    """The goal's rows in lattice order (H_res last) and its dominant terms."""
    names = goal.source_names
    lat = lattice(goal.n_sources)
    largest = max((abs(w) for w in goal.weights), default=0.0)
    rows = []
    for k, (label, weight) in enumerate(zip(goal.labels, goal.weights, strict=True)):
        residual = k == len(lat)
        antichain: tuple[tuple[str, ...], ...]
        if residual:
            meaning, antichain, kind = describe_residual(names), (), "residual"
        else:
            meaning, kind = (
                describe_antichain(lat.antichains[k], names),
                atom_kind(lat.antichains[k]),
            )
            antichain = tuple(tuple(names_of(s, names)) for s in lat.antichains[k])
        lattice_label = RESIDUAL if residual else lat.labels[k]
        effect, push = _effect(weight, largest, residual)
        rows.append(
            AtomRow(
                k + 1, label, lattice_label, antichain, kind, float(weight), meaning, effect, push
            )
        )
    return GoalExplanation(goal.name, names, tuple(rows), dominant_rows(rows, share), share)


def explain_weights(
    weights: Sequence[float] | Mapping[str, float],
    source_names: Sequence[str],
    name: str = "custom",
    share: float = DEFAULT_SHARE,
) -> GoalExplanation:
    """Explain bare weights (a vector in lattice order with H_res last, or label -> weight) for
    the named sources: the entry point for reports that hold weights but no ``Goal``."""
    if isinstance(weights, Mapping):
        goal = Goal.from_dict(weights, source_names, name)
    else:
        goal = Goal.from_vector(weights, source_names, name)
    return explain_goal(goal, share)


def check_source_names(source_names: Sequence[str]) -> tuple[str, ...]:
    names = tuple(source_names)
    bad = [s for s in names if not s or re.search(r"[\s{},:|]", s) or s == RESIDUAL]
    if bad or len(set(names)) != len(names):
        raise ValueError(
            f"source names must be distinct words without spaces or any of {{}},:|; got {names}"
        )
    if not MIN_SOURCES <= len(names) <= MAX_SOURCES:
        raise ValueError(f"goals are for {MIN_SOURCES} to {MAX_SOURCES} sources, got {names}")
    return names


def _from_vector(values: Sequence[float], names, name: str) -> Goal:
    n = VECTOR_SOURCES.get(len(values))
    if n is None:
        raise ValueError(
            "a goal vector needs 5, 19 or 167 numbers (2, 3 or 4 sources: the atoms in lattice "
            f"order, then H_res); got {len(values)}"
        )
    if names is not None and len(names) != n:
        raise ValueError(f"{len(values)} numbers make a goal for {n} sources, not {len(names)}")
    return Goal.from_vector(values, names or DEFAULT_SOURCES[n], name)


def _from_text(text: GoalText, names: tuple[str, ...] | None) -> Goal:
    """One goal of the grammar for the named sources; without names: the sources the file
    declares, else those a vector's length or a label -> weight object's labels call for."""
    if names is None and text.sources is not None:
        names = check_source_names(text.sources)
    if text.named is not None:
        return _named(text.named, names)
    if isinstance(text.weights, Mapping):
        if names is not None:
            return Goal.from_text(text, names)
        error = None
        for n in range(MIN_SOURCES, MAX_SOURCES + 1):  # the fewest sources its labels fit
            try:
                return Goal.from_dict(text.weights, DEFAULT_SOURCES[n], text.name)
            except ValueError as exc:
                error = exc
        raise ValueError(str(error))
    return _from_vector(list(text.weights or ()), names, text.name)


def _named(spec: str, names: tuple[str, ...] | None) -> Goal:
    try:
        goal = Goal.named(spec)
    except ValueError:
        raise ValueError(
            f"{spec!r} is no goal file, vector or name; give a file, 5, 19 or 167 numbers, or one "
            f"of {', '.join(NAMED_GOALS)}"
        ) from None
    return Goal.named(spec, names) if names is not None else goal


def goals_from_spec(spec: str, source_names: Sequence[str] | None = None) -> dict[str | None, Goal]:
    """GOAL as the command line takes it, one goal or one per layer: ``{None: goal}``, or
    ``{layer: goal}`` for a file of one goal per layer (docs/goals.md, "Goal files")."""
    names = check_source_names(source_names) if source_names else None
    numbers = parse_numbers(spec)  # before the file test: a long vector is no valid file name
    if numbers is not None:
        return {None: _from_vector(numbers, names, "inline")}
    path = Path(spec)
    if path.is_file():
        parsed = read_goal_file(path)
        found = _file_goals(path, parsed.goals, names)
        counts = {len(goal.source_names) for goal in found.values()}
        if names is None and len(counts) > 1:  # one network's layers: read all for the most
            found = _file_goals(path, parsed.goals, DEFAULT_SOURCES[max(counts)])
        return found
    if "/" in spec or path.suffix in (".json", ".txt", ".csv"):
        raise ValueError(f"goal file {spec} does not exist")
    return {None: _named(spec, names)}


def _file_goals(
    path: Path, texts: Mapping[str | None, GoalText], names: tuple[str, ...] | None
) -> dict[str | None, Goal]:
    found = {}
    for layer, text in texts.items():
        try:
            found[layer] = _from_text(text, names)
        except ValueError as exc:
            where = f"goal file {path}" + (f", layer {layer}" if layer else "")
            raise ValueError(f"{where}: {exc}") from None
    return found


def goal_from_spec(spec: str, source_names: Sequence[str] | None = None) -> Goal:
    """GOAL as the command line takes it: a file (docs/goals.md, "Goal files"), an inline
    vector of 5, 19 or 167 numbers, or a name of ``NAMED_GOALS``. ``source_names`` renames the
    sources (their count must fit); without it, a vector's length picks ``DEFAULT_SOURCES``.
    A file of one goal per layer is refused: ``goals_from_spec`` reads it."""
    goals = goals_from_spec(spec, source_names)
    if None not in goals:
        raise ValueError(
            f"goal file {spec} holds one goal per layer ({', '.join(map(str, goals))}); "
            "name the layer whose goal to use"
        )
    return goals[None]


__all__ = [
    "DEFAULT_SOURCES",
    "AtomRow",
    "GoalExplanation",
    "atom_kind",
    "describe_antichain",
    "describe_residual",
    "dominant_rows",
    "explain_goal",
    "explain_weights",
    "goal_from_spec",
    "goals_from_spec",
    "parse_antichain",
]
