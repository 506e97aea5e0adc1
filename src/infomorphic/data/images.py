"""Reading new images for prediction: IDX, ``.npy``, PGM and PNG files as raw pixels.

The decoders are small and dependency-free (no Pillow), so ``infomorphic predict`` reads a
digit drawn in any paint program; the file's kind is judged by its content, not by its name.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import numpy as np

from infomorphic.data.idx import parse_idx
from infomorphic.data.types import CorruptDataError

__all__ = ["IMAGE_FORMATS", "read_images"]

#: What ``read_images`` reads, for messages and ``--help``.
IMAGE_FORMATS = (
    "an IDX image file (gzipped or not), a .npy array (n, features) or (n, height, width) of "
    "raw pixels, or one PGM or PNG image (8-bit)"
)


def read_images(path: str | Path) -> np.ndarray:
    """Raw pixels of the images in ``path``: (n, height, width) or (n, features), float32.

    Reads an IDX file of unsigned bytes (``*-images-idx3-ubyte``, gzipped or not), a ``.npy``
    array, or one PGM (P2/P5) or PNG image (8-bit grey, grey+alpha, RGB or RGBA; colours are
    averaged to grey, alpha dropped). Judged by content, not by the name.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {path} does not exist")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: damaged gzip data ({exc})") from None
    if data[:6] == b"\x93NUMPY":
        return _read_npy(path, data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _read_png(path, data)[None]
    if data[:2] in (b"P2", b"P5"):
        return _read_pgm(path, data)[None]
    if len(data) >= 4 and data[:3] == b"\x00\x00\x08" and 1 <= data[3] <= 4:
        return _read_idx(path, data)
    raise ValueError(f"{path}: not {IMAGE_FORMATS}")


def _read_npy(path: Path, data: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: unreadable .npy array ({exc})") from None
    if array.dtype.kind not in "uif":
        raise ValueError(f"{path}: a .npy array of {array.dtype}, not of numbers")
    return array.astype(np.float32, copy=False)


def _read_idx(path: Path, data: bytes) -> np.ndarray:
    try:
        return parse_idx(data, data[3], path).astype(np.float32)
    except CorruptDataError as exc:
        raise ValueError(str(exc)) from None


def _read_pgm(path: Path, data: bytes) -> np.ndarray:
    tokens: list[bytes] = []
    position = 0
    while len(tokens) < 4:  # magic, width, height, maxval; '#' starts a comment
        while position < len(data) and data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":
            position = data.find(b"\n", position)
            if position < 0:
                raise ValueError(f"{path}: truncated PGM header")
            continue
        end = position
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        if end == position:
            raise ValueError(f"{path}: truncated PGM header")
        tokens.append(data[position:end])
        position = end
    try:
        width, height, maxval = (int(t) for t in tokens[1:])
    except ValueError:
        raise ValueError(f"{path}: bad PGM header {b' '.join(tokens)!r}") from None
    if not 0 < maxval < 256:
        raise ValueError(f"{path}: PGM with maxval {maxval}; 8-bit images only")
    if tokens[0] == b"P5":
        pixels = np.frombuffer(data, np.uint8, count=-1, offset=position + 1)
    else:
        pixels = np.array(data[position:].split(), dtype=np.int64)
    if pixels.size < width * height:
        raise ValueError(f"{path}: {pixels.size} pixels, the header announces {width}x{height}")
    return pixels[: width * height].reshape(height, width).astype(np.float32)


def _read_png(path: Path, data: bytes) -> np.ndarray:
    position, chunks, header = 8, [], None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if len(body) < length:
            raise ValueError(f"{path}: truncated PNG")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    if header is None or not chunks:
        raise ValueError(f"{path}: truncated PNG (no header or no image data)")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(
            f"{path}: PNG of bit depth {depth}, colour type {colour}, interlace {interlace}; "
            "8-bit grey, grey+alpha, RGB or RGBA without interlacing only (or save it as .npy)"
        )
    try:
        raw = zlib.decompress(b"".join(chunks))
    except zlib.error as exc:
        raise ValueError(f"{path}: damaged PNG data ({exc})") from None
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: PNG data of {len(raw)} bytes for {width}x{height}")
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    image = np.zeros((height, stride), np.int64)
    previous = np.zeros(stride, np.int64)
    for y in range(height):
        line, kind = rows[y, 1:].astype(np.int64), rows[y, 0]
        if kind == 0:
            current = line
        elif kind == 2:
            current = (line + previous) % 256
        elif kind in (1, 3, 4):  # these depend on the pixel to the left: one byte at a time
            current = np.zeros(stride, np.int64)
            for x in range(stride):
                left = current[x - channels] if x >= channels else 0
                up = previous[x]
                if kind == 1:
                    guess = left
                elif kind == 3:
                    guess = (left + up) // 2
                else:
                    corner = previous[x - channels] if x >= channels else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                current[x] = (line[x] + guess) % 256
        else:
            raise ValueError(f"{path}: PNG row filter {kind} unknown (damaged file)")
        image[y] = previous = current
    pixels = image.reshape(height, width, channels)
    colour_channels = 1 if channels <= 2 else 3
    return pixels[..., :colour_channels].mean(axis=-1).astype(np.float32)
