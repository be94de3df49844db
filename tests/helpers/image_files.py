"""Tiny image datasets in their real on-disk formats, and random Inception weights, for
the loaders' and feature extractors' tests."""
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import torch


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (MNIST's format): magic (0, 0, type 0x08 = ubyte, ndim), big-endian
    int32 sizes, then the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str = "MNIST", n_train: int = 20, n_test: int = 10,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-format files in root/<folder>/raw; returns the train images and labels."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", x)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", y)
        out[prefix] = (x, y)
    return out["train"]


def write_mnist_digits(root: Path, folder: str = "MNIST") -> dict:
    """scikit-learn's 8×8 digits, upsampled to 28×28 uint8, written as MNIST's four IDX
    files (ganbench's fixed digits split: 1,437 train / 360 test): MNIST-format data with
    real digits, so a classifier trained on it means something. Returns the arrays
    {"train": (x, y), "t10k": (x, y)}."""
    from ganbench.data.images import _sklearn_digits
    out = {}
    for prefix, (x, y) in (("train", _sklearn_digits(8)[:2]), ("t10k", _sklearn_digits(8)[2:])):
        big = torch.nn.functional.interpolate((x + 1) / 2, size=(28, 28), mode="bilinear",
                                              align_corners=False)
        xb = (big[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", xb)
        write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", y.numpy().astype(np.uint8))
        out[prefix] = (xb, y.numpy())
    return out


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar10(root: Path, per_batch: int = 4, seed: int = 0) -> dict:
    """CIFAR-10 python batches (pickled dicts with 'data' (N, 3072) and 'labels') and
    batches.meta in root/cifar-10-batches-py; returns {file name: md5}."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, per_batch).tolist()}
        (folder / name).write_bytes(pickle.dumps(entry))
        sums[name] = md5(folder / name)
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                            "horse", "ship", "truck"]}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    sums["batches.meta"] = md5(folder / "batches.meta")
    return sums


def trust_cifar_files(monkeypatch, sums: dict) -> None:
    """torchvision checks CIFAR-10's files against the real archive's md5 sums; point
    those checks at the tiny files' sums (the loading code itself stays torchvision's)."""
    import torchvision.datasets as tvd
    monkeypatch.setattr(tvd.CIFAR10, "train_list", [[f"data_batch_{i}", sums[f"data_batch_{i}"]]
                                                    for i in range(1, 6)])
    monkeypatch.setattr(tvd.CIFAR10, "test_list", [["test_batch", sums["test_batch"]]])
    monkeypatch.setattr(tvd.CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names",
                                              "md5": sums["batches.meta"]})


def write_png_folder(root: Path, n: int = 6, size=(20, 14), seed: int = 0) -> Path:
    """n RGB PNGs of ``size`` (not square), half in a subfolder."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    for i in range(n):
        d = root / ("sub" if i % 2 else "")
        d.mkdir(parents=True, exist_ok=True)
        arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(arr).save(d / f"img{i}.png")
    return root


def random_inception_weights(path, monkeypatch):
    """A state dict of torch-fidelity's Inception-v3 with random weights (its real
    architecture and shapes, built without loading anything)."""
    from torch_fidelity import feature_extractor_inceptionv3 as inc
    with monkeypatch.context() as m:
        m.setattr(inc, "load_state_dict_from_url", lambda *a, **k: None)
        m.setattr(inc.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd: None)
        net = inc.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
