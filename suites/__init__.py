"""The suites that ship with ganbench: installed from this folder as the package
``ganbench.suites`` (setup.py), found by name by ganbench.config.shipped."""
