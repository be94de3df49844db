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
