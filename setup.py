"""Everything else is in pyproject.toml. This adds the one package that lives outside
ganbench/: the checkout's suites/ folder, installed as ganbench.suites (package data, so
that `ganbench run mog` works from a wheel; ganbench.config.shipped finds it), while the
folder stays where the docs, tests and users' commands name it (suites/mog.yaml)."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["ganbench*"]) + ["ganbench.suites"],
      package_dir={"ganbench.suites": "suites"})
