"""`ganbench report`: a self-contained page, checked in a real headless browser."""
import base64
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.cli import run_cli

SUITE = """
name: rep
seeds: 2
datasets: [ring8, dirac]
defaults:
  steps: 40
  batch_size: 32
  eval_every: 20
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 1, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 1}
  optimizer: {name: adam, lr: 0.002}
variants:
  nonsaturating: {objective: nonsaturating}
  lsgan: {objective: lsgan}
"""
DIRAC = """
name: dir
datasets: [dirac]
defaults:
  steps: 200
  batch_size: 8
  eval_every: 100
  n_eval: 8
  generator: {name: dirac}
  discriminator: {name: linear}
  optimizer: {name: sgd, lr: 0.1}
variants:
  minimax_sim: {objective: minimax, update: simultaneous}
  r1: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A results folder with 2D and Dirac-GAN runs, and its report."""
    tmp = tmp_path_factory.mktemp("report")
    out = tmp / "out"
    for name, text in (("rep.yaml", SUITE.replace("datasets: [ring8, dirac]", "datasets: [ring8]")),
                       ("dir.yaml", DIRAC)):
        (tmp / name).write_text(text)
        assert run_cli("run", str(tmp / name), "--out", str(out), "--no-progress") == 0
    # the two suites share OUT: summary.csv holds the last one's runs; merge both for the report
    from ganbench.runs.store import summary_frame
    import json
    recs = [json.loads(p.read_text()) for p in sorted(out.glob("runs/*/metrics.json"))]
    s = summary_frame(recs)
    # two outcomes for one variant, whatever the tiny runs did: the report reads the labels
    # from summary.csv
    for seed, label in ((0, "unconverged"), (1, "collapsed, oscillating")):
        s.loc[s.run_id == f"ring8__nonsaturating__seed{seed}", "diagnosis"] = label
    s.loc[s.variant == "lsgan", "diagnosis"] = "unconverged"
    s.to_csv(out / "summary.csv", index=False)
    assert run_cli("report", str(out)) == 0
    return out


def test_report_is_one_file_with_embedded_images(report):
    page = (report / "report.html").read_text()
    imgs = re.findall(r'<img alt="([^"]*)"(?: width="\d+")? src="data:image/png;base64,([^"]+)">', page)
    alts = [a for a, _ in imgs]
    assert any("training curves" in a for a in alts)
    assert any("D and D*" in a for a in alts)
    assert any("Dirac-GAN trajectories" in a for a in alts)
    assert any("samples" in a for a in alts) and "summary figure" in alts
    assert any("key metrics across seeds, 95% intervals" in a for a in alts)
    assert any("training losses per objective" in a for a in alts)
    for _, data in imgs:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(http|file|/)', page)     # nothing loaded from outside
    assert "Comparison (95% bootstrap CI" in page and "ring8" in page
    assert (report / "report.png").read_bytes()[:4] == b"\x89PNG"


def test_report_leads_with_verdicts_and_pictures_and_folds_the_tables(report):
    """Per dataset the board and a picture per variant come before any table of metrics;
    the full tables (grouped) are folded at the end."""
    page = (report / "report.html").read_text()
    first_board = page.index("<table class='board'>")
    first_samples = page.index("ring8__nonsaturating__seed")
    tables = page.index("<h2>Tables</h2>")
    assert first_board < tables and first_samples < tables
    assert page.index("Dirac-GAN trajectories") < tables
    folded = page[tables:]
    for group in ("Diagnosis of every run", "Coverage (mean", "Dynamics (mean", "Theory (mean"):
        assert f"<summary>{group}" in folded
    assert page[:tables].count("<details") == 0
    s = pd.read_csv(report / "summary.csv")
    for _, r in s.iterrows():                       # every run's diagnosis is on the page
        assert f"<td class=\"l\">{r.run_id}</td><td class=\"l\">{r.diagnosis}</td>" in folded


def test_a_variant_shows_one_picture_per_outcome_captioned(report):
    """nonsaturating has 1 unconverged and 1 collapsed-and-oscillating seed: two pictures, in
    the board's order, each captioned with its outcome, the seed and its numbers;
    lsgan (both unconverged) one."""
    page = (report / "report.html").read_text()
    top = page[:page.index("<h2>Tables</h2>")]

    def group(var):                 # a variant's pictures: its box up to the box's end
        return top.split(f"<div class='vname'>{var}</div>", 1)[1].split("</div></div>", 1)[0]
    group, lsgan = group("nonsaturating"), group("lsgan")
    alts = re.findall(r'<img alt="([^"]*)"', group)
    assert alts == ["ring8__nonsaturating__seed1 samples (collapsed)",
                    "ring8__nonsaturating__seed0 samples (unconverged)"]
    caps = re.findall(r"<figcaption>([^<]*)</figcaption>", group)
    assert caps[0].startswith("collapsed (1/2) · seed 1: collapsed, oscillating; modes ")
    assert caps[1].startswith("unconverged (1/2) · seed 0; modes ") and "hq_fraction" in caps[1]
    assert len(re.findall(r'<img alt="ring8__lsgan', lsgan)) == 1


