"""The test suite's own layout: every end-to-end (and slow) entry in conftest.py still names a test
(a renamed test would otherwise slip into the fast run unnoticed), and test modules share
code through tests/helpers/ only, never by importing a test module or conftest.py."""
import ast
from pathlib import Path

from conftest import E2E, SLOW, is_e2e

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def names_of_tests(module: Path) -> set[str]:
    """``name`` of every test function and ``Class::name`` of every test method."""
    tree = ast.parse(module.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {f"{node.name}::{f.name}" for f in node.body
                      if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test")}
            names.add(node.name)
    return names


def test_every_e2e_entry_names_an_existing_test():
    stale = []
    for entry in E2E + SLOW:
        path, _, test = entry.partition("::")
        module = ROOT / path
        if not module.is_file() or (test and test not in names_of_tests(module)):
            stale.append(entry)
    assert not stale, f"tests/conftest.py E2E or SLOW names tests that do not exist: {stale}"
    assert all(is_e2e(e) for e in SLOW), "a SLOW test is an end-to-end test first: list it in E2E"


def test_an_entry_marks_its_module_or_its_test_with_every_parameter():
    assert is_e2e("tests/runs/test_faults.py::test_a_full_disk_leaves_no_half_written_run_and_says_so")
    assert is_e2e("tests/test_cli.py::test_kill_9_mid_suite_then_rerun_equals_an_uninterrupted_run[local]")
    assert not is_e2e("tests/test_cli.py::test_run_writes_the_output_contract")
    assert not is_e2e("tests/runs/test_faults.py_other::test_x")


def test_tests_import_shared_code_from_helpers_only():
    test_modules = {p.stem for p in TESTS.rglob("test_*.py")} | {"conftest"}
    wrong = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in test_modules
                      and not (path.name == "test_test_layout.py" and n == "conftest")]
    assert not wrong, f"import shared test code from tests/helpers/, not from a test module: {wrong}"
