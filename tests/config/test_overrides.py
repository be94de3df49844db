"""--set PATH=VALUE and --seeds: the same edit as in the suite file, sweep's paths and
checks, errors naming the override, recorded in OUT/suite.yaml, resumed by settings."""
import json

import pandas as pd
import pytest
import yaml

from helpers.cli import TINY
from ganbench.cli import main
from ganbench.config import overrides
from ganbench.errors import InputError

RAW = yaml.safe_load(TINY)


def applied(*sets):
    return overrides.apply(RAW, [overrides.parse_assignment(s) for s in sets])


def test_values_are_yaml_and_1e_minus_3_is_a_number():
    assert overrides.parse_assignment("defaults.steps=500") == ("defaults.steps", 500)
    assert overrides.parse_assignment("defaults.optimizer.lr=1e-3") == ("defaults.optimizer.lr", 0.001)
    assert overrides.parse_assignment("defaults.optimizer.lr=-2.5E+2")[1] == -250.0
    assert overrides.parse_assignment("defaults.optimizer={name: adam, lr: 1e-3}")[1] == \
        {"name": "adam", "lr": 0.001}
    assert overrides.parse_assignment("defaults.optimizer.betas=[0.5, 0.9]")[1] == [0.5, 0.9]
    assert overrides.parse_assignment("defaults.ema=null")[1] is None
    assert overrides.parse_assignment("variants.a.objective=hinge")[1] == "hinge"
    assert overrides.parse_seeds("3") == 3 and overrides.parse_seeds("0,2,5") == [0, 2, 5]
    assert overrides.parse_seeds("[1, 2]") == [1, 2]


def test_an_override_is_the_edit_of_the_file():
    raw = applied("defaults.steps=500", "variants.wgan_gp.n_critic=3",
                  "variants.nonsaturating.optimizer.lr=0.01", "defaults.generator.width=32")
    assert raw["defaults"]["steps"] == 500 and raw["variants"]["wgan_gp"]["n_critic"] == 3
    # a variant without its own optimizer takes the defaults' one, with the new lr
    assert raw["variants"]["nonsaturating"]["optimizer"] == {"name": "adam", "lr": 0.01}
    assert raw["defaults"]["generator"] == {"name": "mlp", "width": 32, "depth": 1, "z_dim": 4}
    assert RAW["defaults"]["steps"] == 30                       # the input is not changed
    # a whole component, and a setting of a component named by a string
    raw = applied("variants.wgan_gp.objective={name: wgan_gp, gp_weight: 1}")
    assert raw["variants"]["wgan_gp"]["objective"] == {"name": "wgan_gp", "gp_weight": 1}
    raw = applied("variants.wgan_gp.objective.gp_weight=2.5")
    assert raw["variants"]["wgan_gp"]["objective"] == {"name": "wgan_gp", "gp_weight": 2.5}
    # a default a variant sets itself stays the variant's, as in the file
    own = dict(RAW, variants={"a": {"steps": 7}, "b": {}})
    raw = overrides.apply(own, [("defaults.steps", 9)])
    assert raw["variants"] == {"a": {"steps": 7}, "b": {}} and raw["defaults"]["steps"] == 9


def test_list_entries_by_index_both_spellings():
    base = dict(RAW, defaults={**RAW["defaults"], "regularizers": ["r1", {"name": "r1", "weight": 2.0}]})
    for path in ("defaults.regularizers[0].weight", "defaults.regularizers.0.weight"):
        raw = overrides.apply(base, [(path, 5.0)])
        assert raw["defaults"]["regularizers"] == [{"name": "r1", "weight": 5.0},
                                                   {"name": "r1", "weight": 2.0}]
    raw = overrides.apply(base, [("variants.wgan_gp.regularizers[1].weight", 3.0)])
    assert raw["variants"]["wgan_gp"]["regularizers"] == ["r1", {"name": "r1", "weight": 3.0}]
    assert raw["defaults"]["regularizers"] == base["defaults"]["regularizers"]


