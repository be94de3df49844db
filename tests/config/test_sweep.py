"""Sweeps: grids and random search over dotted config paths, run ids, bad paths."""
import pandas as pd
import pytest
import yaml

from helpers.cli import TINY
from ganbench.config.suite import parse_suite
from ganbench.errors import InputError


def suite(sweep=None, **variant_sweeps):
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    if sweep is not None:
        raw["sweep"] = sweep
    for v, sw in variant_sweeps.items():
        raw["variants"][v]["sweep"] = sw
    return parse_suite(raw)


def test_grid_is_the_product_and_each_setting_is_in_its_config():
    s = suite({"optimizer.lr": [1e-4, 3e-4, 1e-3], "optimizer.betas": [[0.0, 0.9], [0.5, 0.999]]})
    ns = [sp for sp in s.specs if sp.variant == "nonsaturating"]
    assert len(ns) == 3 * 2 * 2                      # settings x seeds
    ids = [sp.run_id for sp in ns]
    assert "ring8__nonsaturating__lr=3e-4,betas=0.5-0.999__seed1" in ids
    assert len(set(ids)) == len(ids)
    for sp in ns:
        assert sp.config.optimizer["lr"] == sp.setting["optimizer.lr"]
        assert sp.config.optimizer["betas"] == sp.setting["optimizer.betas"]
        assert sp.config.optimizer["name"] == "adam"
    assert s.resolved["sweeps"]["nonsaturating"][0] == {"optimizer.lr": 1e-4,
                                                         "optimizer.betas": [0.0, 0.9]}


def test_variant_sweep_adds_to_the_suites_and_reaches_list_entries():
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    raw["variants"]["nonsaturating"]["regularizers"] = [{"name": "r1", "weight": 1.0}]
    raw["variants"]["nonsaturating"]["d_optimizer"] = {"betas": [0.0, 0.9]}
    raw["sweep"] = {"optimizer.lr": [1e-4, 1e-3]}
    raw["variants"]["nonsaturating"]["sweep"] = {"regularizers.0.weight": [0.1, 10.0]}
    s = parse_suite(raw)
    ns = [sp for sp in s.specs if sp.variant == "nonsaturating" and sp.seed == 0]
    assert [(sp.setting["optimizer.lr"], sp.config.regularizers[0]["weight"]) for sp in ns] == \
        [(1e-4, 0.1), (1e-4, 10.0), (1e-3, 0.1), (1e-3, 10.0)]
    # the per-network setting still applies on top of the swept optimizer
    assert all(sp.config.d_optimizer["betas"] == [0.0, 0.9] and
               sp.config.d_optimizer["lr"] == sp.setting["optimizer.lr"] for sp in ns)
    assert len([sp for sp in s.specs if sp.variant == "wgan_gp"]) == 2 * 2


def test_random_search_is_reproducible_and_rounded():
    sw = {"random": {"n": 6, "seed": 3}, "optimizer.lr": {"log_uniform": [1e-5, 1e-2]},
          "n_critic": [1, 2]}
    a, b = suite(sw), suite(sw)
    assert [sp.run_id for sp in a.specs] == [sp.run_id for sp in b.specs]
    lrs = {sp.setting["optimizer.lr"] for sp in a.specs}
    assert 1 < len(lrs) <= 6 and all(1e-5 <= v <= 1e-2 and float(f"{v:.3g}") == v for v in lrs)
    assert {sp.config.n_critic for sp in a.specs} <= {1, 2}


@pytest.mark.parametrize("sweep, where", [
    ({"optimizer.lrr": [1e-3]}, "sweep.optimizer.lrr"),
    ({"optimiser.lr": [1e-3]}, "sweep.optimiser.lr"),
    ({"regularizers[2].weight": [1.0]}, "sweep.regularizers[2].weight"),
    ({"optimizer.lr": ["fast"]}, "sweep.optimizer.lr"),
    ({"optimizer.betas": [[0.5]]}, "sweep.optimizer.betas"),
    ({"optimizer.lr": 0.001}, "sweep.optimizer.lr"),
    ({"optimizer.lr": [-1.0]}, "sweep[lr=-1]"),
    ({"random": {"n": 0}, "optimizer.lr": [1e-3]}, "sweep.random"),
    ({"random": {"n": 2}, "optimizer.lr": {"log_uniform": [0, 1]}}, "sweep.optimizer.lr.log_uniform"),
])
def test_bad_sweeps_name_the_path(sweep, where):
    with pytest.raises(InputError, match=rf"{where.replace('[', '.').replace(']', '.')}".replace(".", ".")):
        suite(sweep)


def test_sweep_columns_and_resume_per_setting(tmp_path, tiny_suite):
    from helpers.cli import run_cli
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    raw["variants"] = {"ns": {"objective": "nonsaturating"}}
    raw["sweep"] = {"optimizer.lr": [1e-4, 1e-3]}
    path = tiny_suite(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert run_cli("run", str(path), "--out", str(out), "--executor", "local", "--no-progress") == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:9]) == ["run_id", "dataset", "variant", "seed", "status", "steps",
                                         "wall_s", "setting", "optimizer.lr"]
    assert sorted(summary["optimizer.lr"].unique()) == [1e-4, 1e-3]
    table = (out / "table.md").read_text()
    assert "| setting |" in table and "| lr=1e-3 |" in table
    # a changed setting reruns only its own runs; the others resume
    raw["sweep"] = {"optimizer.lr": [1e-4, 2e-3]}
    path.write_text(yaml.safe_dump(raw))
    before = {r: (out / "runs" / r / "metrics.json").stat().st_mtime_ns for r in summary.run_id}
    assert run_cli("run", str(path), "--out", str(out), "--executor", "local", "--no-progress") == 0
    summary2 = pd.read_csv(out / "summary.csv")
    kept = [r for r in summary2.run_id if "lr=1e-4" in r]
    assert all((out / "runs" / r / "metrics.json").stat().st_mtime_ns == before[r] for r in kept)
    assert sorted(summary2["optimizer.lr"].unique()) == [1e-4, 2e-3]
