"""Property-based tests (hypothesis) of the exact I_sx, the batched estimator and the CSV reader.

Distributions are drawn at random and in degenerate forms (zeros, a single outcome, a
deterministic target, a target independent of the sources, a copy of a source as the target) and
checked against invariants whose other side is computed here or by the oracles of
``conftest.py``, never by the package: atoms add up to the mutual informations of every source
subset; the dense computation, the support computation (observed rows only) and the batched
estimator agree; relabelling values and reordering sources change nothing but the labels. The
reader and ``infomorphic pid`` are fed random bytes and malformed tables and must answer with a
result or a clear error (``ValueError``/``OSError``; exit status 2 and ``infomorphic: error:``),
never another exception; well-formed tables must give the PMF of their rows.

Example counts are kept small so that the whole file runs in a few seconds.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math

import numpy as np
import pytest
import torch
from conftest import dense_pmf, entropy, mutual_information, parse, precedes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infomorphic.cli import main
from infomorphic.pid import isx_pid, isx_pid_batched, isx_pid_rows
from infomorphic.pid.table import pmf_from_table, rows_from_table

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    database=None,  # no .hypothesis folder in the working tree
    suppress_health_check=[HealthCheck.too_slow],
)
FEW = settings(SETTINGS, max_examples=15)
TOL = 1e-9

# --- distributions --------------------------------------------------------------------------------

MASSES = st.one_of(
    st.just(0.0),
    st.sampled_from([1.0, 0.5, 1e-3, 1e-9]),
    st.floats(min_value=1e-6, max_value=1.0),
)


@st.composite
def shapes(draw, max_cells: int = 72) -> tuple[int, ...]:
    """(|S_1|, ..., |S_n|, |T|) with 2 to 4 sources, axes of 1 to 3 values."""
    n = draw(st.integers(2, 4))
    sizes = draw(st.lists(st.integers(1, 3), min_size=n + 1, max_size=n + 1))
    assume(math.prod(sizes) <= max_cells)
    return tuple(sizes)


@st.composite
def source_pmfs(draw, shape) -> np.ndarray:
    raw = draw(arrays(np.float64, shape, elements=MASSES))
    assume(raw.sum() > 0)
    return raw / raw.sum()


@st.composite
def distributions(draw) -> np.ndarray:
    """A joint PMF (sources..., target): random, or one of the degenerate kinds."""
    shape = draw(shapes())
    n = len(shape) - 1
    kind = draw(st.sampled_from(["random", "single", "deterministic", "independent", "copy"]))
    if kind == "random":
        return draw(source_pmfs(shape))
    if kind == "single":
        p = np.zeros(shape)
        p[tuple(draw(st.integers(0, size - 1)) for size in shape)] = 1.0
        return p
    p_s = draw(source_pmfs(shape[:-1]))
    if kind == "independent":
        return p_s[..., None] * draw(source_pmfs(shape[-1:]))
    if kind == "deterministic":
        table = draw(arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)))
    else:  # the target is a copy of source i
        i = draw(st.integers(0, n - 1))
        shape = (*shape[:-1], shape[i])
        table = np.indices(shape[:-1])[i]
    p = np.zeros(shape)
    for s in np.ndindex(*shape[:-1]):
        p[(*s, table[s])] = p_s[s]
    return p


def atoms_below(atoms: dict[str, float], subset) -> float:
    """Sum of the atoms at or below the antichain {subset} (order of conftest.precedes)."""
    return sum(value for label, value in atoms.items() if precedes(parse(label), (subset,)))


def family(label: str, relabel=lambda i: i) -> frozenset:
    """An antichain as a set of source sets, each source mapped by ``relabel``."""
    return frozenset(frozenset(relabel(i) for i in s) for s in parse(label))


def assert_close(got: dict[str, float], expected: dict[str, float], tol: float = TOL):
    assert got.keys() == expected.keys()
    for label, value in expected.items():
        assert got[label] == pytest.approx(value, abs=tol), label


# --- isx_pid: consistency, the two computations, invariances --------------------------------------


@SETTINGS
@given(distributions())
def test_atoms_add_up_to_the_mutual_informations(p):
    n = p.ndim - 1
    res = isx_pid(p)
    for r in range(1, n + 1):
        for subset in itertools.combinations(range(1, n + 1), r):
            expected = mutual_information(p, subset)
            assert atoms_below(res.atoms, subset) == pytest.approx(expected, abs=TOL), subset
    full = mutual_information(p, tuple(range(1, n + 1)))
    assert sum(res.atoms.values()) == pytest.approx(full, abs=TOL)
    h_t = entropy(p.sum(axis=tuple(range(n))))
    assert res.target_entropy == pytest.approx(h_t, abs=TOL)
    assert res.residual_entropy == pytest.approx(entropy(p) - entropy(p.sum(axis=-1)), abs=TOL)


@SETTINGS
@given(distributions())
def test_dense_and_support_computations_agree(p):
    dense = isx_pid(p, method="dense", pointwise=True)
    values, masses = np.argwhere(p > 0), p[p > 0]
    for res in (
        isx_pid(p, method="support", pointwise=True),
        isx_pid_rows(values, masses, method="support", pointwise=True),
        isx_pid_rows(values, masses, method="dense", pointwise=True),
    ):
        assert_close(res.atoms, dense.atoms, 1e-11)
        assert_close(res.redundancies, dense.redundancies, 1e-11)
        assert res.target_entropy == pytest.approx(dense.target_entropy, abs=1e-11)
        assert res.pointwise.realisations == dense.pointwise.realisations
        np.testing.assert_allclose(res.pointwise.atoms, dense.pointwise.atoms, atol=1e-9)
        np.testing.assert_allclose(
            res.pointwise.atoms_minus, dense.pointwise.atoms_minus, atol=1e-9
        )


@SETTINGS
@given(distributions(), st.data())
def test_relabelling_values_changes_nothing(p, data):
    axis = data.draw(st.integers(0, p.ndim - 1), label="axis")
    perm = data.draw(st.permutations(range(p.shape[axis])), label="perm")
    assert_close(isx_pid(np.take(p, perm, axis=axis)).atoms, isx_pid(p).atoms)


@SETTINGS
@given(distributions(), st.data())
def test_reordering_sources_permutes_the_atoms(p, data):
    n = p.ndim - 1
    perm = data.draw(st.permutations(range(n)), label="perm")
    # axis j of the permuted PMF is source perm[j] + 1 of the original
    moved = isx_pid(p.transpose(*perm, n)).atoms
    original = {family(label): value for label, value in isx_pid(p).atoms.items()}
    for label, value in moved.items():
        expected = original[family(label, lambda i: perm[i - 1] + 1)]
        assert value == pytest.approx(expected, abs=TOL), label


@FEW
@given(distributions())
def test_degenerate_values(p):
    n = p.ndim - 1
    res = isx_pid(p)
    if np.count_nonzero(p) == 1:  # a single outcome: nothing to know
        assert res.target_entropy == 0.0
        assert all(abs(v) < TOL for v in res.atoms.values())
    if np.count_nonzero(p.sum(axis=tuple(range(n)))) == 1:  # a constant target
        assert all(abs(v) < TOL for v in res.redundancies.values())


# --- the batched estimator ------------------------------------------------------------------------


@st.composite
def batches(draw):
    """``bins`` (n, B, N), ``probs`` (B, N, K) float64, ``n_bins``, and whether each sample's
    target is one value (an empirical distribution of B samples)."""
    n = draw(st.integers(2, 3))
    batch = draw(st.integers(1, 12))
    neurons = draw(st.integers(1, 3))
    n_bins = draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    bins = draw(arrays(np.int64, (n, batch, neurons), elements=st.integers(0, n_bins - 1)))
    samples = draw(st.booleans())
    if samples:
        targets = draw(arrays(np.int64, (batch, neurons), elements=st.integers(0, k - 1)))
        probs = np.eye(k)[targets]
    else:
        raw = draw(arrays(np.float64, (batch, neurons, k), elements=MASSES))
        raw[..., 0] += raw.sum(axis=-1) == 0  # no all-zero row
        probs = raw / raw.sum(axis=-1, keepdims=True)
    return torch.tensor(bins), torch.tensor(probs), n_bins, samples


@SETTINGS
@given(batches(), st.booleans())
def test_batched_estimator_equals_the_exact_decomposition(batch, fixed_shapes):
    bins, probs, n_bins, samples = batch
    n, b, neurons = bins.shape
    k = probs.shape[-1]
    atoms, h_res = isx_pid_batched(bins, probs, n_bins, fixed_shapes=fixed_shapes)
    for j in range(neurons):
        p = dense_pmf(bins, probs, j, n_bins)
        if samples:  # the empirical PMF of the samples, counted here
            counts = np.zeros((n_bins,) * n + (k,))
            targets = probs[:, j].argmax(dim=-1).numpy()
            np.add.at(counts, (*bins[:, :, j].numpy(), targets), 1.0)
            np.testing.assert_allclose(p.numpy(), counts / b, atol=1e-15)
        dense = isx_pid(p, method="dense")
        # one row per sample and target value, repeated rows summed by isx_pid_rows
        rows = torch.cat(
            [torch.cat([bins[:, :, j].T, torch.full((b, 1), t)], dim=1) for t in range(k)]
        )
        rows_res = isx_pid_rows(rows, (probs[:, j, :].T / b).reshape(-1))
        for res in (dense, rows_res):
            np.testing.assert_allclose(atoms[j].numpy(), res.atoms_tensor.numpy(), atol=TOL)
            assert float(h_res[j]) == pytest.approx(res.residual_entropy, abs=TOL)


# --- the CSV reader and the command line ----------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One file, rewritten by every example (hypothesis refuses function-scoped fixtures)."""
    return tmp_path_factory.mktemp("tables") / "table.csv"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["pid", *argv])
    return status, out.getvalue(), err.getvalue()


