import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def tiny_suite(tmp_path):
    """Write a tiny suite YAML and return its path (text may be overridden)."""
    def make(text: str | None = None, name: str = "tiny.yaml"):
        p = tmp_path / name
        p.write_text(text if text is not None else TINY)
        return p
    return make


TINY = """
name: tiny
seeds: 2
datasets: [ring8, {name: moons}]
defaults:
  steps: 30
  batch_size: 32
  eval_every: 10
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 1, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 1}
  optimizer: {name: adam, lr: 0.001}
variants:
  nonsaturating: {objective: nonsaturating}
  wgan_gp: {objective: wgan_gp, n_critic: 2}
"""


@pytest.fixture(scope="session", autouse=True)
def hermetic_caches(tmp_path_factory):
    """Classifiers, reference statistics and torch hub files go to a fresh folder per test
    session (the digit classifier trains once per session), never to ~/.cache."""
    import os
    root = tmp_path_factory.mktemp("caches")
    old = {k: os.environ.get(k) for k in ("GANBENCH_CACHE", "TORCH_HOME", "GANBENCH_DATA")}
    os.environ["GANBENCH_CACHE"] = str(root / "ganbench")
    os.environ["TORCH_HOME"] = str(root / "torch")
    os.environ.pop("GANBENCH_DATA", None)
    yield root
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


# --- the slow tests alongside the default run (CI) ---------------------------------------
# With GANBENCH_SLOW_ALONGSIDE=1 (set by .ci/run), the session starts the slow tests
# (`pytest -m slow`) in a child process at once and waits for it at the end: the default
# run keeps about one core busy, so on a 2-core machine the slow tests ride on the other
# one instead of adding their minutes after it. A slow failure fails the session.
_slow_child = None


def pytest_sessionstart(session):
    global _slow_child
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path
    if os.environ.pop("GANBENCH_SLOW_ALONGSIDE", "") != "1":
        return
    log = tempfile.NamedTemporaryFile("w+", prefix="ganbench-slow-", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:cacheprovider",
           "--basetemp", tempfile.mkdtemp(prefix="ganbench-slow-"), str(Path(__file__).parent)]
    _slow_child = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)


def pytest_sessionfinish(session, exitstatus):
    if _slow_child is None:
        return
    child, log = _slow_child
    code = child.wait()
    log.seek(0)
    report = session.config.pluginmanager.get_plugin("terminalreporter")
    text = f"\nslow tests (run alongside, exit {code}):\n" + log.read()
    report.write_line(text) if report is not None else print(text)
    if code != 0:
        session.exitstatus = 1