def test_outcome_runs_shows_each_outcome_once_with_a_fresh_run_where_there_is_one():
    from ganbench.analysis.report_sections import outcome_runs
    g = pd.DataFrame({"run_id": list("abcde"), "seed": range(5), "status": "ok",
                      "diagnosis": ["unconverged", "collapsed, oscillating", "unconverged",
                                    "oscillating", "collapsed"]})
    got = [(o, r.run_id, k) for o, r, k in outcome_runs(g)]
    assert got == [("collapsed", "b", 2), ("oscillating", "d", 2), ("unconverged", "a", 2)]
    # the only oscillating run is the collapsed one already shown: named in its caption
    got = [(o, r.run_id) for o, r, _ in outcome_runs(g.iloc[:3])]
    assert got == [("collapsed", "b"), ("unconverged", "a")]
    failed = pd.DataFrame({"run_id": ["f"], "seed": [0], "status": ["failed"], "diagnosis": ["failed"]})
    assert [o for o, _, _ in outcome_runs(failed)] == ["failed"]


def test_losses_are_drawn_one_axis_per_objective(report):
    """The variants' objectives from their config.json: variants sharing an objective share
    the loss panels (r1 is non-saturating + R1), the others have their own."""
    from ganbench.analysis.curve_figures import objectives
    s = pd.read_csv(report / "summary.csv")
    assert objectives(report, s) == {"nonsaturating": "nonsaturating", "lsgan": "lsgan",
                                     "minimax_sim": "minimax", "r1": "nonsaturating"}


def test_key_metrics_figure_draws_failed_and_diverged_seeds():
    """A failed seed (no values) and a diverged one are drawn, not dropped."""
    from ganbench.analysis.figures import key_metrics_figure, outcome
    runs = pd.DataFrame({"run_id": list("abcd"), "dataset": "ring8", "variant": ["v", "v", "w", "w"],
                         "seed": [0, 1, 0, 1], "status": ["ok", "failed", "diverged", "ok"],
                         "diagnosis": ["unlearned", "failed", "diverged", "converged, oscillating"],
                         "modes_captured": [0, np.nan, 3, 8], "modes_total": 8})
    assert [outcome(d, st) for d, st in zip(runs.diagnosis, runs.status)] == \
        ["unlearned", "failed", "diverged", "oscillating"]
    assert key_metrics_figure("ring8", runs)[:4] == b"\x89PNG"


def test_the_figures_count_every_seed_and_give_compare_s_means():
    """The key-metrics figure and report.png draw what the tables and compare say: every
    seed counted (an ok seed without reverse_kl and a failed one at log 8), the mean over
    all of them with its 95% interval (not the mean of the seeds that have a value), and
    fd, whose collapsed seed spans three decades, on a log axis."""
    from ganbench.analysis.compare import compare
    from ganbench.analysis.figures import _log_axis, seed_rows, summary_figure
    from ganbench.analysis.seeds import counted
    from ganbench.analysis.tables import aggregate
    runs = pd.DataFrame({
        "run_id": [f"r{i}" for i in range(8)], "dataset": "ring8", "variant": ["ns"] * 4 + ["r1"] * 4,
        "seed": [0, 1, 2, 3] * 2, "status": ["ok", "ok", "ok", "failed"] + ["ok"] * 4,
        "steps": 100, "wall_s": 1.0,
        "diagnosis": ["unconverged", "unconverged", "collapsed", "failed"] + ["converged"] * 4,
        "modes_total": 8, "modes_captured": [8, 7, 0, np.nan, 8, 8, 8, 7],
        "reverse_kl": [0.5, 0.7, np.nan, np.nan, 0.1, 0.2, 0.1, 0.3],
        "fd": [0.01, 0.02, 10.0, np.nan, 0.01, 0.012, 0.009, 0.02]})
    rows = {r["variant"]: r for r in seed_rows(runs, counted(runs), "reverse_kl")}
    ns = rows["ns"]
    assert ns["mean"] == pytest.approx((0.5 + 0.7 + 2 * np.log(8)) / 4)      # not 0.6
    assert list(ns["counted"]) == [False, False, True, True]
    assert ns["mean"] == pytest.approx(aggregate(runs).set_index("variant").loc["ns", "reverse_kl_mean"])
    cmp = compare(runs, metrics=["reverse_kl"], reference="r1").set_index("group")
    assert (ns["mean"], ns["ci_low"], ns["ci_high"]) == pytest.approx(
        tuple(cmp.loc["ns", ["mean", "ci_low", "ci_high"]]))
    fd = {r["variant"]: r for r in seed_rows(runs, counted(runs), "fd")}
    assert fd["ns"]["mean"] == np.inf and _log_axis(list(fd.values()))
    assert not _log_axis(list(rows.values()))
    assert summary_figure(runs)[:4] == b"\x89PNG"


