"""Generators and discriminators, all seed-stacked (a leading seed dimension S)."""
from .base import discriminators, generators
from .stacked import StackedLinear
from . import mlp  # noqa: F401  (registers mlp)

__all__ = ["generators", "discriminators", "StackedLinear"]