@pytest.mark.parametrize("sets, seeds, message", [
    (["defaults.stpes=5"], None, "--set defaults.stpes: unknown setting 'stpes'. Did you mean 'steps'?"),
    (["defaults.steps=five"], None, "--set defaults.steps: 'five' is not of the kind this setting "
                                    "takes (it is 30 without the override)."),
    (["defaults.steps=0"], None, "--set defaults.steps: expected a whole number >= 1, got 0."),
    (["defaults.optimizer.lrr=1"], None, "--set defaults.optimizer.lrr: no setting 'lrr' here; "
                                         "settings: lr, betas"),
    # a list may change its length, as in the file; the suite's validation names what is wrong
    (["defaults.optimizer.betas=[0.5]"], None, "--set defaults.optimizer.betas=[0.5]: variants."
                                               "nonsaturating.g_optimizer: optimizer 'adam': betas: "
                                               "expected two numbers (beta1, beta2)"),
    (["defaults.regularizers[0].weight=2"], None,
     "--set defaults.regularizers[0].weight: regularizers has 0 entries here; index 0 does not exist."),
    (["variants.wgangp.n_critic=3"], None, "--set variants.wgangp.n_critic: no variant 'wgangp' in "
                                           "the suite. Did you mean 'wgan_gp'?"),
    (["variants.wgan_gp=3"], None, "--set variants.wgan_gp: name one setting of the variant"),
    (["variants.wgan_gp.objective.gp_wieght=1"], None, "--set variants.wgan_gp.objective.gp_wieght: "
                                                       "no setting 'gp_wieght' here; settings: gp_weight."),
    (["defualts.steps=3"], None, "--set defualts.steps: not a path --set can change. Did you mean 'defaults'?"),
    (["defaults.steps"], None, "--set defaults.steps: expected PATH=VALUE"),
    (["defaults.optimizer={name: adam"], None, "--set defaults.optimizer: '{name: adam' is not a YAML value"),
    (["defaults.optimizer={name: adm}"], None, "--set defaults.optimizer={name: adm}: "
                                               "variants.nonsaturating.optimizer.name: unknown optimizer 'adm'"),
    (["defaults.optimizer.lr=-1"], None, "--set defaults.optimizer.lr=-1: variants.nonsaturating."),
    (["name=two words"], None, "--set name: 'two words' is not a usable name"),
    ([], "0", "--seeds: expected a count (e.g. 5) or a list of seeds >= 0, got 0."),
    ([], "1,1", "--seeds: a seed is listed twice."),
])
def test_bad_overrides_name_the_override(tiny_suite, sets, seeds, message):
    path = tiny_suite()
    with pytest.raises(InputError) as e:
        overrides.load(path, tuple(sets), seeds)
    assert str(e.value).startswith(message), str(e.value)


def test_a_good_override_is_recorded(tiny_suite):
    suite = overrides.load(tiny_suite(), ("variants.wgan_gp.objective=hinge",), "1")
    assert suite.resolved["overrides"] == {"variants.wgan_gp.objective": "hinge", "seeds": 1}
    assert suite.resolved["variants"]["wgan_gp"]["objective"] == {"name": "hinge"}
    assert suite.resolved["seeds"] == [0] and len(suite.specs) == 4


def test_datasets_can_be_narrowed_and_a_bad_one_is_named(tiny_suite):
    suite = overrides.load("mog", ("datasets=[ring8]",))
    assert {s.dataset["label"] for s in suite.specs} == {"ring8"}
    assert len(suite.specs) == 45 and suite.resolved["overrides"] == {"datasets": ["ring8"]}
    with pytest.raises(InputError, match=r"--set datasets\[0\]: unknown dataset 'rign8'\. "
                                         r"Did you mean 'ring8'\?"):
        overrides.load(tiny_suite(), ("datasets=[rign8]",))


def test_an_error_the_override_does_not_cause_names_the_file(tiny_suite):
    path = tiny_suite(TINY.replace("n_critic: 2", "n_critic: 0"))
    with pytest.raises(InputError, match=r"tiny\.yaml \(with defaults\.steps=5\): "
                                         r"variants\.wgan_gp\.n_critic: expected a whole number"):
        overrides.load(path, ("defaults.steps=5",))


