"""`ganbench check`: rules on fixed numbers, the test's false-alarm bound, and catching a
real regression end to end."""
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from ganbench.analysis.check import CANNOT, REGRESSED, _runs_row
from ganbench.analysis.gate_rules import regressed as _regressed
from ganbench.testing import assert_no_regression, run_suite, write_baseline_from
from helpers.cli import run_cli

BASE = [8, 8, 7, 8, 8]


@pytest.mark.parametrize("rule,now,regressed", [
    ({"better": "higher", "margin": 1.0}, [7, 7, 7, 7, 7], False),       # within the margin
    ({"better": "higher", "margin": 1.0}, [6, 6, 7, 6, 6], True),
    ({"better": "higher", "alpha": 0.05}, [7, 7, 6, 7, 7], True),        # significant
    # shifted by the margin, now is the baseline again: no evidence of a worse-by-more-than-1
    ({"better": "higher", "margin": 1.0, "alpha": 0.05}, [7, 7, 6, 7, 7], False),
    ({"better": "higher", "margin": 1.0, "alpha": 0.05}, [2, 3, 1, 4, 2], True),
    ({"better": "lower", "rel_margin": 0.5}, [11, 12, 12, 11, 12], False),  # median 8: margin 4
    ({"better": "lower", "rel_margin": 0.5}, [12, 12, 12, 12, 12], True),
])
def test_rules(rule, now, regressed):
    assert _regressed(rule, BASE, now)[0] == (REGRESSED if regressed else "ok")


def test_a_test_that_cannot_reach_alpha_says_so():
    # 2 values against 5: the smallest one-sided p is 1/21 > 0.01, whatever the values
    rule = {"better": "higher", "margin": 1.0, "alpha": 0.01}
    assert _regressed(rule, BASE, [0, 0])[0] == CANNOT
    assert _regressed(rule, BASE, [7.5, 7.5])[0] == CANNOT
    assert _regressed({**rule, "alpha": 0.05}, BASE, [0, 0])[0] == REGRESSED   # 1/21 < 0.05


def test_no_values_now_is_a_regression():
    assert _regressed({"better": "higher", "margin": 1}, BASE, [math.nan] * 5)[0] == REGRESSED


@pytest.mark.parametrize("n", [5, 8])
def test_false_alarms_stay_below_alpha_when_the_worsening_is_the_margin(n):
    """The gate's guarantee: when now is the baseline worsened by exactly the margin (the
    edge of 'not a regression'), it alarms at most alpha of the time, at any n; worsened
    by four times the margin, it alarms nearly always."""
    rng = np.random.default_rng(0)
    rule = {"better": "higher", "margin": 0.5, "alpha": 0.05}
    edge = [_regressed(rule, rng.normal(size=n), rng.normal(size=n) - 0.5)[0] == REGRESSED
            for _ in range(1500)]
    assert np.mean(edge) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 1500)
    far = [_regressed(rule, rng.normal(size=n), rng.normal(size=n) - 2.0)[0] == REGRESSED
           for _ in range(200)]
    assert np.mean(far) > 0.6


@pytest.mark.parametrize("kind", ["atom", "near"])
def test_false_alarms_stay_below_alpha_at_a_bounded_metric_s_worst_value(kind):
    """At a bound the shift model clips (now = max(baseline - delta, worst)): baseline seeds
    within the margin of the worst value count at worst + margin, so seeds now at the worst
    tie with them; the alarm rate at a worsening of exactly the margin stays below alpha,
    whether a quarter of the seeds sit at the worst (atom) or many lie just above it
    (near), and a group whose every seed collapsed is caught."""
    rng = np.random.default_rng(1)
    rule = {"better": "higher", "margin": 0.02, "alpha": 0.05}

    def draw(n):
        if kind == "atom":
            return np.where(rng.random(n) < 0.25, 0.0, rng.normal(0.3, 0.1, n).clip(0, 1))
        return rng.normal(0.02, 0.03, n).clip(0, 1)
    n = 8
    edge = [_regressed(rule, draw(n), np.maximum(draw(n) - 0.02, 0.0), 0.0)[0] == REGRESSED
            for _ in range(1500)]
    assert np.mean(edge) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 1500)
    assert _regressed(rule, [0.0, 0.0] + [0.3] * 6, [0.0] * 8, 0.0)[0] == REGRESSED


