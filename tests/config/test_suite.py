import pytest
import yaml

from ganbench.errors import InputError
from ganbench.config.suite import load_suite, parse_suite

BASE = {
    "seeds": 2,
    "datasets": ["ring8", {"name": "grid25", "std": 0.1}],
    "defaults": {"steps": 10, "optimizer": {"name": "adam", "lr": 0.001}},
    "variants": {"ns": {"objective": "nonsaturating"},
                 "wgan": {"objective": {"name": "wgan", "clip": 0.02}, "n_critic": 5,
                          "optimizer": {"name": "rmsprop", "lr": 5e-5}},
                 "fast": {"optimizer": {"lr": 0.01}},
                 "fast_d": {"d_optimizer": {"lr": 0.02}}},
}


def parse(**changes):
    raw = yaml.safe_load(yaml.safe_dump(BASE, sort_keys=False))
    raw.update(changes)
    return parse_suite(raw)


def test_matrix_expansion_and_resolution():
    s = parse()
    assert len(s.specs) == 2 * 4 * 2
    assert s.specs[0].run_id == "ring8__ns__seed0"
    cfg = {sp.variant: sp.config for sp in s.specs}
    assert cfg["wgan"].objective == {"name": "wgan", "clip": 0.02}
    assert cfg["wgan"].optimizer["name"] == "rmsprop" and cfg["wgan"].n_critic == 5
    assert cfg["fast"].optimizer == {**cfg["ns"].optimizer, "lr": 0.01}  # merged over defaults
    assert cfg["ns"].optimizer["betas"] == [0.5, 0.999]                     # factory default filled
    assert cfg["fast_d"].d_optimizer == {**cfg["ns"].optimizer, "lr": 0.02}   # on top of `optimizer`
    assert cfg["fast_d"].g_optimizer is None
    assert cfg["ns"].steps == 10 and cfg["ns"].eval_every == 10          # clipped to steps
    assert s.resolved["datasets"][1] == {"name": "grid25", "label": "grid25", "side": 5,
                                         "spacing": 2.0, "std": 0.1}


@pytest.mark.parametrize("change, path", [
    ({"variants": {"a": {"objective": "nonsaturatin"}}}, "variants.a.objective: unknown objective"),
    ({"variants": {"a": {"optimzer": {"lr": 1}}}}, "variants.a.optimzer: unknown field. Did you mean 'optimizer'?"),
    ({"variants": {"a": {"steps": 0}}}, "variants.a.steps: expected a whole number"),
    ({"variants": {"a": {"optimizer": {"name": "adam", "lr": 1, "momentum": 0.9}}}},
     "variants.a.optimizer.momentum: unknown setting"),
    ({"variants": {"a": {"regularizers": [{"name": "r1", "gamma": 1}]}}},
     "variants.a.regularizers[0].gamma: unknown setting"),
    ({"variants": {"a": {"generator": {"name": "mlp", "activation": "swishy"}}}},
     "variants.a.generator: generator 'mlp': unknown activation 'swishy'"),
    ({"datasets": [{"name": "ring8", "radius": "big"}]}, "datasets[0]: dataset 'ring8'"),
    ({"datasets": ["ring9"]}, "datasets[0]: unknown dataset 'ring9'. Did you mean 'ring8'?"),
    ({"datasets": ["ring8", "ring8"]}, "datasets[1]: dataset label 'ring8' is used twice"),
    ({"seeds": "five"}, "seeds: expected a count"),
    ({"variant": {}}, "variant: unknown field. Did you mean 'variants'?"),
])
def test_errors_name_the_field_path(change, path):
    with pytest.raises(InputError) as e:
        parse(**change)
    assert str(e.value).startswith(path), str(e.value)
    assert "\n" not in str(e.value)


def test_load_suite_reports_yaml_syntax_errors_with_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("datasets: [ring8\nvariants: {a: {}}\n")
    with pytest.raises(InputError, match=r"bad.yaml: not valid YAML at line \d+"):
        load_suite(p)
    with pytest.raises(InputError, match="suite file not found"):
        load_suite(tmp_path / "missing.yaml")


def test_plugins_register_objectives_from_the_users_module(tmp_path):
    (tmp_path / "my_losses.py").write_text(
        "import torch\n"
        "from ganbench.objectives import objectives, Objective, minimax_d_loss\n"
        "@objectives.register('doubled_ns')\n"
        "def doubled_ns(scale: float = 2.0):\n"
        "    return Objective(minimax_d_loss, lambda f: scale * torch.nn.functional.softplus(-f).mean(-1),\n"
        "                     d_output='logit')\n")
    suite = tmp_path / "s.yaml"
    suite.write_text(yaml.safe_dump({"imports": ["my_losses.py"], "datasets": ["ring8"],
                                     "variants": {"mine": {"objective": {"name": "doubled_ns", "scale": 3}}}}))
    s = load_suite(suite)
    assert s.specs[0].config.objective == {"name": "doubled_ns", "scale": 3}


def test_mog_comment_counts_its_runs():
    """suites/mog.yaml's comment says how many runs it has: datasets x variants x seeds."""
    import re
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "suites" / "mog.yaml").read_text()
    raw = yaml.safe_load(text)
    runs = len(raw["datasets"]) * len(raw["variants"]) * raw["seeds"]
    claimed = re.search(r"the suite's (\d+) runs\s*#?\s*\((\d+) datasets x (\d+) variants x (\d+) seeds\)", text)
    assert claimed and [int(g) for g in claimed.groups()] == [
        runs, len(raw["datasets"]), len(raw["variants"]), raw["seeds"]] and runs == 90


def test_numbers_written_the_yaml_1_1_way_are_numbers(tmp_path):
    """PyYAML reads 1e-3 as a string; a suite reads it (and 5E4, 1.0e3) as a number."""
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(BASE).replace("lr: 0.001", "lr: 1e-3").replace("clip: 0.02", "clip: 2E-2")
                 .replace("lr: 5.0e-05", "lr: 5e-5"))
    assert "lr: 1e-3" in p.read_text() and "lr: 5e-5" in p.read_text()
    s = load_suite(p)
    cfg = {sp.variant: sp.config for sp in s.specs}
    assert cfg["ns"].optimizer["lr"] == 0.001 and isinstance(cfg["ns"].optimizer["lr"], float)
    assert cfg["wgan"].objective["clip"] == 0.02 and cfg["wgan"].optimizer["lr"] == 5e-5
    assert s.resolved["variants"]["ns"]["optimizer"]["lr"] == 0.001
