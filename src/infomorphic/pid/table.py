"""Read a joint distribution from a CSV table: as rows for ``isx_pid_rows`` (``rows_from_table``,
what ``infomorphic pid`` uses) or as a dense PMF for ``isx_pid`` (``pmf_from_table``, target as
the last axis).

The table has a header row naming its columns: one column per source, one target column and one
weight column, either probabilities (named ``p``, which must sum to 1) or counts (named
``count``, normalised here). Every value is a categorical string; repeated rows accumulate::

    F,C,T,p
    0,0,0,0.25
    0,1,1,0.25
    1,0,1,0.25
    1,1,0,0.25
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from infomorphic.pid.lattice import MAX_SOURCES, MIN_SOURCES

PROBABILITY_COLUMN = "p"
COUNT_COLUMN = "count"
P_SUM_TOLERANCE = 1e-6
# pmf_from_table refuses a dense PMF larger than this (float64: 1 GiB)
MAX_DENSE_CELLS = 1 << 27


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def natural_sort(values) -> list[str]:
    """Numerically if every value parses as a finite number, else lexicographically."""
    values = set(values)
    numbers = {value: _parse_number(value) for value in values}
    if all(x is not None and math.isfinite(x) for x in numbers.values()):
        return sorted(values, key=lambda value: (numbers[value], value))
    return sorted(values)


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank record, header included."""
    rows = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                for record in reader:
                    cells = [cell.strip() for cell in record]
                    if any(cells):
                        rows.append((reader.line_num, cells))
            except csv.Error as exc:
                raise ValueError(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    return rows


def _check_header(path: Path, line: int, header: list[str]) -> None:
    if all(_parse_number(name) is not None for name in header):
        raise ValueError(
            f"{path}, line {line}: no header row; the first row must name the columns "
            f"(e.g. 'X1,X2,T,{PROBABILITY_COLUMN}'), but it looks like data: {','.join(header)}"
        )
    for position, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"{path}, line {line}: column {position} of the header has no name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"{path}, line {line}: duplicate column name(s) in the header: {', '.join(duplicates)}"
        )


def _weight_column(path: Path, header: list[str], weight_column: str | None) -> str:
    if weight_column is not None:
        if weight_column not in header:
            raise ValueError(
                f"{path}: no weight column named {weight_column!r}; "
                f"the columns are {', '.join(header)}"
            )
        return weight_column
    present = [name for name in (PROBABILITY_COLUMN, COUNT_COLUMN) if name in header]
    if not present:
        raise ValueError(
            f"{path}: no weight column; add a probability column named "
            f"'{PROBABILITY_COLUMN}' or a count column named '{COUNT_COLUMN}' "
            f"(or name one with weight_column / --weight-column); "
            f"the columns are {', '.join(header)}"
        )
    if len(present) > 1:
        raise ValueError(
            f"{path}: both a '{PROBABILITY_COLUMN}' and a '{COUNT_COLUMN}' column; keep only one, "
            "or choose the weight column with weight_column / --weight-column"
        )
    return present[0]


def _parse_weight(path: Path, line: int, column: str, text: str) -> float:
    value = _parse_number(text)
    if value is None:
        raise ValueError(f"{path}, line {line}: {column!r} value {text!r} is not a number")
    if math.isnan(value):
        raise ValueError(f"{path}, line {line}: {column!r} value is NaN")
    if math.isinf(value):
        raise ValueError(f"{path}, line {line}: {column!r} value {text!r} is infinite")
    if value < 0:
        raise ValueError(f"{path}, line {line}: {column!r} value {text} is negative")
    return value


class Table(NamedTuple):
    """A CSV table's joint PMF and what its axes mean; unpacks as
    ``pmf, sources, target, alphabets = ...``.

    ``pmf``: float64 array of shape (|S_1|, ..., |S_n|, |T|), the target last. ``sources``: the
    source names in axis order. ``target``: the target's name. ``alphabets``: for each variable,
    its values in axis order (``alphabets[name][k]`` is the value at index k).
    """

    pmf: np.ndarray
    sources: list[str]
    target: str
    alphabets: dict[str, list[str]]


class TableRows(NamedTuple):
    """A CSV table's rows, for ``isx_pid_rows``; unpacks as
    ``values, probabilities, sources, target, alphabets = ...``.

    ``values``: int64 (R, n + 1), one row per data row of the file (repeated rows stay
    repeated), the sources in ``sources`` order and the target last, each an index into that
    variable's alphabet (``alphabets[name][values[r, k]]`` is the text in the file).
    ``probabilities``: float64 (R,), the weights normalised to sum to 1. ``sources``,
    ``target`` and ``alphabets`` as in ``Table``.
    """

    values: np.ndarray
    probabilities: np.ndarray
    sources: list[str]
    target: str
    alphabets: dict[str, list[str]]


def _choose_columns(path: Path, header: list[str], target, weight_column):
    """(sources, target, weight column) of the header, or a ValueError."""
    weight = _weight_column(path, header, weight_column)
    value_columns = [name for name in header if name != weight]
    if target is None:
        if not value_columns:
            raise ValueError(f"{path}: no columns besides the weight column {weight!r}")
        target = value_columns[-1]
    elif target == weight:
        raise ValueError(f"{path}: the target {target!r} is the weight column")
    elif target not in value_columns:
        raise ValueError(
            f"{path}: no target column named {target!r}; "
            f"the value columns are {', '.join(value_columns)}"
        )
    sources = [name for name in value_columns if name != target]
    if not MIN_SOURCES <= len(sources) <= MAX_SOURCES:
        raise ValueError(
            f"{path}: {len(sources)} source column(s) ({', '.join(sources) or 'none'}) besides "
            f"the target {target!r} and the weight column {weight!r}; "
            f"the PID needs {MIN_SOURCES} to {MAX_SOURCES} sources"
        )
    return sources, target, weight


