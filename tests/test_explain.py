"""``infomorphic explain``: atoms in words (from their antichains), the goal table, dominant
weights, JSON output and the ways to give a goal (docs/goals.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infomorphic.cli import main
from infomorphic.nn.goals import Goal
from infomorphic.pid.lattice import lattice
from infomorphic.reports import explain_goal, explain_weights
from infomorphic.reports.explain import DEFAULT_SOURCES, goal_from_spec
from infomorphic.reports.words import atom_kind, describe_antichain, parse_antichain

FCL = ("F", "C", "L")

# The paper's Table 2 (appendix A.8) order, and the four weights its Table 3 rounds.
TABLE_2 = (
    "{F}{C}{L}",
    "{F}{C}",
    "{F}{L}",
    "{C}{L}",
    "{F}{CL}",
    "{C}{FL}",
    "{L}{FC}",
    "{F}",
    "{C}",
    "{L}",
    "{FC}{FL}{CL}",
    "{FC}{FL}",
    "{FC}{CL}",
    "{FL}{CL}",
    "{FC}",
    "{FL}",
    "{CL}",
    "{FCL}",
    "H_res",
)
TABLE_3 = {"{F}{C}": 0.98, "{F}{L}": -0.99, "{F}{C}{L}": 0.33, "{FC}{FL}": -0.97}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- words -----------------------------------------------------------------------------------


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


# --- the table -------------------------------------------------------------------------------


def test_optimized_table_in_lattice_order_with_published_weights():
    goal = Goal.named("optimized")
    explanation = explain_goal(goal)
    assert [row.label for row in explanation.rows] == list(TABLE_2)
    assert [row.index for row in explanation.rows] == list(range(1, 20))
    assert explanation.weights == goal.weights
    by_label = {row.label: row for row in explanation.rows}
    for label, weight in TABLE_3.items():
        assert by_label[label].weight == pytest.approx(weight, abs=0.005)
    assert by_label["{F}{C}"].effect == "strongly encode"
    assert by_label["{F}{L}"].effect == "strongly suppress"
    assert by_label["{F}{C}{L}"].effect == "moderately encode"
    assert "keep this out of its output" in by_label["{FC}{FL}"].push
    residual = by_label["H_res"]
    assert residual.kind == "residual" and "do not explain" in residual.meaning
    text = explanation.to_text()
    assert all(label in text for label in TABLE_2)


def test_dominant_weights():
    heuristic = explain_goal(Goal.named("heuristic"))
    assert [row.label for row in heuristic.dominant] == ["{F}{C}"]
    assert heuristic.covered == 1.0
    assert heuristic.summary.startswith("Mostly: encode {F}{C} (1 of 19 weights")
    optimized = explain_goal(Goal.named("optimized"))
    dominant = [row.label for row in optimized.dominant]
    assert dominant[:2] == ["{F}{L}", "{F}{C}"]
    assert optimized.covered >= 0.5
    # the fewest: without the last one the share is not reached
    assert optimized.covered - abs(optimized.dominant[-1].weight) / optimized.total_abs_weight < 0.5
    assert len(explain_goal(Goal.named("optimized"), share=1.0).dominant) == 19
    zero = explain_weights([0.0] * 5, ("F", "C"))
    assert zero.dominant == () and "zero" in zero.summary


def test_residual_effect_and_hook_for_bare_weights():
    explanation = explain_weights({"{F}": 1.0, "H_res": -0.5}, ("F", "L"), name="trial 3")
    assert explanation.name == "trial 3"
    assert explanation.rows[-1].effect == "moderately reduce noise"
    assert "determined by the inputs" in explanation.rows[-1].push
    noisy = explain_weights([0, 0, 0, 0, 1.0], ("F", "C"))
    assert "beyond what the inputs explain" in noisy.rows[-1].push


def test_markdown_table():
    text = explain_goal(Goal.named("output")).to_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 5 and all(row.count("|") == 6 for row in rows)


# --- the command line ------------------------------------------------------------------------


def test_cli_optimized(capsys):
    code, out, err = run_cli(capsys, "optimized")
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].startswith("Goal 'optimized' for 3 sources (F, C, L)")
    starts = [line.split()[:3] for line in lines if line[:2].strip().isdigit()]
    assert [s[1] for s in starts] == list(TABLE_2)
    assert "Dominant weights" in out and "Mostly:" in out


def test_cli_json_round_trips_the_weights(capsys):
    for name in ("optimized", "cifar", "output"):
        code, out, _ = run_cli(capsys, name, "--json")
        assert code == 0
        data = json.loads(out)
        goal = Goal.named(name)
        assert data["weights"] == list(goal.weights)
        assert Goal.from_vector(data["weights"], data["sources"]) == Goal(
            goal.weights, goal.source_names
        )
        assert [row["label"] for row in data["rows"]] == list(goal.labels)
        assert data["rows"][0]["meaning"] == describe_antichain(
            lattice(goal.n_sources).antichains[0], goal.source_names
        )
    code, out, _ = run_cli(capsys, "heuristic", "--json")
    assert [a["label"] for a in json.loads(out)["dominant"]["atoms"]] == ["{F}{C}"]


@pytest.mark.parametrize(("count", "n"), [(5, 2), (19, 3), (167, 4)])
def test_cli_inline_vector_picks_the_sources(capsys, count, n):
    values = ",".join(str(round(0.01 * k, 2)) for k in range(count))
    code, out, _ = run_cli(capsys, values, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["sources"] == list(DEFAULT_SOURCES[n])
    assert data["weights"] == [round(0.01 * k, 2) for k in range(count)]
    assert len(data["rows"]) == count


def test_cli_wrong_length_is_an_error(capsys):
    code, out, err = run_cli(capsys, "0.1,0.2,0.3")
    assert code == 2 and not out
    assert err.startswith("infomorphic: error: ")
    assert "5, 19 or 167 numbers" in err and "got 3" in err
    code, _, err = run_cli(capsys, "0.1 0.2 0.3 0.4 0.5", "--sources", "F,C,L")
    assert code == 2 and "for 2 sources, not 3" in err


def test_cli_other_errors(capsys):
    code, _, err = run_cli(capsys, "no-such-goal")
    assert code == 2 and "optimized" in err and "5, 19 or 167 numbers" in err
    code, _, err = run_cli(capsys, "missing/goal.json")
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli(capsys, "output", "--sources", "F,C,L")
    assert code == 2 and "2 sources" in err
    code, _, err = run_cli(capsys, "output", "--sources", "F,F")
    assert code == 2 and "distinct" in err


def test_cli_goal_files(capsys, tmp_path):
    vector = tmp_path / "vector.json"
    vector.write_text(json.dumps(list(Goal.named("optimized").weights)))
    code, out, _ = run_cli(capsys, str(vector), "--json")
    assert code == 0 and json.loads(out)["weights"] == list(Goal.named("optimized").weights)
    assert json.loads(out)["name"] == "vector"

    labels = tmp_path / "labels.json"  # a label -> weight object: the fewest sources that fit
    labels.write_text(json.dumps({"{F}{C}": 1.0, "H_res": -0.25}))
    data = json.loads(run_cli(capsys, str(labels), "--json")[1])
    assert data["sources"] == ["F", "C"] and data["weights"] == [0, 0, 1.0, 0, -0.25]
    data = json.loads(run_cli(capsys, str(labels), "--json", "--sources", "F,C,L")[1])
    assert data["sources"] == ["F", "C", "L"] and data["weights"][1] == 1.0

    trial = tmp_path / "trial.json"  # weights with their sources and a name (e.g. a search trial)
    trial.write_text(
        json.dumps({"name": "best", "sources": ["ff", "lat"], "weights": [1, 0, 0, 0, 0]})
    )
    data = json.loads(run_cli(capsys, str(trial), "--json")[1])
    assert (data["name"], data["sources"], data["labels"][0]) == ("best", ["ff", "lat"], "{ff}")

    text = tmp_path / "numbers.txt"
    text.write_text("0.1 0.2\n0.3 0.4 0.5\n")
    code, out, _ = run_cli(capsys, str(text))
    assert code == 0 and "Goal 'numbers' for 2 sources (F, C)" in out

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"{F}{C}": None}))
    code, _, err = run_cli(capsys, str(bad))
    assert code == 2 and "number" in err


def test_cli_sources_rename(capsys):
    code, out, _ = run_cli(capsys, "optimized", "--sources", "ff,ctx,lat")
    assert code == 0
    assert "{ff}{ctx}" in out and "redundant information between ff and ctx" in out
    data = json.loads(run_cli(capsys, "output", "--sources", "X,Y", "--json")[1])
    assert data["labels"] == ["{X}", "{Y}", "{X}{Y}", "{XY}", "H_res"]
    assert data["rows"][3]["meaning"].startswith("synergy of X and Y")
    assert data["weights"] == list(Goal.named("output").weights)
    code, out, _ = run_cli(capsys, "heuristic", "--sources", "A,B,D")
    assert code == 0 and "Mostly: encode {A}{B} (1 of 19" in out


def test_cli_markdown_and_share(capsys):
    code, out, _ = run_cli(capsys, "output", "--markdown")
    assert code == 0 and "| 3 | `{F}{C}` | +1.000 | strongly encode |" in out
    code, out, _ = run_cli(capsys, "optimized", "--share", "0.2", "--json")
    assert [a["label"] for a in json.loads(out)["dominant"]["atoms"]] == ["{F}{L}", "{F}{C}"]
    assert main(["explain", "optimized", "--share", "2"]) == 2


def test_explain_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from infomorphic.cli import main\n"
        "code = main(['explain', '--help'])\n"
        "print('torch' in sys.modules, code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.strip() == "False 0"
    assert "167 numbers" in done.stdout


def test_goal_from_spec_names_and_aliases():
    assert goal_from_spec("optimised") == Goal.named("optimized")
    assert goal_from_spec("[1, 0, 0, 0, 0]").source_names == ("F", "C")
    assert goal_from_spec("lateral-heuristic").source_names == ("F", "L")


def test_cli_explains_a_goal_file_of_one_goal_per_layer(capsys, tmp_path):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps({"hidden1": "optimized", "hidden2": {"{F}{C}": 1.0}}))
    code, out, _ = run_cli(capsys, str(path))
    assert code == 0 and "== hidden1 ==" in out and "== hidden2 ==" in out
    side = out.split("== side by side ==")[1]
    row = next(line for line in side.splitlines() if line.split()[1:2] == ["{F}{C}"])
    assert row.split()[2:] == ["+0.978", "strongly", "encode", "+1.000", "strongly", "encode"]
    data = json.loads(run_cli(capsys, str(path), "--json")[1])
    assert data["layers"]["hidden1"]["weights"] == list(Goal.named("optimized").weights)
    assert data["layers"]["hidden2"]["sources"] == ["F", "C", "L"]  # as the other layer
    markdown = run_cli(capsys, str(path), "--markdown", "--sources", "F,C,L")[1]
    assert "## Side by side" in markdown and "| # | atom | hidden1: weight |" in markdown
    code, out, _ = run_cli(capsys, str(path), "--layer", "hidden2", "--sources", "F,C,L")
    assert code == 0 and "Goal 'layers.hidden2' for 3 sources" in out
    code, _, err = run_cli(capsys, str(path), "--layer", "hidden3")
    assert code == 2 and "no goal for hidden3" in err
