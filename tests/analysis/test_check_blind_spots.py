"""The gate's blind spots of issue 28, each reproduced on the committed baseline as it
was then (12 seeds a variant, kept here: ci_baseline_12_seeds.yaml) or a hand-made one,
through `check` as the CLI calls it: none may say `ok`."""
import math
from pathlib import Path

import pandas as pd
import pytest

from ganbench.analysis.check import CANNOT, REGRESSED, check, load_baseline
from helpers.cli import run_cli

#: results/baselines/ci.yaml when the blind spots were found (12 seeds; the gate now runs
#: 16, benchmarks/gate_operating.py): the reproductions depend on its seeds
COMMITTED = Path(__file__).with_name("ci_baseline_12_seeds.yaml")


def runs(variant, seeds, status="ok", **metrics):
    return [dict(run_id=f"ring8__{variant}__seed{s}", dataset="ring8", variant=variant, seed=s,
                 status=status, steps=1500, wall_s=1.0, modes_total=8.0,
                 **{m: (v[i] if isinstance(v, list) else v) for m, v in metrics.items()})
            for i, s in enumerate(seeds)]


def block(baseline: dict, n: int) -> pd.DataFrame:
    """n fresh seeds per group holding the baseline's own first n values (unchanged code
    at its best: now is the baseline)."""
    rows = []
    for key, e in baseline["groups"].items():
        vals = {m: [math.nan if x is None else x for x in v[:n]] for m, v in e["values"].items()}
        rows += runs(key.split("/")[1], range(100, 100 + n), **vals)
    return pd.DataFrame(rows)


