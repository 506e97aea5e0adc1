"""Where data sets are looked for on this machine, where they are cached, how they are fetched.

The search path is a documented list, not a guess about one machine: the folders in
``$INFOMORPHIC_DATA_PATH`` first, then the cache directory, then ``SYSTEM_DATA_DIRS``.
Downloads (``fetch``) go into the cache directory only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "DATA_PATH_ENV",
    "DOWNLOAD_TIMEOUT_S",
    "SYSTEM_DATA_DIRS",
    "data_search_path",
    "default_cache_dir",
    "existing_search_folders",
    "not_found_message",
    "resolve_cache",
    "search_advice",
    "search_path_note",
]

CACHE_ENV = "INFOMORPHIC_DATA"
"""Environment variable naming the cache directory (default ``~/.cache/infomorphic``)."""

DATA_PATH_ENV = "INFOMORPHIC_DATA_PATH"
"""Environment variable with extra data folders, separated by ``os.pathsep``, searched first."""

SYSTEM_DATA_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"),)
"""Built-in system folders, searched last. Debian's ``dataset-fashion-mnist`` package installs
its IDX files in ``/usr/share/datasets/fashion-mnist/``."""

DOWNLOAD_TIMEOUT_S = 10.0
"""Socket timeout for each download attempt (there is often no network at all)."""


def default_cache_dir() -> Path:
    """Cache directory: ``$INFOMORPHIC_DATA`` if set, else ``~/.cache/infomorphic``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "infomorphic"


def resolve_cache(cache_dir: str | Path | None) -> Path:
    """The cache directory to use: ``cache_dir`` when given, else ``default_cache_dir()``."""
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def data_search_path(cache_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for a data set when no ``data_dir`` is given, in order.

    1. each folder in ``$INFOMORPHIC_DATA_PATH`` (separated by ``os.pathsep``; empty entries
       are ignored), in the order given;
    2. the cache directory: ``cache_dir`` if given, else ``default_cache_dir()``;
    3. ``SYSTEM_DATA_DIRS`` (``/usr/share/datasets``).

    A folder listed twice is kept at its first place. Folders need not exist; those that do
    not are reported as such when a data set is not found.
    """
    entries = os.environ.get(DATA_PATH_ENV, "").split(os.pathsep)
    extra = [Path(entry).expanduser() for entry in entries if entry.strip()]
    folders: list[Path] = []
    seen: set[Path] = set()
    for folder in [*extra, resolve_cache(cache_dir), *SYSTEM_DATA_DIRS]:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            folders.append(folder)
    return folders


def existing_search_folders(
    cache_dir: str | Path | None, searched: list[tuple[Path, str]]
) -> Iterator[Path]:
    """Yield the folders of ``data_search_path`` that exist, in order; note absent ones in
    ``searched`` as they come, so an error lists the folders in the order they were tried."""
    for folder in data_search_path(cache_dir):
        if folder.is_dir():
            yield folder
        else:
            searched.append((folder, "no such directory"))


def not_found_message(
    title: str, searched: list[tuple[Path, str]], expected: str, advice: str
) -> str:
    """A not-found error text: every folder tried and what was missing there, then the fix."""
    lines = [f"{title} data not found."]
    lines += [f"  {d}: {problem}" for d, problem in searched]
    lines.append(f"Expected files: {expected}.")
    lines.append(advice)
    return "\n".join(lines)


def search_advice(subdir: str, cache: Path, put: str) -> str:
    """The end of a not-found message: the two ways, besides --data-dir, to supply the data."""
    return (
        f"or add a folder holding them (directly or in its subfolder {subdir}/) to "
        f"${DATA_PATH_ENV} (folders separated by '{os.pathsep}'), or {put} into the "
        f"cache directory {cache} (the cache root is ${CACHE_ENV} or ~/.cache/infomorphic)."
    )


def search_path_note() -> str:
    """One sentence on what is searched when no --data-dir is given."""
    system = ", ".join(str(d) for d in SYSTEM_DATA_DIRS)
    return (
        f"Without --data-dir the folders in ${DATA_PATH_ENV}, then the cache directory, "
        f"then {system} are searched."
    )
