"""Generators and discriminators, all seed-stacked (a leading seed dimension S)."""
from .base import discriminators, generators
from .stacked import StackedLinear
from . import dirac, mlp  # noqa: F401  (register their models)

__all__ = ["generators", "discriminators", "StackedLinear"]
