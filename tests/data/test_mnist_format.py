"""MNIST-format data (tiny IDX files written by the tests, holding real digits): the IDX
bytes, class coverage and the classifier on MNIST, its accuracy floor, Stacked MNIST's
construction and its mode counter on hand-made stacks, and a colour classifier."""
import math
import struct

import numpy as np
import pytest
import torch
from scipy.stats import chi2_contingency

from ganbench.data import datasets
from ganbench.harness.classifier import digit_classifier, part_labels
from ganbench.harness.features import build_extractor, fid_kid, mode_classifier
from ganbench.harness.probes import Evaluation, probes
from ganbench.metrics.coverage import label_mode_counts
from helpers.image_files import write_cifar10, write_mnist, write_mnist_digits, trust_cifar_files

#: the classifier settings these tests use on MNIST-format digits at 8×8 (1,437 train
#: images: 30 epochs reach ~0.98; MNIST's default of 5 epochs, for 60,000 images, does not)
FEATURES = {"name": "digits", "epochs": 30, "min_accuracy": 0.9}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist_digits")
    write_mnist_digits(root)
    return root


@pytest.fixture(scope="module")
def mnist(root):
    return datasets.build({"name": "mnist", "data_root": str(root), "resolution": 8})


@pytest.fixture(scope="module")
def classifier(mnist):
    return build_extractor(FEATURES, mnist).prepare().classifier


def flat(x):
    return x.reshape(len(x), -1)


def test_idx_files_have_mnist_headers(root):
    raw = root / "MNIST" / "raw"
    images = (raw / "train-images-idx3-ubyte").read_bytes()
    labels = (raw / "t10k-labels-idx1-ubyte").read_bytes()
    assert struct.unpack(">iiii", images[:16]) == (2051, 1437, 28, 28)   # MNIST's magic numbers
    assert struct.unpack(">ii", labels[:8]) == (2049, 360)
    assert len(images) == 16 + 1437 * 28 * 28 and len(labels) == 8 + 360
    assert set(labels[8:]) == set(range(10))


def test_mnist_is_labelled_with_class_modes(mnist):
    assert mnist.labelled and mnist.mode_parts == 1 and mnist.default_features == "inception"
    assert (mnist.classifier_floor, mnist.classifier_epochs) == (0.98, 5)
    assert len(mnist.train) == 1437 and mnist.image_shape == (1, 8, 8)


def test_coverage_of_mnist_images_by_its_classifier(mnist, classifier):
    """The digit_modes probe on MNIST-format data: the held-out images cover all ten
    classes nearly uniformly; images of one class are one mode, reverse KL log 10."""
    assert classifier.accuracy >= 0.9
    probe = probes.build("digit_modes")
    assert probe.applies(mnist, None)

    def measure(images):
        return probe.measure(Evaluation(mnist, None, None, flat(images).numpy(), None, None,
                                        classifier=classifier))
    real = measure(mnist.test)
    counts = np.bincount(mnist.test_labels.numpy(), minlength=10)
    assert real["modes_captured"] == 10 and real["classifier_accuracy"] == classifier.accuracy
    # the classifier's histogram is the labels' up to its errors: KL close to the labels'
    p = counts / counts.sum()
    assert real["reverse_kl"] == pytest.approx(math.log(10) + (p * np.log(p)).sum(), abs=0.02)
    right = mnist.test[(classifier.predict(mnist.test) == 7) & (mnist.test_labels.numpy() == 7)]
    sevens = measure(right)
    assert sevens["modes_captured"] == 1 and sevens["reverse_kl"] == pytest.approx(math.log(10))


def test_coverage_needs_the_floor(mnist, classifier, capsys):
    """Without features: digits, MNIST's coverage classifier has its own settings (5
    epochs, floor 0.98): on these 1,437 digits it falls short, so no coverage, said in
    one line; asking for that classifier as FID features is an error."""
    assert mode_classifier(mnist, build_extractor(FEATURES, mnist)).accuracy == classifier.accuracy
    short = digit_classifier(mnist, epochs=5, min_accuracy=0.0)
    assert short.accuracy < 0.98
    assert mode_classifier(mnist, None) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ganbench: no class coverage on mnist:") and "0.98" in err[-1]
    with pytest.raises(ValueError, match="below min_accuracy 0.98"):
        build_extractor("digits", mnist).prepare()


