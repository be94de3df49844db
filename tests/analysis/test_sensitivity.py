"""`ganbench sensitivity` and the report's Sensitivity section, on hand-written summaries."""
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from ganbench.analysis.sensitivity import (best_of_k_band, best_of_k_weights, expected_best_of_k,
                                           sensitivity, setting_means, write_sensitivity)
from ganbench.cli import main
from ganbench.errors import InputError
from helpers.cli import run_cli

LRS = [1e-4, 3e-4, 1e-3]
BETAS = ["0.5-0.999", "0.0-0.9"]


def run(var, seed, lr, betas, mc, hq, fd, status="ok", ds="ring8", sweep=True):
    rec = {"run_id": f"{ds}__{var}__lr{lr:g}_b{betas}__seed{seed}", "dataset": ds, "variant": var,
           "seed": seed, "status": status, "steps": 10, "wall_s": 1.0}
    if sweep:
        rec.update({"setting": f"lr={lr:g},betas={betas}", "optimizer.lr": lr,
                    "optimizer.betas": betas})
    ok = status == "ok"
    rec.update(modes_captured=mc if ok else math.nan, hq_fraction=hq if ok else math.nan,
               fd=fd if ok else math.nan, osc_period=float(seed) if ok else math.nan)
    return rec


def swept_summary():
    """ns: 6 settings × 2 seeds, modes_captured seed means 1..6 (hq 0.6, fd = 1/mean);
    wgan: 6 settings, one diverged on both seeds, one on one seed."""
    rows = []
    for i, (lr, b) in enumerate(itertools.product(LRS, BETAS)):
        m = i + 1.0
        for s, d in ((0, -0.5), (1, +0.5)):                  # seed mean = m
            rows.append(run("ns", s, lr, b, m + d, 0.6, 1.0 / m))
    wgan = {0: (8, 0.7), 1: (7, 0.4), 2: (8, 0.9), 3: (2, 0.9), 4: None, 5: "half"}
    for i, (lr, b) in enumerate(itertools.product(LRS, BETAS)):
        v = wgan[i]
        for s in range(2):
            if v is None or (v == "half" and s == 1):
                rows.append(run("wgan", s, lr, b, 0, 0, 0, status="diverged"))
            elif v == "half":
                rows.append(run("wgan", s, lr, b, 7, 0.8, 0.5))
            else:
                rows.append(run("wgan", s, lr, b, v[0], v[1], 0.3))
    return pd.DataFrame(rows)


def write_folder(path, summary, suite="name: sweep\n"):
    path.mkdir(parents=True, exist_ok=True)
    summary.to_csv(path / "summary.csv", index=False)
    (path / "suite.yaml").write_text(suite)
    return path


# --- expected best of k -----------------------------------------------------------------

def test_best_of_k_by_hand():
    assert expected_best_of_k([1, 2, 3])[1] == pytest.approx((2 + 3 + 3) / 3)
    assert list(expected_best_of_k([3, 1, 2])) == pytest.approx([2, 8 / 3, 3])
    assert expected_best_of_k([1, 2, 3], better=-1)[1] == pytest.approx((1 + 1 + 2) / 3)
    assert expected_best_of_k([1, math.nan, 3])[0] == pytest.approx(2)      # NaN dropped
    assert best_of_k_weights(6).sum(axis=1) == pytest.approx(np.ones(6))
    with pytest.raises(ValueError):
        expected_best_of_k([1, 2], better=0)


@pytest.mark.parametrize("values", [[0.3, 5.0, 1.2, 4.4, 2.0, 0.9], [2, 2, 7, 1, 7, 3]])
def test_best_of_k_against_every_subset(values):
    n = len(values)
    hi, lo = expected_best_of_k(values, +1), expected_best_of_k(values, -1)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(values, k))
        assert hi[k - 1] == pytest.approx(np.mean([max(s) for s in subsets]), rel=1e-12)
        assert lo[k - 1] == pytest.approx(np.mean([min(s) for s in subsets]), rel=1e-12)
    assert hi[0] == pytest.approx(np.mean(values)) and hi[-1] == max(values)
    assert lo[0] == pytest.approx(np.mean(values)) and lo[-1] == min(values)
    assert np.all(np.diff(hi) >= -1e-12) and np.all(np.diff(lo) <= 1e-12)


def test_bootstrap_band_is_reproducible_and_brackets_the_mean():
    v = [0.3, 5.0, 1.2, 4.4, 2.0, 0.9]
    low, high = best_of_k_band(v)
    again = best_of_k_band(v)
    assert np.array_equal(low, again[0]) and np.array_equal(high, again[1])
    assert len(low) == len(high) == 6 and np.all(low <= high)
    assert low[0] < np.mean(v) < high[0]
    assert high[-1] == max(v)             # a resample's best is never above the best
    assert [list(b) for b in best_of_k_band([2.0, 2.0])] == [[2, 2], [2, 2]]


# --- the table ---------------------------------------------------------------------------

