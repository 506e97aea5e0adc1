"""The ``infomorphic`` command line and the CSV reader behind ``infomorphic pid``."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_history

from infomorphic.cli import COMMANDS, build_parser, main
from infomorphic.cli.training_options import config_from_args
from infomorphic.networks.presets import MODELS
from infomorphic.nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from infomorphic.pid.isx import isx_pid_rows
from infomorphic.pid.table import Table, TableRows, pmf_from_table, rows_from_table
from infomorphic.training import steps
from infomorphic.training.config import (
    CHECKPOINT_INTERVAL_S,
    DATASETS,
    DEFAULTS,
    MODEL_NAMES,
    TrainConfig,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

# XOR with uniform inputs, by hand: {F}{C} = log2(2/3), {F} = {C} = log2(3/2),
# {FC} = I(T:F,C) - {F} - {C} - {F}{C} = 1 - log2(3/2) = 2 - log2(3).
XOR_ATOMS = {
    "{F}": math.log2(3 / 2),
    "{C}": math.log2(3 / 2),
    "{F}{C}": math.log2(2 / 3),
    "{FC}": 2 - math.log2(3),
}
XOR_CSV = "F,C,T,p\n0,0,0,0.25\n0,1,1,0.25\n1,0,1,0.25\n1,1,0,0.25\n"
AND_P_CSV = "a,b,out,p\n0,0,0,0.25\n0,1,0,0.25\n1,0,0,0.25\n1,1,1,0.25\n"
AND_COUNT_CSV = "a,b,out,count\n0,0,0,1\n0,1,0,1\n1,0,0,1\n1,1,1,1\n"


def write(tmp_path: Path, text: str, name: str = "table.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run_json(capsys, *argv: str) -> dict:
    assert main(["pid", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_xor_table(tmp_path, capsys):
    assert main(["pid", write(tmp_path, XOR_CSV)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("{F}{C} "))
    # The table rounds to 6 decimals.
    assert float(row.split()[-1]) == pytest.approx(XOR_ATOMS["{F}{C}"], abs=5e-7)
    for label in XOR_ATOMS:
        assert label in out


def test_xor_json_matches_hand_values(tmp_path, capsys):
    out = run_json(capsys, write(tmp_path, XOR_CSV))
    assert out["sources"] == ["F", "C"]
    assert out["target"] == "T"
    assert out["atoms"].keys() == XOR_ATOMS.keys()
    for label, value in XOR_ATOMS.items():
        assert out["atoms"][label] == pytest.approx(value, abs=1e-12)
    assert out["mutual_information"] == pytest.approx(1.0)
    assert out["target_entropy"] == pytest.approx(1.0)
    assert out["residual_entropy"] == pytest.approx(0.0, abs=1e-12)
    assert "pointwise" not in out


def test_counts_are_normalised(tmp_path, capsys):
    from_p = run_json(capsys, write(tmp_path, AND_P_CSV, "p.csv"))
    from_counts = run_json(capsys, write(tmp_path, AND_COUNT_CSV, "counts.csv"))
    assert from_counts["sources"] == from_p["sources"] == ["a", "b"]
    assert from_counts["target"] == "out"
    for key in ("atoms", "redundancies"):
        assert from_counts[key].keys() == from_p[key].keys()
        for label, value in from_p[key].items():
            assert from_counts[key][label] == pytest.approx(value, abs=1e-12)
    # AND: H(T) = h(1/4).
    h = -(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75))
    assert from_counts["mutual_information"] == pytest.approx(h)


def test_repeated_rows_accumulate(tmp_path):
    text = "a,b,out,count\n0,0,0,1\n0,1,0,1\n1,0,0,1\n1,1,1,0.5\n1,1,1,0.5\n"
    p, *_ = pmf_from_table(write(tmp_path, text))
    expected, *_ = pmf_from_table(write(tmp_path, AND_COUNT_CSV, "and.csv"))
    np.testing.assert_allclose(p, expected)


def test_target_in_middle_column(tmp_path, capsys):
    # XOR with the target t between the sources; weights as unnormalised counts.
    text = "a,t,b,count\n0,0,0,3\n0,1,1,3\n1,1,0,3\n1,0,1,3\n"
    path = write(tmp_path, text)
    out = run_json(capsys, path, "--target", "t")
    assert out["sources"] == ["a", "b"]
    assert out["target"] == "t"
    expected = {
        label.replace("F", "a").replace("C", "b"): value for label, value in XOR_ATOMS.items()
    }
    assert list(out["atoms"]) == list(expected)
    for label, value in expected.items():
        assert out["atoms"][label] == pytest.approx(value, abs=1e-12)

    # Without --target the last value column (b) is the target.
    default = run_json(capsys, path)
    assert default["sources"] == ["a", "t"]
    assert default["target"] == "b"
    assert "{a}{t}" in default["atoms"]


def test_weight_column_option(tmp_path, capsys):
    text = "F,C,T,n\n0,0,0,1\n0,1,1,1\n1,0,1,1\n1,1,0,1\n"
    out = run_json(capsys, write(tmp_path, text), "--weight-column", "n")
    assert out["atoms"]["{F}{C}"] == pytest.approx(XOR_ATOMS["{F}{C}"])


def test_three_sources(tmp_path, capsys):
    # T = X xor Y xor Z: only the three sources together tell anything about T.
    rows = [f"{x},{y},{z},{x ^ y ^ z},1" for x in range(2) for y in range(2) for z in range(2)]
    path = write(tmp_path, "X,Y,Z,T,count\n" + "\n".join(rows) + "\n")
    out = run_json(capsys, path)
    assert out["sources"] == ["X", "Y", "Z"]
    assert len(out["atoms"]) == 18
    assert "{XYZ}" in out["atoms"] and "{X}{Y}{Z}" in out["atoms"]
    assert sum(out["atoms"].values()) == pytest.approx(out["mutual_information"])
    assert out["mutual_information"] == pytest.approx(1.0)

    assert main(["pid", path]) == 0
    table = capsys.readouterr().out
    assert "I_sx PID of 3 sources" in table
    assert "{XY}{XZ}{YZ}" in table


def test_long_names_and_string_values(tmp_path, capsys):
    text = "left,right,out,count\nno,no,off,1\nno,yes,on,1\nyes,no,on,1\nyes,yes,off,1\n"
    out = run_json(capsys, write(tmp_path, text))
    assert out["atoms"]["{left}{right}"] == pytest.approx(XOR_ATOMS["{F}{C}"])
    assert out["alphabets"]["out"] == ["off", "on"]


def test_pointwise_text(tmp_path, capsys):
    assert main(["pid", write(tmp_path, XOR_CSV), "--pointwise"]) == 0
    out = capsys.readouterr().out
    assert "Local atoms of each realisation" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.split()[:4] == ["F", "C", "T", "p"])
    assert header.split()[4:] == list(XOR_ATOMS)
    realisations = [line.split() for line in lines[lines.index(header) + 2 :]]
    realisations = [cells for cells in realisations if len(cells) == 8]
    assert [cells[:3] for cells in realisations] == [
        ["0", "0", "0"],
        ["0", "1", "1"],
        ["1", "0", "1"],
        ["1", "1", "0"],
    ]
    for cells in realisations:
        assert cells[6] == "-0.584963"


def test_pointwise_json(tmp_path, capsys):
    out = run_json(capsys, write(tmp_path, AND_COUNT_CSV), "--pointwise")
    records = out["pointwise"]
    assert [r["values"] for r in records] == [
        {"a": a, "b": b, "out": t}
        for a, b, t in [("0", "0", "0"), ("0", "1", "0"), ("1", "0", "0"), ("1", "1", "1")]
    ]
    assert sum(r["p"] for r in records) == pytest.approx(1.0)
    for label, atom in out["atoms"].items():
        local = sum(r["p"] * r["atoms"][label] for r in records)
        assert local == pytest.approx(atom, abs=1e-12)
        for r in records:
            assert r["atoms"][label] == pytest.approx(
                r["atoms_plus"][label] - r["atoms_minus"][label], abs=1e-12
            )


def test_natural_order_of_values(tmp_path):
    text = "x,y,t,count\n10,b,1,1\n2,a,0,1\n1,B,1,1\n-1.5,c,0,1\n"
    p, sources, target, alphabets = pmf_from_table(write(tmp_path, text))
    assert sources == ["x", "y"] and target == "t"
    assert alphabets == {
        "x": ["-1.5", "1", "2", "10"],
        "y": ["B", "a", "b", "c"],
        "t": ["0", "1"],
    }
    assert p.shape == (4, 4, 2)
    assert p[3, 2, 1] == pytest.approx(0.25)  # x=10, y=b, t=1


def test_tolerates_spaces_blank_lines_and_bom(tmp_path):
    text = "\ufeffF, C, T, p\n\n0, 0, 0, 0.25\n0, 1, 1, 0.25\n1, 0, 1, 0.25\n1, 1, 0, 0.25\n\n"
    p, sources, target, _ = pmf_from_table(write(tmp_path, text))
    assert sources == ["F", "C"] and target == "T"
    assert p.sum() == pytest.approx(1.0)


BAD_TABLES = {
    "no header (empty file)": ("", "empty"),
    "no header (data row first)": ("0,0,0,0.25\n0,1,1,0.75\n", "line 1"),
    "no weight column": ("F,C,T\n0,0,0\n", "'count'"),
    "both p and count": ("F,C,T,p,count\n0,0,0,1,1\n", "both"),
    "negative weight": ("F,C,T,count\n0,0,0,1\n0,1,1,-1\n", "line 3"),
    "non-numeric weight": ("F,C,T,count\n0,0,0,one\n", "line 2"),
    "NaN weight": ("F,C,T,count\n0,0,0,1\n0,1,1,nan\n", "NaN"),
    "one source": ("C,T,p\n0,0,0.5\n1,1,0.5\n", "2 to 4 sources"),
    "five sources": ("A,B,C,D,E,T,p\n0,0,0,0,0,0,1\n", "2 to 4 sources"),
    "ragged row": ("F,C,T,p\n0,0,0,0.5\n0,1,1\n", "line 3"),
    "empty table": ("F,C,T,p\n", "no data rows"),
    "p does not sum to 1": ("F,C,T,p\n0,0,0,0.5\n0,1,1,0.4\n", "sums to 0.9"),
    "duplicate column": ("F,F,T,p\n0,0,0,1\n", "duplicate"),
    "empty value": ("F,C,T,p\n0,,0,1\n", "line 2"),
}


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_tables_exit_2_with_message(tmp_path, capsys, case):
    text, fragment = BAD_TABLES[case]
    path = write(tmp_path, text)
    assert main(["pid", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("infomorphic: error: ")
    assert path in captured.err
    assert fragment in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_p_not_summing_to_one_suggests_counts(tmp_path, capsys):
    path = write(tmp_path, "F,C,T,p\n0,0,0,1\n0,1,1,1\n")
    assert main(["pid", path]) == 2
    err = capsys.readouterr().err
    assert "'count'" in err and "normalise" in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--target", "X"], "no target column named 'X'"),
        (["--target", "p"], "weight column"),
        (["--weight-column", "w"], "no weight column named 'w'"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, argv, fragment):
    assert main(["pid", write(tmp_path, XOR_CSV), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infomorphic: error: ") and fragment in err


def test_missing_file(tmp_path, capsys):
    missing = str(tmp_path / "missing.csv")
    assert main(["pid", missing]) == 2
    err = capsys.readouterr().err
    assert err == f"infomorphic: error: no such file: {missing}\n"


def test_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"infomorphic {version('infomorphic')}"


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["pid"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_parser_lists_pid():
    assert "pid" in build_parser().format_help()


def test_python_m_infomorphic_on_example():
    completed = subprocess.run(
        [sys.executable, "-m", "infomorphic", "pid", "examples/xor.csv"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "{F}{C}" in completed.stdout
    row = next(line for line in completed.stdout.splitlines() if line.startswith("{F}{C} "))
    assert row.split()[-1] == "-0.584963"


def test_table_fields_by_name(tmp_path):
    table = pmf_from_table(write(tmp_path, AND_COUNT_CSV))
    assert isinstance(table, Table)
    pmf, sources, target, alphabets = table
    assert table.pmf is pmf and table.sources is sources
    assert table.target is target and table.alphabets is alphabets
    assert table.sources == ["a", "b"] and table.target == "out"
    assert table.alphabets == {"a": ["0", "1"], "b": ["0", "1"], "out": ["0", "1"]}
    assert table.pmf.shape == (2, 2, 2)


def test_example_files():
    p, sources, target, _ = pmf_from_table(REPO_ROOT / "examples" / "and_counts.csv")
    assert sources == ["a", "b"] and target == "out"
    np.testing.assert_allclose(p[:, :, 1], [[0, 0], [0, 0.25]])


def sx_redundancy(rows: list[dict[str, str]], sources: list[str], target: str) -> float:
    """I_sx redundancy of ``sources`` about ``target``, straight from its definition.

    i_sx(t: a_1; ...; a_n) = log2 P(t, a_1 or ... or a_n) / (P(a_1 or ... or a_n) P(t)), averaged
    over the realisations; no infomorphic code involved.
    """
    weights = [float(r["p"]) for r in rows]
    total = sum(weights)
    redundancy = 0.0
    for row, weight in zip(rows, weights, strict=True):
        in_union = [any(r[s] == row[s] for s in sources) for r in rows]
        same_t = [r[target] == row[target] for r in rows]
        p_union = sum(w for w, u in zip(weights, in_union, strict=True) if u) / total
        p_t = sum(w for w, t in zip(weights, same_t, strict=True) if t) / total
        p_joint = sum(w for w, u, t in zip(weights, in_union, same_t, strict=True) if u and t)
        redundancy += weight / total * math.log2(p_joint / total / (p_union * p_t))
    return redundancy


def test_example_xor_redundancy_is_log2_two_thirds(capsys):
    path = REPO_ROOT / "examples" / "xor.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = sx_redundancy(rows, ["F", "C"], "T")
    assert expected == pytest.approx(math.log2(2 / 3), abs=1e-15)  # the hand value, too
    out = run_json(capsys, str(path))
    assert out["redundancies"]["{F}{C}"] == pytest.approx(expected, abs=1e-12)
    assert out["atoms"]["{F}{C}"] == pytest.approx(expected, abs=1e-12)


# T independent of the sources: every atom is zero up to float rounding; the old table printed
# some of them (and the local atoms) as -0.000000.
INDEPENDENT_CSV = (
    "a,b,out,count\n0,0,0,3\n0,0,1,3\n0,1,0,2\n0,1,1,2\n1,0,0,2\n1,0,1,2\n1,1,0,1\n1,1,1,1\n"
)
# The same, with 10 values per source of which 10 pairs are seen: 200 cells for 20 rows, so the
# CLI computes on the rows (the support path) instead of the dense array.
SPARSE_INDEPENDENT_CSV = "a,b,out,count\n" + "".join(
    f"{i},{3 * i % 10},{t},{i + 1}\n" for i in range(10) for t in (0, 1)
)


@pytest.mark.parametrize("text", [INDEPENDENT_CSV, SPARSE_INDEPENDENT_CSV])
def test_printed_tables_name_the_target_and_print_zero_without_a_sign(tmp_path, capsys, text):
    path = write(tmp_path, text)
    assert main(["pid", path]) == 0
    out = capsys.readouterr().out
    assert "I(out : a, b)" in out
    assert "H(out)" in out and "H_res = H(out | a, b)" in out
    assert "I(T" not in out and "all sources" not in out
    assert "-0.000000" not in out
    atom_rows = [line.split() for line in out.splitlines() if line.startswith("{")]
    assert len(atom_rows) == 4
    assert all(cells[1:] == ["0.000000", "0.000000"] for cells in atom_rows)

    assert main(["pid", path, "--pointwise"]) == 0
    out = capsys.readouterr().out
    assert "-0.000000" not in out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.split()[:4] == ["a", "b", "out", "p"]))
    local = [line.split() for line in lines[header + 2 : -1]]
    assert len(local) == text.count("\n") - 1
    assert all(cells[4:] == ["0.000000"] * 4 for cells in local)


def write_large_table(path: Path, n_sources: int, n_values: int, n_target: int, rows: int):
    """A count table of ``rows`` random rows; the target depends on the first two sources."""
    rng = np.random.default_rng(n_sources)
    values = rng.integers(0, n_values, size=(rows, n_sources))
    target = (values[:, 0] + values[:, 1] + rng.integers(0, 2, rows)) % n_target
    names = [f"X{i}" for i in range(1, n_sources + 1)]
    lines = [",".join([*names, "Y", "count"])]
    lines += [",".join(map(str, [*row, t, 1])) for row, t in zip(values, target, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


LARGE_TABLE_SCRIPT = """
import contextlib, io, json, resource, sys, time
# 4 GiB of data mappings at most: the old dense arrays (16 GiB and 74.5 GiB) fail at once
# instead of swapping the machine; the rows need a few hundred MB.
limit = 4 << 30
resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
from infomorphic.cli import main
report = []
for path in sys.argv[1:]:
    start = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["pid", path])
    report.append({"status": status, "seconds": time.perf_counter() - start,
                   "out": out.getvalue()})
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"runs": report, "peak_mib": peak_mib}))
"""


def test_large_alphabets_decompose_in_seconds_and_little_memory(tmp_path):
    # Three sources of 1,000 values (dense: 2 x 10^9 cells, 16 GiB; the old CLI was killed at
    # 23 GB) and four sources and a target of 100 values (dense: 10^10 cells, numpy's "Unable
    # to allocate 74.5 GiB"), 20,000 rows each, in a fresh process with its data memory capped.
    three = write_large_table(tmp_path / "three.csv", 3, 1000, 2, 20_000)
    four = write_large_table(tmp_path / "four.csv", 4, 100, 100, 20_000)
    completed = subprocess.run(
        [sys.executable, "-c", LARGE_TABLE_SCRIPT, three, four],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    for run, n in zip(report["runs"], (3, 4), strict=True):
        assert run["status"] == 0
        assert f"I_sx PID of {n} sources" in run["out"]
        assert f"I(Y : {', '.join(f'X{i}' for i in range(1, n + 1))})" in run["out"]
        assert run["seconds"] < 60
    assert report["peak_mib"] < 1024


def test_pointwise_on_the_support_path(tmp_path, capsys):
    # 30 x 30 x 30 x 2 = 54,000 cells for at most 600 distinct rows: the CLI takes the support
    # path; its local atoms are those of the dense computation of the same table.
    path = write_large_table(tmp_path / "t.csv", 3, 30, 2, 600)
    out = run_json(capsys, path, "--pointwise")
    table = rows_from_table(path)
    dense = isx_pid_rows(table.values, table.probabilities, method="dense", pointwise=True)
    records = out["pointwise"]
    assert len(records) == len(dense.pointwise.realisations)
    for record, realisation, atoms in zip(
        records, dense.pointwise.realisations, dense.pointwise.atoms, strict=True
    ):
        names = [*table.sources, table.target]
        assert record["values"] == {
            name: table.alphabets[name][k] for name, k in zip(names, realisation, strict=True)
        }
        np.testing.assert_allclose(list(record["atoms"].values()), atoms, atol=1e-11)
    np.testing.assert_allclose(list(out["atoms"].values()), dense.atoms_tensor.numpy(), atol=1e-12)


def test_rows_from_table(tmp_path):
    rows = rows_from_table(write(tmp_path, "x,y,t,count\n10,b,1,2\n2,a,0,1\n10,b,1,1\n"))
    assert isinstance(rows, TableRows)
    values, probabilities, sources, target, alphabets = rows
    assert sources == ["x", "y"] and target == "t"
    assert alphabets == {"x": ["2", "10"], "y": ["a", "b"], "t": ["0", "1"]}
    assert values.tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]]  # repeated rows stay
    np.testing.assert_allclose(probabilities, [0.5, 0.25, 0.25])


def test_pmf_from_table_refuses_a_huge_dense_array(tmp_path):
    path = write_large_table(tmp_path / "t.csv", 4, 100, 100, 2_000)
    with pytest.raises(ValueError, match="rows_from_table"):
        pmf_from_table(path)
    small = pmf_from_table(write(tmp_path, AND_COUNT_CSV, "and.csv"), max_cells=8)
    assert small.pmf.shape == (2, 2, 2)
    with pytest.raises(ValueError, match="2 x 2 x 2 = 8 cells"):
        pmf_from_table(write(tmp_path, AND_COUNT_CSV, "and.csv"), max_cells=7)


@pytest.mark.parametrize("count", ["1e308", "1e-320"])
def test_extreme_counts_are_normalised(tmp_path, capsys, count):
    # counts whose sum overflows (math.fsum raised OverflowError) or that are subnormal
    text = AND_COUNT_CSV.replace(",1\n", f",{count}\n")
    out = run_json(capsys, write(tmp_path, text))
    reference = run_json(capsys, write(tmp_path, AND_COUNT_CSV, "reference.csv"))
    for label, value in reference["atoms"].items():
        assert out["atoms"][label] == pytest.approx(value, abs=1e-12)


# ------------------------------------------------------------------------------------- train


def train_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["train"]


def train_option(dest: str) -> argparse.Action:
    return next(a for a in train_parser()._actions if a.dest == dest)


def test_commands_in_help_order():
    assert [command.__name__.rsplit(".", 1)[1] for command in COMMANDS] == [
        "train",
        "predict",
        "search",
        "search_report",
        "pid",
        "explain",
        "ablate",
        "inspect_run",
        "reproduce",
        "data",
    ]
    help_text = build_parser().format_help()
    assert help_text.index("train") < help_text.index("pid")


def test_train_choices_and_defaults_come_from_the_library():
    assert tuple(train_option("model").choices) == MODEL_NAMES
    assert tuple(train_option("dataset").choices) == DATASETS
    assert ", ".join(HIDDEN_ACTIVATIONS) in train_option("activation").help  # one per layer
    args = build_parser().parse_args(["train"])
    assert args.checkpoint_every == CHECKPOINT_INTERVAL_S
    assert config_from_args(args).to_dict() == DEFAULTS


def test_parser_and_help_do_not_import_torch():
    code = (
        "import sys\n"
        "from infomorphic.cli import build_parser, main\n"
        "build_parser()\n"
        "after_build = 'torch' in sys.modules\n"
        "code = main(['train', '--help'])\n"
        "print(after_build, 'torch' in sys.modules, code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr.strip() == "False False 0"
    assert "--eval-splits" in done.stdout


def test_train_help_lists_models_and_defaults(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for name, preset in MODELS.items():
        assert f"{name} {preset.summary}" in text
    for name in HIDDEN_ACTIVATIONS:
        assert f"{name} {ACTIVATIONS[name].formula}" in text
    for dataset in DATASETS:
        assert dataset in text
    assert f"default {DEFAULTS['dataset']}" in text
    assert f"default {DEFAULTS['model']}" in text
    assert f"(default {DEFAULTS['epochs']})" in text
    assert f"(default {DEFAULTS['seed']})" in text
    assert f"(default {DEFAULTS['batch_size']})" in text
    assert f"(default {DEFAULTS['device']})" in text
    assert f"(default {','.join(map(str, DEFAULTS['hidden']))})" in text
    assert f"(default {','.join(DEFAULTS['eval_splits'])})" in text
    assert f"default {CHECKPOINT_INTERVAL_S:g})" in text


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--seed", "-3"], "--seed"),
        (["--device", "foo"], "--device"),
        (["--epochs", "-1"], "--epochs"),
        (["--batch-size", "1"], "--batch-size"),
        (["--hidden", "0"], "--hidden"),
        (["--eval-splits", "val,bogus"], "--eval-splits"),
        (["--eval-splits", "val,val"], "--eval-splits"),
        (["--model", "backprop", "--compile"], "--compile"),
        (["--model", "context-only", "--activation", "modulated"], "--activation"),
        (["--dataset", "bogus"], "--dataset"),
        (["--model", "bogus"], "--model"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_bad_train_values_exit_2_naming_the_option(tmp_path, capsys, argv, option):
    out = tmp_path / "run"
    assert main(["train", *argv, "--out", str(out), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "infomorphic" in captured.err and "error: " in captured.err
    assert option in captured.err.splitlines()[-1]
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_validation_messages_are_prefixed_with_the_option(tmp_path, capsys):
    assert main(["train", "--seed", "-3", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        "infomorphic: error: --seed: must be an integer in 0..4294967295, got -3\n"
    )


@pytest.fixture
def fake_train(monkeypatch):
    """Replace the library's ``train`` by one that records its call and returns a summary."""
    import infomorphic.training.api as api

    calls = []

    def train(config, out_dir=None, **kwargs):
        calls.append((config, out_dir, kwargs))
        summary = {"model": config.model, "dataset": config.dataset, "epochs": config.epochs}
        return summary | {
            "test_accuracy": 0.5,
            "val_accuracy": 0.25,
            "train_accuracy": 0.75,
            "seconds": 1.0,
        }

    monkeypatch.setattr(api, "train", train)
    return calls