def test_runs_row_failed_and_fewer_ok():
    entry = {"runs": 5, "ok": 5}
    g = pd.DataFrame({"status": ["ok"] * 4 + ["diverged"]})
    assert _runs_row("d", "v", entry, g, 0.01)["verdict"] == "ok"        # Fisher p = 0.5
    g = pd.DataFrame({"status": ["diverged"] * 5})
    row = _runs_row("d", "v", entry, g, 0.01)
    assert row["verdict"] == REGRESSED and row["p_value"] == pytest.approx(1 / 252)
    g = pd.DataFrame({"status": ["ok"] * 4 + ["failed"]})
    assert _runs_row("d", "v", entry, g, 0.01)["verdict"] == REGRESSED


SUITE = """
name: gate
seeds: 5
datasets: [ring8]
defaults:
  steps: 300
  batch_size: 64
  eval_every: 100
  n_eval: 500
  generator: {name: mlp, width: 32, depth: 2, z_dim: 4}
  discriminator: {name: mlp, width: 32, depth: 2}
  optimizer: {name: adam, lr: LR}
variants:
  nonsaturating: {objective: nonsaturating}
"""


def test_check_passes_an_unchanged_rerun_and_catches_a_broken_variant(tiny_suite, tmp_path, capsys):
    good = run_suite(tiny_suite(SUITE.replace("LR", "0.002"), "good.yaml"), tmp_path / "good",
                     executor="local")
    # a new baseline: the catalogue's rules (margins of a quarter of each group's seed
    # spread) and the error rates they give, estimated from its seeds
    defaults = tmp_path / "defaults.yaml"
    assert run_cli("check", str(good), "--baseline", str(defaults), "--update") == 0
    err = capsys.readouterr().err
    assert "false alarms" in err and "power of each metric's row" in err
    written = yaml.safe_load(defaults.read_text())
    assert written["rules"]["fd"] == {"better": "lower", "noise_margin": 0.25, "alpha": 0.01}
    assert set(written["operating"]) == {"how", "false_alarms", "of_which_cannot_test", "power"}
    assert len(written["groups"]["ring8/nonsaturating"]["values"]["modes_captured"]) == 5
    # a baseline file's own rules are kept by --update: here fd only
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("rules: {fd: {better: lower, noise_margin: 0.5, alpha: 0.01}}\ngroups: {}\n")
    assert run_cli("check", str(good), "--baseline", str(baseline), "--update") == 0
    stored = yaml.safe_load(baseline.read_text())
    assert list(stored["rules"]) == ["fd"] and len(stored["groups"]["ring8/nonsaturating"]["values"]["fd"]) == 5
    again = run_suite(tiny_suite(SUITE.replace("LR", "0.002"), "again.yaml"), tmp_path / "again",
                      executor="local")
    capsys.readouterr()
    assert run_cli("check", str(again), "--baseline", str(baseline)) == 0
    assert "REGRESSED" not in capsys.readouterr().out
    assert_no_regression(again, baseline)
    # the same variant with a 1000x learning rate: every run diverges. (At 100x, 0.2, the
    # runs learn nothing but stay finite: 0 modes where the baseline's seeds hold 0.8 on
    # average, 2 of 5 none; at 5 seeds no test of coverage can tell that from a baseline
    # with seeds at the worst value already, and fd, 6.5 against 3.6, is not significant.)
    broken = run_suite(tiny_suite(SUITE.replace("LR", "2.0"), "broken.yaml"), tmp_path / "broken",
                       executor="local")
    assert run_cli("check", str(broken), "--baseline", str(baseline)) == 1
    captured = capsys.readouterr()
    assert "REGRESSED" in captured.out and "ganbench: check: REGRESSED: ring8/nonsaturating" in captured.err
    with pytest.raises(AssertionError, match="stability regressed: ring8/nonsaturating"):
        assert_no_regression(broken, baseline)


