"""ganbench's DCGAN, trained by the harness, side by side with a DCGAN written the
ordinary way (nn.ConvTranspose2d / nn.Conv2d / nn.BatchNorm2d, trained by a plain
loop as the PyTorch examples do), on the same data and settings, at equal steps. Rows:
``reference``; ``ganbench_d_none`` (D without normalisation, ganbench's DCGAN before
issue 14); ``ganbench_d_batch`` (D with batch norm, real and fake batches apart: the
default without a gradient penalty). ``--ablate`` adds ``ganbench_d_batch_joint``
(batch norm, real and fake in one D batch, as ganbench did before the fix),
``ganbench_d_layer`` and the reference rows below. The numbers as printed are in
docs/images.md ("The DCGAN's discriminator").

    python benchmarks/dcgan_reference.py                  # the side-by-side check
    python benchmarks/dcgan_reference.py --ablate         # + one difference at a time
    python benchmarks/dcgan_reference.py --out DIR        # where the sample grids go

Data and settings (issue 14's offline reproduction of the MNIST collapse): scikit-learn's
digits at 32×32, DCGAN width 32, z_dim 64, Adam 2e-4 (0.5, 0.999), batch 64,
non-saturating loss, 400 steps, seeds 0 and 1, one thread. Each run is judged on 2,500
samples of fixed noise: ``pixel_std`` (the per-pixel standard deviation across the
samples, averaged over pixels, in the data's [-1, 1] units; the real digits have
0.374 at this resolution), ``fid`` on the ``digits`` classifier's features, and
``classes`` (how many of the 10 digits the same classifier finds). Sample grids of
each run's first 64 samples are saved as PNGs.

Every difference between the two implementations is a switch of the reference
(:class:`Recipe`); ``--ablate`` moves the reference towards ganbench one switch at a
time (``reference_arch=ganbench`` moves the four architecture switches g_first,
out_bias, d_bias and d_head at once; ``reference_all_ganbench_ways`` every switch).
A row (2 seeds, training and judging) took 2½ to 10 minutes on the shared 2-core CPU
this was measured on; the three default rows about 20 minutes, ``--ablate`` about an
hour more.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ganbench.data import datasets
from ganbench.harness.classifier import channel_labels
from ganbench.harness.features import fid_kid, extractors
from ganbench.harness.loop import train_seeds
from ganbench.harness.plots import image_grid
from ganbench.metrics.coverage import label_coverage, label_mode_counts

DATA = {"name": "digits", "resolution": 32}
WIDTH, Z_DIM, BATCH, STEPS, LR, BETAS = 32, 64, 64, 400, 2e-4, (0.5, 0.999)
SEEDS = (0, 1)
N_EVAL, EVAL_CHUNK = 2500, 500


# --- the reference, written the ordinary way ------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """The reference's choices, one switch per difference from ganbench's DCGAN (and two
    where both do the same: ``init``, ``sample_bn``); the defaults are the PyTorch
    example's way."""

    d_norm: str = "batch"          # D: batch norm after every conv but the first | "none"
    g_first: str = "convT"         # G's first layer: ConvTranspose 1×1 -> 4×4 (no bias) | "linear" (bias)
    out_bias: bool = False         # bias in G's last transposed convolution (ganbench: True)
    d_bias: bool = False           # bias in D's convolutions (ganbench: True)
    d_head: str = "conv"           # D's last layer: conv 4×4 -> 1×1 (no bias) | "linear" (bias)
    noise: str = "shared"          # G step reuses the D step's noise | "fresh" (ganbench: new draw)
    d_batch: str = "separate"      # D sees real and fake in two forwards | "joint" (one batch)
    init: str = "dcgan"            # N(0, 0.02) convs, BN scale N(1, 0.02) | "torch" (PyTorch defaults)
    data: str = "epochs"           # shuffled epochs | "replacement" (ganbench: uniform draws)
    sample_bn: str = "batch"       # sampling with batch statistics (chunks of 500) | "running"