def test_train_builds_the_config_and_calls_the_library(tmp_path, monkeypatch, capsys, fake_train):
    monkeypatch.chdir(tmp_path)
    argv = [
        "train",
        "--dataset",
        "digits",
        "--model",
        "setup2",
        "--hidden",
        "30,20",
        "--seed",
        "4",
        "--epochs",
        "3",
        "--eval-splits",
        "val",
        "--checkpoint-every",
        "0",
        "--no-progress",
    ]
    assert main(argv) == 0
    (config, out_dir, kwargs) = fake_train[0]
    assert config == TrainConfig(
        dataset="digits", model="setup2", hidden=[30, 20], seed=4, epochs=3, eval_splits=("val",)
    )
    assert out_dir == Path("runs/setup2-digits-30-20-seed4")
    kwargs.pop("hooks")  # the start-of-run report
    assert 1 <= kwargs.pop("threads") <= (os.cpu_count() or 1)  # the cores free at start
    assert kwargs == {"resume": False, "progress": False, "checkpoint_interval_s": 0.0}
    captured = capsys.readouterr()
    assert captured.err == f"run folder: {out_dir}\n"
    assert captured.out == (
        "setup2 on digits: test accuracy 0.5000 (val 0.2500, train 0.7500) after 3 epochs in "
        f"1.0 s; results in {out_dir}\nshow them with: infomorphic inspect {out_dir}\n"
    )


