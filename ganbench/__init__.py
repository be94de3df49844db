"""ganbench: a benchmark and diagnostics suite for GAN training."""
__version__ = "0.1.0"
