"""Where a study lives: a search folder (its ``search.json``) or a storage URL and a name.

``locate`` turns the command line's STUDY into a ``SearchTarget``: a search folder holding the
``search.json`` that ``infomorphic search`` writes (storage and study from it), a study name
with a storage URL, or a name whose folder ``runs/<study>`` exists. A search.json records its
SQLite database relative to the folder, so a copied or moved folder reads its own database.
``load_study`` opens the target's study, refusing a missing database or study by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infomorphic.search.study import (
    check_storage_url,
    make_storage,
    redact,
    require_optuna,
    sqlite_file,
)

__all__ = ["SearchTarget", "load_study", "locate", "read_search_json"]


@dataclass(frozen=True)
class SearchTarget:
    """Where a study lives: storage URL, study name, and its search folder if known."""

    storage: str
    study: str
    folder: Path | None = None


def locate(study: str, storage: str | None = None) -> SearchTarget:
    """STUDY as the command line takes it: a search folder holding ``search.json`` (storage and
    study from it; ``storage`` overrides the storage), or a study name with ``storage``, or a
    study name whose folder is ``runs/<study>`` (the search command's default)."""
    folder = Path(study)
    if not folder.is_dir() and storage is None and (Path("runs") / study).is_dir():
        folder = Path("runs") / study
    if folder.is_dir():
        meta = folder / "search.json"
        if not meta.is_file():
            raise ValueError(
                f"{folder} holds no search.json: give a search folder made by "
                "infomorphic search, or a study name with --storage URL"
            )
        data = read_search_json(meta)
        return SearchTarget(storage or _folder_storage(folder, data), data["study"], folder)
    if storage is None:
        raise ValueError(
            f"{study!r} is no search folder: give the folder (holding search.json) "
            "or the study name with --storage URL"
        )
    return SearchTarget(storage, study)


def read_search_json(path: Path, advice: str = "restore it from a copy") -> dict[str, Any]:
    """A search folder's search.json; a ValueError naming the file when it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is damaged ({exc}); {advice}") from None
    if not isinstance(data, dict) or not isinstance(data.get("study"), str):
        raise ValueError(f"{path} is damaged (no study name); {advice}")
    if not (isinstance(data.get("storage"), str) or isinstance(data.get("database"), str)):
        raise ValueError(f"{path} is damaged (no storage or database); {advice}")
    return data


def _folder_storage(folder: Path, data: dict[str, Any]) -> str:
    """The storage a search.json names: its database relative to the folder (a copied or
    moved folder reads its own), or its storage URL. Older search.json files hold an absolute
    SQLite URL; the folder's own study.db wins over it."""
    if data.get("database"):
        database = Path(data["database"])
        if database.is_absolute() or ".." in database.parts:
            raise ValueError(
                f"{folder / 'search.json'}: the database {database} is not a file "
                "inside the search folder"
            )
        return f"sqlite:///{(folder / database).resolve()}"
    url, local = data["storage"], folder / "study.db"
    file = sqlite_file(url)
    if file is not None and local.is_file() and file.resolve() != local.resolve():
        return f"sqlite:///{local.resolve()}"
    return url


def load_study(target: SearchTarget) -> Any:
    """The stored study; a ValueError naming the studies there when it does not exist."""
    optuna = require_optuna()
    check_storage_url(target.storage)
    file = sqlite_file(target.storage)
    if file is not None and not file.is_file():  # optuna would create an empty database
        raise ValueError(f"no study database at {file}")
    storage = make_storage(target.storage)
    try:
        return optuna.load_study(study_name=target.study, storage=storage)
    except KeyError:
        names = optuna.get_all_study_names(storage)
        raise ValueError(
            f"no study {target.study!r} in {redact(target.storage)}; it holds "
            f"{', '.join(repr(n) for n in names) if names else 'no studies'}"
        ) from None