def read_or_refuse(path, **options):
    """The reader's answer: its results, or the ValueError/OSError it raised (anything else
    propagates and fails the test)."""
    try:
        return rows_from_table(path, **options), pmf_from_table(path, **options)
    except (ValueError, OSError) as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return exc


def check_answer(path, **options):
    answer = read_or_refuse(path, **options)
    argv = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
    status, out, err = run_cli(str(path), *argv)
    if isinstance(answer, Exception):
        assert status == 2 and out == ""
        assert err.startswith("infomorphic: error: ") and "Traceback" not in err
        return
    rows, table = answer
    # a result: consistent with itself and with the dense PMF
    n_columns = len(rows.sources) + 1
    assert rows.values.shape == (len(rows.probabilities), n_columns)
    assert rows.probabilities.min() >= 0
    assert math.fsum(rows.probabilities) == pytest.approx(1.0, abs=1e-12)
    names = [*rows.sources, rows.target]
    for k, name in enumerate(names):
        assert rows.values[:, k].max() < len(rows.alphabets[name])
    assert table.pmf.shape == tuple(len(rows.alphabets[name]) for name in names)
    assert table.pmf.sum() == pytest.approx(1.0)
    assert status in (0, 2)  # 2: the names make ambiguous atom labels (e.g. 'a,b' and 'a', 'b')
    if status == 2:
        assert err.startswith("infomorphic: error: ") and "same label" in err


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_give_a_result_or_a_clear_error(scratch, data):
    scratch.write_bytes(data)
    check_answer(scratch)


