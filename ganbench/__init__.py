"""ganbench: a benchmark and diagnostics suite for GAN training.

``ganbench.run(suite, out=...)`` trains a suite and returns its summary;
``ganbench.load(out)`` reads a results folder; ``ganbench.Monitor`` brings the
diagnostics to a training loop of your own. Importing ganbench imports no torch:
the API's modules load on first use.
"""
__version__ = "0.1.0"
__all__ = ["run", "load", "Monitor"]


def __getattr__(name):
    if name in ("run", "load"):
        from .runs import api
        return getattr(api, name)
    if name == "Monitor":
        from .monitor import Monitor
        return Monitor
    raise AttributeError(f"module 'ganbench' has no attribute {name!r}")
