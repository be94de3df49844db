"""Where the time of an image run goes, and what seed stacking buys for DCGAN, in one run.

    python benchmarks/images.py        # ~2 minutes on a 2-core CPU

Workload: suites/digits.yaml's settings on digits at 32×32 (DCGAN width 32, z_dim 64)
and suites/stacked_digits.yaml's on stacked digits at 8×8 (width 64, z_dim 32), batch
64, Adam, non-saturating loss, one thread (as each worker of
`ganbench run` on a 2-core CPU). Prints run-steps/s of 3 seeds trained as one
seed-stacked model (grouped convolutions) against the same 3 seeds trained one after
another, the cost of an R1 and a WGAN-GP (2 critic steps) step relative to the plain
one, and the final evaluation's parts per seed (generating n_eval samples, the mode
counter, FID and KID by torch-fidelity).
"""
from __future__ import annotations

import time

import torch

from ganbench.data import datasets
from ganbench.config.suite import for_dataset, load_suite
from ganbench.harness.evaluation import chunked
from ganbench.harness.loop import Loop
from ganbench.harness.probes import Evaluation, probes

STEPS = 40


def rate(dataset, config, seeds) -> float:
    """G steps per second of one Loop's players on ``seeds`` (after 3 warm-up steps)."""
    t = Loop(dataset, config, seeds)
    for _ in range(3):
        t.update.step(t.players)
    t0 = time.perf_counter()
    for _ in range(STEPS):
        t.update.step(t.players)
    return STEPS / (time.perf_counter() - t0)


def main() -> None:
    torch.set_num_threads(1)
    suite, stacked_suite = load_suite("suites/digits.yaml"), load_suite("suites/stacked_digits.yaml")
    cfg = {s.variant: s.config for s in suite.specs}
    digits = suite.specs[0].dataset_spec()
    stacked = stacked_suite.specs[0].dataset_spec()
    ns = cfg["nonsaturating"]
    ns_of = {"digits": ns, "stacked_digits": next(s.config for s in stacked_suite.specs
                                                  if s.variant == "nonsaturating")}
    print("                                  run-steps/s   x one-by-one")
    for name, ds in (("digits", digits), ("stacked_digits", stacked)):
        one = 3 / sum(1 / rate(ds, ns_of[name], [s]) for s in range(3))
        three = 3 * rate(ds, ns_of[name], [0, 1, 2])
        print(f"{name:<15} 3 seeds one by one  {one:8.1f}        1.00")
        print(f"{name:<15} 3 seeds stacked     {three:8.1f}  {three / one:10.2f}")
    base = rate(digits, ns, [0, 1, 2])
    for v in ("nonsaturating_r1", "wgan_gp"):
        print(f"step cost of {v:<17} x{base / rate(digits, cfg[v], [0, 1, 2]):.2f} the plain step")
    for name, ds in (("digits", digits), ("stacked_digits", stacked)):
        data = datasets.build(ds)
        t = Loop(ds, for_dataset(ns_of[name].replace(n_eval=None), data), [0])   # the dataset's n_eval
        n, pl = t.config.n_eval, t.players
        z = pl.noise(n, [torch.Generator().manual_seed(0)])
        t0 = time.perf_counter()
        with torch.no_grad():
            fake = chunked(pl.G, z, pl.G.eval_chunk)[0].numpy()
        gen = time.perf_counter() - t0
        ev = Evaluation(data, pl.objective, None, fake, None, None, 1, t.evaluator.features,
                        t.evaluator.classifier, "cpu")
        fid_probe, modes_probe = probes.build("fid"), probes.build("digit_modes")
        fid_probe.measure(ev)                             # reference statistics cached once
        t0 = time.perf_counter()
        modes_probe.measure(ev)
        modes = time.perf_counter() - t0
        t0 = time.perf_counter()
        fid_probe.measure(ev)
        fid = time.perf_counter() - t0
        print(f"final evaluation per seed, {name} ({n} samples): generate {gen:.2f} s, "
              f"mode counter {modes:.2f} s, FID+KID {fid:.2f} s")


if __name__ == "__main__":
    main()
