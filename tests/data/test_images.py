"""Image datasets: the bundled digits, stacked digits, and the on-disk formats read
through torchvision (tiny files written by the tests)."""
import numpy as np
import pytest
import torch

from ganbench.data import datasets
from ganbench.data.images import to_uint8
from ganbench.errors import InputError
from helpers.image_files import trust_cifar_files, write_cifar10, write_mnist, write_png_folder


def test_digits_split_shapes_and_range():
    ds = datasets.build("digits")
    assert ds.image_shape == (1, 8, 8) and ds.dim == 64
    assert len(ds.train) == 1437 and len(ds.test) == 360          # fixed stratified 80/20
    assert ds.train.min() == -1 and ds.train.max() == 1
    assert np.bincount(ds.labels.numpy()).min() >= 139             # stratified: ~144 per class
    big = datasets.build({"name": "digits", "resolution": 16})
    assert big.image_shape == (1, 16, 16) and len(big.train) == 1437
    x = ds.sample(5, torch.Generator().manual_seed(3))
    assert x.shape == (5, 64) and torch.equal(x, ds.sample(5, torch.Generator().manual_seed(3)))


def test_stacked_digits_channels_are_train_digits():
    ds = datasets.build("stacked_digits")
    assert ds.image_shape == (3, 8, 8) and ds.mode_parts == 3 and ds.default_n_eval == 26000
    x = ds.sample(50, torch.Generator().manual_seed(0)).reshape(50, 3, 8, 8)
    train = ds.train.reshape(len(ds.train), -1)
    for c in range(3):
        d = torch.cdist(x[:, c].reshape(50, -1), train)
        assert (d.min(1).values == 0).all()                         # each channel is a train digit
    assert not torch.equal(x[:, 0], x[:, 1])                        # independent draws
    assert ds.reference().shape == (10000, 3, 8, 8) and ds.reference().dtype == torch.uint8


def test_to_uint8_expands_grayscale():
    flat = torch.tensor([[-1.0, 0.0, 1.0, 0.5]])
    u = to_uint8(flat, (1, 2, 2))
    assert u.shape == (1, 3, 2, 2) and u.dtype == torch.uint8
    assert u[0, :, 0, 0].tolist() == [0, 0, 0] and u[0, 2, 0, 1] == 128   # (0 + 1) · 127.5 rounds to 128
    assert u[0, 1, 1, 0] == 255 and u[0, 0, 1, 1] == 191                  # 1.5 · 127.5 = 191.25


def test_bad_resolution_is_input_error():
    with pytest.raises(InputError, match="resolution must be a power of two"):
        datasets.build({"name": "digits", "resolution": 12}, "datasets[0]")


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_idx_files_load_through_torchvision(tmp_path, name, folder):
    x, y = write_mnist(tmp_path, folder, n_train=20, n_test=10)
    ds = datasets.build({"name": name, "data_root": str(tmp_path), "resolution": 32})
    assert ds.image_shape == (1, 32, 32) and len(ds.train) == 20 and len(ds.test) == 10
    assert ds.labels.tolist() == y.tolist()
    native = datasets.build({"name": name, "data_root": str(tmp_path), "resolution": 8})
    assert native.image_shape == (1, 8, 8)
    # the pixels are torchvision's reading of the IDX bytes, resized: compare at 32
    from ganbench.data.images import to_unit
    expect = to_unit(torch.as_tensor(x)[:, None], 32)
    assert torch.allclose(ds.train, expect)


def test_data_root_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path, "MNIST")
    monkeypatch.setenv("GANBENCH_DATA", str(tmp_path))
    assert len(datasets.build("mnist").train) == 20


def test_cifar10_pickle_batches_load_through_torchvision(tmp_path, monkeypatch):
    trust_cifar_files(monkeypatch, write_cifar10(tmp_path, per_batch=4))
    ds = datasets.build({"name": "cifar10", "data_root": str(tmp_path)})
    assert ds.image_shape == (3, 32, 32) and len(ds.train) == 20 and len(ds.test) == 4


def test_missing_files_name_the_folder_and_the_fix(tmp_path):
    with pytest.raises(InputError) as e:
        datasets.build({"name": "mnist", "data_root": str(tmp_path / "nowhere")}, "datasets[0]")
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / "nowhere" / "MNIST" / "raw") in msg
    assert "download: true" in msg and "data_root" in msg
    with pytest.raises(InputError, match="cifar-10-batches-py"):
        datasets.build({"name": "cifar10", "data_root": str(tmp_path)})


def test_image_folder_reads_pngs(tmp_path):
    root = write_png_folder(tmp_path / "imgs", n=6, size=(20, 14))
    ds = datasets.build({"name": "image_folder", "path": str(root), "resolution": 8})
    assert ds.image_shape == (3, 8, 8) and len(ds.train) == 6 and not ds.labelled
    gray = datasets.build({"name": "image_folder", "path": str(root), "resolution": 8, "channels": 1})
    assert gray.image_shape == (1, 8, 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        datasets.build({"name": "image_folder", "path": str(tmp_path / "empty")})
    with pytest.raises(InputError, match="not found"):
        datasets.build({"name": "image_folder", "path": str(tmp_path / "missing")})


@pytest.mark.parametrize("spec,says", [
    ({"name": "digits", "resolution": "abc"}, "resolution must be a power of two"),
    ({"name": "stacked_digits", "n_reference": "x"}, "n_reference must be a whole number >= 2"),
    ({"name": "mnist", "data_root": 5}, "data_root must be a path"),
    ({"name": "mnist", "download": "maybe"}, "download must be true or false"),
    ({"name": "image_folder", "path": 5}, "path must be a path"),
])
def test_bad_settings_say_what_they_must_be(spec, says):
    with pytest.raises(InputError, match=says) as e:
        datasets.build(spec, "datasets[0]")
    assert str(e.value).startswith("datasets[0]") and "\n" not in str(e.value)
