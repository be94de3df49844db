"""The Python API: ganbench.run on a dict or a path, ganbench.load of the folder."""
import sys

import pytest
import yaml

import ganbench
from helpers.cli import TINY
from ganbench.errors import InputError


def test_run_a_dict_then_load_the_folder(tmp_path):
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    summary = ganbench.run(raw, out=tmp_path / "out", device="cpu", executor="local")
    assert list(summary.run_id) == [f"ring8__{v}__seed{s}" for v in ("nonsaturating", "wgan_gp")
                                    for s in (0, 1)]
    assert set(summary.status) == {"ok"} and summary.attrs["out"] == str(tmp_path / "out")
    res = ganbench.load(tmp_path / "out")
    assert res.summary.run_id.tolist() == summary.run_id.tolist()
    assert res.table.variant.tolist() == ["nonsaturating", "wgan_gp"]
    assert set(res.histories()) == set(summary.run_id)
    assert res.history("ring8__wgan_gp__seed1").step.max() == 30
    again = ganbench.run(raw, out=tmp_path / "out", device="cpu", executor="local")   # resumes
    assert again.drop(columns="wall_s").equals(summary.drop(columns="wall_s"))


def test_bad_input_raises_before_any_work(tmp_path):
    raw = yaml.safe_load(TINY)
    raw["variants"]["nonsaturating"]["optimzer"] = {"lr": 1}
    with pytest.raises(InputError, match="variants.nonsaturating.optimzer"):
        ganbench.run(raw, out=tmp_path / "out", device="cpu")
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="no summary.csv"):
        ganbench.load(tmp_path / "nowhere")


def test_importing_ganbench_imports_no_torch():
    import subprocess
    r = subprocess.run([sys.executable, "-c", "import sys, ganbench; print('torch' in sys.modules)"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "False"


def test_sensitivity_from_the_api_is_the_commands_table(tmp_path):
    from ganbench.analysis.sensitivity import sensitivity
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    raw["variants"] = {"ns": {"objective": "nonsaturating"}}
    raw["sweep"] = {"optimizer.lr": [1e-4, 1e-3]}
    ganbench.run(raw, out=tmp_path / "out", device="cpu", executor="local")
    res = ganbench.load(tmp_path / "out")
    table = res.sensitivity(["fd"])
    assert table.equals(sensitivity(res.summary, ["fd"]))
    assert int(table.settings.iloc[0]) == 2
