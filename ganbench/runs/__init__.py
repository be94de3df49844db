"""Running suites: executors (local, worker processes, Ray), the results store, and
the Python API (:func:`ganbench.run`, :func:`ganbench.load`); named runs/ so that
ganbench.run stays the function."""
