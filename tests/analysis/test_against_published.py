"""`ganbench compare OUT --published SOURCE` and the report's published section: the
published value beside ours, their interval, and both verdicts, checked by hand."""
import io
import math

import pandas as pd
import pytest
from scipy import stats

from ganbench.analysis.against_published import attach, their_interval
from ganbench.analysis.compare import compare
from ganbench.errors import InputError
from helpers.cli import run_cli

T9 = 2.2621571627409915        # t(0.975, 9): PacGAN's 10 runs


def summary(rows, dataset="ring8"):
    recs = []
    for var, per_seed in rows.items():
        for seed, vals in enumerate(per_seed):
            recs.append({"run_id": f"{dataset}__{var}__seed{seed}", "dataset": dataset,
                         "variant": var, "seed": seed, "status": "ok", "steps": 10,
                         "wall_s": 1.0, **vals})
    return pd.DataFrame(recs)


def cell(table, variant, metric):
    r = table[(table.group == variant) & (table.metric == metric)]
    assert len(r) == 1
    return r.iloc[0]


def test_their_interval_from_each_kind_of_error():
    se = {"mean": 6.3, "error": 0.5, "error_kind": "standard_error", "runs": 10}
    assert their_interval(se) == pytest.approx((6.3 - T9 * 0.5, 6.3 + T9 * 0.5))
    assert T9 == pytest.approx(stats.t.ppf(0.975, 9))
    sd = {"mean": 2.0, "error": 1.0, "error_kind": "std", "runs": 5}
    half = 2.7764451051977987 / math.sqrt(5)                 # t(0.975, 4) · 1 / √5
    assert their_interval(sd) == pytest.approx((2.0 - half, 2.0 + half))
    no_n = {**se, "runs": None}                               # a standard error without n: normal
    assert their_interval(no_n) == pytest.approx((6.3 - 1.959964 * 0.5, 6.3 + 1.959964 * 0.5))
    for kind, err in (("none", None), ("unstated", 0.4)):
        lo, hi = their_interval({"mean": 1.0, "error": err, "error_kind": kind, "runs": 5})
        assert math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in their_interval({**sd, "runs": None}))  # a std needs n


def test_verdicts_on_hand_made_seeds():
    # constant seeds: our 95% interval is the single value, so every verdict is by hand
    s = summary({"gan": [{"modes_captured": 6, "hq_fraction": 0.982, "reverse_kl": 0.9}] * 3,
                 "pacgan2": [{"modes_captured": 8, "hq_fraction": 0.9, "reverse_kl": 0.07}] * 3,
                 "wgan": [{"modes_captured": 2, "hq_fraction": 0.5, "reverse_kl": 1.0}] * 3})
    t = attach(compare(s), "pacgan2018")
    r = cell(t, "gan", "modes_captured")         # GAN 6.3 ± 0.5 SE, n 10: [5.169, 7.431]
    assert (r.published_method, r.published_table, r.published) == ("GAN", "Table 1", 6.3)
    assert (r.published_low, r.published_high) == pytest.approx((6.3 - T9 * 0.5, 6.3 + T9 * 0.5))
    assert (r.published_in_ci, r.ours_in_published) == ("no", "yes")   # 6.3 ∉ [6, 6]; 6 ∈ theirs
    r = cell(t, "gan", "hq_fraction")            # 0.982 ± 0.002: both inside
    assert (r.published_in_ci, r.ours_in_published) == ("yes", "yes")
    r = cell(t, "gan", "reverse_kl")             # 0.45 ± 0.09: [0.246, 0.654] ∌ 0.9
    assert (r.published_in_ci, r.ours_in_published) == ("no", "no")
    r = cell(t, "pacgan2", "modes_captured")     # PacGAN2 7.9 ± 0.1: [7.674, 8.126] ∋ 8
    assert (r.published_method, r.published_in_ci, r.ours_in_published) == ("PacGAN2", "no", "yes")
    r = cell(t, "wgan", "modes_captured")        # no paper row for wgan
    assert r.published_method == "" and math.isnan(r.published)
    # VEEGAN prints no error: no interval of theirs
    v = cell(attach(compare(s), "veegan2017"), "gan", "modes_captured")
    assert (v.published, v.ours_in_published, v.published_in_ci) == (1.0, "no interval", "no")


def test_the_suites_mapping_and_one_seed():
    s = summary({"plain": [{"modes_captured": 7}]}, dataset="ring")
    block = {"table": "Table 1", "datasets": {"ring": "ring8"}, "variants": {"plain": "GAN"}}
    r = cell(attach(compare(s), "pacgan2018", block), "plain", "modes_captured")
    assert (r.published, r.published_in_ci, r.ours_in_published) == (6.3, "no interval", "yes")
    # without the mapping nothing matches: another dataset name, another method name
    r = cell(attach(compare(s), "pacgan2018"), "plain", "modes_captured")
    assert r.published_method == ""
    # a label that is not the file's dataset still matches through the dataset's name
    r = cell(attach(compare(s.assign(variant="gan")), "pacgan2018", {}, {"ring": "ring8"}),
             "gan", "modes_captured")
    assert r.published == 6.3


def test_a_cell_several_tables_match_says_how_to_pick_one():
    s = summary({"dcgan": [{"modes_captured": 100.0}] * 2}, dataset="stacked_mnist")
    with pytest.raises(InputError, match=r"dcgan / modes_captured matches 3 entries \(Table 2; "
                                         r"Table 3, D is 1/4 size of G; Table 3, D is 1/2 size"):
        attach(compare(s), "pacgan2018")
    r = cell(attach(compare(s), "pacgan2018", {"table": "Table 2"}), "dcgan", "modes_captured")
    assert (r.published, r.published_kind) == (99.0, "none")


