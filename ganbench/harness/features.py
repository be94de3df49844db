"""FID and KID of generated images, computed by torch-fidelity.

Feature extractors are a registry (``features:`` in a suite):

- ``inception``: torch-fidelity's Inception-v3 (``inception-v3-compat``, the standard
  FID network). Its weights file is taken from ``weights:`` or from the torch hub
  cache where torch-fidelity looks; nothing is downloaded by ganbench. Without the
  file: one line saying where to put it.
- ``digits``: the small digit classifier of :mod:`ganbench.harness.classifier`,
  registered with torch-fidelity as a feature extractor (128 features; stacked
  images give the features of each channel side by side), so FID works offline.
  The same classifier counts the modes of digit datasets (``digit_modes`` probe), so
  FID and ``modes_captured`` always use one network.

Building an extractor (suite validation) checks its settings only; :meth:`prepare`
loads it (the digit classifier: from the cache, else trained once) when a suite is
about to run.

Reference statistics of the real images are computed once per dataset × extractor
× settings and kept in torch-fidelity's cache under ``<cache>/fidelity``. The cache
name is ``ganbench-<dataset>-<hash of the dataset's key>-<extractor key>``, and the
extractor key holds a hash of the weights file's bytes: torch-fidelity's own cache
name leaves the weights out, so a different file must not reuse old statistics.
Every keyword sent to torch-fidelity is checked against its list of settings
first, since it ignores misspelled ones silently.
"""
from __future__ import annotations

import copy
import hashlib
import sys
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data.images import cache_dir, settings_key, to_uint8
from ..registry import Registry
from .classifier import BelowFloor, Classifier, digit_classifier

extractors = Registry("feature extractor")

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_FILE}"
KID_SUBSET_SIZE = 1000


@dataclass(frozen=True)
class Extractor:
    """A feature extractor registered with torch-fidelity, and what identifies it."""

    fidelity_name: str     # the name torch-fidelity knows it by
    key: str               # identity for cache names (includes a hash of its weights)
    fidelity_kwargs: dict = field(default_factory=dict)
    #: the classifier behind a classifier extractor (its features, its held-out accuracy)
    classifier: Classifier | None = None

    def prepare(self) -> "Extractor":
        return self


@dataclass(frozen=True)
class ClassifierFeatures:
    """The ``digits`` extractor before its classifier is loaded (validated settings)."""

    dataset: object
    epochs: int
    min_accuracy: float

    def classifier(self) -> Classifier:
        """The classifier (cached on disk; trained once); ValueError below min_accuracy."""
        return digit_classifier(self.dataset, epochs=self.epochs, min_accuracy=self.min_accuracy)

    def prepare(self) -> Extractor:
        clf = self.classifier()
        name = register_classifier(clf, per_channel=getattr(self.dataset, "stacked", 0) > 0,
                                   colour=clf.net.body[0].in_channels == 3)
        return Extractor(name, name.removeprefix("ganbench-"), classifier=clf)


def fidelity_kwargs(**kwargs) -> dict:
    """``kwargs`` if torch-fidelity knows every one of them (it ignores unknown ones)."""
    from torch_fidelity.defaults import DEFAULTS
    unknown = sorted(set(kwargs) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"torch-fidelity has no setting {', '.join(unknown)}; "
                         f"its settings are listed in torch_fidelity.defaults.DEFAULTS")
    return kwargs


_FILE_HASHES: dict[tuple, str] = {}


def file_hash(path: Path) -> str:
    """sha256 (12 hex digits) of a file's bytes, remembered per (path, size, mtime)."""
    st = path.stat()
    k = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if k not in _FILE_HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _FILE_HASHES[k] = h.hexdigest()[:12]
    return _FILE_HASHES[k]


def hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


@extractors.register("inception")
def inception(dataset, weights: str | None = None) -> Extractor:
    """torch-fidelity's Inception-v3, the standard FID network (2048 pool features).

    Weights from `weights` or the torch hub cache; never downloaded by ganbench."""
    if weights is not None and not isinstance(weights, str):
        raise ValueError(f"weights must be a path to the weights file, got {weights!r}")
    path = Path(weights).expanduser() if weights else hub_checkpoints() / INCEPTION_FILE
    if not path.is_file():
        where = f"weights: {weights} is not a file" if weights else f"{path} does not exist"
        raise ValueError(f"Inception-v3 weights not found ({where}); download {INCEPTION_URL} "
                         f"into {hub_checkpoints()}/ or set features: {{name: inception, weights: "
                         f"PATH}}, or use features: digits on digit datasets")
    return Extractor("inception-v3-compat", f"inception-{file_hash(path)}",
                     {"feature_extractor_weights_path": str(path)})


_REGISTERED: set[str] = set()


def register_classifier(clf, per_channel: bool, colour: bool = False) -> str:
    """Register a classifier with torch-fidelity (once per process); its name. It sees each
    channel (``per_channel``: stacked digits), the RGB image (``colour``) or its grey."""
    from torch_fidelity import register_feature_extractor
    from torch_fidelity.feature_extractor_base import FeatureExtractorBase

    how = "each" if per_channel else "rgb" if colour else "whole"
    name = f"ganbench-digits-{file_hash(clf.path)}-{how}"
    if name in _REGISTERED:
        return name
    net = clf.net

    class DigitFeatures(FeatureExtractorBase):
        """uint8 (B, 3, H, W) -> 128 classifier features (per channel for stacked digits)."""

        def __init__(self, name, features_list, **kwargs):
            super().__init__(name, features_list)
            # a copy: torch-fidelity moves its extractor (.cuda()); the cached classifier
            # must stay where the digit_modes probe uses it
            self.net = copy.deepcopy(net)

        @staticmethod
        def get_provided_features_list():
            return ("features", "logits")

        @staticmethod
        def get_default_feature_layer_for_metric(metric):
            return {"isc": "logits"}.get(metric, "features")

        @staticmethod
        def can_be_compiled():
            return False

        def forward(self, x):
            x = x.to(torch.float32) / 127.5 - 1
            B = x.shape[0]
            if per_channel:
                x = x.reshape(B * 3, 1, *x.shape[2:])
            elif not colour:
                x = x.mean(1, keepdim=True)
            f, logits = self.net(x)
            out = {"features": f.reshape(B, -1), "logits": logits.reshape(B, -1)}
            return tuple(out[k] for k in self.features_list)

    register_feature_extractor(name, DigitFeatures)
    _REGISTERED.add(name)
    return name


