"""Image datasets: what an image dataset is, and the digits that need no download.

Images are handed to the harness flattened, (n, C*H*W) in [-1, 1], so every
objective, regularizer and probe works on them unchanged (a gradient penalty's norm
over the last dimension is the per-sample norm over C×H×W); ``image_shape`` says how
to fold them back. The DCGAN models and the image metrics use it.

- ``digits``: scikit-learn's 8×8 handwritten digits (1,797 images, bundled with it),
  optionally resized; a fixed stratified 80/20 train/test split.
- ``stacked_digits``: 3-channel images whose channels are three independent digits
  from the train split (1,000 modes; Stacked-MNIST built from the digits).

A labelled image dataset has class modes (``mode_parts`` 1: each sample is one image
of one class; a stack of 3 independent images has 3 parts and 1,000 modes) counted by a
classifier trained on its train split, which must reach the dataset's
``classifier_floor`` of held-out accuracy (see :mod:`ganbench.harness.classifier`).
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .base import Dataset, datasets

#: the train/test split of the bundled digits (stratified, fixed)
DIGITS_TEST_FRACTION, DIGITS_SPLIT_SEED = 0.2, 0


def cache_dir() -> Path:
    """Where ganbench keeps what it computes once (classifiers, reference statistics):
    $GANBENCH_CACHE, else ~/.cache/ganbench."""
    return Path(os.environ.get("GANBENCH_CACHE") or Path.home() / ".cache" / "ganbench")


def settings_key(**settings) -> str:
    """A short stable hash of JSON-able settings (for cache file names)."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def to_unit(images: torch.Tensor, resolution: int | None) -> torch.Tensor:
    """uint8 or [0, 1] float images (N, C, H, W) -> float32 in [-1, 1], resized to
    ``resolution``² (bilinear, antialiased when shrinking)."""
    x = images.to(torch.float32)
    if images.dtype == torch.uint8:
        x = x / 255.0
    if resolution is not None and tuple(x.shape[-2:]) != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False,
                          antialias=resolution < x.shape[-1])
    return (x * 2 - 1).clamp(-1, 1).contiguous()


def to_uint8(flat: torch.Tensor | np.ndarray, image_shape: tuple[int, int, int]) -> torch.Tensor:
    """Flattened images in [-1, 1] -> uint8 (n, 3, H, W), grayscale repeated to 3 channels
    (what torch-fidelity's feature extractors take)."""
    x = torch.as_tensor(flat).reshape(-1, *image_shape).to(torch.float32)
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_resolution(resolution: int) -> int:
    if not is_whole(resolution) or resolution < 8 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 8 (8, 16, 32, 64, ...), "
                         f"got {resolution!r}")
    return resolution


def check_text(name: str, value, optional: bool = False):
    """``value`` if it is text (a path), or None when ``optional``."""
    if (value is None and optional) or isinstance(value, str):
        return value
    raise ValueError(f"{name} must be {'a path (text)' if not optional else 'a path (text) or null'}, "
                     f"got {value!r}")


class ImageDataset(Dataset):
    """Images of one split held in memory, sampled uniformly (with replacement).

    ``train`` is (N, C, H, W) float in [-1, 1]; ``labels`` / ``test`` / ``test_labels``
    are there when the data is labelled (what the ``digits`` feature extractor trains
    on). ``key`` names the data and its settings for caches.
    """

    #: channels that are independent images of one dataset (stacked digits: 3)
    stacked: int = 0
    #: independently labelled images per sample, whose classes make its mode (0: no class
    #: modes; a labelled dataset 1; a stack of 3 images 3, with 10**3 modes)
    mode_parts: int = 0
    #: the held-out accuracy its classifier must reach to count modes / give FID features
    classifier_floor: float = 0.95
    #: epochs the classifier trains for on the train split
    classifier_epochs: int = 30
    #: feature extractor for fid/kid unless the suite sets ``features``
    default_features: str = "inception"

    def __init__(self, name: str, train: torch.Tensor, key: str, labels=None, test=None,
                 test_labels=None):
        self.name, self.key = name, key
        self.train, self.labels = train, labels
        self.test, self.test_labels = test, test_labels
        self.image_shape = tuple(int(v) for v in train.shape[1:])
        self.dim = int(np.prod(self.image_shape))
        self.mode_parts = 1 if self.labelled else 0
        self._on_device: dict[str, torch.Tensor] = {}

    @property
    def labelled(self) -> bool:
        return self.labels is not None and self.test is not None

    def _data(self, device: torch.device) -> torch.Tensor:
        k = str(device)
        if k not in self._on_device:
            self._on_device[k] = self.train.reshape(len(self.train), -1).to(device)
        return self._on_device[k]

    def sample(self, n, generator):
        data = self._data(generator.device)
        idx = torch.randint(len(data), (n,), generator=generator, device=generator.device)
        return data[idx]

    def sample_seeds(self, n, streams):
        """(S, n, dim): every seed's images in one gather (each seed's indices from its
        own generator, drawn a block at a time)."""
        data = self._data(streams.device)
        return data[streams.randint(len(data), n)]

    def reference(self) -> torch.Tensor:
        """The real images FID/KID compare with, uint8 (N, 3, H, W): the train split."""
        return to_uint8(self.train, self.image_shape)

    def classifier_data(self):
        """(train x, train y, test x, test y, key) a digit classifier learns from."""
        if not self.labelled:
            raise ValueError(f"{self.name} has no labels to train a classifier on")
        return self.train, self.labels, self.test, self.test_labels, self.key

    def bounds(self):
        raise NotImplementedError("image datasets have no plane to frame")