def test_setting_means_count_every_seed():
    means = setting_means(swept_summary()).set_index(["variant", "setting"])
    assert list(means.loc["ns", "modes_captured"]) == [1, 2, 3, 4, 5, 6]
    # diverged seeds without a history count at the worst of each range (ganbench.analysis.seeds)
    assert means.loc[("wgan", "lr=0.001,betas=0.5-0.999"), "ok"] == 0
    assert means.loc[("wgan", "lr=0.001,betas=0.5-0.999"), "modes_captured"] == 0
    assert means.loc[("wgan", "lr=0.001,betas=0.5-0.999"), "fd"] == math.inf
    assert means.loc[("wgan", "lr=0.001,betas=0.0-0.9"), "modes_captured"] == 3.5   # 7 and 0
    assert means.loc[("ns", "lr=0.0003,betas=0.0-0.9"), "optimizer.lr"] == 3e-4


def test_median_iqr_best_and_curve():
    t = sensitivity(swept_summary()).set_index(["variant", "metric"])
    assert list(t.loc["ns"].index) == ["modes_captured", "hq_fraction", "fd"]   # with a direction
    r = t.loc[("ns", "modes_captured")]
    assert r.settings == 6 and r.valued == 6 and r.better == "higher"
    assert (r["median"], r.iqr_low, r.iqr_high) == pytest.approx((3.5, 2.25, 4.75))
    assert (r.best_setting, r.best_value) == ("lr=0.001,betas=0.0-0.9", 6)
    assert r.best_of_k == pytest.approx(list(expected_best_of_k([1, 2, 3, 4, 5, 6])))
    assert len(r.best_of_k_low) == len(r.best_of_k_high) == 6
    w = t.loc[("wgan", "modes_captured")]
    assert w.settings == 6 and w.valued == 6 and len(w.best_of_k) == 6
    # settings 8, 7, 8, 2, 0 (both seeds diverged), 3.5 (one did): linear quartiles
    assert (w["median"], w.iqr_low, w.iqr_high) == pytest.approx((5.25, 2.375, 7.75))
    assert w.best_value == 8 and w.best_setting == "lr=0.0001,betas=0.5-0.999"   # first of equals


def test_lower_is_better_takes_the_minimum():
    t = sensitivity(swept_summary(), metrics=["fd", "osc_period"]).set_index(["variant", "metric"])
    r = t.loc[("ns", "fd")]
    assert r.better == "lower" and r.best_value == pytest.approx(1 / 6)
    assert r.best_setting == "lr=0.001,betas=0.0-0.9"
    assert r.best_of_k[0] == pytest.approx(np.mean([1 / m for m in range(1, 7)]))
    assert r.best_of_k[-1] == pytest.approx(1 / 6) and r.best_of_k[1] < r.best_of_k[0]
    o = t.loc[("ns", "osc_period")]                 # no better direction: no best, no curve
    assert o.better == "" and o.best_setting == "" and math.isnan(o.best_value)
    assert o.best_of_k == [] and o["median"] == pytest.approx(0.5)


def test_success_rate_and_its_clopper_pearson_interval():
    t = sensitivity(swept_summary(), success="modes_captured >= 7 and hq_fraction >= 0.5")
    w = t[t.variant == "wgan"].iloc[0]
    # wgan: (8, .7) yes, (7, .4) no, (8, .9) yes, (2, .9) no, diverged no, and (7, .8) on
    # one seed with the other diverged, counted at 0 modes: (3.5, .4) no
    assert (w.successes, w.settings, w.success_rate) == (2, 6, pytest.approx(1 / 3))
    ci = sps.binomtest(2, 6).proportion_ci(confidence_level=0.95, method="exact")
    assert (w.success_ci_low, w.success_ci_high) == pytest.approx((ci.low, ci.high))
    assert (w.success_ci_low, w.success_ci_high) == pytest.approx(
        (sps.beta.ppf(0.025, 2, 5), sps.beta.ppf(0.975, 3, 4)))          # Clopper-Pearson
    n = t[t.variant == "ns"].iloc[0]
    assert n.successes == 0 and n.success_ci_low == 0
    assert n.success_ci_high == pytest.approx(1 - 0.025 ** (1 / 6))    # 0 of 6, by hand
    assert (t.groupby("variant").success_rate.nunique() == 1).all()     # per variant, every metric
    # `not`: a setting without a value never succeeds
    t = sensitivity(swept_summary(), success="not (fd > 0.4)")
    assert t[t.variant == "wgan"].successes.iloc[0] == 4
    assert sensitivity(swept_summary()).success_rate.isna().all()       # no expression: empty
    chained = sensitivity(swept_summary(), success="2 <= modes_captured < 5 or fd * 2 < 0.4")
    assert chained[chained.variant == "ns"].successes.iloc[0] == 4      # 2, 3, 4 and 6 (fd 1/6)


@pytest.mark.parametrize("expr, why", [
    ("modes >= 7", "unknown metric 'modes'"),
    ("modes_captured >=", "not a valid expression"),
    ("modes_captured", "not a condition"),
    ("__import__('os').system('echo pwned')", "is not allowed"),
    ("modes_captured.real > 1", "is not allowed"),
    ("fd > 'a'", "is not allowed"),
    ("modes_captured >= 7 and 3", "not a condition"),
])
def test_bad_success_expression_is_an_input_error(expr, why):
    with pytest.raises(InputError) as e:
        sensitivity(swept_summary(), success=expr)
    msg = str(e.value)
    assert msg.startswith("--success ") and why in msg and "\n" not in msg
    assert "modes_captured, hq_fraction, fd, osc_period" in msg


