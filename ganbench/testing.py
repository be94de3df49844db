"""Helpers to gate your own GAN variants in your own test suite (pytest or any other).

    from ganbench.testing import run_suite, assert_no_regression

    def test_my_variant_is_still_stable(tmp_path):
        out = run_suite("suites/my_variant.yaml", tmp_path / "out")
        assert_no_regression(out, "tests/baselines/my_variant.yaml")

Write the baseline once with ``ganbench check OUT --baseline FILE --update`` (or
:func:`write_baseline_from`) and commit it.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .check import DEFAULT_RULES, baseline_of, check_folder, regressions, to_markdown, write_baseline


def run_suite(suite: str | Path, out: str | Path, device: str = "cpu", executor: str = "local",
              imports: tuple[str, ...] = ()) -> Path:
    """Run a suite (resuming into ``out``) as ``ganbench run`` does; returns ``out``.
    Raises AssertionError when a run failed."""
    from .cli import main
    args = ["run", str(suite), "--out", str(out), "--device", device, "--executor", executor,
            "--no-progress"] + [a for i in imports for a in ("--import", i)]
    try:
        main(args)
    except SystemExit as e:
        if e.code:
            raise AssertionError(f"ganbench run {suite} exited with {e.code}") from None
    return Path(out)


def check_table(out: str | Path, baseline: str | Path) -> pd.DataFrame:
    """The check table of ``out`` against ``baseline`` (column ``verdict``: ok or REGRESSED)."""
    return check_folder(Path(out), Path(baseline))


def assert_no_regression(out: str | Path, baseline: str | Path) -> None:
    """AssertionError listing the regressed metrics (with the whole table) if any."""
    table = check_table(out, baseline)
    bad = regressions(table)
    if bad:
        raise AssertionError(f"stability regressed: {', '.join(bad)}\n{to_markdown(table)}")


def write_baseline_from(out: str | Path, baseline: str | Path, rules: dict | None = None) -> None:
    """Write ``baseline`` from the results in ``out`` (``rules`` default: DEFAULT_RULES)."""
    write_baseline(Path(baseline), baseline_of(Path(out), rules or DEFAULT_RULES))
