"""Reading MNIST-style IDX files (gzipped or plain) into a ``RawDataset``.

MNIST and Fashion-MNIST share the format and the four file names, so one reader serves both.
Every check names the file and what is wrong with it, because a truncated download is the
usual cause and the fix is to replace that file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from infomorphic.data.types import CorruptDataError, RawDataset

__all__ = [
    "IDX_EXPECTED",
    "IDX_FILES",
    "find_idx_files",
    "parse_idx",
    "read_idx",
    "read_idx_dataset",
]

IDX_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""The four files of an IDX data set by role; each may also be present as ``NAME.gz``."""

IDX_EXPECTED = ", ".join(f"{f}[.gz]" for f in IDX_FILES.values())


def find_idx_files(directory: Path) -> tuple[dict[str, Path], list[str]]:
    """Return (found files by role, missing base names); a plain file wins over ``.gz``."""
    found, missing = {}, []
    for role, base in IDX_FILES.items():
        for candidate in (directory / base, directory / f"{base}.gz"):
            if candidate.is_file():
                found[role] = candidate
                break
        else:
            missing.append(base)
    return found, missing


def _read_bytes(path: Path) -> bytes:
    """File content, decompressed if it is gzip (judged by content, not by the name)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip magic; an IDX file always starts with 0x00
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptDataError(f"{path}: damaged gzip data ({exc})") from exc
    return data


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX file with ``ndim`` dimensions (magic 0x0000080<ndim>).

    Returns uint8 of the shape the header announces, e.g. ``(n, 28, 28)`` or ``(n,)``.
    """
    return parse_idx(_read_bytes(path), ndim, path)


def parse_idx(data: bytes, ndim: int, path: Path | str = "IDX data") -> np.ndarray:
    """The uint8 array of IDX bytes with ``ndim`` dimensions; a ``CorruptDataError`` naming
    ``path`` when the bytes are not that."""
    expected_magic = 0x0800 + ndim
    if len(data) < 4:
        raise CorruptDataError(f"{path}: only {len(data)} bytes, not an IDX file")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise CorruptDataError(
            f"{path}: IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimensions)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    size = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != size:
        raise CorruptDataError(
            f"{path}: header announces shape {dims} ({size} bytes) but {len(data) - header} "
            "bytes of data follow (truncated or wrong file)"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_split(files: dict[str, Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(files[f"{split}_images"], 3)
    labels = read_idx(files[f"{split}_labels"], 1)
    if len(images) != len(labels):
        raise CorruptDataError(
            f"{files[f'{split}_images'].name} holds {len(images)} images but "
            f"{files[f'{split}_labels'].name} holds {len(labels)} labels"
        )
    if labels.size and labels.max() >= 10:
        raise CorruptDataError(f"{files[f'{split}_labels']}: label {labels.max()} outside 0..9")
    return images.reshape(len(images), -1).astype(np.float32), labels.astype(np.int64)


def read_idx_dataset(name: str, title: str, files: dict[str, Path], directory: Path) -> RawDataset:
    """Read the four IDX files found in ``directory`` (see ``find_idx_files``).

    x float32 ``(n, height*width)`` with raw values 0..255, y int64 ``(n,)`` in 0..9. Raises
    ``CorruptDataError`` naming the directory, the bad file and the remedy.
    """
    try:
        x_train, y_train = _read_split(files, "train")
        x_test, y_test = _read_split(files, "test")
        if x_train.shape[1] != x_test.shape[1]:
            raise CorruptDataError("training and test images differ in size")
    except CorruptDataError as exc:
        raise CorruptDataError(
            f"{title} data in {directory} is corrupt: {exc}. Replace the files "
            f"({IDX_EXPECTED}) with intact copies, or point --data-dir at another directory."
        ) from exc
    names = ", ".join(files[role].name for role in IDX_FILES)
    return RawDataset(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        n_classes=10,
        name=name,
        source=f"{title} IDX files in {directory.resolve()}: {names}",
        files=tuple(str(files[role].resolve()) for role in IDX_FILES),
    )
