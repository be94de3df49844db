"""Datasets: the registry, the 2D toy sets and the image sets (importing this module
registers them)."""
from .base import Dataset, GaussianMixture, datasets
from . import toy2d  # noqa: F401  (registers ring8, grid25, spiral, moons, dirac)
from . import images, vision  # noqa: F401  (digits, stacked_digits; mnist, fashion_mnist, cifar10, image_folder)

__all__ = ["Dataset", "GaussianMixture", "datasets"]
