"""The CLI as the tests call it, and the tiny suite most of them run."""
from __future__ import annotations

from ganbench.cli import main

#: the tiny suite (2 seeds x 2 datasets x 2 variants, 30 steps) of the ``tiny_suite`` fixture
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
#: the tiny suite on ring8 alone: two groups, one a variant (the cluster executors' tests)
TWO_GROUPS = TINY.replace("datasets: [ring8, {name: moons}]", "datasets: [ring8]")


def run_cli(*args) -> int:
    """``ganbench ARGS`` in this process; returns the exit status. ``run`` gets
    ``--executor local`` unless the arguments name an executor."""
    args = list(args)
    if args[0] == "run" and "--executor" not in args:
        args += ["--executor", "local"]
    try:
        main(args)
        return 0
    except SystemExit as e:
        return e.code or 0


def same_as_local(tmp_path, suite, out, histories=False) -> None:
    """``out`` (a cluster executor's results) equals ``--executor local``'s run of
    ``suite`` in ``tmp_path/local``: summary.csv but wall_s, and with ``histories`` every
    history.csv byte for byte."""
    import pandas as pd
    local = tmp_path / "local"
    assert run_cli("run", str(suite), "--out", str(local), "--no-progress") == 0
    a = pd.read_csv(out / "summary.csv").drop(columns="wall_s")
    b = pd.read_csv(local / "summary.csv").drop(columns="wall_s")
    pd.testing.assert_frame_equal(a, b)
    if histories:
        for h in local.glob("runs/*/history.csv"):
            assert (out / "runs" / h.parent.name / "history.csv").read_bytes() == h.read_bytes()
