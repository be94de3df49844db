"""--deterministic sets torch's deterministic switches in the process that trains, and
every run's config.json records where it ran (device name, torch/CUDA/cuDNN versions)."""
import json
import os
import subprocess
import sys

import torch

from ganbench.harness.device import CUBLAS_WORKSPACE, environment, make_deterministic
from ganbench.runs.api import run

SUITE = """
name: det
seeds: 2
datasets: [ring8]
defaults: {steps: 20, batch_size: 16, eval_every: 20, n_eval: 64,
           generator: {name: mlp, width: 8, depth: 1}, discriminator: {name: mlp, width: 8, depth: 1}}
variants: {ns: {objective: nonsaturating}}
"""


def test_make_deterministic_sets_every_switch(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    try:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        make_deterministic()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()   # a warning, not an error
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE
        assert environment("cpu")["deterministic"] is True
    finally:
        (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, on, warn_only,
         torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) = saved
        torch.use_deterministic_algorithms(on, warn_only=warn_only)


def run_cli(tmp_path, out, *extra):
    (tmp_path / "det.yaml").write_text(SUITE)
    return subprocess.run([sys.executable, "-m", "ganbench.cli", "run", str(tmp_path / "det.yaml"),
                           "--out", str(out), "--no-progress", "--device", "cpu", *extra],
                          capture_output=True, text=True, timeout=300)


def test_runs_record_where_they_ran_and_deterministic_reaches_the_workers(tmp_path):
    p = run_cli(tmp_path, tmp_path / "det", "--deterministic", "--executor", "process",
                "--workers", "2")
    assert p.returncode == 0, p.stderr[-2000:]
    cfg = json.loads((tmp_path / "det" / "runs" / "ring8__ns__seed0" / "config.json").read_text())
    env = cfg["environment"]
    assert env["deterministic"] is True                  # set in the worker that trained it
    assert env["torch"] == torch.__version__ and env["cuda"] == torch.version.cuda
    assert "cudnn" in env and env["device_name"]
    run(tmp_path / "det.yaml", tmp_path / "plain", device="cpu", executor="local")
    cfg = json.loads((tmp_path / "plain" / "runs" / "ring8__ns__seed0" / "config.json").read_text())
    assert cfg["environment"]["deterministic"] is False
