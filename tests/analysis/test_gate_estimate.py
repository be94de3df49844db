"""Margins from a group's own seeds, and the false alarms and power a baseline's rules
give, estimated by resampling its seeds."""
import math

import numpy as np
import pytest

from ganbench.analysis.gate_estimate import estimate, rate_text
from ganbench.analysis.gate_rules import margin_of, spread


def test_the_spread_and_the_margin_by_hand():
    # median 7, absolute deviations 0 (x3), 1 (x6), 7 (x3): MAD 1
    modes = [6, 0, 8, 0, 8, 8, 7, 8, 7, 7, 8, 0]
    assert spread(modes) == pytest.approx(1.4826)
    # most seeds agree (MAD 0): the standard deviation of the finite values
    assert spread([8.0] * 11 + [7.0]) == pytest.approx(np.std([8.0] * 11 + [7.0], ddof=1))
    assert spread([8.0] * 12) == 0.0 and spread([1.0]) == 0.0
    # a failed seed at +inf does not move it
    assert spread([0.1, 0.2, 0.3, math.inf]) == pytest.approx(1.4826 * 0.1)
    rule = {"better": "higher", "noise_margin": 0.25, "margin": 0.1, "rel_margin": 0.01}
    assert margin_of(rule, modes) == pytest.approx(0.25 * 1.4826)
    assert margin_of({**rule, "margin": 1.0}, modes) == 1.0
    assert margin_of({"better": "lower", "rel_margin": 0.5}, [2.0, 4.0, math.inf]) == 2.0


def groups(values: dict, n_ok=None):
    return {f"ring8/{g}": {"runs": len(next(iter(v.values()))), "ok": n_ok or len(next(iter(v.values()))),
                          "failed": 0, "values": v} for g, v in values.items()}


def test_the_estimate_on_normal_seeds_holds_alpha_and_gains_power_with_the_worsening():
    rng = np.random.default_rng(0)
    rules = {"fd": {"better": "lower", "noise_margin": 0.25, "alpha": 0.01},
             "hq_fraction": {"better": "higher", "noise_margin": 0.25, "alpha": 0.01}}
    vals = {g: {"fd": list(rng.normal(1.0, 0.1, 12).round(4)),
                "hq_fraction": list(rng.normal(0.5, 0.05, 12).round(4))} for g in "abc"}
    est = estimate({"rules": rules, "groups": groups(vals)},
                   {"ring8": {"fd": math.inf, "hq_fraction": 0.0}}, draws=200)
    alarms = int(est["false_alarms"].split("/")[0])
    assert alarms <= 200 * 0.06                       # 6 rows (and 3 runs rows) at 0.01
    assert est["of_which_cannot_test"] == "0/200 = 0% [0, 2]"
    for m in rules:
        one, two = (int(v.split("/")[0]) for v in est["power"][m].values())
        assert one < two and two > 100


def test_a_baseline_with_seeds_at_the_worst_says_its_gate_cannot_test():
    """Seven of twelve seeds at 0 modes: resampled baselines hold seven or more there
    about half the time, and then no twelve seeds now can reach 0.01."""
    rules = {"modes_captured": {"better": "higher", "margin": 0.25, "alpha": 0.01}}
    est = estimate({"rules": rules, "groups": groups({"v": {"modes_captured": [0.0] * 7 + [8.0] * 5}})},
                   {"ring8": {"modes_captured": 0.0}}, draws=200)
    cannot = int(est["of_which_cannot_test"].split("/")[0])
    assert 50 < cannot < 150


def test_rate_text():
    assert rate_text(0, 20) == "0/20 = 0% [0, 17]" and rate_text(6, 10) == "6/10 = 60% [26, 88]"


def test_the_noise_margin_benchmark_prints_a_row_per_width(tmp_path, capsys):
    import sys
    from pathlib import Path

    import pandas as pd
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import noise_margin
    rng = np.random.default_rng(0)
    pd.DataFrame([dict(run_id=f"r{v}{s}", dataset="ring8", variant=v, seed=s, status="ok",
                       steps=1, wall_s=1.0, modes_total=8, modes_captured=float(rng.integers(6, 9)),
                       hq_fraction=rng.random(), reverse_kl=rng.random(), fd=rng.random())
                  for v in "ab" for s in range(8)]).to_csv(tmp_path / "summary.csv", index=False)
    noise_margin.main([str(tmp_path), "--widths", "0", "0.25", "--draws", "20"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[2].startswith("| 0 | ") and lines[3].startswith("| 0.25 | ")
