"""A small digit classifier: the domain feature extractor for FID/KID and the mode
counter of digit datasets.

It is trained once on a labelled dataset's train split (the bundled digits, or MNIST),
checked on the held-out test split, and cached on disk under
``<cache>/classifiers/<dataset key>-<settings hash>.pt`` together with its test
accuracy, so every run and seed (and every later suite) reuses the same network.
A classifier below ``min_accuracy`` is refused: features from a poor classifier
would make FID meaningless.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.images import cache_dir, settings_key
from ..layout import atomic_write

#: bump when the architecture or the training recipe changes (old cache files are then unused)
RECIPE = 1
FEATURE_DIM = 128


class DigitNet(nn.Module):
    """conv 3×3 (32) -> conv 3×3 stride 2 (64) -> conv 3×3 stride 2 (64) -> 2×2 pool
    -> 128 features (ReLU) -> class logits."""

    def __init__(self, in_channels: int, n_classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, 2, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
            nn.Linear(256, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features, logits) for images in [-1, 1]."""
        f = self.body(x)
        return f, self.head(f)


@dataclass
class Classifier:
    net: DigitNet
    accuracy: float   # on the held-out test split
    path: Path        # the cache file

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch: int = 4096) -> np.ndarray:
        """Class of each image (N, C, H, W) in [-1, 1] (on the network's device)."""
        dev = next(self.net.parameters()).device
        out = [self.net(images[i:i + batch].to(dev, torch.float32))[1].argmax(1)
               for i in range(0, len(images), batch)]
        return torch.cat(out).cpu().numpy() if out else np.zeros(0, dtype=np.int64)


def _train(xtr, ytr, xte, yte, epochs: int, seed: int) -> tuple[DigitNet, float]:
    g = torch.Generator().manual_seed(seed)
    torch_state = torch.random.get_rng_state()
    torch.manual_seed(seed)                       # the layers' default initialisation
    net = DigitNet(xtr.shape[1], int(ytr.max()) + 1)
    torch.random.set_rng_state(torch_state)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    pad = nn.ReplicationPad2d(1)
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            x = pad(xtr[idx])                     # random shifts of up to one pixel
            dx, dy = torch.randint(3, (2,), generator=g).tolist()
            x = x[..., dy:dy + xtr.shape[-2], dx:dx + xtr.shape[-1]]
            loss = nn.functional.cross_entropy(net(x)[1], ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(xte)[1].argmax(1) == yte).float().mean())
    return net, acc


class BelowFloor(ValueError):
    """The classifier's held-out accuracy is below the floor asked for."""


_LOADED: dict[str, Classifier] = {}


def digit_classifier(dataset, epochs: int = 30, seed: int = 0,
                     min_accuracy: float = 0.95) -> Classifier:
    """The classifier for ``dataset``'s labelled data: from the cache, else trained and
    cached (its test accuracy printed). ValueError if below ``min_accuracy``."""
    xtr, ytr, xte, yte, key = dataset.classifier_data()
    name = f"{key.split('-')[0]}-{settings_key(key=key, epochs=epochs, seed=seed, recipe=RECIPE)}"
    path = cache_dir() / "classifiers" / f"{name}.pt"
    if name not in _LOADED:
        if path.is_file():
            blob = torch.load(path, weights_only=True)
            net = DigitNet(int(blob["in_channels"]), int(blob["n_classes"]))
            net.load_state_dict(blob["state"])
            net.eval()
            clf = Classifier(net, float(blob["accuracy"]), path)
        else:
            net, acc = _train(xtr, ytr, xte, yte, int(epochs), int(seed))
            blob = {"state": net.state_dict(), "accuracy": acc, "in_channels": xtr.shape[1],
                    "n_classes": int(ytr.max()) + 1, "dataset": key, "epochs": epochs,
                    "seed": seed, "recipe": RECIPE}
            atomic_write(path, lambda tmp: torch.save(blob, tmp))   # workers never read half a file
            print(f"ganbench: trained the digit classifier for {dataset.name} ({len(xtr)} train "
                  f"images): held-out accuracy {acc:.4f} on {len(xte)}; cached at {path}",
                  file=sys.stderr)
            clf = Classifier(net, acc, path)
        _LOADED[name] = clf
    clf = _LOADED[name]
    if clf.accuracy < min_accuracy:
        raise BelowFloor(f"the digit classifier for {dataset.name} reaches {clf.accuracy:.3f} "
                         f"held-out accuracy, below min_accuracy {min_accuracy}; use features: "
                         f"inception, or train longer (features: {{name: digits, epochs: ...}})")
    return clf


def part_labels(clf: Classifier, images: np.ndarray | torch.Tensor, image_shape,
                parts: int = 1) -> np.ndarray:
    """(n, parts) class of each of the ``parts`` images stacked in each sample's channels
    (flattened, in [-1, 1]): a stack of 3 one-channel digits has 3 parts, a colour image 1."""
    x = torch.as_tensor(images, dtype=torch.float32).reshape(-1, *image_shape)
    n, C = x.shape[:2]
    return clf.predict(x.reshape(n * parts, C // parts, *x.shape[2:])).reshape(n, parts)


def channel_labels(clf: Classifier, images: np.ndarray | torch.Tensor, image_shape) -> np.ndarray:
    """(n, C) label of each channel of each image (flattened, in [-1, 1])."""
    return part_labels(clf, images, image_shape, int(image_shape[0]))