CELLS = st.one_of(
    st.sampled_from(
        ["0", "1", "2", "-1", "0.5", "1e308", "1e-320", "nan", "inf", "-inf", "", " ", "p"]
        + ["count", "T", "a b", '"', '"x"', '"a,b"', "\ufeff", "\x00", "é", "{", "}", "1,2"]
    ),
    st.text(max_size=3),
)
NAMES = st.one_of(st.sampled_from(["F", "C", "L", "T", "p", "count", "w", "", "1", "x"]), CELLS)
WEIGHTS = st.sampled_from(["0", "1", "2", "0.25", "1e308", "1e-320", "5e-324", "1e-300", "3"])


@st.composite
def malformed_tables(draw) -> tuple[bytes, dict[str, str]]:
    """A table that is well formed but for a few mutations (cells and names replaced, added or
    dropped, odd weights, line ends, encodings), and reader options."""
    n_columns = draw(st.integers(2, 5))
    names = draw(st.permutations(["F", "C", "L", "T", "x", "y"]))[:n_columns]
    weight = draw(st.sampled_from(["count", "count", "p", "w"]))
    lines = [[*names, weight]]
    for _ in range(draw(st.integers(0, 6))):
        lines.append([draw(st.sampled_from(["0", "1", "a"])) for _ in names] + [draw(WEIGHTS)])
    for _ in range(draw(st.integers(0, 2))):
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row]
        kind = draw(st.sampled_from(["replace", "insert", "drop", "blank line"]))
        position = draw(st.integers(0, len(cells)))
        if kind == "replace" and position < len(cells):
            cells[position] = draw(CELLS)
        elif kind == "insert":
            cells.insert(position, draw(CELLS))
        elif kind == "drop" and position < len(cells):
            del cells[position]
        else:
            lines.insert(row + 1, [])
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(cells) for cells in lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    options = {}
    if draw(st.integers(0, 3)) == 0:
        options["target"] = draw(NAMES.filter(lambda s: s and "\x00" not in s))
    if draw(st.integers(0, 3)) == 0:
        options["weight_column"] = draw(NAMES.filter(lambda s: s and "\x00" not in s))
    return text.encode(encoding, errors="replace"), options


