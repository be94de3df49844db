"""The short table `ganbench run` prints: ok/N, the key metrics' mean ± std, the diagnosis."""
import math

import pandas as pd

from ganbench.analysis.tables import aggregate, key_metrics, key_text


def summary():
    rows = []
    for v, modes, hq in (("a", [6, 8, None], [0.5, 0.7, None]), ("b", [8, 8, 8], [0.9, 0.9, 0.9])):
        for s, (m, h) in enumerate(zip(modes, hq)):
            rows.append(dict(run_id=f"ring8__{v}__seed{s}", dataset="ring8", variant=v, seed=s,
                             status="failed" if m is None else "ok", steps=10, wall_s=1.0,
                             diagnosis=None if m is None else ("collapsed, oscillating" if m < 8
                                                               else "converged"),
                             modes_captured=m, hq_fraction=h, nash_gap=0.1 * s, fd=None))
    return pd.DataFrame(rows)


def test_key_text_by_hand():
    table = aggregate(summary())
    # nash_gap is neither a key nor a gated metric; fd has no value
    assert key_metrics(table) == ["modes_captured", "hq_fraction"]
    head, rule, a, b = key_text(summary()).splitlines()
    assert head.split() == ["dataset", "variant", "ok/N", "modes_captured", "hq_fraction", "diagnosis"]
    # every seed counts: the failed seed takes the worst value of each metric (0 modes, hq 0)
    m = (6 + 8 + 0) / 3
    std = math.sqrt(((6 - m) ** 2 + (8 - m) ** 2 + (0 - m) ** 2) / 2)      # 4.16
    hq_std = math.sqrt(((0.5 - 0.4) ** 2 + (0.7 - 0.4) ** 2 + 0.4 ** 2) / 2)  # 0.361
    assert a.split() == ["ring8", "a", "2/3", f"{m:.3g}", "±", f"{std:.3g}", "0.4", "±", f"{hq_std:.3g}",
                         "1", "collapsed,", "oscillating;", "1", "converged"]
    assert b.split() == ["ring8", "b", "3/3", "8", "±", "0", "0.9", "±", "0", "3", "converged"]
    # aligned: every column starts where its header does
    for word in ("ok/N", "modes_captured", "hq_fraction", "diagnosis"):
        col = head.index(word)
        assert a[col - 2:col] == "  " and a[col] != " " and set(rule[col:col + len(word)]) == {"-"}


def test_key_text_counts_a_diverged_seed_at_its_last_evaluation_as_table_md_does(tmp_path):
    """The terminal's table reads the folder's histories as table.md does: a diverged
    seed at its last finite evaluation (7 modes), not at the worst value (0)."""
    s = summary()
    s.loc[2, "status"], s.loc[2, "diagnosis"] = "diverged", "diverged"
    d = tmp_path / "runs" / "ring8__a__seed2"
    d.mkdir(parents=True)
    pd.DataFrame({"step": [100, 200], "modes_captured": [7.0, None],
                  "hq_fraction": [0.6, None]}).to_csv(d / "history.csv", index=False)
    row = key_text(s, [tmp_path]).splitlines()[2].split()
    assert row[3] == f"{(6 + 8 + 7) / 3:.3g}" and row[6] == "0.6"
    assert key_text(s).splitlines()[2].split()[3] == f"{(6 + 8 + 0) / 3:.3g}"   # no folder: worst
