"""The image side of the `unlearned` / `collapsed` calibration (docs/diagnosis_never_learned.md).

Hand-made digit image sets: real digits of one or a few classes, grey and uniform
noise, an untrained DCGAN. For each set it prints what the digit classifier finds
(classes, modes_effective), torch-fidelity's k-NN precision and FID on the classifier's
features, and the diagnosis those numbers give.

    python benchmarks/unlearned_calibration.py [--resolution 32] [--n 2500]

With ``--runs VARIANTS OUT`` it instead trains suites/digits.yaml's VARIANTS (comma-
separated) into OUT with a probe registered from this script that records the
precision at the last evaluation, so the store-time diagnosis sees it (what the fid
probe will do once it asks torch-fidelity for ``prc``).
"""
from __future__ import annotations

import argparse
import warnings

import torch


def fidelity(x: torch.Tensor, ds, ex) -> dict:
    """fid, precision and recall of flattened images x in [-1, 1] against ds's reference."""
    import torch_fidelity
    from ganbench.data.images import to_uint8
    from ganbench.harness.features import _Images
    fake = to_uint8(x, ds.image_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = torch_fidelity.calculate_metrics(
            input1=_Images(lambda: fake), input2=_Images(ds.reference), fid=True, prc=True,
            cuda=False, feature_extractor=ex.fidelity_name, batch_size=500, verbose=False,
            cache=False)
    return {"fid": float(m["frechet_inception_distance"]), "precision": float(m["precision"]),
            "recall": float(m["recall"])}


def hand_made(resolution: int, n: int) -> None:
    from ganbench.data import datasets
    from ganbench.harness.classifier import part_labels
    from ganbench.harness.features import build_extractor
    from ganbench.metrics import diagnosis
    from ganbench.metrics.coverage import label_coverage, label_mode_counts
    from ganbench.models import build_model, generators
    ds = datasets.build("digits", resolution=resolution)
    ex = build_extractor(None, ds).prepare()
    g = torch.Generator().manual_seed(0)

    def real(mask):
        x = ds.train[mask]
        return x[torch.randint(len(x), (n,), generator=g)].reshape(n, -1)

    y = ds.labels
    sets = {"held-out real digits": ds.test[torch.randint(len(ds.test), (n,), generator=g)].reshape(n, -1)}
    sets.update({f"class {c}": real(y == c) for c in range(10)})
    sets["classes 0, 1"] = real((y == 0) | (y == 1))
    sets["classes 3, 5, 8"] = real((y == 3) | (y == 5) | (y == 8))
    sets["class 1 + noise 0.3"] = (real(y == 1) + 0.3 * torch.randn(n, ds.dim, generator=g)).clamp(-1, 1)
    sets["grey + noise 0.1"] = (0.1 * torch.randn(n, ds.dim, generator=g)).clamp(-1, 1)
    sets["grey + noise 0.3"] = (0.3 * torch.randn(n, ds.dim, generator=g)).clamp(-1, 1)
    sets["uniform noise"] = torch.rand(n, ds.dim, generator=g) * 2 - 1
    G = build_model(generators, {"name": "dcgan", "width": 32, "z_dim": 64}, "generator", ds,
                    [torch.Generator().manual_seed(s) for s in range(3)])
    with torch.no_grad():
        out = G.eval()(torch.randn(3, n, 64, generator=g))
    sets.update({f"untrained DCGAN seed {s}": out[s].reshape(n, -1) for s in range(3)})
    print(f"digits at {resolution}x{resolution}, {n} images per set, classifier accuracy "
          f"{ex.classifier.accuracy:.3f}")
    for name, x in sets.items():
        cov = label_coverage(label_mode_counts(part_labels(ex.classifier, x, ds.image_shape)))
        m = {k: cov[k] for k in ("modes_captured", "modes_total", "modes_effective")}
        m.update(fidelity(x, ds, ex))
        print(f"{name:26s} classes {m['modes_captured']:2d} modes_effective "
              f"{m['modes_effective']:5.2f} precision {m['precision']:.3f} fid {m['fid']:8.1f} "
              f"-> {diagnosis.columns(m)['diagnosis']}", flush=True)


def runs(variants: str, out: str) -> None:
    import pandas as pd
    import yaml
    from ganbench import run
    from ganbench.harness.probes import Probe, probes

    @probes.register("precision_calibration")
    def precision_calibration():
        return Probe("precision_calibration", lambda ds, obj: ds.is_image,
                     lambda ev: {k: v for k, v in fidelity(ev.fake, ev.dataset, ev.features).items()
                                 if k != "fid"}, final_only=True)

    suite = yaml.safe_load(open("suites/digits.yaml"))
    suite["variants"] = {k: suite["variants"][k] for k in variants.split(",")}
    s = run(suite, out=out, device="cpu", executor="local")
    pd.set_option("display.width", 200)
    print(s[["run_id", "fid", "modes_captured", "modes_effective", "precision", "diagnosis"]]
          .to_string(index=False))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--n", type=int, default=2500)
    ap.add_argument("--runs", nargs=2, metavar=("VARIANTS", "OUT"))
    a = ap.parse_args()
    if a.runs:
        runs(*a.runs)
    else:
        hand_made(a.resolution, a.n)
