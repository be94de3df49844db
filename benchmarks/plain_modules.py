"""What training plain nn.Modules seed-stacked (PlainStack, torch.func + vmap) costs
against ganbench's built-in seed-stacked models of the same architecture, in one run.

    python benchmarks/plain_modules.py          # ~2-3 minutes on a 2-core CPU

Workloads, one thread (as each worker of `ganbench run` on a 2-core CPU), Adam,
non-saturating loss, through the trainer's own loop (``train_seeds`` with
eval_every = steps: build, the steps, one final evaluation of n_eval = 500 samples
per seed; nothing subtracted):

- ring8, MLP width 64, depth 3 (G ReLU, D LeakyReLU 0.2), z_dim 16, batch 128, 5 and
  16 seeds, 400 steps: built-in ``mlp`` against the same layers written as nn.Sequential;
- digits at 16×16, DCGAN width 32, z_dim 32, batch 64, 3 seeds, 100 steps: built-in ``dcgan``
  (grouped convolutions written by hand) against the same layers written as an
  ordinary DCGAN (nn.ConvTranspose2d / nn.BatchNorm2d / nn.Conv2d).

Prints steps/s (training steps of the whole group per second), run-steps/s (× seeds)
and plain / built-in. The machine may be shared: read the ratios, measured side by side.
"""
from __future__ import annotations

import sys
import time

import torch
from torch import nn

from ganbench.models import discriminators, generators
# the trainer's entry points (one place, should they move)
from ganbench.config.suite import parse_suite
from ganbench.harness.loop import train_seeds

MLP_STEPS = 400
CONV_STEPS = 100
N_EVAL = 500          # the one final evaluation's samples per seed (its cost is included)
WIDTH, DEPTH, Z = 64, 3, 16


# --- the same architectures, written the ordinary way -----------------------------

def _mlp(sizes, act):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


@generators.register("bench_plain_mlp")
def plain_mlp_g(data_dim: int, z_dim: int = Z, width: int = WIDTH, depth: int = DEPTH) -> nn.Module:
    return _mlp([z_dim] + [width] * depth + [data_dim], nn.ReLU)


@discriminators.register("bench_plain_mlp")
def plain_mlp_d(data_dim: int, width: int = WIDTH, depth: int = DEPTH) -> nn.Module:
    return _mlp([data_dim] + [width] * depth + [1], lambda: nn.LeakyReLU(0.2))


class DCGANG(nn.Module):
    """z -> linear 4×4×c0 -> BN, ReLU -> transposed convs (BN, ReLU) -> tanh, as ganbench's dcgan."""

    def __init__(self, image_shape, z_dim, width):
        super().__init__()
        C, H, _ = image_shape
        k = (H // 4).bit_length() - 1
        self.z_dim, self.c0 = z_dim, width * 2 ** (k - 1)
        self.fc = nn.Linear(z_dim, self.c0 * 16)
        layers, ch = [nn.BatchNorm2d(self.c0), nn.ReLU()], self.c0
        for i in range(k):
            last = i == k - 1
            out = C if last else ch // 2
            layers.append(nn.ConvTranspose2d(ch, out, 4, 2, 1, bias=last))
            layers += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.c0, 4, 4))


@generators.register("bench_plain_dcgan")
def plain_dcgan_g(image_shape, z_dim: int = 32, width: int = 32) -> nn.Module:
    return DCGANG(image_shape, z_dim, width)


@discriminators.register("bench_plain_dcgan")
def plain_dcgan_d(image_shape, width: int = 32) -> nn.Module:
    C, H, _ = image_shape
    layers, ch_in, ch = [], C, width
    while H > 4:
        layers += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch_in, ch, H = ch, ch * 2, H // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch_in * 16, 1))


# --- timing -----------------------------------------------------------------------

def spec(dataset, g, d, steps, batch):
    raw = {"datasets": [dataset],
           "defaults": {"generator": g, "discriminator": d, "objective": "nonsaturating",
                        "optimizer": {"name": "adam", "lr": 2e-4, "betas": [0.5, 0.999]},
                        "batch_size": batch, "steps": steps, "eval_every": steps,
                        "n_eval": N_EVAL},
           "variants": {"v": {}}}
    return parse_suite(raw).specs[0]


def steps_per_s(s, n_seeds: int) -> float:
    res, wall = train_seeds(s.dataset_spec(), s.config, list(range(n_seeds)))
    if res[0].status == "failed":
        raise RuntimeError(res[0].error)
    return s.config.steps / wall


def compare(label, dataset, builtin, plain, steps, batch, seeds_list) -> None:
    b = spec(dataset, *builtin, steps, batch)
    p = spec(dataset, *plain, steps, batch)
    for x in (b, p):       # warm-up: caches (digit classifier, FID reference statistics)
        train_seeds(x.dataset_spec(), x.config.replace(steps=2, eval_every=2), [0])
    for n in seeds_list:
        rb = steps_per_s(b, n)
        rp = steps_per_s(p, n)
        print(f"{label:<19} {n:>2} seeds  built-in {rb:6.1f} steps/s ({rb * n:6.1f} run-steps/s)"
              f"   plain {rp:6.1f} steps/s ({rp * n:6.1f} run-steps/s)   plain/built-in "
              f"{rp / rb:4.2f}", flush=True)


def main() -> None:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    mlp_b = ({"name": "mlp", "width": WIDTH, "depth": DEPTH, "z_dim": Z, "activation": "relu"},
             {"name": "mlp", "width": WIDTH, "depth": DEPTH, "activation": "leaky_relu"})
    mlp_p = ({"name": "bench_plain_mlp"}, {"name": "bench_plain_mlp"})
    compare("ring8 MLP 64x3", "ring8", mlp_b, mlp_p, MLP_STEPS, 128, [5, 16])
    if "--no-conv" not in sys.argv:
        digits = {"name": "digits", "resolution": 16}
        conv_b = ({"name": "dcgan", "width": 32, "z_dim": 32}, {"name": "dcgan", "width": 32})
        conv_p = ({"name": "bench_plain_dcgan"}, {"name": "bench_plain_dcgan"})
        compare("digits16 DCGAN w32", digits, conv_b, conv_p, CONV_STEPS, 64, [3])
    print(f"(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