@SETTINGS
@given(malformed_tables())
def test_malformed_tables_give_a_result_or_a_clear_error(scratch, table):
    data, options = table
    scratch.write_bytes(data)
    check_answer(scratch, **options)


VALUES = st.sampled_from(["0", "1", "2", "10", "-1.5", "a", "B", "x,y", 'q"u', "é", "1e3"])


@st.composite
def tables(draw):
    """A well-formed count table: its text, its columns and its rows (values..., count)."""
    n = draw(st.integers(2, 4))
    names = draw(
        st.lists(
            st.sampled_from(["F", "C", "L", "T", "left", "x y", "Z1"]),
            min_size=n + 1,
            max_size=n + 1,
            unique=True,
        )
    )
    rows = draw(
        st.lists(
            st.tuples(*[VALUES] * (n + 1), st.integers(0, 5)),
            min_size=1,
            max_size=8,
        )
    )
    assume(sum(row[-1] for row in rows) > 0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*names, "count"])
    writer.writerows(rows)
    return out.getvalue(), names, rows


@SETTINGS
@given(tables())
def test_well_formed_tables_give_the_pmf_of_their_rows(scratch, table):
    text, names, rows = table
    scratch.write_text(text, encoding="utf-8")
    # the PMF of the rows, counted here: value tuple -> probability
    total = sum(row[-1] for row in rows)
    expected: dict[tuple[str, ...], float] = {}
    for *values, count in rows:
        expected[tuple(values)] = expected.get(tuple(values), 0.0) + count / total

    pmf, sources, target, alphabets = pmf_from_table(scratch)
    assert [*sources, target] == names
    for k, name in enumerate(names):
        assert set(alphabets[name]) == {key[k] for key in expected}
    got = {
        tuple(alphabets[name][i] for name, i in zip(names, index, strict=True)): pmf[index]
        for index in zip(*np.nonzero(pmf), strict=True)
    }
    assert got.keys() == {key for key, value in expected.items() if value > 0}
    for key, value in got.items():
        assert value == pytest.approx(expected[key], abs=1e-15)

    # the command line: the decomposition of that PMF, in any order of the values
    status, out, err = run_cli(str(scratch), "--json")
    assert status == 0, err
    result = json.loads(out)
    keys = sorted(expected)
    index = [
        {value: i for i, value in enumerate(sorted({key[k] for key in keys}))}
        for k in range(len(names))
    ]
    p = np.zeros([len(v) for v in index])
    for key in keys:
        p[tuple(index[k][value] for k, value in enumerate(key))] += expected[key]
    reference = isx_pid(p, source_names=names[:-1], method="dense")
    assert_close(result["atoms"], reference.atoms)
