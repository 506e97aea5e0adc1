"""Atoms in words (``infomorphic.reports.words``), generated from their antichains."""

from __future__ import annotations

import pytest

from infomorphic.pid.lattice import lattice
from infomorphic.reports.explain import DEFAULT_SOURCES
from infomorphic.reports.words import atom_kind, describe_antichain, parse_antichain

FCL = ("F", "C", "L")


@pytest.mark.parametrize(
    ("label", "names", "expected"),
    [
        ("{F}", "FC", "unique information of F: only F carries it; C alone does not carry it"),
        ("{F}{C}", "FC", "redundant information between F and C: F and C each carry it"),
        ("{FC}", "FC", "synergy of F and C: only F and C together carry it; neither F nor C alone"),
        ("{F}", FCL, "unique information of F: only F carries it; C and L do not carry it, even"),
        ("{F}{C}", FCL, "redundant information between F and C"),
        ("{FC}", FCL, "synergy of F and C: only F and C together carry it; neither F with L nor C"),
        ("{F}{CL}", FCL, "redundant information between F and the synergy of C and L"),
        ("{123}", FCL, "synergy of F, C and L: only F, C and L together carry it; no two of them"),
        ("{1}{2}{34}", "FCLM", "redundant information between F, C, and the synergy of L and M"),
        ("{1}{2}{3}{4}", "FCLM", "redundant information between F, C, L and M"),
    ],
)
def test_words_for_atoms(label, names, expected):
    assert describe_antichain(label, tuple(names)).startswith(expected)


def test_what_an_atom_is_missing_from_follows_its_structure():
    # {F}{C} of three sources: L alone knows nothing of it (the paper's "uniquely redundant").
    assert describe_antichain("{F}{C}", FCL).endswith("; L alone does not carry it")
    # the redundancy of all sources is in every source: nothing is excluded
    assert ";" not in describe_antichain("{F}{C}{L}", FCL)
    # {F}{CL}: readable from F or from C and L jointly, not from C or L alone
    assert describe_antichain("{F}{CL}", FCL).endswith(
        "it can be read from F on its own and from C and L together; neither C alone nor L "
        "alone carries it"
    )
    # {FC}{FL}: synergies that need F and one of C, L (Table 3)
    assert describe_antichain("{FC}{FL}", FCL).endswith("neither F alone nor C with L carries it")
    assert describe_antichain("{1}{2}{34}", "FCLM").endswith(
        "neither L alone nor M alone carries it"
    )


@pytest.mark.parametrize("n", [2, 3, 4])
def test_every_atom_gets_its_own_words(n):
    names = DEFAULT_SOURCES[n]
    words = [describe_antichain(a, names) for a in lattice(n).antichains]
    assert len(set(words)) == len(words) == len(lattice(n))
    # labels with names, with numbers and the antichain itself give the same words
    for antichain, label, named in zip(
        lattice(n).antichains, lattice(n).labels, lattice(n).labels_for(names), strict=True
    ):
        assert parse_antichain(label, names) == parse_antichain(named, names) == antichain


def test_atom_kinds_and_bad_labels():
    assert [atom_kind(parse_antichain(x, FCL)) for x in ("{F}", "{FC}", "{F}{C}", "{F}{CL}")] == [
        "unique",
        "synergy",
        "redundancy",
        "mixed redundancy",
    ]
    assert atom_kind(parse_antichain("{FC}{FL}", FCL)) == "redundancy of synergies"
    for bad in ("{F}{FC}", "{X}", "F", "{}"):
        with pytest.raises(ValueError):
            describe_antichain(bad, FCL)


def test_long_source_names():
    names = ("ff", "ctx", "lat")
    words = describe_antichain("{ff}{ctx,lat}", names)
    assert words.startswith("redundant information between ff and the synergy of ctx and lat")
