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

from .analysis.check import baseline_of, check_folder, regressions, to_markdown, write_baseline
from .metrics.catalogue import default_rules


def run_suite(suite: str | Path, out: str | Path, device: str = "auto", executor: str = "auto",
              imports: tuple[str, ...] = (), workers: int | None = None) -> Path:
    """Run a suite (resuming into ``out``) as ``ganbench run`` does, with its defaults;
    returns ``out``. Raises AssertionError when a run failed.

    The defaults are the CLI's: ``device="auto"`` (CUDA when there is one, else the
    CPU) and ``executor="auto"`` (worker processes, one per CPU core with cores/workers
    torch threads each, on a CPU with several cores; else this process), ``workers``
    None (that default count). On a small CPU this is the fast way: the small matmuls
    of 2D GANs use two threads poorly and two processes well (the CI suite at 3 seeds
    on a busy 2-core CPU: 48–54 s with these defaults, 41–65 s through the CLI, 214–267 s
    in this process with 2 threads, the defaults before; docs/guide.md, "In your own
    tests"). ``executor="local"`` trains in this process, one group after another (no
    worker start-up: the quicker choice for a suite of a few seconds)."""
    from .runs.api import run
    summary = run(suite, out, device, executor, workers, imports=tuple(imports))
    failed = summary[summary.status == "failed"]
    if len(failed):
        raise AssertionError(f"ganbench run {suite}: {len(failed)} runs failed "
                             f"(e.g. {failed.run_id.iloc[0]})")
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
    """Write ``baseline`` from the results in ``out`` (``rules`` default: the catalogue's)."""
    write_baseline(Path(baseline), baseline_of(Path(out), rules or default_rules()))
