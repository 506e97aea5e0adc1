"""Using a trained run: ``load_run`` gives the network, its configuration and its standardisation,
and ``read_images`` reads new images (IDX, ``.npy``, PGM, PNG) with raw pixel values.

A run folder's ``config.json`` holds the scalar mean and std its data were standardised with
(``standardisation``, computed on the training part of the training set); new images must be
given as raw pixels on the data set's own scale (0..255 for MNIST and Fashion-MNIST, 0..16 for
the bundled digits) and are standardised with those numbers, as the run's own data were.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from infomorphic.networks.base import Classifier
from infomorphic.training.run_folder import RunFolder

__all__ = ["IMAGE_FORMATS", "LoadedRun", "load_run", "read_images"]

#: Images further than this many standard deviations from a run's mean are refused when the
#: run did not record its pixels' range (runs of older versions).
FAR_STD = 100.0

#: What ``read_images`` reads, for messages and ``--help``.
IMAGE_FORMATS = (
    "an IDX image file (gzipped or not), a .npy array (n, features) or (n, height, width) of "
    "raw pixels, or one PGM or PNG image (8-bit)"
)


@dataclass
class LoadedRun:
    """A trained run, ready to classify raw images.

    ``model``: the network of the run's last checkpoint (``class_scores``, ``predict`` on
    standardised input); ``config``: the run's ``config.json``; ``mean``/``std``: the
    standardisation of its data. ``standardise(x_raw)``, ``scores(x_raw)`` and
    ``predict(x_raw)`` take raw pixels, (n, features) or (n, height, width) or one image.

    Return types follow one rule: what takes raw images (NumPy or torch) gives NumPy arrays
    (``scores``: float32 (n, n_classes), ``predict``: int64 (n,)), as NumPy users expect;
    what works on the network's own input gives torch tensors on the run's device
    (``standardise``, ``scores_of``, and the network's ``class_scores`` and ``predict``).
    """

    folder: RunFolder
    model: Classifier
    config: dict[str, Any]
    mean: float
    std: float
    device: torch.device
    #: The raw pixels' range in the run's training split (None for runs that did not record
    #: it): images far outside it are refused, as no prediction of them means anything.
    pixel_range: tuple[float, float] | None = None

    @property
    def n_features(self) -> int:
        return int(self.config["n_features"])

    @property
    def n_classes(self) -> int:
        return int(self.config["n_classes"])

    def standardise(self, x_raw: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Raw pixels -> the network's input (n, n_features) float32 on the run's device."""
        x = torch.as_tensor(np.asarray(x_raw) if not isinstance(x_raw, torch.Tensor) else x_raw)
        if x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"images must be real pixel values, got dtype {x.dtype}")
        features = self.n_features
        if x.ndim == 0 or x.numel() == 0:
            raise ValueError(f"no images: got shape {tuple(x.shape)}")
        if x.numel() == features and (x.ndim == 1 or x.shape[0] != 1):
            x = x.reshape(1, features)  # one image: (features,) or (height, width)
        elif x.ndim >= 2 and x[0].numel() == features:
            x = x.reshape(len(x), features)
        else:
            raise ValueError(
                f"images of shape {tuple(x.shape)} do not fit this run: its network takes "
                f"{features} pixels per image, e.g. (n, {features})"
            )
        x = x.to(torch.float32)
        if not torch.isfinite(x).all():
            raise ValueError("images hold NaN or infinite pixel values")
        self._check_range(x)
        # float32 arithmetic, as the run's own data were standardised (data.prepare_splits)
        mean = torch.tensor(self.mean, dtype=torch.float32)
        std = torch.tensor(self.std, dtype=torch.float32)
        return ((x - mean) / std).to(self.device)

    def _check_range(self, x: torch.Tensor) -> None:
        """Refuse pixels beyond the training data's range by more than its width (or, for a
        run without a recorded range, more than ``FAR_STD`` standard deviations from the
        mean): raw pixels on another scale, or no image at all."""
        lowest, highest = (float(v) for v in x.aminmax())
        if self.pixel_range is not None:
            low, high = self.pixel_range
            margin = high - low
            seen = f"the run's training images have pixels from {low:g} to {high:g}"
        else:
            margin = FAR_STD * self.std
            low = high = self.mean
            seen = (
                f"the run's training images have mean {self.mean:g} and standard deviation "
                f"{self.std:g}"
            )
        if lowest < low - margin or highest > high + margin:
            raise ValueError(
                f"pixel values from {lowest:g} to {highest:g} lie far outside the run's data: "
                f"{seen}; give raw pixels on the data set's own scale (0..255 for MNIST)"
            )

    def scores(self, x_raw: np.ndarray | torch.Tensor, seed: int = 0) -> np.ndarray:
        """Class scores (n, n_classes) float32 of raw images as a NumPy array; the highest is
        the predicted class. Hidden spikes are drawn from a generator seeded with ``seed``: the
        same call gives the same scores."""
        return self.scores_of(self.standardise(x_raw), seed).cpu().numpy()

    def scores_of(self, x: torch.Tensor, seed: int = 0, batch_size: int = 4096) -> torch.Tensor:
        """``scores`` of images already standardised (n, n_features), in batches, as a torch
        tensor on the run's device (the network's side of the API stays in torch)."""
        from infomorphic.training.evaluation import outputs_in_batches

        generator = torch.Generator(device=self.device).manual_seed(seed)
        outputs = outputs_in_batches(self.model, x.to(self.device), batch_size, generator)
        return self.model.to_scores(outputs)

    def predict(self, x_raw: np.ndarray | torch.Tensor, seed: int = 0) -> np.ndarray:
        """The predicted class (n,) int64 of each raw image, as a NumPy array: the argmax of
        ``scores`` with the same ``seed``."""
        return self.scores(x_raw, seed).argmax(axis=1).astype(np.int64)


def load_run(path: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """The trained network of the run folder ``path`` with its configuration and its data's
    standardisation; a damaged folder raises ``CorruptRunError`` naming the file."""
    folder = RunFolder(path)
    config = folder.config()
    standardisation = config.get("standardisation")
    try:
        mean, std = float(standardisation["mean"]), float(standardisation["std"])
    except (TypeError, KeyError, ValueError):
        raise folder.corrupt(RunFolder.CONFIG, "no standardisation mean and std") from None
    if not np.isfinite(mean) or not std > 0:
        raise folder.corrupt(RunFolder.CONFIG, f"standardisation mean {mean}, std {std}")
    pixel_range = None
    if "min" in standardisation and "max" in standardisation:
        try:
            pixel_range = (float(standardisation["min"]), float(standardisation["max"]))
        except (TypeError, ValueError):
            raise folder.corrupt(
                RunFolder.CONFIG, "a standardisation min or max that is no number"
            ) from None
    device = torch.device(device)
    model = folder.load_model(device)
    model.eval()
    return LoadedRun(folder, model, config, mean, std, device, pixel_range)


# -- reading images ------------------------------------------------------------------------------
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
    import io

    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: unreadable .npy array ({exc})") from None
    if array.dtype.kind not in "uif":
        raise ValueError(f"{path}: a .npy array of {array.dtype}, not of numbers")
    return array.astype(np.float32, copy=False)


def _read_idx(path: Path, data: bytes) -> np.ndarray:
    from infomorphic.data.idx import parse_idx
    from infomorphic.data.types import CorruptDataError

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
