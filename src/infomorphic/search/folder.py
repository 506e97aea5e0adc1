"""A search folder: the ``search.json`` that records its search, and the checks that keep one
search in one folder and one set of options in one study.

``infomorphic search`` writes ``search.json`` (the study, its storage, the options) into its
folder, naming the default SQLite file relative to the folder. A rerun must name the same study
and storage (``check_same_search``); a study that has gone from its storage is an error, never a
fresh start (``lost``); and the study's recorded options must be the rerun's, but for those that
may change (``check_setup``, ``study.CHANGEABLE``). A study name names folders too, so it may
not leave them (``check_study_name``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from infomorphic.search.locate import read_search_json
from infomorphic.search.study import CHANGEABLE, record_differences, redact, sqlite_file

__all__ = [
    "DATABASE",
    "SEARCH_JSON",
    "check_same_search",
    "check_setup",
    "check_study_name",
    "lost",
    "previous_search",
    "recorded_storage",
]

#: The search folder's record of the search (the storage, the study and the options).
SEARCH_JSON = "search.json"
#: The default storage: a SQLite file in the search folder, recorded relative to it.
DATABASE = "study.db"
#: A study name names folders too (runs/<study>, report-<study>): nothing that leaves them.
_STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def check_study_name(name: str) -> None:
    if not _STUDY_NAME.match(name):
        raise ValueError(
            f"--study {name!r}: a study name is letters, digits, '.', '_' and '-' (at most 200, "
            "starting with a letter or digit); it names the search folder and the report's"
        )


def previous_search(out: Path) -> dict[str, Any] | None:
    """The search.json of an earlier search in ``out`` (None when there is none)."""
    path = out / SEARCH_JSON
    if not path.is_file():
        return None
    return read_search_json(
        path, "restore it from a copy, or delete it to start this folder's search afresh"
    )


def check_same_search(previous: dict[str, Any], study: str, storage: str | None, out: Path) -> None:
    """Refuse to add another study, or another storage (None: the folder's own SQLite file),
    to a folder that holds a search."""
    named = recorded_storage(previous, out)
    if previous["study"] != study or named != storage:
        where = redact(named) if named else f"{out / DATABASE}"
        raise ValueError(
            f"{out} holds the search of study {previous['study']!r} in {where} "
            f"({out / SEARCH_JSON}); give its --study and --storage to continue it, or another "
            "--out for another search"
        )


def recorded_storage(previous: dict[str, Any], out: Path) -> str | None:
    """The storage an earlier search.json names, None for the folder's own SQLite file
    (search.json before issue 17 named that file by an absolute URL)."""
    if previous.get("database") or not previous.get("storage"):
        return None
    file = sqlite_file(previous["storage"])
    if file is not None and file.name == DATABASE and (out / DATABASE).is_file():
        return None  # this folder's study.db, or a copy's: the folder's own wins
    return previous["storage"]


def lost(out: Path, study: str, what: str) -> ValueError:
    """The error for a search folder whose study has gone: never a silent fresh start."""
    return ValueError(
        f"{out / SEARCH_JSON} records a search of study {study!r}, but {what}: "
        "the study was deleted or its database emptied. Restore the database from a copy, or "
        f"delete {out / SEARCH_JSON} to start the search afresh"
    )


def check_setup(study: Any, record: dict[str, Any], name: str) -> None:
    """Refuse to continue ``study`` with another ``setup_record`` than the one it was created
    with, listing the differences and the options that may change."""
    recorded = study.user_attrs.get("infomorphic")
    if not recorded:
        return
    differences = record_differences(recorded, record)
    if differences:
        changeable = ", ".join("--" + option.replace("_", "-") for option in CHANGEABLE)
        raise ValueError(
            f"study {name!r} was created with other options, and its trials "
            f"would not compare with these: {'; '.join(differences)}. Give the study's own "
            f"options to continue it, or another --study (and --out) for a new search; options "
            f"that may change from run to run: {changeable}"
        )
