"""``infomorphic explain`` end to end: the table, JSON output, the ways to give a goal, errors,
goal files of one goal per layer, and a --help that does not load torch (docs/goals.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import TABLE_2

from infomorphic.cli import main
from infomorphic.nn.goals import Goal
from infomorphic.pid.lattice import lattice
from infomorphic.reports.explain import DEFAULT_SOURCES
from infomorphic.reports.words import describe_antichain


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


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
