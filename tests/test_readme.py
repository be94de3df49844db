"""The README's examples work: its suite validates with its plugin module."""
import re
from pathlib import Path

from ganbench.config.suite import load_suite

README = (Path(__file__).parent.parent / "README.md").read_text()


def blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_suite_and_plugin_example_validate(tmp_path):
    plugin = next(b for b in blocks("python") if "objectives.register" in b)
    (tmp_path / "my_losses.py").write_text(plugin)
    suite_text = next(b for b in blocks("yaml") if "variants:" in b and "imports:" in b)
    mine = next(b for b in blocks("yaml") if "softplus_margin" in b)
    # the suite example, with the plugin example's variant added to its variants
    (tmp_path / "s.yaml").write_text(suite_text + mine.split("variants:", 1)[1])
    s = load_suite(tmp_path / "s.yaml")
    variants = {sp.variant for sp in s.specs}
    assert {"nonsaturating", "wgan", "ns_r1", "fast_d", "mine"} <= variants
    assert len({sp.dataset["label"] for sp in s.specs}) == 3


def test_readme_column_table_is_the_metric_catalogue():
    """Every summary column's README row is generated from its declaration (and no
    README row names a metric that is not declared)."""
    from ganbench.metrics import catalogue
    assert catalogue.markdown_table() in README
    table = README.split("### The columns", 1)[1].split("\n\n| column | meaning |", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", table.split("\n\n", 1)[0], re.M)
    declared = {m.name.replace("{c}", "<c>") for m in catalogue.metrics() if m.column}
    assert set(rows) - {"status", "wall_s"} == declared


def test_readme_diagnosis_thresholds_are_the_declared_ones():
    from ganbench.metrics import diagnosis
    assert diagnosis.thresholds_markdown() in README


def test_readme_python_api_example_runs(tmp_path, monkeypatch, tiny_suite):
    """The notebook example, on the tiny suite (same calls, smaller suite)."""
    code = next(b for b in blocks("python") if "ganbench.run(" in b)
    suite = tiny_suite()
    monkeypatch.chdir(tmp_path)
    code = code.replace("suites/mog.yaml", str(suite)).replace("results/mog", str(tmp_path / "out"))
    env: dict = {}
    exec(compile(code, "README", "exec"), env)
    summary, res = env["summary"], env["res"]
    assert len(summary) == 8 and set(summary.status) == {"ok"}
    assert len(res.table) == 4 and "modes_captured_mean" in res.table
    assert len(env["h"]) == 30


def test_readme_plain_module_example_trains(tmp_path):
    """The plain-module example registers ordinary nn.Modules that a suite trains."""
    from ganbench import run
    code = next(b for b in blocks("python") if "generators.register" in b)
    (tmp_path / "my_models.py").write_text(code)
    suite = next(b for b in blocks("yaml") if "my_mlp" in b)
    raw = __import__("yaml").safe_load(suite)
    raw.update(seeds=2, datasets=["ring8"], imports=[str(tmp_path / "my_models.py")])
    raw["defaults"] = {**raw.get("defaults", {}), "steps": 20, "eval_every": 10, "n_eval": 200,
                       "batch_size": 32}
    summary = run(raw, out=tmp_path / "out", device="cpu", executor="local")
    assert set(summary.status) == {"ok"} and len(summary) == 2
