"""ganbench.Monitor: the README's example runs as written, its folder is a results folder
the commands read, and its numbers are the harness's numbers on the same samples."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ganbench import Monitor
from ganbench.harness.probes import Evaluation, probes
from ganbench.metrics import diagnosis, frechet_distance, mode_coverage
from ganbench.metrics.series import history_metrics
from helpers.cli import run_cli

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The README's Monitor example, run exactly as written (in a fresh folder)."""
    code = re.search(r"<!-- monitor-example -->\n```python\n(.*?)```", README, re.S).group(1)
    assert "Monitor(" in code and "mon.close()" in code and len(code.splitlines()) <= 35
    tmp = tmp_path_factory.mktemp("monitor")
    import os
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        env: dict = {}
        exec(compile(code, "README monitor example", "exec"), env)
    finally:
        os.chdir(cwd)
    return tmp / "results" / "my_gan", env


def test_example_writes_a_run_folder_like_the_harness(example):
    out, env = example
    run = out / "runs" / "ring8__my_gan__seed0"
    for f in ("config.json", "history.csv", "metrics.json", "samples.png", "discriminator.npz",
              "vanishing.csv", "vanishing.png"):
        assert (run / f).is_file(), f
    h = pd.read_csv(run / "history.csv")
    assert len(h) == 2000 and {"d_loss", "g_loss", "grad_norm_g", "modes_captured"} <= set(h)
    assert h.modes_captured.notna().sum() == 20 and h.grad_norm_g.gt(0).all()
    meta = json.loads((run / "metrics.json").read_text())
    assert meta["status"] == "ok" and meta["steps"] == 2000
    m = meta["metrics"]
    assert m["diagnosis"] and m["evidence"].startswith(m["diagnosis"].split(",")[0])
    assert {"sat_decay_step2000", "ns_decay_step2000", "jsd", "d_star_gap", "mode_drops",
            "grad_vanish_ratio", "osc_amplitude"} <= set(m)
    s = pd.read_csv(out / "summary.csv")
    assert list(s.run_id) == ["ring8__my_gan__seed0"] and s.diagnosis[0] == m["diagnosis"]
    assert (out / "table.md").is_file()


def test_example_folder_passes_report_diagnose_compare_check(example, capsys):
    out, _ = example
    assert run_cli("report", str(out)) == 0
    page = (out / "report.html").read_text()
    assert "<table class='board'>" in page and "ring8__my_gan__seed0 samples" in page
    code = run_cli("diagnose", str(out))
    failing = diagnosis.is_failure(pd.read_csv(out / "summary.csv").diagnosis[0])
    assert code == (1 if failing else 0)
    assert run_cli("compare", str(out)) == 0
    assert run_cli("check", str(out), "--baseline", str(out / "b.yaml"), "--update") == 0
    # one seed a side: no test can reach alpha, which the gate says (and fails on)
    assert "the check will say CANNOT TEST" in capsys.readouterr().err
    assert run_cli("check", str(out), "--baseline", str(out / "b.yaml")) == 1
    err = capsys.readouterr().err
    assert "CANNOT TEST ring8/my_gan modes_captured: 1 vs 1 seeds" in err and "REGRESSED" not in err


def test_example_metrics_are_the_harness_functions_on_the_same_samples(example):
    out, env = example
    mon = env["mon"]
    m = json.loads((out / "runs" / "ring8__my_gan__seed0" / "metrics.json").read_text())["metrics"]
    G, D, z_eval, ring = env["G"], env["D"], env["z_eval"], env["ring"]
    with torch.no_grad():
        fake = G(z_eval).numpy()
        d_real, d_fake = D(mon.real).reshape(-1).numpy(), D(torch.as_tensor(fake)).reshape(-1).numpy()
    ev = Evaluation(ring, type("Obj", (), {"probability": True})(), mon.real.numpy(), fake,
                    d_real, d_fake)
    want = {}
    for name in probes.names():
        pr = probes.build(name)
        if pr.applies(ring, ev.objective):
            want.update({k: v for k, v in pr.measure(ev).items() if not isinstance(v, np.ndarray)})
    assert {"modes_captured", "fd", "jsd", "d_star_gap", "nash_gap", "d_saturation"} <= set(want)
    for k, v in want.items():
        assert m[k] == pytest.approx(v, rel=1e-6, abs=1e-9, nan_ok=True), k
    assert m["modes_captured"] == mode_coverage(fake, ring.centres, ring.stds)["modes_captured"]
    assert m["fd"] == pytest.approx(frechet_distance(mon.real.numpy(), fake), rel=1e-6)
    h = pd.read_csv(out / "runs" / "ring8__my_gan__seed0" / "history.csv")
    assert m["grad_vanish_ratio"] == pytest.approx(history_metrics(h)["grad_vanish_ratio"])
    v = pd.read_csv(out / "runs" / "ring8__my_gan__seed0" / "vanishing.csv")
    assert m["sat_decay_step2000"] == pytest.approx(v.grad_saturating.iloc[0] / v.grad_saturating.iloc[-1])