def test_without_overrides_the_suite_is_the_file(tiny_suite):
    from ganbench.config.suite import load_suite
    path = tiny_suite()
    assert overrides.load(path).resolved == load_suite(path).resolved
    assert "overrides" not in overrides.load(path).resolved


def cli(*args):
    try:
        main(list(args))
        return 0
    except SystemExit as e:
        return e.code or 0


def test_set_end_to_end_config_suite_yaml_and_resume(tiny_suite, tmp_path, capsys):
    suite, out = tiny_suite(), tmp_path / "out"
    base = ["run", str(suite), "--out", str(out), "--executor", "local", "--no-progress",
            "--device", "cpu", "--seeds", "1", "--set", "defaults.steps=12"]
    assert cli(*base, "--set", "variants.wgan_gp.n_critic=3") == 0
    cfg = {d.name: json.loads((d / "config.json").read_text())["config"] for d in (out / "runs").iterdir()}
    assert sorted(cfg) == ["moons__nonsaturating__seed0", "moons__wgan_gp__seed0",
                           "ring8__nonsaturating__seed0", "ring8__wgan_gp__seed0"]
    assert {c["steps"] for c in cfg.values()} == {12}
    assert cfg["ring8__wgan_gp__seed0"]["n_critic"] == 3 and cfg["ring8__nonsaturating__seed0"]["n_critic"] == 1
    assert len(pd.read_csv(out / "runs" / "ring8__wgan_gp__seed0" / "history.csv")) == 12
    resolved = yaml.safe_load((out / "suite.yaml").read_text())
    assert resolved["overrides"] == {"defaults.steps": 12, "variants.wgan_gp.n_critic": 3, "seeds": 1}
    assert resolved["seeds"] == [0] and resolved["variants"]["wgan_gp"]["n_critic"] == 3
    assert resolved["variants"]["nonsaturating"]["steps"] == 12

    # the same overrides again: nothing to train
    before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.json")}
    capsys.readouterr()
    assert cli(*base, "--set", "variants.wgan_gp.n_critic=3") == 0
    assert "(4 already finished)" in capsys.readouterr().err
    # another n_critic for wgan_gp: its two runs rerun, nonsaturating's are kept
    assert cli(*base, "--set", "variants.wgan_gp.n_critic=2") == 0
    assert "(2 already finished)" in capsys.readouterr().err
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/metrics.json")}
    assert sorted(r for r in after if after[r] != before[r]) == ["moons__wgan_gp__seed0",
                                                                 "ring8__wgan_gp__seed0"]
    assert json.loads((out / "runs" / "ring8__wgan_gp__seed0" / "config.json").read_text())[
        "config"]["n_critic"] == 2
    assert yaml.safe_load((out / "suite.yaml").read_text())["overrides"]["variants.wgan_gp.n_critic"] == 2
    # a bad path: exit 2 naming it, before any work (no run touched)
    assert cli("run", str(suite), "--out", str(out), "--executor", "local", "--no-progress",
               "--device", "cpu", "--set", "defaults.stpes=1") == 2
    err = capsys.readouterr().err
    assert err.strip() == ("ganbench: error: --set defaults.stpes: unknown setting 'stpes'. Did you "
                           "mean 'steps'? Settings: " + ", ".join(__import__(
                               "ganbench.config.schema", fromlist=["RUN_FIELDS"]).RUN_FIELDS) + ".")
    assert sorted(p.parent.name for p in out.glob("runs/*/metrics.json")) == sorted(after)


def test_set_takes_every_value_the_yaml_takes(tiny_suite):
    """Flow lists and maps of any length, as editing the file would (regularizers=[])."""
    suite = overrides.load(tiny_suite(), ("variants.wgan_gp.regularizers=[]",
                                          "defaults.regularizers=[{name: r1, weight: 1e-1}, r2]",
                                          "defaults.optimizer={name: adam, lr: 2e-4}"), None)
    v = suite.resolved["variants"]
    assert v["wgan_gp"]["regularizers"] == []
    assert [r["name"] for r in v["nonsaturating"]["regularizers"]] == ["r1", "r2"]
    assert v["nonsaturating"]["regularizers"][0]["weight"] == 0.1
    assert v["nonsaturating"]["optimizer"]["lr"] == 2e-4