def at_worst(summary: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Every seed of ``variant`` at the worst value: 0 modes, hq 0, reverse_kl log 8."""
    s = summary.copy()
    on = s.variant == variant
    s.loc[on, ["modes_captured", "hq_fraction"]] = 0.0
    s.loc[on, "reverse_kl"] = math.log(8)
    return s


def row(table, variant, metric):
    return table[(table.variant == variant) & (table.metric == metric)].iloc[0]


def test_a_metric_at_its_worst_regresses_where_the_baseline_sits_there_too():
    """3 of the 12 ring8/nonsaturating seeds of the committed baseline sit at the worst
    value: 12 of 12 seeds now there used to give p 0.0133 (modes) > alpha 0.01, `ok`,
    while the row claimed a smallest p of 3.7e-7. Now's seeds at the worst tie with the
    baseline's there: p = C(15, 12) / C(24, 12) = 455 / 2704156, REGRESSED."""
    base = load_baseline(COMMITTED)
    t = check(at_worst(block(base, 12), "nonsaturating"), base)
    for m in ("modes_captured", "hq_fraction", "reverse_kl"):
        r = row(t, "nonsaturating", m)
        assert r.verdict == REGRESSED
        assert r.p_value == pytest.approx(455 / 2704156) and r.p_min == pytest.approx(455 / 2704156)
    # the groups with no baseline seed at the worst keep the smallest p of 12 vs 12 seeds
    assert row(t, "wgan_gp", "modes_captured").p_min == pytest.approx(1 / math.comb(24, 12))
    assert (t[t.variant != "nonsaturating"].verdict == "ok").all()
    # the committed baseline's own values as now: every row ok, none cannot test
    assert (check(block(base, 12), base).verdict == "ok").all()


def test_a_metric_cannot_test_when_even_its_worst_value_cannot_reach_alpha():
    """8 of 12 baseline seeds at 0 modes: 12 seeds now at 0 tie with them, p =
    C(20, 12) / C(24, 12) = 0.047 > 0.01; the row says why and how many seeds would."""
    modes = [0.0] * 8 + [8.0] * 4
    b = {"rules": {"modes_captured": {"better": "higher", "margin": 0.25, "alpha": 0.01}},
         "ok_alpha": 0.01, "groups": {"ring8/v": {"runs": 12, "ok": 12, "failed": 0,
                                                  "values": {"modes_captured": modes}}}}
    r = row(check(pd.DataFrame(runs("v", range(12), modes_captured=0.0)), b), "v", "modes_captured")
    assert r.verdict == CANNOT and r.p_min == pytest.approx(math.comb(20, 12) / math.comb(24, 12))
    assert r.note.startswith("even 12 seeds now all at the worst value (0) give p 0.0466, not "
                             "below 0.01: 8 of 12 baseline seeds are at it")
    need = int(r.note.split("; ")[1].split()[0])
    assert math.comb(8 + need, need) / math.comb(12 + need, need) < 0.01 <= \
        math.comb(8 + need - 1, need - 1) / math.comb(12 + need - 1, need - 1)
    # every baseline seed at the worst: now cannot be worse; ok, and said
    b["groups"]["ring8/v"]["values"]["modes_captured"] = [0.0] * 12
    r = row(check(pd.DataFrame(runs("v", range(12), modes_captured=0.0)), b), "v", "modes_captured")
    assert r.verdict == "ok" and "cannot be worse" in r.note


def test_the_ok_runs_row_says_when_it_cannot_test():
    def ok_row(ok_base, runs_base, now):
        b = {"rules": {}, "ok_alpha": 0.01,
             "groups": {"ring8/v": {"runs": runs_base, "ok": ok_base, "failed": 0, "values": {}}}}
        return check(pd.DataFrame([r for i, st in enumerate(now) for r in runs("v", [i], st)]),
                     b).iloc[0]
    r = ok_row(3, 5, ["diverged"] * 5)             # Fisher p 0.083 at best: cannot reach 0.01
    assert r.verdict == CANNOT and r.p_min == pytest.approx(1 / 12) and "Fisher p 0.0833" in r.note
    assert ok_row(3, 3, ["diverged"] * 3).verdict == CANNOT          # p 0.05 at best
    assert ok_row(5, 5, ["diverged"] * 5).verdict == REGRESSED       # 1/252 < 0.01
    assert ok_row(5, 5, ["ok"] * 5).verdict == "ok"
    assert ok_row(0, 5, ["diverged"] * 5).verdict == "ok"            # none ok: cannot be fewer


def test_fewer_seeds_now_than_in_the_baseline_is_never_ok():
    base = load_baseline(COMMITTED)
    t = check(block(base, 3), base)
    runs_rows = t[t.metric == "ok runs"]
    assert (runs_rows.verdict == CANNOT).all()
    assert runs_rows.note.str.contains("3 runs now, 12 in the baseline").all()
    # 3 seeds now at the worst value tie with the baseline's 3 there: p = C(6, 3) / C(15, 3)
    # = 0.044 at best; 5 seeds would reach 0.01 (C(8, 5) / C(17, 5) = 0.009)
    t = check(at_worst(block(base, 3), "nonsaturating"), base)
    assert (t[t.variant == "nonsaturating"].verdict[:4] == CANNOT).all()


@pytest.mark.parametrize("base,now,verdict", [
    ([0.02] * 11 + [math.inf], [5.0] * 12, REGRESSED),                 # was -inf: ok
    ([0.02] * 11 + [math.inf], [5.0] * 11 + [math.inf], REGRESSED),    # was NaN: ok
    # inf counts at the largest finite value: one more infinite seed (a failed or
    # diverged run) is the runs row's to judge
    ([0.02] * 11 + [math.inf], [0.02] * 10 + [math.inf] * 2, "ok"),
    ([5.0] * 11 + [math.inf], [0.02] * 12, "ok"),
    ([0.02] * 11 + [math.inf], [0.02] * 11 + [math.inf], "ok"),
    ([math.inf] * 12, [math.inf] * 12, "ok"),
])
def test_a_rule_compared_by_means_handles_inf(base, now, verdict):
    b = {"rules": {"fd": {"better": "lower", "margin": 0.05}}, "ok_alpha": 0.01,
         "groups": {"ring8/v": {"runs": 12, "ok": 12, "failed": 0, "values": {"fd": base}}}}
    assert row(check(pd.DataFrame(runs("v", range(12), fd=now)), b), "v", "fd").verdict == verdict


def test_check_fails_a_folder_whose_nonsaturating_seeds_all_collapsed(tmp_path, capsys):
    """The issue's end-to-end case on a summary alone: the committed baseline's own
    values with every nonsaturating seed at the worst value fail `ganbench check`."""
    base = load_baseline(COMMITTED)
    at_worst(block(base, 12), "nonsaturating").to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("check", str(tmp_path), "--baseline", str(COMMITTED)) == 1
    err = capsys.readouterr().err
    assert "REGRESSED: ring8/nonsaturating hq_fraction, ring8/nonsaturating modes_captured, " \
           "ring8/nonsaturating reverse_kl" in err
    block(base, 12).to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("check", str(tmp_path), "--baseline", str(COMMITTED)) == 0
    block(base, 12).groupby("variant").head(3).to_csv(tmp_path / "summary.csv", index=False)
    assert run_cli("check", str(tmp_path), "--baseline", str(COMMITTED)) == 1   # 3 of 12 seeds
    assert "ok runs: 3 runs now, 12 in the baseline" in capsys.readouterr().err