TINY = """
name: pubtiny
seeds: 2
datasets: [{name: ring8, radius: 1.0, std: 0.01, label: ring}]
defaults:
  steps: 20
  batch_size: 32
  eval_every: 10
  n_eval: 101
  generator: {name: mlp, width: 16, depth: 1, z_dim: 2}
  discriminator: {name: mlp, width: 16, depth: 1}
  optimizer: {name: adam, lr: 0.001}
variants:
  plain: {objective: nonsaturating}
  pacgan2:
    discriminator: {name: packed, packing: 2, body: {name: mlp, width: 16, depth: 1}}
published:
  pacgan2018: {table: Table 1, datasets: {ring: ring8}, variants: {plain: GAN}}
"""


def test_compare_published_and_the_report_on_a_real_results_folder(tiny_suite, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("run", str(tiny_suite(TINY)), "--out", str(out), "--no-progress") == 0
    capsys.readouterr()
    assert run_cli("compare", str(out), "--published", "pacgan2018", "--format", "csv") == 0
    t = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    for variant, method, pm, err in (("plain", "GAN", 6.3, 0.5), ("pacgan2", "PacGAN2", 7.9, 0.1)):
        r = cell(t, variant, "modes_captured")
        assert (r.published_method, float(r.published), float(r.published_error)) == (method, pm, err)
        assert (float(r.published_low), float(r.published_high)) == pytest.approx(
            (pm - T9 * err, pm + T9 * err))
        lo, hi, mean = float(r.ci_low), float(r.ci_high), float(r["mean"])
        assert r.published_in_ci == ("yes" if lo <= pm <= hi else "no")
        assert r.ours_in_published == ("yes" if pm - T9 * err <= mean <= pm + T9 * err else "no")
    table1 = t.metric.isin(["modes_captured", "hq_fraction", "reverse_kl"])   # (when measured)
    assert (t.published_method != "").tolist() == table1.tolist()
    assert run_cli("compare", str(out), "--published", "pacgan2018") == 0
    md = capsys.readouterr().out
    assert md.startswith("Published: pacgan2018: Z. Lin")
    assert "| 6.3 ± 0.5 SE (n=10, GAN, Table 1) | [5.17, 7.43] |" in md
    assert run_cli("compare", str(out), "--published", "pacgan2019") == 2
    assert "published source 'pacgan2019': unknown" in capsys.readouterr().err
    assert run_cli("compare", str(out), "--published", "pacgan2018", "--by", "seed") == 2
    assert "--published matches variants" in capsys.readouterr().err
    assert run_cli("report", str(out)) == 0
    page = (out / "report.html").read_text()
    assert "<h2>Published numbers: pacgan2018</h2>" in page and "GAN, Table 1" in page


@pytest.mark.parametrize("block,message", [
    ("{pacgan2019: {}}", "published.pacgan2019: unknown; use one of pacgan2018, veegan2017"),
    ("{pacgan2018: {tabel: Table 1}}", "published.pacgan2018.tabel: unknown field"),
    ("{pacgan2018: {table: Table 9}}", "published.pacgan2018.table: 'Table 9' is not in pacgan2018; "
                                       "known: Table 1, Table 2, Table 3"),
    ("{pacgan2018: {variants: {nope: GAN}}}", "published.pacgan2018.variants.nope: not a variant"),
    ("{pacgan2018: {table: Table 1, variants: {plain: PacDCGAN2}}}",
     "published.pacgan2018.variants.plain: 'PacDCGAN2' is not in the published entries"),
    ("{pacgan2018: {datasets: {ring8: ring8}}}", "published.pacgan2018.datasets.ring8: not a "
                                                 "dataset label of this suite; known: ring"),
    ("[pacgan2018]", "published: expected a mapping of source -> settings"),
])
def test_a_bad_published_block_is_bad_input(tiny_suite, tmp_path, capsys, block, message):
    text = TINY.replace("  pacgan2018: {table: Table 1, datasets: {ring: ring8}, variants: {plain: GAN}}\n", "")
    text = text.replace("published:\n", f"published: {block}\n")
    assert run_cli("run", str(tiny_suite(text)), "--out", str(tmp_path / "o"), "--no-progress") == 2
    assert message in capsys.readouterr().err


def test_a_cell_two_tables_match_is_bad_input_when_the_suite_is_read(tiny_suite, tmp_path, capsys):
    text = TINY.replace("label: ring", "label: stacked_mnist").replace("  plain:", "  dcgan:")
    text = text.replace("{table: Table 1, datasets: {ring: ring8}, variants: {plain: GAN}}", "{}")
    assert run_cli("run", str(tiny_suite(text)), "--out", str(tmp_path / "o"), "--no-progress") == 2
    err = capsys.readouterr().err
    assert ("published.pacgan2018: stacked_mnist / dcgan / modes_captured matches 3 entries "
            "(Table 2; Table 3, D is 1/4 size of G; Table 3, D is 1/2 size of G); name one in "
            "the suite: published: {pacgan2018: {table: ..., setting: ...}}") in err
    ok = text.replace("pacgan2018: {}", "pacgan2018: {table: Table 2}")
    from ganbench.config.suite import load_suite
    assert load_suite(tiny_suite(ok, "ok.yaml")).resolved["published"] == {
        "pacgan2018": {"table": "Table 2"}}
