"""FID/KID through torch-fidelity with the digit classifier and Inception-v3, the
reference-statistics cache key, and the stacked-digit mode counter."""
import math

import numpy as np
import pytest
import torch

from ganbench.data import datasets
from ganbench.errors import InputError
from ganbench.harness import features as fidmod
from ganbench.harness.classifier import channel_labels, digit_classifier
from ganbench.harness.features import build_extractor, fid_kid, fidelity_kwargs, reference_cache_name
from helpers.image_files import random_inception_weights
from helpers.digit_fixtures import digits, extractor  # noqa: F401  (fixtures)
from ganbench.metrics.coverage import label_coverage as digit_mode_coverage
from ganbench.metrics.coverage import label_mode_counts as mode_counts
from ganbench.models import build_model, generators


def flat(x):
    return x.reshape(len(x), -1)


def test_classifier_reaches_95_percent_on_held_out_digits(digits):
    clf = digit_classifier(digits)
    assert clf.accuracy >= 0.95
    assert (clf.predict(digits.test) == digits.test_labels.numpy()).mean() == pytest.approx(clf.accuracy)
    assert clf.path.is_file()                                    # cached for the next process
    assert torch.load(clf.path, weights_only=True)["accuracy"] == pytest.approx(clf.accuracy)


def test_fid_of_a_set_against_itself_is_zero(digits, extractor):
    assert extractor.classifier.accuracy >= 0.95
    assert fid_kid(flat(digits.train), digits, extractor)["fid"] == pytest.approx(0, abs=1e-3)


def test_fid_grows_with_noise(digits, extractor):
    g = torch.Generator().manual_seed(0)
    x = flat(digits.train)
    noise = torch.randn(x.shape, generator=g)
    fids = [fid_kid((x + s * noise).clamp(-1, 1), digits, extractor, kid=False)["fid"]
            for s in (0.0, 0.1, 0.25, 0.5, 1.0)]
    assert all(a < b for a, b in zip(fids, fids[1:])), fids


def test_real_halves_are_far_closer_than_an_untrained_generator(digits, extractor):
    """FID between two halves of the real digits (train vs held-out test split) is far
    below the FID of an untrained DCGAN's samples."""
    halves = fid_kid(flat(digits.test), digits, extractor)
    G = build_model(generators, {"name": "dcgan", "width": 16}, "g", digits,
                    [torch.Generator().manual_seed(0)])
    with torch.no_grad():
        fake = G(torch.randn(1, 1000, G.z_dim, generator=torch.Generator().manual_seed(1)))[0]
    untrained = fid_kid(fake, digits, extractor)
    assert halves["fid"] * 20 < untrained["fid"]
    assert halves["kid"] * 20 < untrained["kid"]


def test_unknown_torch_fidelity_settings_are_refused():
    assert fidelity_kwargs(fid=True, kid_subset_size=10) == {"fid": True, "kid_subset_size": 10}
    with pytest.raises(ValueError, match="kid_subset_sise"):
        fidelity_kwargs(fid=True, kid_subset_sise=10)          # torch-fidelity would ignore it


def test_reference_cache_name_changes_with_the_weights_file(tmp_path, digits):
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    a.write_bytes(b"weights one")
    b.write_bytes(b"weights two")
    ea = build_extractor({"name": "inception", "weights": str(a)}, digits)
    eb = build_extractor({"name": "inception", "weights": str(b)}, digits)
    assert ea.fidelity_name == eb.fidelity_name == "inception-v3-compat"
    assert reference_cache_name(digits, ea) != reference_cache_name(digits, eb)
    big = datasets.build({"name": "digits", "resolution": 16})
    assert reference_cache_name(digits, ea) != reference_cache_name(big, ea)


def test_missing_inception_weights_say_where_to_put_them(digits):
    with pytest.raises(InputError) as e:
        build_extractor({"name": "inception"}, digits, "variants.v.features")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("variants.v.features")
    assert str(fidmod.hub_checkpoints()) in msg and fidmod.INCEPTION_FILE in msg


def test_inception_plumbing_with_random_weights(tmp_path, monkeypatch, digits):
    """Checks the plumbing (weights found in the hub cache, uint8 3-channel images in,
    torch-fidelity computes FID and KID), not the values: the weights are random."""
    ckpt = fidmod.hub_checkpoints()
    ckpt.mkdir(parents=True, exist_ok=True)
    random_inception_weights(ckpt / fidmod.INCEPTION_FILE, monkeypatch)
    ex = build_extractor({"name": "inception"}, digits)
    assert ex.fidelity_kwargs["feature_extractor_weights_path"] == str(ckpt / fidmod.INCEPTION_FILE)
    small = datasets.build("digits")
    small.train = small.train[:12]                   # 12 reference images keep Inception quick
    small.key = "digits-r8-first12"
    out = fid_kid(flat(small.test[:10]), small, ex)
    assert set(out) == {"fid", "kid"} and all(math.isfinite(v) for v in out.values())
    (ckpt / fidmod.INCEPTION_FILE).unlink()