@extractors.register("digits")
def digits(dataset, epochs: int | None = None, min_accuracy: float | None = None) -> ClassifierFeatures:
    """A classifier trained once on the dataset's labelled train split (128 features).

    Cached on disk; refused below min_accuracy on the held-out split (default: the
    dataset's floor, digits 0.95, MNIST 0.98); per channel on stacked digits."""
    if not getattr(dataset, "labelled", False):
        raise ValueError(f"{dataset.name} has no labels to train a classifier on; "
                         f"use features: inception")
    epochs = dataset.classifier_epochs if epochs is None else epochs
    min_accuracy = dataset.classifier_floor if min_accuracy is None else min_accuracy
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, (int, float)) \
            or not 0 <= min_accuracy <= 1:
        raise ValueError(f"min_accuracy must be a number between 0 and 1, got {min_accuracy!r}")
    return ClassifierFeatures(dataset, int(epochs), float(min_accuracy))


def build_extractor(spec, dataset, path: str = "features"):
    """The run's extractor, not loaded yet (``prepare()`` loads it): ``spec`` (None: the
    dataset's default); None for non-image data."""
    if getattr(dataset, "image_shape", None) is None:
        return None
    return extractors.build(spec or dataset.default_features, path, dataset=dataset)


def prepared(extractor, dataset) -> tuple:
    """For evaluations: the extractor loaded (None: none), and the dataset's mode
    classifier (:func:`mode_classifier`)."""
    features = extractor.prepare() if extractor is not None else None
    return features, mode_classifier(dataset, features)


def mode_classifier(dataset, extractor) -> Classifier | None:
    """The classifier that counts ``dataset``'s class modes: the run's feature extractor's
    own when it is a classifier (one network for FID and coverage), else the dataset's
    classifier with its default settings (the same file ``features: digits`` would use);
    None for datasets without class modes, and (with a one-line warning) when that
    classifier is below the dataset's accuracy floor: no class coverage then."""
    if not getattr(dataset, "mode_parts", 0):
        return None
    if isinstance(extractor, ClassifierFeatures):
        return extractor.classifier()
    if isinstance(extractor, Extractor) and extractor.classifier is not None:
        return extractor.classifier
    try:
        return digit_classifier(dataset, epochs=dataset.classifier_epochs,
                                min_accuracy=dataset.classifier_floor)
    except BelowFloor as e:
        if dataset.key not in _WARNED:         # once per process and dataset
            _WARNED.add(dataset.key)
            print(f"ganbench: no class coverage on {dataset.name}: {e}", file=sys.stderr)
        return None


_WARNED: set[str] = set()


class _Images(torch.utils.data.Dataset):
    """uint8 images for torch-fidelity, made on first use (a cache hit never makes them)."""

    def __init__(self, make):
        self.make, self.x = make, None

    def _get(self):
        if self.x is None:
            self.x = self.make()
        return self.x

    def __len__(self):
        return len(self._get())

    def __getitem__(self, i):
        return self._get()[i]


def reference_cache_name(dataset, extractor: Extractor) -> str:
    return f"ganbench-{dataset.name}-{settings_key(key=dataset.key)}-{extractor.key}"


def on_device(device: torch.device):
    """A context that makes ``device`` CUDA's current device (a no-op elsewhere): what
    torch-fidelity's bare ``.cuda()`` calls go to."""
    device = torch.device(device)
    return torch.cuda.device(device) if device.type == "cuda" and device.index is not None \
        else nullcontext()


def fid_kid(fake: np.ndarray | torch.Tensor, dataset, extractor: Extractor,
            device: str = "cpu", kid: bool = True) -> dict:
    """``fid`` (and ``kid``, the mean over torch-fidelity's 100 subsets) of flattened
    generated images in [-1, 1] against the dataset's reference images, on ``device``
    (torch-fidelity takes only cuda on/off: it runs under ``device``'s index)."""
    import torch_fidelity
    images = to_uint8(fake, dataset.image_shape)
    n_ref = getattr(dataset, "n_reference", None) or len(dataset.train)
    kw = fidelity_kwargs(
        input1=_Images(lambda: images), input2=_Images(dataset.reference),
        input2_cache_name=reference_cache_name(dataset, extractor),
        cache_root=str(cache_dir() / "fidelity"), cache=True,
        fid=True, kid=kid, kid_subset_size=min(KID_SUBSET_SIZE, len(images), n_ref),
        feature_extractor=extractor.fidelity_name, cuda=torch.device(device).type == "cuda",
        batch_size=500, save_cpu_ram=True, verbose=False, **extractor.fidelity_kwargs)
    with warnings.catch_warnings(), on_device(device):  # its stray warnings on small sets
        warnings.simplefilter("ignore")
        m = torch_fidelity.calculate_metrics(**kw)
    out = {"fid": float(m["frechet_inception_distance"])}
    if kid:
        out["kid"] = float(m["kernel_inception_distance_mean"])
    return out