def test_random_pixels_are_refused(tmp_path):
    write_mnist(tmp_path, "FashionMNIST", n_train=40, n_test=20)
    ds = datasets.build({"name": "fashion_mnist", "data_root": str(tmp_path), "resolution": 8})
    assert ds.classifier_floor == 0.9
    assert mode_classifier(ds, None) is None      # chance-level accuracy on random pixels


def test_stacked_mnist_channels_are_independent_train_digits(root, mnist):
    ds = datasets.build({"name": "stacked_mnist", "data_root": str(root), "resolution": 8})
    assert ds.name == "stacked_mnist" and ds.image_shape == (3, 8, 8)
    assert ds.mode_parts == 3 and ds.default_n_eval == 26000 and ds.classifier_floor == 0.98
    n = 6000
    x = ds.sample(n, torch.Generator().manual_seed(0)).reshape(n, 3, 64)
    train = flat(mnist.train)
    labels = np.empty((n, 3), dtype=np.int64)
    for c in range(3):
        d = torch.cdist(x[:, c], train, compute_mode="donot_use_mm_for_euclid_dist")
        nearest = d.argmin(1)
        assert (d[torch.arange(n), nearest] == 0).all()                 # each channel is a train digit
        labels[:, c] = mnist.labels[nearest].numpy()
    # each channel's digit is drawn on its own: the classes of any two channels are
    # independent (chi-squared test of the 10×10 table), and all 1,000 triples occur
    for a, b in ((0, 1), (0, 2), (1, 2)):
        table = np.zeros((10, 10))
        np.add.at(table, (labels[:, a], labels[:, b]), 1)
        assert chi2_contingency(table)[1] > 1e-3
    assert (label_mode_counts(labels) > 0).sum() >= 990
    assert ds.reference().shape == (10000, 3, 8, 8)


def test_stacked_mnist_mode_counter_finds_the_exact_triples(root, mnist, classifier):
    """Stacks built by hand from held-out digits the classifier gets right: the probe
    counts exactly their triples (one classifier: the MNIST one, per channel)."""
    ds = datasets.build({"name": "stacked_mnist", "data_root": str(root), "resolution": 8})
    assert mode_classifier(ds, build_extractor(FEATURES, ds)).path == classifier.path
    right = np.flatnonzero(classifier.predict(mnist.test) == mnist.test_labels.numpy())
    by_label = {d: right[mnist.test_labels.numpy()[right] == d] for d in range(10)}
    triples = [(4, 0, 7)] * 6 + [(1, 1, 1)] * 2 + [(8, 3, 5), (0, 0, 9)]
    stacks = torch.stack([torch.cat([mnist.test[by_label[d][i % len(by_label[d])]] for d in t])
                          for i, t in enumerate(triples)])
    labels = part_labels(classifier, flat(stacks), ds.image_shape, ds.mode_parts)
    assert labels.tolist() == [list(t) for t in triples]
    counts = label_mode_counts(labels)
    assert counts[407] == 6 and counts[111] == 2 and counts[835] == 1 and counts[9] == 1
    out = probes.build("digit_modes").measure(
        Evaluation(ds, None, None, flat(stacks).numpy(), None, None, classifier=classifier))
    p = np.array([6, 2, 1, 1]) / 10
    assert out["modes_captured"] == 4
    assert out["reverse_kl"] == pytest.approx(math.log(1000) + (p * np.log(p)).sum())


def test_colour_images_are_one_part(tmp_path, monkeypatch):
    """CIFAR-10 images are one labelled image in three channels: one label per sample,
    and the classifier as FID features sees the colour image."""
    trust_cifar_files(monkeypatch, write_cifar10(tmp_path, per_batch=8))
    ds = datasets.build({"name": "cifar10", "data_root": str(tmp_path), "resolution": 8})
    assert ds.mode_parts == 1 and ds.classifier_floor == 0.8
    ex = build_extractor({"name": "digits", "epochs": 1, "min_accuracy": 0.0}, ds).prepare()
    assert ex.classifier.net.body[0].in_channels == 3 and ex.fidelity_name.endswith("-rgb")
    labels = part_labels(ex.classifier, flat(ds.test), ds.image_shape, ds.mode_parts)
    assert labels.shape == (len(ds.test), 1)
    assert math.isfinite(fid_kid(flat(ds.test), ds, ex, kid=False)["fid"])