def test_mode_counts_of_hand_made_triples():
    labels = np.array([[1, 2, 3]] * 5 + [[0, 0, 0]] * 3 + [[9, 9, 9], [3, 2, 1]])
    counts = mode_counts(labels)
    assert len(counts) == 1000 and counts[123] == 5 and counts[0] == 3 and counts[999] == 1
    assert counts[321] == 1 and counts.sum() == 10
    cov = digit_mode_coverage(counts)
    p = np.array([5, 3, 1, 1]) / 10
    assert cov["modes_captured"] == 4
    assert cov["reverse_kl"] == pytest.approx(math.log(1000) + (p * np.log(p)).sum())


def test_stacked_mode_counter_on_images_of_known_digits():
    """Stacked images built from held-out digits the classifier gets right: the counter
    finds exactly the triples they were built from."""
    ds = datasets.build("stacked_digits")
    clf = digit_classifier(ds)
    right = np.flatnonzero(clf.predict(ds.test) == ds.test_labels.numpy())
    by_label = {d: right[ds.test_labels.numpy()[right] == d] for d in range(10)}
    triples = [(4, 0, 7)] * 6 + [(1, 1, 1)] * 2 + [(8, 3, 5)]
    imgs = torch.stack([torch.cat([ds.test[by_label[d][i % len(by_label[d])]] for d in t])
                        for i, t in enumerate(triples)])
    labels = channel_labels(clf, flat(imgs), ds.image_shape)
    assert labels.tolist() == [list(t) for t in triples]
    counts = mode_counts(labels)
    assert counts[407] == 6 and counts[111] == 2 and counts[835] == 1
    assert digit_mode_coverage(counts)["modes_captured"] == 3


def test_reference_statistics_are_computed_once_and_reused(digits, extractor, monkeypatch):
    x = flat(digits.test)
    first = fid_kid(x, digits, extractor)                      # computes or loads the reference
    cache = list((fidmod.cache_dir() / "fidelity").glob(reference_cache_name(digits, extractor) + "*"))
    assert len(cache) == 2                                     # its features and its FID statistics

    def no_real_images():
        raise AssertionError("the reference images were made again")
    monkeypatch.setattr(digits, "reference", no_real_images)
    assert fid_kid(x, digits, extractor) == first              # from the cache, same numbers


@pytest.mark.parametrize("spec,says", [
    ({"name": "digits", "epochs": 0}, "epochs must be a whole number >= 1"),
    ({"name": "digits", "min_accuracy": "high"}, "min_accuracy must be a number between 0 and 1"),
    ({"name": "inception", "weights": 5}, "weights must be a path"),
])
def test_bad_extractor_settings_are_one_line_input_errors(digits, spec, says):
    with pytest.raises(InputError, match=says) as e:
        build_extractor(spec, digits, "variants.v.features")
    assert str(e.value).startswith("variants.v.features") and "\n" not in str(e.value)


def test_fid_and_mode_coverage_use_one_classifier(digits):
    """features: {name: digits, epochs: N} gives FID and modes_captured/classifier_accuracy
    the same N-epoch classifier (before, coverage used the default 30-epoch one)."""
    import yaml
    from ganbench.config.suite import parse_suite
    from ganbench.harness.loop import Loop, train_seeds
    suite = parse_suite(yaml.safe_load("""
        seeds: 1
        datasets: [digits]
        defaults: {steps: 2, batch_size: 8, eval_every: 2, n_eval: 64,
                   generator: {name: dcgan, width: 4, z_dim: 4},
                   discriminator: {name: dcgan, width: 4},
                   features: {name: digits, epochs: 1, min_accuracy: 0.0}}
        variants: {ns: {objective: nonsaturating}}"""))
    spec = suite.specs[0]
    one_epoch = digit_classifier(digits, epochs=1, min_accuracy=0.0)
    assert one_epoch.accuracy != digit_classifier(digits).accuracy
    (res,), _ = train_seeds(spec.dataset_spec(), spec.config, [0])
    assert res.status == "ok", res.error
    assert res.metrics["classifier_accuracy"] == pytest.approx(one_epoch.accuracy)
    loop = Loop(spec.dataset_spec(), spec.config, [0])
    assert loop.evaluator.features.classifier.path == one_epoch.path
    assert loop.evaluator.classifier.path == one_epoch.path
