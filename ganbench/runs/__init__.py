"""Running suites: groups of runs, executors (local, worker processes, Ray), training a
group where it runs, the results store, and
the Python API (:func:`ganbench.run`, :func:`ganbench.load`); named runs/ so that
ganbench.run stays the function."""
