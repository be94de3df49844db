"""Every seed counts: the rule for failed and diverged runs, on hand-made result files,
and the tables that show ok/N."""
import math

import pandas as pd
import pytest

from ganbench.analysis.seeds import counted
from ganbench.analysis.tables import aggregate, to_markdown


def row(var, seed, status, **metrics):
    return {"run_id": f"ring8__{var}__seed{seed}", "dataset": "ring8", "variant": var,
            "seed": seed, "status": status, "steps": 100, "wall_s": 1.0, "modes_total": 8.0,
            **metrics}


def runs():
    ok = dict(modes_captured=8.0, hq_fraction=0.5, reverse_kl=0.1, fd=0.02, nash_gap=0.1,
              grad_norm_g=1.0)
    return pd.DataFrame([
        row("ns", 0, "ok", **ok),
        row("ns", 1, "ok", **{**ok, "modes_captured": 0.0, "hq_fraction": 0.0,
                              "reverse_kl": math.nan}),          # no high-quality sample
        row("ns", 2, "diverged", modes_total=math.nan),          # history below
        row("ns", 3, "diverged", modes_total=math.nan),          # no history
        row("ns", 4, "failed", modes_total=math.nan),
        row("wgan", 0, "ok", **{**ok, "nash_gap": math.nan}),    # a critic: no nash_gap
        row("wgan", 1, "diverged", modes_total=math.nan),
    ])


def write_history(out, run_id):
    d = out / "runs" / run_id
    d.mkdir(parents=True)
    pd.DataFrame({"step": [1, 2, 100, 101, 200, 201, 250],
                  "d_loss": [1.0] * 6 + [math.nan],
                  "modes_captured": [None, None, 6.0, None, 7.0, None, None],
                  "hq_fraction": [None, None, 0.3, None, math.nan, None, None],
                  "fd": [None, None, 0.5, None, 0.4, None, None]}).to_csv(d / "history.csv", index=False)


def test_the_rule_on_each_kind_of_seed(tmp_path):
    write_history(tmp_path, "ring8__ns__seed2")
    c = counted(runs(), [tmp_path]).set_index("run_id")
    ns = lambda s: c.loc[f"ring8__ns__seed{s}"]     # noqa: E731
    # ok runs keep their values; an ok run without reverse_kl counts at its worst, log K
    assert ns(0).modes_captured == 8.0 and ns(1).modes_captured == 0.0
    assert ns(1).reverse_kl == pytest.approx(math.log(8))
    # a diverged run: its last finite evaluation (hq_fraction: the one at step 100)
    assert (ns(2).modes_captured, ns(2).hq_fraction, ns(2).fd) == (7.0, 0.3, 0.4)
    assert ns(2).reverse_kl == pytest.approx(math.log(8))     # never evaluated: worst
    # without a history, and failed: the worst of each range (+inf for the unbounded fd)
    for s in (3, 4):
        assert (ns(s).modes_captured, ns(s).hq_fraction, ns(s).fd, ns(s).nash_gap) == \
            (0.0, 0.0, math.inf, 1.0)
    # no better direction: no worst value, left out
    assert math.isnan(ns(4).grad_norm_g)
    # nash_gap does not apply to the critic: its ok run has none, so its diverged one stays empty
    assert math.isnan(c.loc["ring8__wgan__seed1"].nash_gap)
    assert c.loc["ring8__wgan__seed1"].modes_captured == 0.0
    # the ok runs' own values are the summary's
    raw = runs().set_index("run_id")
    for rid in raw.index[raw.status == "ok"]:
        for m in ("modes_captured", "hq_fraction", "fd", "grad_norm_g"):
            assert c.loc[rid, m] == raw.loc[rid, m] or math.isnan(raw.loc[rid, m])


def test_tables_count_every_seed_and_show_ok_of_n(tmp_path):
    write_history(tmp_path, "ring8__ns__seed2")
    t = aggregate(runs(), [tmp_path]).set_index("variant")
    assert t.loc["ns", "modes_captured_mean"] == pytest.approx((8 + 0 + 7 + 0 + 0) / 5)
    assert t.loc["ns", "fd_mean"] == math.inf and math.isnan(t.loc["ns", "fd_std"])
    assert t.loc["ns", "grad_norm_g_mean"] == 1.0           # over the two seeds with a value
    md = to_markdown(aggregate(runs(), [tmp_path]))
    assert "| ok/N |" in md and "| ring8 | ns | 2/5 (2 diverged, 1 failed) |" in md
    # a group whose runs are all ok is unchanged by the rule
    ok = runs()[runs().status == "ok"]
    assert aggregate(ok).set_index("variant").loc["ns", "hq_fraction_mean"] == 0.25


def test_the_docs_table_is_the_catalogues():
    """docs/statistics.md's table of key metrics, loss units and worst values is generated
    from the metric declarations."""
    from pathlib import Path

    import ganbench.metrics  # noqa: F401  (declares every metric)
    from ganbench.harness import probes  # noqa: F401
    from ganbench.metrics import catalogue
    docs = (Path(__file__).resolve().parents[2] / "docs" / "statistics.md").read_text()
    assert catalogue.statistics_table() in docs


def test_the_worst_value_wins_over_does_not_apply_for_a_metric_of_every_objective():
    """A variant whose every seed ends ok without a high-quality sample has no reverse_kl
    on any seed: that is its worst value (log K), not "does not apply" (issue 28), so
    compare shows its row; nash_gap of a critic still does not apply."""
    from ganbench.analysis.compare import compare
    ok = dict(modes_captured=8.0, hq_fraction=0.5, reverse_kl=0.1, nash_gap=0.1)
    dead = dict(modes_captured=0.0, hq_fraction=0.0, reverse_kl=math.nan, nash_gap=0.3)
    s = pd.DataFrame([row("good", i, "ok", **ok) for i in range(5)] +
                     [row("dead", i, "ok", **dead) for i in range(5)] +
                     [row("wgan", i, "ok", **{**ok, "nash_gap": math.nan}) for i in range(5)])
    c = counted(s)
    assert list(c[c.variant == "dead"].reverse_kl) == pytest.approx([math.log(8)] * 5)
    assert c[c.variant == "wgan"].nash_gap.isna().all()
    cmp = compare(s, metrics=["reverse_kl"], reference="good")
    dead_row = cmp[(cmp.group == "dead") & (cmp.metric == "reverse_kl")]
    assert len(dead_row) == 1 and dead_row.n.iloc[0] == 5
    assert dead_row["mean"].iloc[0] == pytest.approx(math.log(8))
