"""The design of seeds on demand, its looks replayed from a summary, and decisions.json."""
import json

import numpy as np
import pandas as pd
import pytest

from ganbench.analysis import decisions, decisions_render
from ganbench.analysis.decisions import Design, play
from ganbench.errors import InputError


def design(**kw) -> Design:
    base = dict(reference="a", first_seeds={"a": list(range(6)), "b": list(range(6)),
                                            "c": list(range(1000, 1006))},
                datasets=["ring8"], block=6, max_seeds=18, metrics=["hq_fraction"])
    return Design(**{**base, **kw})


def summary(seeds: dict) -> pd.DataFrame:
    """hq_fraction per seed: b far above a; c like a (seeded noise)."""
    rows = []
    for v, ss in seeds.items():
        for s in ss:
            rng = np.random.default_rng(s)
            hq = (0.9 if v == "b" else 0.1) + 0.01 * rng.normal()
            rows.append({"run_id": f"ring8__{v}__seed{s}", "dataset": "ring8", "variant": v,
                         "seed": s, "status": "ok", "steps": 10, "wall_s": 1.0,
                         "hq_fraction": hq})
    return pd.DataFrame(rows)


def test_the_looks_and_their_seeds():
    d = design()
    assert d.seeds_at() == [6, 12, 18]
    assert d.block_seeds("c", 1) == list(range(1000, 1006))
    assert d.block_seeds("c", 2) == list(range(1006, 1012))      # new seeds, after the offset
    assert d.block_seeds("a", 3) == list(range(12, 18))
    assert design(max_seeds=20).seeds_at() == [6, 12, 18]         # whole blocks only


def test_only_undecided_groups_get_the_next_block_and_decisions_stay():
    d = design()
    first = {"a": range(6), "b": range(6), "c": range(1000, 1006)}
    p1 = play(summary(first), d)
    # look 1 (6 vs 6, level 1.0e-4): 1 / C(12, 6) = 0.0011 cannot reach level / 2
    assert p1.looks[0]["decided"] == [] and p1.next_look == 2
    assert sorted(p1.next_groups) == [("ring8", "a"), ("ring8", "b"), ("ring8", "c")]
    assert not p1.comparisons[("ring8", "hq_fraction", "b")]["can_fire"]
    two = {"a": range(12), "b": range(12), "c": range(1000, 1012)}
    p2 = play(summary(two), d)
    b = p2.comparisons[("ring8", "hq_fraction", "b")]
    assert b["decision"] == "better" and b["look"] == 2 and b["seeds"] == 12
    assert b["p"] == pytest.approx(1 / 2704156)                   # 1 / C(24, 12)
    assert p2.next_look == 3 and sorted(p2.next_groups) == [("ring8", "a"), ("ring8", "c")]
    # b's runs beyond its 12 seeds (trained by another design) are not b's seeds here
    full = play(summary({"a": range(18), "b": range(18), "c": range(1000, 1018)}), d)
    assert full.finished and full.seeds[("ring8", "b")] == 12 and full.seeds[("ring8", "c")] == 18
    c = full.comparisons[("ring8", "hq_fraction", "c")]
    assert c["decision"] == "undecided" and c["seeds"] == 18 and "budget" in full.stopped
    assert sum(look["level"] for look in full.looks) == pytest.approx(0.05 / 2)


def test_equivalence_by_a_stated_margin_stops_a_group():
    full = play(summary({"a": range(12), "b": range(12), "c": range(1000, 1012)}),
                design(margins={"hq_fraction": 0.1}))
    assert full.comparisons[("ring8", "hq_fraction", "c")]["decision"] == "equivalent"
    assert full.finished and "every comparison decided at look 2" == full.stopped


def test_failed_seeds_count_at_the_worst_value():
    s = summary({"a": range(12), "b": range(12), "c": range(1000, 1012)})
    s.loc[s.variant == "b", "status"] = "failed"
    s.loc[s.variant == "b", "hq_fraction"] = np.nan
    r = play(s, design()).comparisons[("ring8", "hq_fraction", "b")]
    assert r["decision"] == "worse" and r["runs"] == "0/12 ok (12 failed)"


def test_decisions_json_is_written_read_and_replayed(tmp_path):
    s = summary({"a": range(18), "b": range(12), "c": range(1000, 1018)})
    played = play(s, design())
    decisions.plan(played, s)
    decisions.write(tmp_path, played)
    doc = decisions.read(tmp_path)
    assert Design.from_dict(doc["design"]) == design()
    s.to_csv(tmp_path / "summary.csv", index=False)
    again, note = decisions.replay(tmp_path, s)
    assert note == "" and again["comparisons"] == json.loads(json.dumps(doc["comparisons"]))
    text = decisions_render.text(doc)
    assert "ring8: b vs a on hq_fraction: better at look 2, 12 vs 12 seeds" in text
    assert "Seeds per group: ring8/a 18, ring8/b 12, ring8/c 18" in text
    # 1 / C(12, 6) = 0.0011 > level / 2 at look 1 (1.0e-4); 1 / C(24, 12) is below look 2's
    assert "(a test can fire from look 2, 12 vs 12 seeds)" in text
    assert "ring8: use b rather than a (better on hq_fraction)." in text
    assert decisions_render.advice([{**doc["comparisons"][0], "decision": "worse"},
                             {**doc["comparisons"][0], "metric": "fd", "decision": "better"}]) == \
        ["ring8: b against a is a trade-off (better on fd; worse on hq_fraction)."]
    changed, note = decisions.replay(tmp_path, s[s.variant != "b"])     # b's runs deleted
    assert "differ" in note


def test_a_rerun_must_keep_the_design(tmp_path):
    s = summary({"a": range(6), "b": range(6), "c": range(1000, 1006)})
    decisions.write(tmp_path, play(s, design()))
    decisions.same_design(decisions.read(tmp_path), design(), tmp_path)
    with pytest.raises(InputError, match="max_seeds 18, not 24"):
        decisions.same_design(decisions.read(tmp_path), design(max_seeds=24), tmp_path)


def test_bad_designs_are_input_errors():
    with pytest.raises(InputError, match="--max-seeds 4"):
        design(max_seeds=4)
    with pytest.raises(InputError, match="--reference z"):
        design(reference="z")


def test_the_reports_first_screen_states_the_decisions(tmp_path):
    from ganbench.analysis.report import decided_html
    s = summary({"a": range(18), "b": range(12), "c": range(1000, 1018)})
    assert decided_html(tmp_path, s) == []                  # no decisions.json: nothing
    decisions.write(tmp_path, play(s, design()))
    page = "".join(decided_html(tmp_path, s))
    assert page.startswith("<h2>Decided</h2><p><b>ring8: use b rather than a (better on "
                           "hq_fraction).</b>") and "Decided 1 of 2 comparisons" in page
    assert "<li>ring8: b vs a on hq_fraction: better at look 2, 12 vs 12 seeds" in page
    assert "ring8: c vs a on hq_fraction: undecided at 18 vs 18 seeds" in page
