"""Generators and discriminators, all seed-stacked (a leading seed dimension S)."""
from .base import MODEL_CONTEXT, build_model, discriminators, generators, mixes_samples
from .stacked import StackedLinear
from . import dcgan, dirac, maxout, mlp, packing  # noqa: F401  (register their models)

__all__ = ["generators", "discriminators", "build_model", "MODEL_CONTEXT", "StackedLinear",
           "mixes_samples"]