def _normalise(path: Path, weight: str, weights: list[float]) -> np.ndarray:
    """The weights divided by their sum; a ValueError if they cannot be (or, for ``p``, if they
    do not sum to 1)."""
    scale = max(weights)
    if scale <= 0:
        if weight == PROBABILITY_COLUMN:
            raise ValueError(f"{path}: the '{PROBABILITY_COLUMN}' column sums to 0, not 1")
        raise ValueError(f"{path}: the {weight!r} column sums to 0; no realisation has weight")
    scaled = np.asarray(weights, dtype=np.float64) / scale  # in [0, 1]: the sum cannot overflow
    scaled_total = math.fsum(scaled)
    if weight == PROBABILITY_COLUMN:
        total = scaled_total * scale
        if not abs(total - 1.0) <= P_SUM_TOLERANCE:
            raise ValueError(
                f"{path}: the '{PROBABILITY_COLUMN}' column sums to {total:.9g}, not 1 "
                f"(within {P_SUM_TOLERANCE:g}); normalise the probabilities, or give counts "
                f"in a column named '{COUNT_COLUMN}' (counts are normalised)"
            )
    return scaled / scaled_total


def rows_from_table(
    path: str | os.PathLike,
    target: str | None = None,
    weight_column: str | None = None,
) -> TableRows:
    """A CSV table's rows as value indices and probabilities, for ``isx_pid_rows``.

    The columns are chosen as in ``pmf_from_table``; no dense array is built, so tables with
    large alphabets cost memory in proportion to their rows. Returns a ``TableRows``
    ``(values, probabilities, sources, target, alphabets)``. Raises ``ValueError``
    (``FileNotFoundError`` for a missing file) with the file and line of the problem.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not a CSV file")
    rows = _read_rows(path)
    if not rows:
        raise ValueError(f"{path}: the file is empty; expected a header row naming the columns")
    header_line, header = rows[0]
    _check_header(path, header_line, header)
    sources, target, weight = _choose_columns(path, header, target, weight_column)

    variables = [*sources, target]
    positions = [header.index(name) for name in variables]
    weight_position = header.index(weight)
    columns: list[list[str]] = [[] for _ in variables]
    weights: list[float] = []
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(cells)} field(s) but the header has {len(header)}"
            )
        for name, column, position in zip(variables, columns, positions, strict=True):
            if not cells[position]:
                raise ValueError(f"{path}, line {line}: empty value in column {name!r}")
            column.append(cells[position])
        weights.append(_parse_weight(path, line, weight, cells[weight_position]))
    if not weights:
        raise ValueError(f"{path}: the table is empty; it has a header but no data rows")
    probabilities = _normalise(path, weight, weights)

    alphabets = {
        name: natural_sort(column) for name, column in zip(variables, columns, strict=True)
    }
    values = np.empty((len(weights), len(variables)), dtype=np.int64)
    for k, (name, column) in enumerate(zip(variables, columns, strict=True)):
        index = {value: i for i, value in enumerate(alphabets[name])}
        values[:, k] = np.fromiter((index[value] for value in column), np.int64, len(column))
    return TableRows(values, probabilities, sources, target, alphabets)


def pmf_from_table(
    path: str | os.PathLike,
    target: str | None = None,
    weight_column: str | None = None,
    max_cells: int = MAX_DENSE_CELLS,
) -> Table:
    """Joint PMF of a CSV table with the target as the last axis.

    ``target`` names the target column (default: the last column that is not the weight column);
    the other non-weight columns are the sources, in header order. The weight column is ``p``
    (probabilities, which must sum to 1 within 1e-6) or ``count`` (normalised), auto-detected,
    or the column named by ``weight_column`` (normalised unless it is named ``p``).

    Returns a ``Table`` ``(pmf, sources, target, alphabets)``: ``pmf`` a float64 array of shape
    (|S_1|, ..., |S_n|, |T|), the source names in axis order, the target's name, and
    ``alphabets`` with ``alphabets[name][k]`` the value of that variable at index k along its
    axis (numeric values sorted numerically, others lexicographically). Raises ``ValueError``
    (``FileNotFoundError`` for a missing file) with the file and line of the problem, and for a
    PMF of more than ``max_cells`` cells (use ``rows_from_table`` and ``isx_pid_rows``, which
    never build it).
    """
    values, probabilities, sources, target, alphabets = rows_from_table(path, target, weight_column)
    shape = tuple(len(alphabets[name]) for name in [*sources, target])
    cells = math.prod(shape)
    if cells > max_cells:
        raise ValueError(
            f"{path}: the dense PMF would have {' x '.join(map(str, shape))} = {cells:,} cells "
            f"({cells * 8 / 2**30:.3g} GiB); read it with rows_from_table and decompose it with "
            "isx_pid_rows, which work on the observed rows only"
        )
    p = np.zeros(shape, dtype=np.float64)
    np.add.at(p, tuple(values.T), probabilities)
    return Table(p, sources, target, alphabets)


__all__ = ["Table", "TableRows", "natural_sort", "pmf_from_table", "rows_from_table"]
