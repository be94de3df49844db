"""Fixtures shared by the harness tests that need digits: scikit-learn's digits and their
classifier features (trained once per module, cached on disk as the harness caches it).
Imported by the test modules: a second conftest.py would shadow tests/conftest.py."""
import pytest

from ganbench.data import datasets
from ganbench.harness.features import build_extractor


@pytest.fixture(scope="module")
def digits():
    return datasets.build("digits")


@pytest.fixture(scope="module")
def extractor(digits):
    return build_extractor(None, digits).prepare()