class StackedImages(ImageDataset):
    """Each sample stacks ``channels`` independent images of a 1-channel dataset as its
    channels; its mode is the tuple of their labels (10**channels modes)."""

    default_n_eval = 26000

    def __init__(self, base: ImageDataset, channels: int, n_reference: int):
        super().__init__(f"stacked_{base.name}", base.train, f"stacked{channels}-{base.key}-"
                         f"ref{n_reference}", base.labels, base.test, base.test_labels)
        self.base, self.stacked, self.n_reference = base, int(channels), int(n_reference)
        self.mode_parts = self.stacked if base.mode_parts else 0
        self.default_features = base.default_features
        self.classifier_floor, self.classifier_epochs = base.classifier_floor, base.classifier_epochs
        self.image_shape = (self.stacked, *base.image_shape[1:])
        self.dim = int(np.prod(self.image_shape))

    def sample(self, n, generator):
        data = self._data(generator.device)
        idx = torch.randint(len(data), (n, self.stacked), generator=generator, device=generator.device)
        return data[idx].reshape(n, -1)   # channel c of sample i is image idx[i, c]

    def sample_seeds(self, n, streams):
        data = self._data(streams.device)
        idx = streams.randint(len(data), n, self.stacked)
        return data[idx].reshape(len(streams), n, -1)

    def reference(self):
        """A fixed draw of ``n_reference`` stacked images from the train split."""
        g = torch.Generator().manual_seed(DIGITS_SPLIT_SEED)
        return to_uint8(self.sample(self.n_reference, g), self.image_shape)

    def classifier_data(self):
        return self.base.classifier_data()


@lru_cache(maxsize=8)
def _sklearn_digits(resolution: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32)[:, None]   # (1797, 1, 8, 8) in [0, 1]
    y = torch.tensor(d.target, dtype=torch.long)
    tr, te = train_test_split(np.arange(len(y)), test_size=DIGITS_TEST_FRACTION,
                              random_state=DIGITS_SPLIT_SEED, stratify=d.target)
    x = to_unit(x, resolution)
    return x[tr], y[tr], x[te], y[te]


@datasets.register("digits")
def digits(resolution: int = 8) -> ImageDataset:
    """scikit-learn's 8×8 handwritten digits, no download (1,437 train / 360 test).

    Resized to resolution² when resolution is not 8."""
    r = check_resolution(resolution)
    xtr, ytr, xte, yte = _sklearn_digits(r)
    ds = ImageDataset("digits", xtr, f"digits-r{r}", ytr, xte, yte)
    ds.default_features = "digits"
    return ds


@datasets.register("stacked_digits")
def stacked_digits(resolution: int = 8, n_reference: int = 10000) -> StackedImages:
    """Stacked digits: 3 channels, each an independent digit (1,000 modes).

    Stacked-MNIST built on the bundled digits; FID against a fixed draw of n_reference
    stacked images."""
    if not is_whole(n_reference) or n_reference < 2:
        raise ValueError(f"n_reference must be a whole number >= 2, got {n_reference!r}")
    return StackedImages(digits(resolution), 3, n_reference)
