"""An estimate of the flagship suites' time on one GPU, from what a training step does,
counted on this CPU (no GPU here to measure on).

    python benchmarks/gpu_estimate.py               # mog and digits, a few minutes on 2 cores
    python benchmarks/gpu_estimate.py --literature  # the literature suites (PacGAN's protocols)
    python benchmarks/gpu_estimate.py SUITE.yaml ...

Stacked MNIST needs MNIST's files, which nothing here downloads: its training step is
counted on a few random images written in MNIST's format (a step's cost does not depend
on the pixels), and its evaluations are not timed (they need the real classifier).

For every stacked group of suites/mog.yaml and suites/digits.yaml (as ``ganbench run``
forms them) one training step is profiled with torch.profiler for the aten operations
that would each be a kernel launch on a GPU (the lowest operations that do work, views
left out: ganbench.profiling; the CPU
count is a proxy: foreach ops that are one kernel on a GPU count once per tensor here),
and the FLOPs of another step's matmuls and convolutions, forward and backward, are
counted with torch.utils.flop_counter's formulas (element-wise work is left out: small
next to launches at these sizes). A step on the GPU then takes about

    kernels x launch + FLOPs / rate

with ``launch`` the host-side cost of issuing one kernel from PyTorch (5 to 10 us on a
fast CPU) and ``rate`` what small batched matmuls reach on an A100-class GPU (19.5
TFLOP/s FP32 peak; 30% of it assumed). One evaluation (generation, D outputs, the
probes, which run on the host in numpy) and the final one (FID, theory metrics) are
timed here on this CPU, once per dataset, scaled by each group's runs, and added as they
are: on a GPU machine most of it stays host work. Prints per group and per suite;
replace with measured numbers once a GPU is available.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ganbench.config.suite import load_suite
from ganbench.harness.loop import Loop
from ganbench.runs.groups import pending_groups

sys.path.insert(0, str(Path(__file__).parent))
from sampling import kernels_per_step  # noqa: E402

LAUNCH_US = (5.0, 10.0)
RATE = 0.3 * 19.5e12


class Flops(TorchDispatchMode):
    """FLOPs of every op torch.utils.flop_counter has a formula for (its own
    FlopCounterMode tracks modules, which a gradient penalty's double backward breaks)."""

    total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def count_step(loop: Loop) -> tuple[int, float]:
    """(kernel launches, matmul/conv FLOPs) of one training step."""
    kernels = kernels_per_step(loop)                 # runs steps 0 and 1
    with Flops() as flops:
        loop.step(2, torch.empty(3, len(loop.seeds), len(loop.columns)))
    return kernels, float(flops.total)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def estimate(path: str) -> dict:
    import yaml
    datasets = yaml.safe_load(Path(path).read_text())["datasets"]
    time_evals = not any(isinstance(d, dict) and d.get("name") == "stacked_mnist" for d in datasets)
    suite = load_suite(path if time_evals else with_stand_in_mnist(path))
    per_run: dict = {}          # dataset -> (one evaluation, the final one) per run, seconds
    groups = pending_groups(Path(tempfile.mkdtemp()), suite.specs)
    total = {"lo": 0.0, "hi": 0.0, "eval": 0.0, "steps": 0}
    print(f"\n{suite.name}: {len(suite.specs)} runs in {len(groups)} stacked groups")
    print(f"  {'group':44}{'runs':>5}{'steps':>7}{'kernels':>9}{'GFLOP':>8}"
          f"{'GPU s (5-10 us)':>17}{'evals s (host)':>15}")
    for g in groups:
        first = g.specs[0]
        loop = Loop([s.dataset_spec() for s in g.specs], [s.config for s in g.specs],
                    [s.seed for s in g.specs])
        kernels, flops = count_step(loop)
        steps = g.steps
        lo, hi = (steps * (kernels * us * 1e-6 + flops / RATE) for us in LAUNCH_US)
        n_evals = steps // int(first.config.eval_every)
        label = first.dataset["label"]
        if label not in per_run:
            per_run[label] = ((timed(lambda: loop.evaluator.evaluate(final=False)) / len(g.specs),
                               timed(lambda: loop.evaluator.evaluate(final=True)) / len(g.specs))
                              if time_evals else (0.0, 0.0))
        one, final = per_run[label]
        ev = len(g.specs) * (one * max(0, n_evals - 1) + final)
        total["lo"] += lo
        total["hi"] += hi
        total["eval"] += ev
        total["steps"] += steps
        print(f"  {g.label[:44]:44}{len(g.specs):5d}{steps:7d}{kernels:9d}{flops / 1e9:8.2f}"
              f"{lo:8.0f} - {hi:5.0f}{ev:15.0f}")
    evals = (f"evaluations {total['eval'] / 60:.1f} min of host work (timed here)" if time_evals
             else "evaluations not timed (they need MNIST's files)")
    print(f"  total: training {total['lo'] / 60:.1f} - {total['hi'] / 60:.1f} min on one GPU, "
          f"{evals}; {total['steps']} group-steps")
    return total


def with_stand_in_mnist(path: str) -> str:
    """The suite at ``path`` reading random images in MNIST's format from a scratch folder."""
    import yaml
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
    from image_files import write_mnist        # the tests' writer of MNIST-format files
    raw = yaml.safe_load(Path(path).read_text())
    root = Path(tempfile.mkdtemp(prefix="stand-in-mnist-"))
    write_mnist(root, n_train=600, n_test=100)
    raw["datasets"] = [dict(d, data_root=str(root), n_reference=500) for d in raw["datasets"]]
    raw["defaults"]["features"] = {"name": "digits", "epochs": 1, "min_accuracy": 0.0}
    out = root / Path(path).name
    out.write_text(yaml.safe_dump(raw))
    return str(out)


def main() -> None:
    torch.set_num_threads(1)
    # the digit classifier FID needs is trained once into a scratch cache, not ~/.cache
    os.environ.setdefault("GANBENCH_CACHE", tempfile.mkdtemp(prefix="ganbench-cache-"))
    print(f"torch {torch.__version__}; launch {LAUNCH_US[0]:g}-{LAUNCH_US[1]:g} us per kernel, "
          f"{RATE / 1e12:.1f} TFLOP/s for matmuls and convolutions")
    args = sys.argv[1:]
    if args == ["--literature"]:
        args = [f"suites/literature/{n}.yaml" for n in ("pacgan_ring", "pacgan_grid", "stacked_mnist")]
    for path in args or ("suites/mog.yaml", "suites/digits.yaml"):
        estimate(path)


if __name__ == "__main__":
    main()
