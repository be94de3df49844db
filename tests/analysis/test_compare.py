"""`ganbench compare`: statistics against scipy on fixed numbers, merging, the CLI."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from ganbench.analysis.compare import compare, load_summaries
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
                         "modes_captured": v, "fd": 1.0 / (1 + v), "osc_period": float(seed)})
    return pd.DataFrame(recs)


def test_statistics_are_scipys():
    x = np.array([0.3, 0.1, 0.7, 0.2, 0.9, 0.4])
    lo, hi = bootstrap_ci(x)
    ref = sps.bootstrap((x,), np.mean, confidence_level=0.95, method="percentile",
                        n_resamples=2000, random_state=np.random.default_rng(0)).confidence_interval
    assert (lo, hi) == pytest.approx((ref.low, ref.high))
    assert mann_whitney(A, B) == pytest.approx(tuple(sps.mannwhitneyu(A, B)))
    assert worse_pvalue(B, A, +1) == pytest.approx(sps.mannwhitneyu(B, A, alternative="less").pvalue)
    assert worse_pvalue(B, A, -1) == pytest.approx(sps.mannwhitneyu(B, A, alternative="greater").pvalue)
    assert mann_whitney([1, 1], [1, 1]) == (2.0, 1.0)           # no evidence either way
    assert bootstrap_ci([5, 5, 5]) == (5.0, 5.0) and math.isnan(bootstrap_ci([1])[0])


def test_compare_ranks_tests_and_states_direction():
    t = compare(summary()).set_index(["metric", "group"])
    m = t.loc["modes_captured"]
    assert m.loc["nonsaturating", "vs_reference"] == "reference"
    assert m.loc["bad", "vs_reference"] == "worse"
    assert m.loc["bad", "p_value"] == pytest.approx(sps.mannwhitneyu(B, A).pvalue)
    assert m.loc["pac", "vs_reference"] == "same"
    assert list(m["rank"]) == [1, 2, 3] and m.loc["bad", "better"] == "higher"
    f = t.loc["fd"]                          # lower is better: the same order
    assert f.loc["bad", "rank"] == 3 and f.loc["bad", "vs_reference"] == "worse"
    assert math.isnan(t.loc[("osc_period", "bad"), "rank"])     # no better direction


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
    assert "### ring8" in out and "modes_captured (higher is better)" in out
    assert "| nonsaturating | 5 | 7.8 ± 0.447 |" in out


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
    assert t[t.group == "bad"].vs_reference.tolist() == ["too few seeds", "too few seeds", "too few seeds"]
