"""Image suites end to end through the CLI: tiny digits runs, and the shipped MNIST and
CIFAR-10 suites on tiny files in the real formats with a random-weight Inception."""
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.image_files import random_inception_weights, trust_cifar_files, write_cifar10, write_mnist
from helpers.cli import run_cli

SUITES = Path(__file__).resolve().parent.parent / "suites"

TINY_DIGITS = """
name: tiny_digits
seeds: 2
datasets: [digits, stacked_digits]
defaults:
  steps: 6
  batch_size: 16
  eval_every: 3
  n_eval: 300
  generator: {name: dcgan, width: 8, z_dim: 8}
  discriminator: {name: dcgan, width: 8}
variants:
  nonsaturating: {objective: nonsaturating}
  wgan_gp_sn: {objective: wgan_gp, discriminator: {spectral_norm: true}}
"""


def test_digits_suite_writes_fid_kid_and_modes(tmp_path):
    suite = tmp_path / "tiny_digits.yaml"
    suite.write_text(TINY_DIGITS)
    out = tmp_path / "out"
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 8 and set(summary.status) == {"ok"}
    for col in ("fid", "kid", "modes_captured", "reverse_kl", "classifier_accuracy"):
        assert summary[col].notna().all(), col
    assert (summary.classifier_accuracy >= 0.95).all()
    stacked = summary[summary.dataset == "stacked_digits"]
    assert stacked.modes_captured.between(1, 300).all()          # of 1000, from 300 samples
    assert summary[summary.dataset == "digits"].modes_captured.between(1, 10).all()
    assert "fd" not in summary and "hq_fraction" not in summary  # 2D metrics stay out
    header = (out / "table.md").read_text().splitlines()[0]
    assert "| fid | kid | modes_captured |" in header
    png = out / "runs" / "stacked_digits__nonsaturating__seed0" / "samples.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    hist = pd.read_csv(out / "runs" / "digits__nonsaturating__seed0" / "history.csv")
    assert hist.modes_captured.notna().sum() == 2 and hist.fid.notna().sum() == 1  # fid at the end


def shipped(name: str, tmp_path: Path, dataset_settings: dict) -> Path:
    """The shipped suite, shrunk to a few steps on tiny data, with two of its variants."""
    raw = yaml.safe_load((SUITES / f"{name}.yaml").read_text())
    raw["seeds"] = 1
    raw["variants"] = {k: raw["variants"][k] for k in ("nonsaturating", "hinge_sn")}
    raw["datasets"] = [{**raw["datasets"][0], **dataset_settings}]
    raw["defaults"].update(steps=2, batch_size=4, eval_every=2, n_eval=8)
    raw["defaults"]["generator"]["width"] = raw["defaults"]["discriminator"]["width"] = 4
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def random_inception(monkeypatch):
    from ganbench.harness import features as fidmod
    ckpt = fidmod.hub_checkpoints()
    ckpt.mkdir(parents=True, exist_ok=True)
    random_inception_weights(ckpt / fidmod.INCEPTION_FILE, monkeypatch)
    yield
    (ckpt / fidmod.INCEPTION_FILE).unlink()


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_shipped_gpu_suites_run_on_tiny_files(tmp_path, monkeypatch, random_inception, name):
    """Plumbing only: random Inception weights and 2 training steps."""
    root = tmp_path / "data"
    if name == "mnist":
        write_mnist(root, "MNIST", n_train=12, n_test=4)
    else:
        trust_cifar_files(monkeypatch, write_cifar10(root, per_batch=3))
    out = tmp_path / "out"
    assert run_cli("run", str(shipped(name, tmp_path, {"data_root": str(root)})), "--out", str(out),
                   "--no-progress") == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.status) == {"ok"} and summary.fid.notna().all() and summary.kid.notna().all()
    cfg = json.loads((out / "runs" / summary.run_id[0] / "config.json").read_text())
    assert cfg["config"]["features"] == {"name": "inception", "weights": None}


def test_missing_data_and_weights_are_exit_2_with_one_line(tmp_path, capsys):
    suite = shipped("mnist", tmp_path, {"data_root": str(tmp_path / "nowhere")})
    assert run_cli("run", str(suite), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nowhere/MNIST/raw" in err and "download: true" in err
    write_mnist(tmp_path / "data", "MNIST")
    suite = shipped("mnist", tmp_path, {"data_root": str(tmp_path / "data")})
    assert run_cli("run", str(suite), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "features" in err and "Inception-v3 weights not found" in err


def test_stacked_mnist_literature_suite(tmp_path):
    """suites/literature/stacked_mnist.yaml: PacGAN's numbers as the suite states them
    (64 packs per step, packing m = 1..4, 26,000 samples), then plumbing on tiny
    MNIST-format files: 2 steps, every variant, modes and reverse KL of 1,000 triples."""
    raw = yaml.safe_load((SUITES / "literature" / "stacked_mnist.yaml").read_text())
    assert raw["seeds"] == 10 and raw["defaults"]["steps"] == 100000
    assert raw["datasets"] == [{"name": "stacked_mnist", "resolution": 32}]
    d = raw["defaults"]
    assert (d["generator"]["z_dim"], d["generator"]["width"], d["discriminator"]["width"]) == (100, 64, 64)
    assert d["optimizer"] == {"name": "adam", "lr": 0.0002, "betas": [0.5, 0.999]}
    for m, name in enumerate(["dcgan", "pacdcgan2", "pacdcgan3", "pacdcgan4"], start=1):
        v = raw["variants"][name]
        assert v.get("discriminator", {}).get("packing", 1) == m
        assert v.get("batch_size", d["batch_size"]) == 64 * m             # 64 packs of m
        assert v.get("n_eval", d["n_eval"]) == 26000
    assert raw["published"]["pacgan2018"]["variants"] == {
        "dcgan": "DCGAN (our implementation)", "pacdcgan2": "PacDCGAN2",
        "pacdcgan3": "PacDCGAN3", "pacdcgan4": "PacDCGAN4"}
    root = tmp_path / "data"
    write_mnist(root, "MNIST", n_train=12, n_test=4)
    raw["seeds"] = 1
    raw["datasets"] = [{"name": "stacked_mnist", "resolution": 8, "data_root": str(root),
                        "n_reference": 24}]
    raw["defaults"].update(steps=2, eval_every=2, n_eval=24,
                           features={"name": "digits", "epochs": 1, "min_accuracy": 0.0})
    raw["defaults"]["generator"]["width"] = raw["defaults"]["discriminator"]["width"] = 4
    for v in raw["variants"].values():
        if "batch_size" in v:
            v["batch_size"] //= 16
    raw["defaults"]["batch_size"] = 4
    suite = tmp_path / "stacked_mnist.yaml"
    suite.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert run_cli("run", str(suite), "--out", str(out), "--no-progress") == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 4 and set(summary.status) == {"ok"}
    assert summary.modes_captured.between(1, 24).all() and summary.reverse_kl.notna().all()
    assert summary.fid.notna().all() and (summary.classifier_accuracy >= 0).all()
