"""The image reader of ``infomorphic.data.images``: every format gives back the pixels written."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from conftest import write_pgm, write_png

from infomorphic.data.images import read_images


@pytest.fixture
def image() -> np.ndarray:
    """A 7x9 image using the whole byte range, so that every PNG filter wraps around 256."""
    return np.random.default_rng(0).integers(0, 256, (7, 9)).astype(np.uint8)


def test_pgm_and_png_give_the_pixels_written(image, tmp_path):
    write_pgm(tmp_path / "one.pgm", image)
    write_png(tmp_path / "one.png", image)  # RGB, every row filter 0-4 in turn
    for name in ("one.pgm", "one.png"):
        read = read_images(tmp_path / name)
        assert read.dtype == np.float32 and read.shape == (1, 7, 9), name
        assert np.array_equal(read[0], image.astype(np.float32)), name


def test_plain_pgm_npy_and_gzipped_idx(image, tmp_path):
    height, width = image.shape
    text = " ".join(str(v) for v in image.reshape(-1))
    (tmp_path / "plain.pgm").write_bytes(b"P2 %d %d 255\n%s\n" % (width, height, text.encode()))
    assert np.array_equal(read_images(tmp_path / "plain.pgm")[0], image)
    np.save(tmp_path / "two.npy", np.stack([image, image]).astype(np.int16))
    assert read_images(tmp_path / "two.npy").shape == (2, 7, 9)
    pixels = np.stack([image, 255 - image]).tobytes()
    idx = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, height, width) + pixels
    (tmp_path / "images-idx3-ubyte.gz").write_bytes(gzip.compress(idx))
    read = read_images(tmp_path / "images-idx3-ubyte.gz")
    assert np.array_equal(read, np.stack([image, 255 - image]).astype(np.float32))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "not an IDX image file"),
        (b"P5 2 2 65535\n" + bytes(8), "8-bit images only"),
        (b"P5 4 4 255\n" + bytes(3), "the header announces 4x4"),
        (b"\x89PNG\r\n\x1a\n", "truncated PNG"),
        (b"\x1f\x8b" + bytes(10), "damaged gzip data"),
    ],
)
def test_unreadable_files_are_named_with_what_is_wrong(tmp_path, content, message):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(ValueError, match=message) as caught:
        read_images(tmp_path / "bad")
    assert str(tmp_path / "bad") in str(caught.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_images(tmp_path / "missing.png")
