"""What this machine holds of each data set: present or not, where, and whether in the cache.

Read by ``infomorphic data list`` and ``infomorphic data path``; it finds files without reading
or downloading them (``loading.find_dataset``), so it answers at once.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from infomorphic.data import locate
from infomorphic.data.bundled import mnist_sample_cache_file, mnist_sample_source
from infomorphic.data.catalog import CATALOG, DatasetEntry, dataset_entry
from infomorphic.data.loading import find_dataset
from infomorphic.data.types import DataUnavailableError

__all__ = ["DatasetStatus", "dataset_path", "dataset_status", "inventory"]


@dataclass(frozen=True)
class DatasetStatus:
    """One data set on this machine.

    ``state``: ``cached`` (its files are in the cache directory), ``present`` (found in another
    folder of the search path), ``missing`` (``infomorphic data fetch NAME`` gets it), or, for
    the sets inside packages, ``built in`` (``missing`` when the package is not installed).
    ``path``: the folder (or file) it is read from; ``cached``: for ``mnist-sample``, the parsed
    arrays in the cache (None until the first load); ``searched``: the folders looked in.
    """

    entry: DatasetEntry
    state: str
    path: Path | None
    cached: Path | None
    searched: tuple[Path, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.entry.name,
            "title": self.entry.title,
            "kind": self.entry.kind,
            "summary": self.entry.summary,
            "state": self.state,
            "path": str(self.path) if self.path else None,
            "cached": str(self.cached) if self.cached else None,
            "searched": [str(folder) for folder in self.searched],
        }


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _bundled_status(entry: DatasetEntry, cache_dir: str | Path | None) -> DatasetStatus:
    if entry.name == "mnist-sample":
        try:
            source = mnist_sample_source()
        except DataUnavailableError:
            return DatasetStatus(entry, "missing", None, None, ())
        cache = mnist_sample_cache_file(cache_dir)
        return DatasetStatus(entry, "built in", source, cache if cache.is_file() else None, ())
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return DatasetStatus(entry, "missing", None, None, ())
    source = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return DatasetStatus(entry, "built in", source if source.is_file() else None, None, ())


def dataset_status(name: str, cache_dir: str | Path | None = None) -> DatasetStatus:
    """Where data set ``name`` is on this machine (see ``DatasetStatus``)."""
    entry = dataset_entry(name)
    if entry.kind == "bundled":
        return _bundled_status(entry, cache_dir)
    location = find_dataset(entry.name, cache_dir=cache_dir)
    folders = tuple(locate.data_search_path(cache_dir))
    if location.path is None:
        return DatasetStatus(entry, "missing", None, None, folders)
    cached = _inside(location.path, locate.resolve_cache(cache_dir))
    return DatasetStatus(entry, "cached" if cached else "present", location.path, None, folders)


def inventory(cache_dir: str | Path | None = None) -> list[DatasetStatus]:
    """``dataset_status`` of every data set of the catalog, in its order."""
    return [dataset_status(name, cache_dir) for name in CATALOG]


def dataset_path(name: str, cache_dir: str | Path | None = None) -> Path:
    """The folder (or file) data set ``name`` is read from; ``DataUnavailableError`` saying
    what to do when it is not on this machine."""
    status = dataset_status(name, cache_dir)
    if status.path is not None:
        return status.cached or status.path
    entry = status.entry
    if entry.kind == "bundled":
        raise DataUnavailableError(
            f"{entry.name} needs the package {entry.package} (pip install {entry.package})"
        )
    folders = "\n".join(f"  {folder}" for folder in status.searched)
    raise DataUnavailableError(
        f"{entry.title} is not on this machine; looked in:\n{folders}\n"
        f"`infomorphic data fetch {entry.name}` downloads it into "
        f"{locate.resolve_cache(cache_dir) / entry.subdir}."
    )