def test_train_refuses_a_folder_with_a_checkpoint(tmp_path, capsys, fake_train):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"")
    assert main(["train", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"infomorphic: error: {out} already holds a run") and "--resume" in err
    assert fake_train == []
    assert main(["train", "--out", str(out), "--resume"]) == 0
    assert fake_train[0][2]["resume"] is True


def test_train_reports_unavailable_data(tmp_path, capsys, monkeypatch):
    import infomorphic.training.api as api
    from infomorphic.data import DataUnavailableError

    def train(*args, **kwargs):
        raise DataUnavailableError("no mnist here")

    monkeypatch.setattr(api, "train", train)
    assert main(["train", "--dataset", "mnist", "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "infomorphic: error: no mnist here"


# -- infomorphic train end to end (from test_training) ----------------------------------------


def test_cli_train_and_refuse_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--hidden",
        "20",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0
    assert "test accuracy" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["hidden"] == [20]
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    args[args.index("2")] = "3"
    assert main([*args, "--resume"]) == 0
    assert json.loads((out / "summary.json").read_text())["epochs"] == 3
    assert len(read_history(out)) == 3


@pytest.mark.parametrize("every", ["-1", "nan", "soon"])
def test_cli_bad_checkpoint_interval(tmp_path, every, capsys):
    args = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--checkpoint-every",
        every,
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    assert main(args) == 2
    assert "--checkpoint-every" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_cli_train_compiled_and_checkpoint_every(tmp_path, monkeypatch):
    monkeypatch.setattr(steps, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    out = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--compile",
        "--checkpoint-every",
        "0",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["compile"] is True
    assert len(read_history(out)) == 2


@pytest.mark.parametrize("hidden", ["abc", "0", "20,-1", ""])
def test_cli_bad_hidden(tmp_path, hidden):
    args = [
        "train",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        "--hidden",
        hidden,
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    ]
    assert main(args) == 2
    assert not (tmp_path / "run").exists()