class View(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


def reference_g(r: Recipe, nc: int = 1) -> nn.Module:
    """z (B, Z_DIM) -> (B, nc, 32, 32)."""
    c0 = WIDTH * 4
    first = ([View(Z_DIM, 1, 1), nn.ConvTranspose2d(Z_DIM, c0, 4, 1, 0, bias=False)]
             if r.g_first == "convT" else [nn.Linear(Z_DIM, c0 * 16), View(c0, 4, 4)])
    return nn.Sequential(
        *first, nn.BatchNorm2d(c0), nn.ReLU(True),
        nn.ConvTranspose2d(c0, c0 // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c0 // 2), nn.ReLU(True),
        nn.ConvTranspose2d(c0 // 2, c0 // 4, 4, 2, 1, bias=False), nn.BatchNorm2d(c0 // 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(c0 // 4, nc, 4, 2, 1, bias=r.out_bias), nn.Tanh())


def reference_d(r: Recipe, nc: int = 1) -> nn.Module:
    """(B, nc, 32, 32) -> (B,) logits."""
    def norm(c):
        return [nn.BatchNorm2d(c)] if r.d_norm == "batch" else []
    w = WIDTH
    head = ([nn.Conv2d(w * 4, 1, 4, 1, 0, bias=False)] if r.d_head == "conv"
            else [nn.Flatten(), nn.Linear(w * 4 * 16, 1)])
    return nn.Sequential(
        nn.Conv2d(nc, w, 4, 2, 1, bias=r.d_bias), nn.LeakyReLU(0.2, True),
        nn.Conv2d(w, w * 2, 4, 2, 1, bias=r.d_bias), *norm(w * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(w * 2, w * 4, 4, 2, 1, bias=r.d_bias), *norm(w * 4), nn.LeakyReLU(0.2, True),
        *head, nn.Flatten())


def dcgan_init(m: nn.Module) -> None:
    """The DCGAN paper's initialisation, as the PyTorch example applies it."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def train_reference(images: torch.Tensor, seed: int, r: Recipe, steps: int | None = None) -> nn.Module:
    """The PyTorch example's loop: D on a real batch (target 1) and on G's batch (target
    0), one Adam step; G on D's verdict on the same fake batch (target 1), one Adam step."""
    torch.manual_seed(seed)
    G, D = reference_g(r), reference_d(r)
    if r.init == "dcgan":
        G.apply(dcgan_init)
        D.apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), LR, betas=BETAS)
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)
    order, pos = torch.randperm(len(images)), 0
    for _ in range(steps or STEPS):
        if r.data == "epochs":
            if pos + BATCH > len(images):
                order, pos = torch.randperm(len(images)), 0
            real, pos = images[order[pos:pos + BATCH]], pos + BATCH
        else:
            real = images[torch.randint(len(images), (BATCH,))]
        fake = G(torch.randn(BATCH, Z_DIM))
        if r.d_batch == "separate":
            loss_d = (F.binary_cross_entropy_with_logits(D(real).view(-1), ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach()).view(-1), zeros))
        else:
            out = D(torch.cat([real, fake.detach()])).view(-1)
            loss_d = (F.binary_cross_entropy_with_logits(out[:BATCH], ones)
                      + F.binary_cross_entropy_with_logits(out[BATCH:], zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        if r.noise == "fresh":
            fake = G(torch.randn(BATCH, Z_DIM))
        loss_g = F.binary_cross_entropy_with_logits(D(fake).view(-1), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return G


@torch.no_grad()
def reference_samples(G: nn.Module, r: Recipe, seed: int) -> np.ndarray:
    """N_EVAL samples of fixed noise, (N_EVAL, 1024) in [-1, 1]."""
    z = torch.randn(N_EVAL, Z_DIM, generator=torch.Generator().manual_seed(1000 + seed))
    G.train(r.sample_bn == "batch")     # train mode: each chunk's batch statistics
    out = torch.cat([G(z[i:i + EVAL_CHUNK]) for i in range(0, N_EVAL, EVAL_CHUNK)])
    G.train()
    return out.reshape(N_EVAL, -1).numpy()


# --- ganbench's DCGAN, trained by the harness ------------------------------------------

def ganbench_config(discriminator: dict | None = None) -> dict:
    return {"steps": STEPS, "batch_size": BATCH, "eval_every": STEPS, "n_eval": N_EVAL,
            "n_critic": 1, "objective": "nonsaturating", "regularizers": [],
            "generator": {"name": "dcgan", "width": WIDTH, "z_dim": Z_DIM},
            "discriminator": {"name": "dcgan", "width": WIDTH, **(discriminator or {})},
            "optimizer": {"name": "adam", "lr": LR, "betas": list(BETAS)},
            "g_optimizer": {"name": "adam", "lr": LR, "betas": list(BETAS)},
            "d_optimizer": {"name": "adam", "lr": LR, "betas": list(BETAS)},
            "features": "digits"}


def ganbench_samples(discriminator: dict | None = None, joint: bool = False) -> list[np.ndarray]:
    """Each seed's N_EVAL final samples, both seeds trained stacked by the harness;
    ``joint``: D sees real and fake in one batch even with batch norm (as before the fix)."""
    from ganbench.harness import build, loop
    kept, split = loop.IMAGES_KEPT, build.mixes_samples
    loop.IMAGES_KEPT = N_EVAL                       # keep every evaluation sample
    if joint:
        build.mixes_samples = lambda net: False
    try:
        results, _ = train_seeds(DATA, ganbench_config(discriminator), list(SEEDS))
    finally:
        loop.IMAGES_KEPT, build.mixes_samples = kept, split
    for res in results:
        if res.status != "ok":
            raise RuntimeError(f"ganbench seed {res.seed}: {res.status} {res.error}")
    return [res.fake for res in results]


# --- judging samples ----------------------------------------------------------------

class Judge:
    """pixel_std, fid and classes of N_EVAL generated digits (one classifier for both)."""

    def __init__(self):
        self.dataset = datasets.build(DATA)
        self.extractor = extractors.build("digits", "features", dataset=self.dataset).prepare()
        self.real_std = pixel_std(self.dataset.train.reshape(len(self.dataset.train), -1).numpy())

    def __call__(self, fake: np.ndarray) -> dict:
        labels = channel_labels(self.extractor.classifier, fake, self.dataset.image_shape)
        cov = label_coverage(label_mode_counts(labels))
        return {"pixel_std": pixel_std(fake), "fid": fid_kid(fake, self.dataset, self.extractor,
                                                              kid=False)["fid"],
                "classes": cov["modes_captured"], "reverse_kl": cov["reverse_kl"]}


def pixel_std(x: np.ndarray) -> float:
    """Standard deviation across samples of each pixel, averaged over pixels."""
    return float(np.asarray(x, dtype=np.float64).std(0).mean())


def save_grid(fake: np.ndarray, path: Path) -> None:
    from PIL import Image
    grid = image_grid(fake, (1, 32, 32), n=64)
    Image.fromarray((grid * 255).round().astype(np.uint8)).resize(
        (grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)


def report(name: str, per_seed: list[dict], seconds: float) -> None:
    cells = "  ".join(f"seed {s}: std {m['pixel_std']:.3f} fid {m['fid']:7.1f} "
                      f"classes {m['classes']:2d} rkl {m['reverse_kl']:.3f}"
                      for s, m in zip(SEEDS, per_seed))
    print(f"{name:<34} {cells}  ({seconds:.0f} s)", flush=True)


def run_reference(judge: Judge, name: str, r: Recipe, out: Path) -> list[dict]:
    t0 = time.perf_counter()
    images = judge.dataset.train
    per_seed = []
    for seed in SEEDS:
        fake = reference_samples(train_reference(images, seed, r), r, seed)
        save_grid(fake, out / f"{name}_seed{seed}.png")
        per_seed.append(judge(fake))
    report(name, per_seed, time.perf_counter() - t0)
    return per_seed


def run_ganbench(judge: Judge, name: str, discriminator: dict | None, out: Path,
                 joint: bool = False) -> list[dict]:
    t0 = time.perf_counter()
    fakes = ganbench_samples(discriminator, joint)
    per_seed = []
    for seed, fake in zip(SEEDS, fakes):
        save_grid(fake, out / f"{name}_seed{seed}.png")
        per_seed.append(judge(fake))
    report(name, per_seed, time.perf_counter() - t0)
    return per_seed


#: ganbench's way of each switch that differs (moving the reference towards ganbench)
GANBENCH_WAY = {"d_norm": "none", "g_first": "linear", "out_bias": True, "d_bias": True,
                "d_head": "linear", "noise": "fresh", "d_batch": "joint", "data": "replacement"}
#: switches where ganbench already does what the example does: do they matter at all?
OTHER_WAYS = {"init": "torch", "sample_bn": "running"}


def main() -> None:
    global STEPS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ablate", action="store_true", help="one difference at a time")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only these rows (names as printed)")
    ap.add_argument("--out", default="results/dcgan_reference", help="folder for the grids")
    ap.add_argument("--steps", type=int, default=STEPS, help="training steps (a quick look: 20)")
    args = ap.parse_args()
    STEPS = args.steps
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    judge = Judge()
    print(f"digits at 32×32: real per-pixel std {judge.real_std:.3f}; {STEPS} steps, seeds "
          f"{list(SEEDS)}, {N_EVAL} samples each; classifier accuracy "
          f"{judge.extractor.classifier.accuracy:.4f}")
    rows = {"reference": lambda: run_reference(judge, "reference", Recipe(), out),
            "ganbench_d_none": lambda: run_ganbench(judge, "ganbench_d_none", {"norm": "none"}, out),
            "ganbench_d_batch": lambda: run_ganbench(judge, "ganbench_d_batch",
                                                     {"norm": "batch"}, out)}
    if args.ablate:
        rows["ganbench_d_batch_joint"] = lambda: run_ganbench(
            judge, "ganbench_d_batch_joint", {"norm": "batch"}, out, joint=True)
        rows["ganbench_d_layer"] = lambda: run_ganbench(judge, "ganbench_d_layer",
                                                        {"norm": "layer"}, out)
        for key, value in {**GANBENCH_WAY, **OTHER_WAYS}.items():
            name = f"reference_{key}={value}"
            rows[name] = (lambda n=name, r=replace(Recipe(), **{key: value}):
                          run_reference(judge, n, r, out))
        arch = {k: GANBENCH_WAY[k] for k in ("g_first", "out_bias", "d_bias", "d_head")}
        rows["reference_arch=ganbench"] = lambda: run_reference(
            judge, "reference_arch=ganbench", replace(Recipe(), **arch), out)
        rows["reference_all_ganbench_ways"] = lambda: run_reference(
            judge, "reference_all_ganbench_ways", Recipe(**GANBENCH_WAY), out)
    for name, run in rows.items():
        if args.only is None or name in args.only:
            run()
    print(f"sample grids in {out}/")


if __name__ == "__main__":
    main()
