"""benchmarks/readme_tables.py loaded as a module (benchmarks/ is no package): the results
tables it makes, where they are and how it reads a page's markdown tables."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load():
    """The module ``readme_tables`` (loaded once)."""
    if "readme_tables" not in sys.modules:
        spec = importlib.util.spec_from_file_location("readme_tables",
                                                      ROOT / "benchmarks" / "readme_tables.py")
        module = sys.modules["readme_tables"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["readme_tables"]
