"""The literature suites (suites/literature/): PacGAN's 2D protocol as its official code
defines it, validated and run on tiny settings, and compared with the published table."""
import io
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ganbench.config.published import check_published
from helpers.cli import run_cli

SUITES = Path(__file__).resolve().parents[1] / "suites" / "literature"
PACGAN = ["pacgan_ring.yaml", "pacgan_grid.yaml"]


#: PacGAN Table 1's modes captured, GAN and PacGAN2-4 (ganbench/published/pacgan2018.yaml)
TABLE1_MODES = {"pacgan_ring.yaml": [6.3, 7.9, 7.8, 7.8], "pacgan_grid.yaml": [17.3, 23.8, 24.6, 24.8]}


@pytest.mark.parametrize("name", PACGAN)
def test_pacgan_suites_follow_the_official_protocol(name):
    raw = yaml.safe_load((SUITES / name).read_text())
    d = raw["defaults"]
    assert raw["seeds"] == 10 and d["steps"] == 400 * 1000 and d["update"] == "simultaneous"
    assert d["optimizer"] == {"name": "adam", "lr": 1e-4, "betas": [0.8, 0.999], "eps": 1e-8}
    assert d["generator"] == {"name": "mlp", "batch_norm": True, "bn_momentum": 0.05, "bn_eps": 1e-4,
                              "init_std": 0.02, "z_dim": 2, "width": 400, "depth": 4,
                              "activation": "relu"}
    assert d["discriminator"] == {"name": "maxout", "width": 200, "depth": 3, "pieces": 5,
                                  "init_std": 0.02}
    assert (d["n_eval"], d["min_hq"], d["eval_every"]) == (2500, 1, 1000)
    ds = raw["datasets"][0]
    assert ds in ({"name": "ring8", "radius": 1.0, "std": 0.01},
                  {"name": "grid25", "side": 5, "spacing": 2.0, "std": 0.05})
    for m in (2, 3, 4):                      # 100 packs of m samples per step, as PacGAN
        v = raw["variants"][f"pacgan{m}"]
        assert v["batch_size"] == 100 * m
        assert v["discriminator"] == {"name": "packed", "packing": m, "body": d["discriminator"]}
    block = check_published(raw["published"], {ds["name"]: ds["name"]}, list(raw["variants"]))
    assert block == {"pacgan2018": {"table": "Table 1", "variants": {
        "gan": "GAN", "pacgan2": "PacGAN2", "pacgan3": "PacGAN3", "pacgan4": "PacGAN4"}}}
    text = (SUITES / name).read_text()
    for cited in ("config.py:23-24", "pacgan_task.py:61-90", "extensions.py:115", "bricks.py:69-72"):
        assert cited in text


def tiny(name: str, tmp_path: Path) -> Path:
    """The suite at 4 steps, 1 seed."""
    raw = yaml.safe_load((SUITES / name).read_text())
    raw["seeds"] = 1
    raw["defaults"].update(steps=4, eval_every=2, log_every=2, n_eval=250)
    f = tmp_path / name
    f.write_text(yaml.safe_dump(raw))
    return f


@pytest.mark.parametrize("name", PACGAN)
def test_pacgan_suites_validate_and_run_on_tiny_settings(name, tmp_path, capsys):
    from ganbench.config.suite import load_suite
    suite = load_suite(SUITES / name)
    assert len(suite.specs) == 4 * 10
    out = tmp_path / "out"
    assert run_cli("run", str(tiny(name, tmp_path)), "--out", str(out), "--no-progress") == 0
    s = pd.read_csv(out / "summary.csv")
    assert len(s) == 4 and set(s.status) == {"ok"}
    capsys.readouterr()
    assert run_cli("compare", str(out), "--published", "pacgan2018", "--format", "csv") == 0
    t = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    mc = t[t.metric == "modes_captured"].set_index("group")
    assert list(mc.published_method) == ["GAN", "PacGAN2", "PacGAN3", "PacGAN4"]
    assert [float(x) for x in mc.published] == TABLE1_MODES[name]
    assert all(not math.isnan(float(x)) for x in mc.published_low)


def test_the_cpu_budget_suite_is_the_ring_protocol_but_for_its_budget():
    """pacgan_ring_cpu.yaml: PacGAN's ring protocol (every setting of pacgan_ring.yaml) with
    only steps, evaluation and logging cadence changed, GAN and PacGAN2."""
    from ganbench.config.suite import load_suite
    full = yaml.safe_load((SUITES / "pacgan_ring.yaml").read_text())
    cpu = yaml.safe_load((SUITES / "pacgan_ring_cpu.yaml").read_text())
    budget = ("steps", "eval_every", "log_every")
    assert {k: v for k, v in cpu["defaults"].items() if k not in budget} == \
           {k: v for k, v in full["defaults"].items() if k not in budget}
    assert cpu["defaults"]["steps"] == 4000 and cpu["datasets"] == full["datasets"]
    assert cpu["variants"] == {k: full["variants"][k] for k in ("gan", "pacgan2")}
    assert cpu["seeds"] == 10 and len(load_suite(SUITES / "pacgan_ring_cpu.yaml").specs) == 20
    assert cpu["published"]["pacgan2018"]["variants"] == {"gan": "GAN", "pacgan2": "PacGAN2"}


def test_the_converged_mixture_suite_validates():
    from ganbench.config.suite import load_suite
    suite = load_suite(SUITES.parent / "mog_converged.yaml")
    assert len(suite.specs) == 7 * 2 * 3
