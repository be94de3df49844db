"""Datasets: the registry and the 2D toy sets (importing this module registers them)."""
from .base import Dataset, GaussianMixture, datasets
from . import toy2d  # noqa: F401  (registers ring8, grid25, spiral, moons, dirac)

__all__ = ["Dataset", "GaussianMixture", "datasets"]
