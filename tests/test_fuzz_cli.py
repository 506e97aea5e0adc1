"""Fuzzing the command line of ``train`` and ``search``: whatever the arguments, the command
ends in exit 0 or in exit 2 with a message, never in a traceback.

Every generated command ends in ``--dry-run``, which checks the options and the folder and
stops before anything is trained, opened or written; training and searching are replaced by
functions that fail the test if reached. A few dozen examples run in the default suite, many
more under ``-m slow``.
"""

from __future__ import annotations

import argparse
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infomorphic.cli import build_parser, main

pytest.importorskip("optuna")

#: Values that have broken parsers before, or lie on the edge of an option's range.
NASTY = [
    "0",
    "1",
    "-1",
    "2",
    "8",
    "1.5",
    "1e9",
    "nan",
    "inf",
    "-inf",
    "",
    " ",
    "abc",
    "10,,5",
    "10,",
    ",",
    "8,8",
    "100000000",
    str(2**32),
    str(2**63),
    str(10**30),
    "-0",
    "0x10",
    "H_res=5",
    "H_res=0",
    "{F}{C}=0.5",
    "=",
    "digits",
    "mnist-sample",
    "setup1",
    "backprop",
    "cpu",
    "cuda",
    "cuda:99",
    "mps",
    "tpe",
    "random",
    "cmaes",
    "heuristic",
    "optimized",
    "val",
    "val,val",
    "train,val,test",
    "..",
    "../../x",
    "/",
    "foo://",
    "sqlite:///x.db",
    "not a url",
    "a\x00b",
    "é",
    "--",
    "-",
    "--help",
]


def _options(command: str) -> list[tuple[str, bool]]:
    """(option, takes a value) for each option of ``command``, except --help and --config."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for action in sub.choices[command]._actions:
        names = [o for o in action.option_strings if o.startswith("--")]
        if names and names[0] not in ("--help", "--config", "--dry-run"):
            found.append((names[0], action.nargs != 0))
    return found


def _arguments(command: str) -> st.SearchStrategy[list[str]]:
    value = st.one_of(st.sampled_from(NASTY), st.text(max_size=6), st.integers().map(str))
    option = st.sampled_from(_options(command))

    def words(pair: tuple[tuple[str, bool], str]) -> list[str]:
        (name, takes_value), text = pair
        return [name, text] if takes_value else [name]

    item = st.one_of(st.tuples(option, value).map(words), value.map(lambda v: [v]))
    return st.lists(item, max_size=6).map(lambda items: [w for words in items for w in words])


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Nothing may train or open a study; the working directory is empty and private."""
    import infomorphic.search.protocol as protocol
    import infomorphic.training.api as api

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run trained or opened something")

    monkeypatch.setattr(api, "train", refuse)
    monkeypatch.setattr(protocol, "open_search", refuse)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(command: str, argv: list[str], capsys, folder) -> None:
    code = main([command, *argv, "--dry-run"])
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.strip(), argv  # a message says what was wrong
    assert os.listdir(folder) == [], argv  # a dry run writes nothing


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
# Derandomised too: the CI gate must not depend on luck. To explore new inputs, run them
# once with `derandomize=False` here.
MANY = settings(SETTINGS, max_examples=400)


@SETTINGS
@given(argv=_arguments("train"))
def test_train_arguments_never_give_a_traceback(argv, capsys, no_work):
    _check("train", argv, capsys, no_work)


@SETTINGS
@given(argv=_arguments("search"))
def test_search_arguments_never_give_a_traceback(argv, capsys, no_work):
    _check("search", ["--trials", "2", *argv], capsys, no_work)


@pytest.mark.slow
@MANY
@given(argv=_arguments("train"))
def test_train_arguments_never_give_a_traceback_many(argv, capsys, no_work):
    _check("train", argv, capsys, no_work)


@pytest.mark.slow
@MANY
@given(argv=_arguments("search"))
def test_search_arguments_never_give_a_traceback_many(argv, capsys, no_work):
    _check("search", argv, capsys, no_work)