def test_a_blown_up_loop_is_diverged_with_its_step(tmp_path):
    mon = Monitor(tmp_path / "out", dataset="ring8", variant="boom")
    for step in range(1, 11):
        mon.log(step, d_loss=torch.tensor(1.0 if step < 7 else float("nan")), g_loss=0.5)
    meta = mon.close()
    assert meta["status"] == "diverged" and meta["diverged_at"] == 7
    assert meta["metrics"]["diagnosis"] == "diverged"
    assert "at step 7: d_loss = nan" in meta["metrics"]["evidence"]


def test_image_data_get_fid_and_class_coverage_through_the_suite_extractors(tmp_path):
    """On digits, FID/KID and the class coverage come from the same extractor (the digit
    classifier) a suite uses: the digits themselves score FID ~0 and all 10 classes."""
    from ganbench.data import datasets
    from ganbench.harness.features import build_extractor, fid_kid
    digits = datasets.build("digits")
    mon = Monitor(tmp_path / "out", dataset="digits", variant="real", n_eval=300)
    real = digits.sample(300, torch.Generator().manual_seed(5))
    mon.evaluate(1, samples=real.reshape(-1, *digits.image_shape))
    m = mon.close()["metrics"]
    ext = build_extractor(None, digits).prepare()
    want = fid_kid(real, digits, ext)
    assert m["fid"] == pytest.approx(want["fid"], rel=1e-5) and m["kid"] == pytest.approx(want["kid"], rel=1e-5)
    assert m["modes_captured"] == 10 and m["modes_total"] == 10
    assert math.isfinite(m["classifier_accuracy"])


def test_plain_critic_vanishing_probe_matches_its_definition(tmp_path):
    """The probe on plain modules: a fresh D against a G whose samples are far from the
    ring makes the saturating cost's gradient fall and the non-saturating one's grow."""
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    with torch.no_grad():
        G[2].bias.fill_(6.0)                                  # samples around (6, 6)
    D = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
    before = [p.clone() for p in list(G.parameters()) + list(D.parameters())]
    mon = Monitor(tmp_path / "out", dataset="ring8")
    df = mon.vanishing_probe(0, G, z_dim=4, D=D, d_steps=200)
    assert len(df) == 200 and list(df.columns[:2]) == ["checkpoint", "d_step"]
    sat = df.grad_saturating.to_numpy()
    ns = df.grad_nonsaturating.to_numpy()
    assert sat[0] / sat[-1] > diagnosis.VANISH_FACTOR and ns[-1] > ns[0]
    after = list(G.parameters()) + list(D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after))   # G and D untouched


# --- D's output form: the PyTorch DCGAN tutorial's loop, as written there -------------

NZ = 8


class Generator(nn.Module):
    """The tutorial's Generator, with MLP layers for 2D data."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(NZ, 64), nn.ReLU(True), nn.Linear(64, 64),
                                  nn.ReLU(True), nn.Linear(64, 2))

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    """The tutorial's Discriminator (it ends in nn.Sigmoid), with MLP layers."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(2, 64), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(64, 64), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, input):
        return self.main(input)


def dcgan_tutorial_loop(mon, steps=300, eval_every=100):
    """The tutorial's training loop as it is there (BCELoss on D's sigmoid, real label 1,
    fake 0, Adam 2e-4 betas (0.5, 0.999)), on ring8 batches, under Monitor."""
    from ganbench.data import datasets
    torch.manual_seed(0)
    ring = datasets.build("ring8")
    netG, netD = Generator(), Discriminator()
    criterion = nn.BCELoss()
    real_label, fake_label = 1., 0.
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(1)
    z_eval = torch.randn(2500, NZ, generator=gen)
    for i in range(1, steps + 1):
        netD.zero_grad()
        real_cpu = ring.sample(128, gen)
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        noise = torch.randn(b_size, NZ)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        mon.log(i, d_loss=errD, g_loss=errG, G=netG)
        if i % eval_every == 0:
            with torch.no_grad():
                mon.evaluate(i, samples=netG(z_eval), D=netD)
    return netG, netD, z_eval


