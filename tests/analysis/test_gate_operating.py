"""A small version of benchmarks/gate_operating.py: two blocks of fresh seeds of a tiny
gate, unchanged and with a 100x learning rate, checked against a committed baseline."""
import sys
from pathlib import Path

import pandas as pd
import yaml

from ganbench.analysis.check import baseline_of, write_baseline
from ganbench.metrics.catalogue import default_rules
from ganbench.testing import run_suite

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import gate_operating  # noqa: E402

SUITE = """
name: gate
seeds: 5
datasets: [ring8]
defaults:
  steps: 200
  batch_size: 64
  eval_every: 100
  n_eval: 500
  generator: {name: mlp, width: 32, depth: 2, z_dim: 4}
  discriminator: {name: mlp, width: 32, depth: 2}
  optimizer: {name: adam, lr: 0.002}
variants:
  nonsaturating: {objective: nonsaturating}
  nonsaturating_r1: {objective: nonsaturating, regularizers: [{name: r1, weight: 1.0}]}
"""


def test_conditions_change_what_they_say():
    raw = yaml.safe_load(open(Path(__file__).resolve().parents[2] / "suites" / "ci.yaml"))
    v, changed = gate_operating.condition(raw, "r1")
    assert changed == ["nonsaturating_r1"] and v["nonsaturating_r1"]["regularizers"] == []
    v, changed = gate_operating.condition(raw, "lr10")
    assert v["wgan_gp"]["optimizer"] == {"lr": 0.005, "betas": [0.5, 0.9]}
    assert v["nonsaturating"]["optimizer"] == {"lr": 0.01} and len(changed) == 4
    v, _ = gate_operating.condition(raw, "packing")
    assert v["pacgan2"]["discriminator"] == {"name": "mlp", "width": 64, "depth": 3,
                                             "activation": "leaky_relu"}


def test_the_measurement_on_a_tiny_gate(tmp_path):
    suite = tmp_path / "gate.yaml"
    suite.write_text(SUITE)
    base_out = run_suite(suite, tmp_path / "base", executor="local")
    baseline = tmp_path / "baseline.yaml"
    write_baseline(baseline, baseline_of(base_out, default_rules()))
    table = gate_operating.main(["--suite", str(suite), "--baseline", str(baseline), "--out",
                                 str(tmp_path / "op"), "--blocks", "2", "--conditions", "lr100",
                                 "--executor", "local"])
    assert list(table.condition) == ["unchanged", "lr100"] and list(table.blocks) == [2, 2]
    lr100 = table.set_index("condition").loc["lr100"]
    assert lr100.committed.startswith("2/2 = 100%")            # a 100x lr never passes
    assert lr100.over_baselines.startswith("4/4")               # nor against either block
    assert table.set_index("condition").loc["unchanged"].over_baselines.endswith("]")
    seeds = pd.read_csv(tmp_path / "op" / "unchanged" / "nonsaturating" / "summary.csv").seed
    assert sorted(seeds.unique()) == list(range(1000, 1010))    # fresh, never the baseline's
    md = (tmp_path / "op" / "operating.md").read_text()
    assert "| lr100 | nonsaturating, nonsaturating_r1 | 2/2 = 100% [16, 100] |" in md
