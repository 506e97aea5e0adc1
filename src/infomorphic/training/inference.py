"""Using a trained run: ``load_model`` builds the network of a run folder's last checkpoint,
``load_run`` gives it with its configuration and its standardisation, ready for raw images
(read by ``infomorphic.data.images.read_images``, exported here too).

A run folder's ``config.json`` holds the scalar mean and std its data were standardised with
(``standardisation``, computed on the training part of the training set); new images must be
given as raw pixels on the data set's own scale (0..255 for MNIST and Fashion-MNIST, 0..16 for
the bundled digits) and are standardised with those numbers, as the run's own data were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from infomorphic.data.images import IMAGE_FORMATS, read_images
from infomorphic.networks.base import Classifier
from infomorphic.training.run_folder import RunFolder

__all__ = ["IMAGE_FORMATS", "LoadedRun", "load_model", "load_run", "read_images"]

#: Images further than this many standard deviations from a run's mean are refused when the
#: run did not record its pixels' range (runs of older versions).
FAR_STD = 100.0


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


def load_model(folder: RunFolder | str | Path, device: str | torch.device = "cpu") -> Classifier:
    """The trained network of a run folder's last checkpoint, ready to ``predict``: the network
    its ``config.json`` describes (converted from an older format on read), built and given the
    checkpoint's weights. Weights that do not fit raise ``CorruptRunError``."""
    from infomorphic.networks.registry import build_network

    folder = folder if isinstance(folder, RunFolder) else RunFolder(folder)
    spec = folder.network()
    state = folder.checkpoint(map_location=device)
    model = build_network(spec)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise folder.corrupt(
            RunFolder.CHECKPOINT, f"its weights do not fit config.json's network: {exc}"
        ) from None
    return model.to(device)


def load_run(path: str | Path, device: str | torch.device = "cpu") -> LoadedRun:
    """The trained network of the run folder ``path`` with its configuration and its data's
    standardisation; a damaged folder raises ``CorruptRunError`` naming the file."""
    folder = RunFolder(path)
    config = folder.config()
    standardisation = config.get("standardisation")
    if not isinstance(standardisation, dict):
        raise folder.corrupt(RunFolder.CONFIG, "no standardisation mean and std")
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
    model = load_model(folder, device)
    model.eval()
    return LoadedRun(folder, model, config, mean, std, device, pixel_range)
