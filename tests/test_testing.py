"""ganbench.testing: run_suite trains as `ganbench run` does by default (the same device,
executor and workers), and passes them on."""
import inspect

import pytest

from ganbench import testing
from ganbench.cli import cli


def test_run_suites_defaults_are_the_clis():
    cli_run = {p.name: p.default for p in cli.commands["run"].params}
    params = inspect.signature(testing.run_suite).parameters
    for name in ("device", "executor", "workers"):
        assert params[name].default == cli_run[name], name
    assert (params["device"].default, params["executor"].default) == ("auto", "auto")


def test_run_suite_passes_its_settings_to_run(monkeypatch, tmp_path):
    import pandas as pd
    import ganbench.runs.api as api
    seen = {}

    def fake_run(suite, out, device, executor, workers, imports=()):
        seen.update(device=device, executor=executor, workers=workers, imports=imports)
        return pd.DataFrame({"run_id": ["a"], "status": ["ok"]})
    monkeypatch.setattr(api, "run", fake_run)
    assert testing.run_suite("s.yaml", tmp_path) == tmp_path
    assert seen == {"device": "auto", "executor": "auto", "workers": None, "imports": ()}
    testing.run_suite("s.yaml", tmp_path, "cpu", "local", ["m"], 3)
    assert seen == {"device": "cpu", "executor": "local", "workers": 3, "imports": ("m",)}
    monkeypatch.setattr(api, "run", lambda *a, **k: pd.DataFrame({"run_id": ["a"], "status": ["failed"]}))
    with pytest.raises(AssertionError, match="1 runs failed"):
        testing.run_suite("s.yaml", tmp_path)
