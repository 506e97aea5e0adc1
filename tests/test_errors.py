"""``infomorphic.errors``: every error the package raises on purpose is an ``InfomorphicError``
and keeps its builtin base, and the command line prints each as a message."""

from __future__ import annotations

import pickle

import pytest

from infomorphic.cli import main
from infomorphic.data.cifar import UnsafePickleError
from infomorphic.data.types import CorruptDataError, DataUnavailableError
from infomorphic.errors import ConfigError, InfomorphicError
from infomorphic.locks import FolderLockedError
from infomorphic.search.study import StorageError
from infomorphic.training.api import RunExistsError
from infomorphic.training.loop import TrainingDiverged
from infomorphic.training.run_folder import CorruptRunError, UnsafeCheckpointError

#: Each error with the builtin base(s) callers caught it by before the common base.
ERRORS = [
    (ConfigError, (ValueError,)),
    (CorruptRunError, (ValueError,)),
    (UnsafeCheckpointError, (pickle.UnpicklingError, ValueError)),
    (RunExistsError, (FileExistsError,)),
    (TrainingDiverged, (FloatingPointError,)),
    (StorageError, (ValueError,)),
    (FolderLockedError, (OSError,)),
    (UnsafePickleError, (pickle.UnpicklingError,)),
    (DataUnavailableError, (RuntimeError,)),
    (CorruptDataError, (DataUnavailableError, RuntimeError)),
]


@pytest.mark.parametrize(("error", "bases"), ERRORS, ids=[e.__name__ for e, _ in ERRORS])
def test_every_error_is_an_infomorphic_error_with_its_builtin_base(error, bases):
    assert issubclass(error, InfomorphicError)
    assert all(issubclass(error, base) for base in bases)


def test_the_command_line_prints_an_infomorphic_error_that_is_no_value_or_os_error(
    monkeypatch, capsys
):
    """A ``RuntimeError`` subclass (here: the data set is not there) is printed, exit 2."""
    import infomorphic.data as data

    def unavailable(name):
        raise DataUnavailableError(f"{name} is nowhere on the search path")

    monkeypatch.setattr(data, "dataset_path", unavailable)
    assert main(["data", "path", "mnist"]) == 2
    err = capsys.readouterr().err
    assert err == "infomorphic: error: mnist is nowhere on the search path\n"
