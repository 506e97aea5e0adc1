"""``search.study``: opening storages, samplers and studies leaves the process's global
settings (warning filters, optuna's log level) as they were."""

from __future__ import annotations

import warnings

import pytest

optuna = pytest.importorskip("optuna")

from infomorphic.search.study import (  # noqa: E402
    make_sampler,
    make_storage,
    open_study,
    quiet_optuna,
)


def test_opening_a_study_leaves_warning_filters_and_optuna_logging_alone(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        filters = list(warnings.filters)
        storage = make_storage(f"sqlite:///{tmp_path / 'study.db'}")
        study, created = open_study("s", storage, make_sampler("tpe", 0))
        assert created and study.study_name == "s"
        assert warnings.filters == filters
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_quiet_optuna_silences_its_notes_inside_and_restores_outside():
    verbosity = optuna.logging.get_verbosity()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet_optuna():
            warnings.warn("x", optuna.exceptions.ExperimentalWarning, stacklevel=1)
            warnings.warn("Heartbeat of storage is supposed to be used with", stacklevel=1)
            assert optuna.logging.get_verbosity() == optuna.logging.WARNING
        warnings.warn("y", optuna.exceptions.ExperimentalWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["y"]
    assert optuna.logging.get_verbosity() == verbosity
