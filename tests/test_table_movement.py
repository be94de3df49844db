"""benchmarks/table_movement.py: the movement of a cell in seed-noise units against a
hand computation and scipy's Welch test, and the counts it reports."""
import importlib.util
import math
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("table_movement", ROOT / "benchmarks" / "table_movement.py")
tm = sys.modules["table_movement"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tm)


def summary(values: dict) -> pd.DataFrame:
    return pd.DataFrame([{"run_id": f"{ds}__{v}__seed{s}", "dataset": ds, "variant": v, "seed": s,
                          "modes_captured": x, "fd": 0.5}
                         for (ds, v), xs in values.items() for s, x in enumerate(xs)])


def test_movement_is_the_difference_over_its_standard_error():
    a = summary({("ring8", "ns"): [1, 2, 3], ("ring8", "wgan"): [8, 8, 8], ("ring8", "hinge"): [1, 1.1, 0.9]})
    b = summary({("ring8", "ns"): [2, 4, 6], ("ring8", "wgan"): [8, 8, 7], ("ring8", "hinge"): [5, 5.1, 4.9]})
    t = tm.movement(a, b, ["modes_captured", "fd"]).set_index(["variant", "metric"])
    ns = t.loc[("ns", "modes_captured")]
    # by hand: means 2 and 4, variances 1 and 4, SE = sqrt(1/3 + 4/3), df = (5/3)^2 / ((1/3)^2/2 + (4/3)^2/2)
    assert ns.se == pytest.approx(math.sqrt(5 / 3)) and ns.moved_se == pytest.approx(2 / math.sqrt(5 / 3))
    assert ns.df == pytest.approx(50 / 17)
    welch = stats.ttest_ind([1, 2, 3], [2, 4, 6], equal_var=False)
    assert ns.moved_se == pytest.approx(abs(welch.statistic))
    assert ns.p_exceed_by_chance == pytest.approx(2 * stats.t.sf(2, 50 / 17))
    assert t.loc[("ns", "fd")].moved_se == 0 and t.loc[("ns", "fd")].p_exceed_by_chance == 0   # equal constants
    # 8, 8, 8 against 8, 8, 7: SE = sqrt(0 + (1/3) / 3) = 1/3, the means 1/3 apart
    assert t.loc[("wgan", "modes_captured")].moved_se == pytest.approx(1.0)
    assert t.loc[("hinge", "modes_captured")].moved_se == pytest.approx(4 / math.sqrt(0.02 / 3))
    text = tm.summary_text(t.reset_index())
    assert text.startswith("6 cells; 1 moved by more than 2 SE (expected by chance alone: ")
    assert tm.identical_runs(a, b, ["modes_captured", "fd"]) == (2, 9)     # wgan's seeds 0 and 1


def test_a_constant_that_changes_moved_infinitely():
    a, b = summary({("d", "v"): [8, 8]}), summary({("d", "v"): [7, 7]})
    assert tm.movement(a, b, ["modes_captured"]).moved_se.iloc[0] == math.inf
