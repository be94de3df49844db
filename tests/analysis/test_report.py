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
    summary_frame(recs).to_csv(out / "summary.csv", index=False)
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
    assert any("key metrics with 95% intervals" in a for a in alts)
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
