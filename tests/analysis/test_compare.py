"""`ganbench compare`: statistics against scipy on fixed numbers, the focused family and
its correction, merging, the CLI."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from ganbench.analysis.compare import compare, holm
from ganbench.layout.summaries import load_summaries
from ganbench.analysis.stats import bootstrap_ci, mann_whitney, worse_pvalue
from helpers.cli import run_cli

A = [8, 8, 7, 8, 8]          # reference: nonsaturating
B = [3, 5, 2, 4, 1]          # clearly worse on modes_captured
C = [8, 7, 8, 6, 8]


def summary(rows=None):
    rows = rows or [("nonsaturating", A), ("pac", C), ("bad", B)]
    recs = []
    for var, vals in rows:
        for seed, v in enumerate(vals):
            recs.append({"run_id": f"ring8__{var}__seed{seed}", "dataset": "ring8", "variant": var,
                         "seed": seed, "status": "ok", "steps": 10, "wall_s": 1.0,
                         "modes_captured": v, "modes_total": 8, "hq_fraction": v / 10,
                         "fd": 1.0 / (1 + v), "jsd": 0.1 * (8 - v), "osc_period": float(seed),
                         "osc_amplitude": 0.1 * v, "d_real_mean": 0.5})
    return pd.DataFrame(recs)


def test_statistics_are_scipys():
    x = np.array([0.3, 0.1, 0.7, 0.2, 0.9, 0.4])
    lo, hi = bootstrap_ci(x)
    ref = sps.bootstrap((x,), np.mean, confidence_level=0.95, method="percentile",
                        n_resamples=2000, random_state=np.random.default_rng(0)).confidence_interval
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert mann_whitney(A, B)[0] == sps.mannwhitneyu(A, B).statistic
    # B is below A at every pair: the exact one-sided p is 1 / C(10, 5)
    assert worse_pvalue(B, A, +1) == pytest.approx(1 / 252)
    assert worse_pvalue(B, A, -1) == pytest.approx(1.0)
    assert mann_whitney([1, 1], [1, 1]) == (2.0, 1.0)           # no evidence either way
    assert bootstrap_ci([5, 5, 5]) == (5.0, 5.0) and math.isnan(bootstrap_ci([1])[0])


def test_compare_ranks_tests_and_states_direction():
    t = compare(summary(), correction="bh").set_index(["metric", "group"])
    # the key metrics of a 2D set: coverage, quality and the divergence (fd: jsd is known)
    assert list(dict.fromkeys(t.index.get_level_values(0))) == \
        ["modes_captured", "hq_fraction", "jsd"]
    m = t.loc["modes_captured"]
    assert m.loc["nonsaturating", "vs_reference"] == "reference"
    assert m.loc["bad", "vs_reference"] == "worse" and m.loc["bad", "p_better"] == 0.0
    assert m.loc["bad", "p_value"] == pytest.approx(2 / 252)      # exact: every pair below
    assert m.loc["pac", "vs_reference"] == "not significant"
    # the three 8s of pac beat the 7 and tie four 8s; its 7 ties the 7; its 6 loses
    assert m.loc["pac", "p_better"] == pytest.approx((3 * (1 + 4 * 0.5) + 0.5) / 25)
    assert list(m["rank"]) == [1, 2, 3] and m.loc["bad", "better"] == "higher"
    assert m.loc["nonsaturating", "iqm"] == pytest.approx(8.0)    # middle three of 7, 8, 8, 8, 8
    j = t.loc["jsd"]                          # lower is better: the same order
    assert j.loc["bad", "rank"] == 3 and j.loc["bad", "vs_reference"] == "worse"
    # the family: 3 metrics x 2 variants, adjusted together (BH)
    tested = t[t.p_value.notna()]
    assert len(tested) == 6 and t.attrs["family"] == 6
    from scipy.stats import false_discovery_control
    assert list(tested.p_adjusted) == pytest.approx(list(false_discovery_control(tested.p_value)))


def test_all_shows_every_metric_but_tests_no_constant_and_no_loss_units_across_objectives():
    s = summary()
    s["_objective"] = s.variant.map({"nonsaturating": "nonsaturating", "pac": "nonsaturating",
                                     "bad": "wgan"})
    t = compare(s, all_metrics=True).set_index(["metric", "group"])
    assert t.loc[("modes_total", "bad"), "vs_reference"] == "constant: not tested"
    assert math.isnan(t.loc[("modes_total", "bad"), "p_value"])
    amp = t.loc["osc_amplitude"]              # in the D loss's units
    assert amp.loc["bad", "vs_reference"] == "loss units: not compared across objectives"
    assert math.isnan(amp.loc["bad", "p_value"]) and amp["rank"].isna().all()
    assert not math.isnan(amp.loc["pac", "p_value"])   # the same objective: tested
    assert math.isnan(t.loc[("osc_period", "bad"), "rank"])     # no better direction
    assert t.loc[("fd", "bad"), "vs_reference"] != ""
    family = t[t.p_value.notna()]
    assert t.attrs["family"] == len(family)
    assert list(family.p_adjusted) == pytest.approx(list(holm(family.p_value)))


def test_merging_two_folders_and_duplicates(tmp_path, capsys):
    s = summary()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    s.iloc[:8].to_csv(tmp_path / "a" / "summary.csv", index=False)
    s.iloc[6:].to_csv(tmp_path / "b" / "summary.csv", index=False)    # rows 6, 7 twice
    warned = []
    merged = load_summaries([tmp_path / "a", tmp_path / "b"], warned.append)
    assert len(merged) == len(s) and "2 run ids" in warned[0]
    assert run_cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--metric",
                   "modes_captured", "--reference", "bad") == 0
    out = capsys.readouterr().out
    assert "### ring8" in out and "| variant | ok/N | modes_captured ↑ |" in out
    assert "| nonsaturating | 5/5 | 7.8 [7.4, 8] ▲ |" in out


@pytest.mark.parametrize("fmt,marker", [("csv", "dataset,metric,better,group"), ("html", "<table>")])
def test_other_formats(tmp_path, capsys, fmt, marker):
    summary().to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("compare", str(tmp_path), "--format", fmt) == 0
    assert marker in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    summary().to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("compare", str(tmp_path), "--metric", "fid") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--metric fid: no values" in err[0]
    assert run_cli("compare", str(tmp_path / "nowhere")) == 2
    assert "no summary.csv" in capsys.readouterr().err


def test_too_few_seeds_for_the_test_is_said():
    t = compare(summary([("nonsaturating", [8]), ("bad", [2])]))
    assert set(t[t.group == "bad"].vs_reference) == {"too few seeds (1 vs 1) to reach p < 0.05"}
    assert t.attrs["family"] == 0


def test_the_short_view_and_holms_reach(tmp_path, capsys):
    summary().to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("compare", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "6 two-sided exact Mann-Whitney tests" in out and "by Holm over all 6" in out
    assert "| variant | ok/N | modes_captured ↑ | hq_fraction ↑ | jsd ↓ |" in out
    assert "| bad | 5/5 | 3 [1.8, 4.2] ▼ |" in out
    assert "| modes_captured | bad | 0 [0, 0] | 0.008 | 0.048 | worse |" in out
    assert len(out.splitlines()) < 25
    assert run_cli("compare", str(tmp_path), "--all", "--metric", "fd") == 2


def test_probability_of_improvement_over_datasets():
    s = summary()
    grid = s.assign(dataset="grid25", run_id=s.run_id.str.replace("ring8", "grid25"))
    grid.loc[grid.variant == "bad", "modes_captured"] = 8       # on grid25 bad ties the reference
    t = compare(pd.concat([s, grid], ignore_index=True))
    across = t[t.dataset == "all datasets"].set_index(["metric", "group"])
    # ring8: bad below every reference seed (P 0); grid25: 8 ties four 8s, beats one 7
    assert across.loc[("modes_captured", "bad"), "p_better"] == pytest.approx((0 + 0.6) / 2)
    lo, hi = across.loc[("modes_captured", "bad"), ["p_better_low", "p_better_high"]]
    assert 0 <= lo <= 0.3 <= hi <= 0.6
    assert across.loc[("modes_captured", "bad"), "vs_reference"] == "over 2 datasets"
    assert t.attrs["family"] == 12                  # the rows over datasets are no tests