def test_each_variant_shows_its_samples_over_training(report):
    """The training section shows each ring8 variant's representative run at each of its
    evaluations (steps 20 and 40), captioned with the step, and animated; Dirac-GAN runs
    keep no pictures and show no strip."""
    page = (report / "report.html").read_text()
    def section(ds):
        start = page.index(f"<h2>{ds}: training")
        return page[start:page.index("<h2>", start + 4)]
    assert "<h3>Samples over training</h3>" in section("ring8")
    for var in ("nonsaturating", "lsgan"):
        strip = section("ring8").split(f"<div class='vname'>{var} ", 1)[1].split("</div></div>", 1)[0]
        steps = re.findall(r'<img alt="ring8__' + var + r'__seed\d samples at step (\d+)"', strip)
        assert steps == ["20", "40"]
        assert re.findall(r"<figcaption>([^<]*)</figcaption>", strip) == \
            ["step 20", "step 40", "animated, 2 evaluations"]
        gif = re.search(r'src="data:image/gif;base64,([^"]+)"', strip).group(1)
        assert base64.b64decode(gif)[:6] == b"GIF89a"
    assert "Samples over training" not in section("dirac")
    run = report / "runs" / "ring8__lsgan__seed0"
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_000020.png", "step_000040.png"]


def test_strip_spaces_its_pictures_evenly_and_skips_the_gif_without_imageio(tmp_path, monkeypatch):
    from ganbench.analysis import sample_strips
    assert sample_strips.evenly(3, 8) == [0, 1, 2]
    assert sample_strips.evenly(20, 8) == [0, 3, 5, 8, 11, 14, 16, 19]    # round(19 k / 7)
    assert sample_strips.evenly(9, 5) == [0, 2, 4, 6, 8]
    from PIL import Image
    for k in range(12):
        (tmp_path / "samples").mkdir(exist_ok=True)
        Image.new("RGB", (64, 64), (k * 20, 0, 0)).save(tmp_path / "samples" / f"step_{k * 10:06d}.png")
    declared = [{"file": "samples", "caption": "samples over training", "kind": "image_series"}]
    from ganbench.layout import image_series
    pics = image_series(tmp_path, declared)
    assert [k for k, _ in pics] == list(range(0, 120, 10))
    page = sample_strips.strips_html([("v", tmp_path, "r", "ok", declared)])
    assert page.count("<figure>") == 9 and "image/gif" in page
    monkeypatch.setitem(__import__("sys").modules, "imageio.v3", None)   # imageio not installed
    page = sample_strips.strips_html([("v", tmp_path, "r", "ok", declared)])
    assert page.count("<figure>") == 8 and "image/gif" not in page and "animated" not in page
    assert sample_strips.strips_html([("v", tmp_path, "r", "ok", [])]) == ""


def test_discriminator_map_holds_d_and_d_star(report):
    m = np.load(report / "runs" / "ring8__nonsaturating__seed0" / "discriminator.npz")
    assert m["d"].shape == m["d_star"].shape == (80, 80)
    assert ((m["d"] >= 0) & (m["d"] <= 1)).all() and ((m["d_star"] >= 0) & (m["d_star"] <= 1)).all()
    assert bool(m["probability"])


def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("GANBENCH_REQUIRE_BROWSER"):
            pytest.fail("GANBENCH_REQUIRE_BROWSER is set but chromium/chromedriver are missing "
                        "(apt-get install chromium chromium-driver)")
        pytest.skip("needs Debian's chromium and chromium-driver (CI installs them)")
    return chromium, driver


def test_report_renders_in_headless_chromium(report, tmp_path):
    chromium, driver_path = browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.get((report / "report.html").resolve().as_uri())
        images = drv.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
        assert len(images) >= 8
        broken = [alt for alt, complete, w, h in images if not (complete and w > 50 and h > 50)]
        assert not broken, f"images that did not render: {broken}"
        errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        assert drv.title.startswith("ganbench report")
        # nothing is wider than the page, and the first screenful holds an image
        width, client = drv.execute_script("return [document.documentElement.scrollWidth, "
                                           "document.documentElement.clientWidth]")
        assert width <= client, (width, client)
        first = drv.execute_script(
            "return Array.from(document.images).filter(i => {const r = i.getBoundingClientRect();"
            " return r.width > 50 && r.height > 50 && r.top < window.innerHeight && r.bottom > 0})"
            ".map(i => i.alt)")
        assert any("samples" in a for a in first), first
        drv.set_window_size(800, 1000)              # a narrow window, every table unfolded:
        drv.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        width, client = drv.execute_script("return [document.documentElement.scrollWidth, "
                                           "document.documentElement.clientWidth]")
        assert width <= client, (width, client)     # still no overflow
        drv.set_window_size(1400, 1000)
        shot = tmp_path / "report.png"
        assert drv.save_screenshot(str(shot))
    finally:
        drv.quit()
    from PIL import Image
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10          # not a blank page
