"""ganbench: a benchmark and diagnostics suite for GAN training.

``ganbench.run(suite, out=...)`` trains a suite and returns its summary;
``ganbench.load(out)`` reads a results folder; ``ganbench.load_generator(run_dir)``
and ``ganbench.sample(run_dir, n)`` use a run's end-of-run checkpoint (model.pt);
``ganbench.Monitor`` brings the diagnostics to a training loop of your own. Importing
ganbench imports no torch: the API's modules load on first use.
"""
__version__ = "0.1.0"
__all__ = ["run", "load", "Monitor", "load_generator", "load_discriminator", "sample",
           "evaluation_noise"]

_SAVED = ("load_generator", "load_discriminator", "sample", "evaluation_noise")


def __getattr__(name):
    if name in ("run", "load"):
        from .runs import api
        return getattr(api, name)
    if name in _SAVED:
        from .harness import saved
        return getattr(saved, name)
    if name == "Monitor":
        from .monitor import Monitor
        return Monitor
    raise AttributeError(f"module 'ganbench' has no attribute {name!r}")
