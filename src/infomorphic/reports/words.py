"""Atoms in words, generated from their antichains, never looked up in a hand-written list.

An antichain is a set of groups of sources. One group alone is information that only that source
provides (unique information, {F}) or only those sources jointly provide (synergy, {FC}); several
groups are information that each group provides on its own (redundancy, {F}{C}, possibly between
synergies, {F}{CL} or {FC}{FL}). What the atom is not part of follows from the same structure: it
is missing from exactly those groups of sources that contain none of its groups (the parthood
view of the lattice, Gutknecht et al. 2021). docs/goals.md shows the words for every atom of
three sources.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from infomorphic.nn.goals import RESIDUAL
from infomorphic.pid.lattice import Antichain, lattice

_WORDS = {2: "two", 3: "three", 4: "four"}


def join_words(items: Sequence[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 2:
        return f" {word} ".join(items)
    comma = "," if any(" " in item for item in items) else ""  # Oxford comma between phrases
    return ", ".join(items[:-1]) + f"{comma} {word} {items[-1]}"


def parse_antichain(antichain_or_label: str | Sequence[Sequence[int | str]], source_names):
    """An antichain (numbered sources, canonical order) from ``{F}{CL}``, ``{1}{23}``,
    ``{ff,ctx}{lat}`` or a sequence of source sets; ValueError if it is none of the lattice's."""
    names = tuple(source_names)
    n = len(names)
    if isinstance(antichain_or_label, str):
        label = re.sub(r"\s+", "", antichain_or_label)
        if not re.fullmatch(r"(\{[^{}]+\})+", label):
            raise ValueError(f"{antichain_or_label!r} is not an atom label like {{F}}{{CL}}")
        members = []
        for text in re.findall(r"\{([^{}]*)\}", label):
            if text in names:
                members.append([text])
            elif "," in text:
                members.append(text.split(","))
            else:
                members.append(list(text))
    else:
        members = [list(member) for member in antichain_or_label]

    def number(token: int | str) -> int:
        if token in names:
            return names.index(token) + 1
        if str(token).isdigit() and 1 <= int(token) <= n:
            return int(token)
        raise ValueError(f"unknown source {token!r} in {antichain_or_label!r}; sources are {names}")

    sets = {tuple(sorted({number(t) for t in member})) for member in members}
    antichain = tuple(sorted(sets, key=lambda s: (len(s), s)))
    if antichain not in set(lattice(n).antichains):
        raise ValueError(f"{antichain_or_label!r} is not an antichain of {n} sources")
    return antichain


def atom_kind(antichain: Antichain) -> str:
    """unique, synergy, redundancy, redundancy of synergies or mixed redundancy."""
    multi = sum(len(s) > 1 for s in antichain)
    if len(antichain) == 1:
        return "synergy" if multi else "unique"
    kinds = {0: "redundancy", len(antichain): "redundancy of synergies"}
    return kinds.get(multi, "mixed redundancy")


def names_of(subset, names) -> list[str]:
    return [names[i - 1] for i in subset]


def _all_of_size(sets, n: int) -> int:
    """k if ``sets`` are all k-source groups of the n sources (e.g. every pair), else 0."""
    k = len(sets[0])
    full = set(itertools.combinations(range(1, n + 1), k))
    return k if all(len(s) == k for s in sets) and set(sets) == full else 0


def _every(k: int) -> str:
    return _WORDS.get(k, str(k))


def _headline(antichain: Antichain, names) -> str:
    k = _all_of_size(antichain, len(names)) if len(antichain) > 1 else 0
    if k > 1:
        kind = "pairwise" if k == 2 else f"{_every(k)}-way"
        return f"redundant information between all {kind} synergies of {join_words(names)}"
    if len(antichain) == 1:
        (only,) = antichain
        kind = "unique information of" if len(only) == 1 else "synergy of"
        return f"{kind} {join_words(names_of(only, names))}"
    parts = [
        names[s[0] - 1] if len(s) == 1 else f"the synergy of {join_words(names_of(s, names))}"
        for s in antichain
    ]
    return f"redundant information between {join_words(parts)}"


def _carriers(antichain: Antichain, names) -> str:
    if len(antichain) == 1:
        (only,) = antichain
        together = "" if len(only) == 1 else " together"
        verb = "carries" if len(only) == 1 else "carry"
        return f"only {join_words(names_of(only, names))}{together} {verb} it"
    k = _all_of_size(antichain, len(names)) if len(antichain) > 1 else 0
    if k > 1:
        return f"any {_every(k)} of them together carry it"
    if all(len(s) == 1 for s in antichain):
        return f"{join_words([names[s[0] - 1] for s in antichain])} each carry it on their own"
    ways = [
        f"from {names[s[0] - 1]} on its own"
        if len(s) == 1
        else f"from {join_words(names_of(s, names))} together"
        for s in antichain
    ]
    return f"it can be read {join_words(ways)}"


def _exclusions(antichain: Antichain, n: int) -> list[tuple[int, ...]]:
    """The largest groups of sources that contain none of the antichain's sets (the atom is no
    part of what such a group tells about the output)."""
    groups = [
        g
        for r in range(1, n + 1)
        for g in itertools.combinations(range(1, n + 1), r)
        if not any(set(s) <= set(g) for s in antichain)
    ]
    return [g for g in groups if not any(set(g) < set(h) for h in groups)]


def _missing(antichain: Antichain, names) -> str:
    n = len(names)
    groups = _exclusions(antichain, n)
    if not groups:
        return ""
    k = _all_of_size(groups, n)
    if k and n == 2:
        return f"neither {names[0]} nor {names[1]} alone carries it"
    if k == 1:
        return "no source alone carries it"
    if k:
        return f"no {_every(k)} of them together carry it"

    def group(g):
        if len(g) == 1:
            return f"{names[g[0] - 1]} alone"
        if len(g) == 2:
            return f"{names[g[0] - 1]} with {names[g[1] - 1]}"
        return f"{join_words(names_of(g, names))} together"

    if len(groups) == 1:
        (g,) = groups
        if len(g) == 1:
            return f"{names[g[0] - 1]} alone does not carry it"
        return f"{join_words(names_of(g, names))} do not carry it, even together"
    if len(groups) == 2:
        return f"neither {group(groups[0])} nor {group(groups[1])} carries it"
    return f"none of {join_words([group(g) for g in groups], 'or')} carries it"


def describe_antichain(antichain_or_label, source_names: Sequence[str]) -> str:
    """The atom in plain words, generated from its antichain (or ``H_res``), e.g. for {F}{C} of
    F, C, L: "redundant information between F and C: F and C each carry it on their own; L alone
    does not carry it"."""
    names = tuple(source_names)
    if isinstance(antichain_or_label, str) and antichain_or_label.strip() == RESIDUAL:
        return describe_residual(names)
    antichain = parse_antichain(antichain_or_label, names)
    text = f"{_headline(antichain, names)}: {_carriers(antichain, names)}"
    missing = _missing(antichain, names)
    return f"{text}; {missing}" if missing else text


def describe_residual(source_names: Sequence[str]) -> str:
    return (
        f"residual entropy H(Y | {', '.join(source_names)}): the output's variability that the "
        "inputs do not explain (noise)"
    )


__all__ = ["atom_kind", "describe_antichain", "describe_residual", "parse_antichain"]