def test_without_sweep_each_variant_is_one_setting():
    rows = [run(v, s, 1e-3, "", mc, 0.5, 0.1 * mc, sweep=False)
            for v, vals in (("a", [4, 6]), ("b", [8, 8])) for s, mc in enumerate(vals)]
    t = sensitivity(pd.DataFrame(rows), success="modes_captured > 6")
    r = t[(t.variant == "a") & (t.metric == "modes_captured")].iloc[0]
    assert (r.settings, r.valued, r.best_setting, r.best_value) == (1, 1, "default", 5)
    assert r.best_of_k == [5] and r.successes == 0
    assert t[t.variant == "b"].successes.iloc[0] == 1


def test_unknown_metric_is_an_input_error():
    with pytest.raises(InputError, match=r"^--metric nope: .*available: modes_captured"):
        sensitivity(swept_summary(), metrics=["nope"])
    with pytest.raises(InputError, match=r"^--metric optimizer.lr"):     # a swept field is no metric
        sensitivity(swept_summary(), metrics=["optimizer.lr"])


# --- the command and the report ----------------------------------------------------------

def test_cli_writes_markdown_and_csv(tmp_path, capsys):
    out = write_folder(tmp_path / "out", swept_summary())
    assert run_cli("sensitivity", str(out), "--success", "modes_captured >= 7 and hq_fraction >= 0.5",
                   "--metric", "modes_captured", "--metric", "fd") == 0
    printed = capsys.readouterr().out
    md = (out / "sensitivity.md").read_text()
    assert printed == md and "## ring8" in md
    assert "| wgan | modes_captured (higher) | 6 | 2/6 = 0.333 [" in md
    assert "|  | fd (lower) | 6 (4 with a value) |" in md      # two settings' fd means are +inf
    assert "lr=0.001,betas=0.0-0.9: 6 |" in md
    csv = pd.read_csv(out / "sensitivity.csv")
    assert list(csv.metric.unique()) == ["modes_captured", "fd"] and len(csv) == 4
    curve = [float(x) for x in csv.best_of_k.iloc[0].split(";")]
    assert curve == pytest.approx(list(expected_best_of_k([1, 2, 3, 4, 5, 6])))
    md2, csv2 = write_sensitivity(out)
    assert "success rate" not in md2.read_text() and pd.read_csv(csv2).successes.isna().all()


def test_cli_bad_success_exits_2_with_one_line(tmp_path, capsys):
    out = write_folder(tmp_path / "out", swept_summary())
    with pytest.raises(SystemExit) as e:
        main(["sensitivity", str(out), "--success", "modes_captured >= 7 and open('x')"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ganbench: error: --success ")
    assert "modes_captured, hq_fraction, fd" in err
    assert not (out / "sensitivity.md").exists()
    assert run_cli("sensitivity", str(out), "--metric", "fid") == 2


def test_report_of_a_swept_folder_has_heat_maps_and_best_of_k(tmp_path):
    s = swept_summary()
    one_axis = s[(s.variant == "ns") & (s["optimizer.betas"] == BETAS[0])].assign(variant="lr_only")
    s = pd.concat([s, one_axis.assign(run_id=one_axis.run_id + "_lr")], ignore_index=True)
    moons = s[s.variant == "ns"].assign(dataset="moons", modes_captured=math.nan,
                                        hq_fraction=math.nan)
    s = pd.concat([s, moons.assign(run_id=moons.run_id + "_m")], ignore_index=True)
    out = write_folder(tmp_path / "out", s)
    assert run_cli("report", str(out)) == 0
    page = (out / "report.html").read_text()
    alts = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,', page)
    assert "ring8 ns sensitivity heat map of modes_captured" in alts
    assert "ring8 wgan sensitivity heat map of modes_captured" in alts
    assert "ring8 lr_only sensitivity line of modes_captured" in alts       # one swept field
    assert "moons ns sensitivity heat map of fd" in alts                     # its first ranked metric
    assert "ring8 expected best-of-k curves" in alts and "moons expected best-of-k curves" in alts
    assert "summary figure" in alts
    assert "Sensitivity to hyperparameters" in page
    assert "<th>optimizer.lr</th>" not in page and "optimizer.lr_mean" not in page


def test_report_without_sweep_has_no_sensitivity_section(tmp_path):
    rows = [run(v, s, 1e-3, "", 5 + s, 0.5, 0.1, sweep=False) for v in ("a", "b") for s in range(2)]
    out = write_folder(tmp_path / "out", pd.DataFrame(rows))
    assert run_cli("report", str(out)) == 0
    page = (out / "report.html").read_text()
    assert "Sensitivity" not in page and "best-of-k" not in page
    assert "<summary>Comparison (95% bootstrap CI" in page
