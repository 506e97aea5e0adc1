"""Downloading a data set's files into the cache: mirrors, resume, checksums, a progress bar.

A file is downloaded into ``NAME.part`` beside its final place; no loader takes that name for
data. A broken connection keeps the part, and the next attempt asks the server for the rest
(an HTTP range request; a server that ignores it sends the whole file again). Only a complete
file whose MD5 matches the catalog's is renamed to its final name, so a file under the final
name is always whole; a complete file with another checksum is deleted.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from infomorphic.data import locate
from infomorphic.data.catalog import DatasetEntry, RemoteFile, dataset_entry
from infomorphic.data.cifar import CIFAR_SUBDIR, CIFAR_TARBALL, extract_cifar, missing_cifar_files
from infomorphic.data.types import CorruptDataError, DataUnavailableError

__all__ = [
    "PART_SUFFIX",
    "download_file",
    "fetch_dataset",
    "file_md5",
    "missing_files",
    "offline_advice",
]

PART_SUFFIX = ".part"
_CHUNK = 1 << 16


def file_md5(path: Path) -> str:
    """The MD5 hex digest of the file at ``path``, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _response_size(response: object) -> int | None:
    headers = getattr(response, "headers", None)
    length = headers.get("Content-Length") if headers is not None else None
    return int(length) if length and length.isdigit() else None


def _copy(response: object, part: Path, offset: int, label: str, progress: bool) -> None:
    """Append (``offset`` > 0) or write the response body to ``part``, with a progress bar."""
    from tqdm.auto import tqdm

    size = _response_size(response)
    total = offset + size if size is not None else None
    with (
        part.open("ab" if offset else "wb") as handle,
        tqdm(
            total=total,
            initial=offset,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label,
            disable=not progress,
            file=sys.stderr,
            leave=True,
        ) as bar,
    ):
        received = 0
        while block := response.read(_CHUNK):  # type: ignore[attr-defined]
            handle.write(block)
            received += len(block)
            bar.update(len(block))
        handle.flush()
        os.fsync(handle.fileno())
    if size is not None and received < size:  # http.client returns b"" at an early close
        raise ConnectionError(f"connection closed after {received} of {size} bytes")


def _attempt(url: str, part: Path, label: str, progress: bool) -> None:
    """One request for ``url``, continuing ``part`` where it ends when the server allows."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "infomorphic"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=locate.DOWNLOAD_TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left to send: the part may be whole already
            return
        raise
    with response:
        status = getattr(response, "status", 200)
        content_range = (getattr(response, "headers", None) or {}).get("Content-Range", "")
        if offset and not (status == 206 and content_range.startswith(f"bytes {offset}-")):
            offset = 0  # the server sent the whole file: start the part again
        _copy(response, part, offset, label, progress)


def download_file(
    urls: Sequence[str], dest: Path, md5: str | None = None, progress: bool = False
) -> list[str]:
    """Fetch ``dest`` from the first of ``urls`` (mirrors) that gives the whole file with the
    checksum ``md5``. Returns the error of each failed attempt; an empty list means ``dest`` is
    now there, complete and checked.

    A partial file from an earlier attempt (``dest`` + ``.part``) is continued, not restarted;
    a complete part with the wrong checksum is deleted and the next mirror tried.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + PART_SUFFIX)
    errors: list[str] = []
    for url in urls:
        resumed = True
        while resumed:  # a part that does not check out is dropped and fetched once afresh
            resumed = part.is_file()
            try:
                _attempt(url, part, dest.name, progress)
            except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, timeouts
                errors.append(f"{url}: {exc}")
                break
            got = file_md5(part) if md5 is not None else None
            if got == md5:
                os.replace(part, dest)
                return []
            part.unlink()
            if not resumed:
                errors.append(f"{url}: checksum MD5 {got}, expected {md5} (file deleted)")
    return errors


def missing_files(entry: DatasetEntry, folder: Path) -> list[RemoteFile]:
    """The files of ``entry`` that ``folder`` does not hold under their final names."""
    return [file for file in entry.files if not (folder / file.name).is_file()]


def offline_advice(entry: DatasetEntry, folder: Path) -> str:
    """What to do without network: the addresses and checksums, and where to put the files."""
    lines = [f"To get {entry.title} on a machine without network, download on another one:"]
    for file in entry.files:
        lines.append(f"  {entry.urls(file)[0]}  (MD5 {file.md5})")
    lines.append(
        f"and copy the files into {folder} (then `infomorphic data fetch {entry.name}` checks "
        "them), or into any folder you pass with --data-dir."
    )
    return "\n".join(lines)


def fetch_dataset(
    name: str,
    cache_dir: str | Path | None = None,
    mirrors: Sequence[str] | None = None,
    progress: bool = False,
) -> Path:
    """Download the files of data set ``name`` that its cache folder lacks, check them, and
    return that folder. Files already there are checked (MD5) and a damaged one replaced;
    CIFAR-10's batches are extracted from its tarball.

    ``mirrors`` (base addresses holding the files) replaces the catalog's. Raises
    ``DataUnavailableError`` (no mirror answered; the message says what to do offline),
    ``CorruptDataError`` (every mirror gave a file with the wrong checksum), ``ValueError``
    for a data set that is not downloaded (``digits``, ``mnist-sample``).
    """
    entry = dataset_entry(name)
    if entry.kind != "download":
        raise ValueError(
            f"{entry.name} ships inside the package {entry.package}; there is nothing to fetch"
        )
    folder = locate.resolve_cache(cache_dir) / entry.subdir
    bases = tuple(mirrors) if mirrors else None
    for file in entry.files:
        target = folder / file.name
        if target.is_file() and file_md5(target) == file.md5:
            continue
        if target.is_file():  # damaged or another version: fetch again, never read it
            target.unlink()
        errors = download_file(entry.urls(file, bases), target, file.md5, progress)
        if errors:
            detail = "\n  ".join(errors)
            kind = (
                CorruptDataError if all("checksum" in e for e in errors) else DataUnavailableError
            )
            raise kind(
                f"could not download {file.name} of {entry.title}:\n  {detail}\n"
                + offline_advice(entry, folder)
                + (
                    "\nA partial download is kept and continued by the next attempt."
                    if (folder / (file.name + PART_SUFFIX)).is_file()
                    else ""
                )
            )
    if entry.name == "cifar10" and missing_cifar_files(folder / CIFAR_SUBDIR):
        extract_cifar(folder / CIFAR_TARBALL, folder / CIFAR_SUBDIR)  # as the first load would
    return folder