def test_bad_baseline_is_one_line_and_exit_2(tmp_path, capsys):
    pd.DataFrame([{"run_id": "a", "dataset": "d", "variant": "v", "seed": 0, "status": "ok",
                   "steps": 1, "wall_s": 1.0}]).to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("check", str(tmp_path), "--baseline", str(tmp_path / "none.yaml")) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: {fd: {better: up, margin: 1}}\ngroups: {}\n")
    assert run_cli("check", str(tmp_path), "--baseline", str(bad)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rules.fd.better: expected higher or lower" in err[0]


def test_write_baseline_from_helper(tmp_path):
    pd.DataFrame([{"run_id": f"r{s}", "dataset": "d", "variant": "v", "seed": s, "status": "ok",
                   "steps": 1, "wall_s": 1.0, "fd": 0.1 * s} for s in range(5)]).to_csv(
        tmp_path / "summary.csv", index=False)
    write_baseline_from(tmp_path, tmp_path / "b.yaml", {"fd": {"better": "lower", "margin": 0.1}})
    assert yaml.safe_load((tmp_path / "b.yaml").read_text())["groups"]["d/v"]["values"]["fd"] == \
        [0.0, 0.1, 0.2, 0.3, 0.4]
    assert_no_regression(tmp_path, tmp_path / "b.yaml")


def test_the_smallest_p_in_closed_form_is_the_exact_test_s():
    """C(n + k, n) / C(n + m, n), k baseline seeds tied with now's at the worst value (or
    within the margin of it), against the exact rank test of that extreme."""
    from ganbench.analysis.gate_rules import _against, attainable_p
    from ganbench.analysis.stats import worse_pvalue
    rng = np.random.default_rng(3)
    for _ in range(30):
        m, n = rng.integers(2, 10, 2)
        base = np.where(rng.random(m) < 0.4, 0.0, rng.integers(1, 9, m)).astype(float)
        for rule, worst in (({"better": "higher", "margin": 0.25, "alpha": 0.01}, 0.0),
                            ({"better": "higher", "margin": 1.5, "alpha": 0.01}, 0.0),
                            ({"better": "lower", "margin": 0.5, "alpha": 0.01}, 8.0),
                            ({"better": "higher", "alpha": 0.01}, None)):
            seen, edge = _against(rule, base, worst)
            sign = 1 if rule["better"] == "higher" else -1
            exact = worse_pvalue(np.full(n, edge), seen, sign)
            assert attainable_p(rule, base, int(n), worst) == pytest.approx(exact, rel=1e-9)


def test_a_swept_suite_is_gated_per_setting(tmp_path):
    """In a swept suite each setting is its own baseline group: one setting regressing
    is reported under its label, the other is not."""
    import pandas as pd
    from ganbench.analysis.check import baseline_from, check
    rows = [dict(run_id=f"r{lr}{s}", dataset="ring8", variant="ns", seed=s, status="ok", steps=1,
                 wall_s=1.0, setting=f"lr={lr}", modes_captured=8.0) for lr in ("1e-4", "1e-3")
            for s in range(5)]
    base = baseline_from(pd.DataFrame(rows), {"modes_captured": {"better": "higher", "margin": 1.0}})
    assert set(base["groups"]) == {"ring8/ns/lr=1e-4", "ring8/ns/lr=1e-3"}
    now = pd.DataFrame(rows)
    now.loc[now.setting == "lr=1e-3", "modes_captured"] = 3.0
    table = check(now, base)
    bad = table[table.verdict != "ok"]
    assert list(bad.variant) == ["ns [lr=1e-3]"] and list(bad.metric) == ["modes_captured"]


def test_the_settings_note_names_the_group_and_field_in_a_swept_suite(tmp_path, capsys):
    """Each setting of a swept suite is its own group with its own settings hash: an
    unchanged folder gets no settings note (each group used to be told its settings
    differ), and a changed one is told which field, per group."""
    from ganbench.analysis.check import baseline_of, check_folder, write_baseline
    from ganbench.config.suite import load_suite
    from ganbench.harness.loop import SeedResult
    from ganbench.runs.store import run_files, spec_record, summary_frame, write_run
    from helpers.cli import TINY

    def folder(name, text):
        (tmp_path / f"{name}.yaml").write_text(text.replace("seeds: 2", "seeds: 5") +
                                               "sweep:\n  optimizer.lr: [0.001, 0.002]\n")
        specs = [s for s in load_suite(tmp_path / f"{name}.yaml").specs
                 if s.dataset["label"] == "ring8" and s.variant == "nonsaturating"]
        recs = [write_run(tmp_path / name, run_files(spec_record(s), SeedResult(s.seed, "ok", 30, {
            "modes_captured": 8.0, "modes_total": 8, "fd": 0.1 + 0.01 * s.seed}), 1.0, 1, "cpu"))
            for s in specs]
        summary_frame(recs).to_csv(tmp_path / name / "summary.csv", index=False)
        return tmp_path / name
    base = folder("base", TINY)
    baseline = tmp_path / "baseline.yaml"
    write_baseline(baseline, baseline_of(base, {"fd": {"better": "lower", "margin": 0.1}}))
    assert len(yaml.safe_load(baseline.read_text())["groups"]) == 2
    assert check_folder(folder("again", TINY), baseline).attrs["settings_changed"] == []
    notes = check_folder(folder("longer", TINY.replace("steps: 30", "steps: 40")),
                         baseline).attrs["settings_changed"]
    assert len(notes) == 2 and all("(steps: 30 vs 40)" in n for n in notes)
    assert notes[0].startswith("ring8/nonsaturating/") and notes[0] != notes[1]
    capsys.readouterr()
    assert run_cli("check", str(tmp_path / "longer"), "--baseline", str(baseline)) == 0
    assert "settings differ from the baseline's in ring8/nonsaturating/" in capsys.readouterr().err
