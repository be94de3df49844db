"""The theory suites end to end on tiny versions: Dirac-GAN, the vanishing probe, and
the theory metrics in a 2D run's summary."""
import pandas as pd

from helpers.cli import run_cli

DIRAC = """
name: dirac_tiny
datasets: [dirac]
defaults:
  steps: 400
  batch_size: 16
  eval_every: 200
  n_eval: 16
  generator: {name: dirac}
  discriminator: {name: linear}
  optimizer: {name: sgd, lr: 0.1}
variants:
  minimax_sim: {objective: minimax, update: simultaneous}
  r1_alt: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""

VANISHING = """
name: vanishing_tiny
seeds: 2
datasets: [ring8]
defaults:
  steps: 20
  batch_size: 32
  eval_every: 10
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 1, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 1}
  optimizer: {name: adam, lr: 0.005}
variants:
  nonsaturating:
    checkpoint_probes: [{name: vanishing, at: [0, 20], d_steps: 30}]
"""


def test_dirac_suite_table_shows_theory_beside_behaviour(tiny_suite, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", str(tiny_suite(DIRAC)), "--out", str(out), "--no-progress") == 0
    s = pd.read_csv(out / "summary.csv").set_index("variant")
    assert s.loc["r1_alt", "verdict"] == "converged"
    assert s.loc["r1_alt", "eig_max_real"] < 0 and s.loc["minimax_sim", "eig_max_real"] == 0
    table = (out / "table.md").read_text()
    assert "| verdict | eig_max_real | dist_eq_final |" in table
    assert "| 1 converged |" in table
    hist = pd.read_csv(out / "runs" / "dirac__r1_alt__seed0" / "history.csv")
    assert {"theta", "psi", "dist_eq"} <= set(hist.columns) and len(hist) == 400


def test_vanishing_suite_writes_curves_plot_and_decay_factors(tiny_suite, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", str(tiny_suite(VANISHING)), "--out", str(out), "--no-progress") == 0
    s = pd.read_csv(out / "summary.csv")
    for col in ("sat_decay_step0", "ns_decay_step0", "sat_decay_step20", "ns_decay_step20"):
        assert s[col].notna().all()
    assert {"jsd", "v_star", "d_star_gap", "d_real_mean", "d_fake_mean"} <= set(s.columns)
    run = out / "runs" / "ring8__nonsaturating__seed1"
    curves = pd.read_csv(run / "vanishing.csv")
    assert len(curves) == 2 * 30 and {"grad_saturating", "grad_nonsaturating"} <= set(curves.columns)
    assert (run / "vanishing.png").read_bytes()[:4] == b"\x89PNG"