def test_a_sigmoid_d_is_detected_and_its_own_outputs_are_recorded(tmp_path, recwarn):
    mon = Monitor(tmp_path / "out", dataset="ring8", variant="dcgan_tutorial")
    G, D, z_eval = dcgan_tutorial_loop(mon)
    meta = mon.close()
    m = meta["metrics"]
    with torch.no_grad():
        p_real = D(mon.real).view(-1)
        p_fake = D(G(z_eval)).view(-1)
    assert m["d_real_mean"] == pytest.approx(p_real.mean().item(), rel=1e-6)
    assert m["d_fake_mean"] == pytest.approx(p_fake.mean().item(), rel=1e-6)
    assert m["d_real_mean"] != pytest.approx(torch.sigmoid(p_real).mean().item(), abs=0.01)  # not σ twice
    gap = abs(p_real.mean().item() - 0.5) + abs(p_fake.mean().item() - 0.5)
    assert m["nash_gap"] == pytest.approx(gap, rel=1e-5)
    assert m["d_saturation"] == pytest.approx((p_fake < 0.01).float().mean().item())
    run = tmp_path / "out" / "runs" / "ring8__dcgan_tutorial__seed0"
    cfg = json.loads((run / "config.json").read_text())["config"]
    assert cfg["d_output"] == "probability" and cfg["d_output_by"] == "detected: D ends in nn.Sigmoid"
    dmap = np.load(run / "discriminator.npz")
    pts = np.stack(np.meshgrid(dmap["xs"], dmap["ys"]), -1).reshape(-1, 2)
    with torch.no_grad():
        own = D(torch.tensor(pts, dtype=torch.float32)).view(-1).numpy()
    np.testing.assert_allclose(dmap["d"].ravel(), own, rtol=1e-6)
    assert bool(dmap["probability"])
    assert not [w for w in recwarn if "Monitor" in str(w.message)]      # certain: no warning


def test_the_vanishing_probe_trains_a_sigmoid_d_on_its_logits(tmp_path):
    """A D ending in nn.Sigmoid and the same D without it, declared a logit D, give the
    same probe: the fresh D is trained on the sigmoid's input, its logits."""
    torch.manual_seed(0)
    G = Generator()

    def make(sigmoid: bool):
        def make_d():
            torch.manual_seed(3)
            D = Discriminator()
            return D if sigmoid else D.main[:-1]
        return make_d
    a = Monitor(tmp_path / "a", dataset="ring8").vanishing_probe(0, G, z_dim=NZ, make_d=make(True),
                                                                 d_steps=40)
    b = Monitor(tmp_path / "b", dataset="ring8", d_output="logit").vanishing_probe(
        0, G, z_dim=NZ, make_d=make(False), d_steps=40)
    pd.testing.assert_frame_equal(a, b, rtol=1e-5)


def test_an_explicit_d_output_overrides_and_a_guess_warns(tmp_path):
    D = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    samples = torch.randn(500, 2)
    mon = Monitor(tmp_path / "out", dataset="ring8", variant="critic", d_output="critic", n_eval=500)
    numbers = mon.evaluate(1, samples=samples, D=D)
    with torch.no_grad():
        raw = D(mon.real).view(-1).mean().item()
    assert numbers["d_real_mean"] == pytest.approx(raw, rel=1e-6) and "nash_gap" not in numbers
    assert mon.close()["status"] == "ok"
    cfg = json.loads((tmp_path / "out" / "runs" / "ring8__critic__seed0" / "config.json").read_text())
    assert cfg["config"]["d_output"] == "critic" and cfg["config"]["d_output_by"] == "given"

    squashed = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    probs = lambda x: torch.sigmoid(squashed(x))  # noqa: E731  (a sigmoid, not an nn.Sigmoid)
    wrapped = type("D", (nn.Module,), {"forward": lambda self, x: probs(x)})()
    wrapped.net = squashed
    guess = Monitor(tmp_path / "out", dataset="ring8", variant="guess", n_eval=500)
    with pytest.warns(UserWarning, match=r"within \[0, 1\].*d_output='logit'"):
        guess.evaluate(1, samples=samples, D=wrapped)
    guess.close()
    cfg = json.loads((tmp_path / "out" / "runs" / "ring8__guess__seed0" / "config.json").read_text())
    assert cfg["config"]["d_output"] == "probability" and cfg["config"]["d_output_by"].startswith("guessed")
