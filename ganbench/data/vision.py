"""Image datasets read from disk: MNIST, Fashion-MNIST and CIFAR-10 through torchvision's
own dataset classes, Stacked MNIST built from MNIST's files, and ``image_folder`` for a
user's images.

The labelled sets have class modes (``modes_captured`` of 10, ``reverse_kl``) counted by
a classifier trained on their train split; its held-out accuracy floor and epochs are
set per dataset (:data:`CLASSIFIER`): MNIST 0.98, Fashion-MNIST 0.90, CIFAR-10 0.80
(a classifier below the floor is refused: no class coverage, or no FID on its features).

The files are looked for under ``data_root`` (a suite setting), else $GANBENCH_DATA,
else ~/.cache/ganbench/data; ``download: true`` lets torchvision fetch them where
there is network. Missing files are bad input: one line naming the folder searched
and how to get the data.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .base import datasets
from .images import ImageDataset, StackedImages, check_resolution, check_text, is_whole, to_unit

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def data_root(given: str | None) -> Path:
    """``data_root`` from the suite, else $GANBENCH_DATA, else ~/.cache/ganbench/data."""
    root = given or os.environ.get("GANBENCH_DATA") or Path.home() / ".cache" / "ganbench" / "data"
    return Path(root).expanduser()


@lru_cache(maxsize=8)
def _torchvision_split(cls_name: str, root: str, train: bool, download: bool):
    import torchvision.datasets as tvd
    cls = getattr(tvd, cls_name)
    ds = cls(root, train=train, download=download)
    data = torch.as_tensor(np.asarray(ds.data))
    data = data[:, None] if data.ndim == 3 else data.permute(0, 3, 1, 2)   # (N, C, H, W) uint8
    return data.contiguous(), torch.as_tensor(np.asarray(ds.targets), dtype=torch.long)


#: per dataset: (held-out accuracy floor, epochs) of its classifier. ganbench's choice:
#: small CNNs reach about 99% on MNIST and 91-93% on Fashion-MNIST within a few epochs;
#: 0.80 on CIFAR-10 asks for a classifier whose classes mean something (the small digit
#: network may not reach it, and CIFAR-10 then has no class coverage).
CLASSIFIER = {"mnist": (0.98, 5), "fashion_mnist": (0.90, 10), "cifar10": (0.80, 30)}


def torchvision_dataset(name: str, cls_name: str, folder: str, given_root, download: bool,
                        resolution: int) -> ImageDataset:
    r = check_resolution(resolution)
    if not isinstance(download, bool):
        raise ValueError(f"download must be true or false, got {download!r}")
    root = data_root(check_text("data_root", given_root, optional=True))
    try:
        xtr, ytr = _torchvision_split(cls_name, str(root), True, download)
        xte, yte = _torchvision_split(cls_name, str(root), False, False)
    except Exception as e:  # noqa: BLE001 - torchvision says "not found" in several ways
        how = ("the download failed (" + f"{type(e).__name__}: {e}".splitlines()[0] + "); "
               if download else "")
        raise ValueError(
            f"{cls_name} files not found or unreadable in {root / folder}; {how}put them there, "
            f"set data_root: (or $GANBENCH_DATA) to the folder that holds {folder}/, "
            f"or set download: true where there is network") from None
    ds = ImageDataset(name, to_unit(xtr, r), f"{name}-r{r}-{root}", ytr, to_unit(xte, r), yte)
    ds.classifier_floor, ds.classifier_epochs = CLASSIFIER[name]
    return ds


@datasets.register("mnist")
def mnist(data_root: str | None = None, download: bool = False, resolution: int = 32) -> ImageDataset:
    """MNIST through torchvision (files in <data_root>/MNIST/raw), resized to resolution²."""
    return torchvision_dataset("mnist", "MNIST", "MNIST/raw", data_root, download, resolution)


@datasets.register("stacked_mnist")
def stacked_mnist(data_root: str | None = None, download: bool = False, resolution: int = 32,
                  n_reference: int = 10000) -> StackedImages:
    """Stacked MNIST: 3 channels, each an independent MNIST train digit (1,000 modes).

    VEEGAN/PacGAN's protocol: modes and reverse KL over 26,000 samples; FID against a
    fixed draw of n_reference stacks."""
    if not is_whole(n_reference) or n_reference < 2:
        raise ValueError(f"n_reference must be a whole number >= 2, got {n_reference!r}")
    return StackedImages(mnist(data_root, download, resolution), 3, n_reference)


@datasets.register("fashion_mnist")
def fashion_mnist(data_root: str | None = None, download: bool = False,
                  resolution: int = 32) -> ImageDataset:
    """Fashion-MNIST through torchvision (files in <data_root>/FashionMNIST/raw)."""
    return torchvision_dataset("fashion_mnist", "FashionMNIST", "FashionMNIST/raw", data_root,
                               download, resolution)


@datasets.register("cifar10")
def cifar10(data_root: str | None = None, download: bool = False,
            resolution: int = 32) -> ImageDataset:
    """CIFAR-10 through torchvision (python batches in <data_root>/cifar-10-batches-py)."""
    return torchvision_dataset("cifar10", "CIFAR10", "cifar-10-batches-py", data_root, download,
                               resolution)


@lru_cache(maxsize=4)
def _folder_images(path: str, resolution: int, channels: int) -> torch.Tensor:
    from PIL import Image
    files = sorted(p for p in Path(path).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) found under {path}; "
                         f"point path: at a folder of image files")
    mode = "L" if channels == 1 else "RGB"
    out = []
    for f in files:
        with Image.open(f) as im:
            im = im.convert(mode)
            side = min(im.size)                       # centre crop to a square
            left, top = (im.width - side) // 2, (im.height - side) // 2
            im = im.crop((left, top, left + side, top + side))
            a = torch.as_tensor(np.array(im))
        out.append(a[None] if a.ndim == 2 else a.permute(2, 0, 1))
    return to_unit(torch.stack(out), resolution)


@datasets.register("image_folder")
def image_folder(path: str = "", resolution: int = 32, channels: int = 3) -> ImageDataset:
    """Your own images: every .png/.jpg/.jpeg/.bmp/.webp under path.

    Centre-cropped to a square, resized to resolution², channels 1 or 3."""
    r = check_resolution(resolution)
    check_text("path", path)
    if channels not in (1, 3):
        raise ValueError("channels must be 1 or 3")
    if not path or not Path(path).expanduser().is_dir():
        raise ValueError(f"image folder {path!r} not found; set path: to a folder of images")
    folder = str(Path(path).expanduser().resolve())
    return ImageDataset("image_folder", _folder_images(folder, r, int(channels)),
                        f"folder-r{r}-c{channels}-{folder}")
