"""``python -m ganbench.selftest``: its CPU form end to end, and its pieces: the suites it
carries agree with the shipped ones, the checkout's tests are found (or reported
skipped from an installed package), a changed bit fails the repeat, a tensor off the
device fails placement, bad options are one line and exit 2; and the kernel counter
of ganbench.profiling against a hand count."""
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml

from ganbench.profiling import aten_kernels, cuda_launches, timed
from ganbench.selftest import checkout_tests
from ganbench.selftest.__main__ import main
from ganbench.selftest.budget import BUDGETS, raw_suite, sized
from ganbench.selftest.repeat import differences
from ganbench.selftest.speed import placement

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_suites_are_the_shipped_ones():
    """mog.yaml is suites/mog.yaml; digits.yaml is suites/digits.yaml with one of its variants."""
    assert raw_suite("mog") == yaml.safe_load((ROOT / "suites/mog.yaml").read_text())
    shipped, ours = yaml.safe_load((ROOT / "suites/digits.yaml").read_text()), raw_suite("digits")
    assert {k: v for k, v in ours.items() if k != "variants"} == \
        {k: v for k, v in shipped.items() if k != "variants"}
    assert ours["variants"].items() <= shipped["variants"].items()
    gpu = sized("mog", BUDGETS["cuda"])
    assert gpu["defaults"]["steps"] == 500 and gpu["seeds"] == 5 and len(gpu["variants"]) == 9


def test_the_cpu_selftest_runs_every_part_and_reports(tmp_path):
    """The CPU form, as a user runs it (the checkout's tests left out: CI runs them)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "ganbench.selftest", "--device", "cpu",
                        "--out", str(tmp_path / "st"), "--skip", "tests"],
                       capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    report = json.loads((tmp_path / "st" / "selftest.json").read_text())
    parts = report["parts"]
    assert report["verdict"] == "passed" and parts["tests"]["status"] == "skipped"
    assert all(parts[k]["status"] == "passed" for k in ("mog", "digits", "repeat")), parts
    mog = parts["mog"]
    assert mog["suite"]["runs"] == 90 and len(mog["groups"]) == 6     # ring8 with grid25
    for g in mog["groups"]:
        assert g["placement"]["off_device"] == [] and g["aten_kernels"] > 50 and g["ms_per_step"] > 0
        assert g["cuda_launches"] is None and g["host_syncs"] is None        # CPU: not counted
    assert all(r["fid"] is not None and r["device"] == "cpu" for r in parts["digits"]["runs"])
    assert parts["repeat"]["equal"] == parts["repeat"]["runs"] == 6
    assert report["environment"]["torch"] == torch.__version__
    out = p.stdout
    assert "PASSED" in out and "report:" in out and "us/kernel" in out
    print(out, f"\nwall {time.perf_counter() - t0:.0f} s")


# --- the checkout's tests ---------------------------------------------------------------
def fake_checkout(root: Path) -> Path:
    (root / "ganbench").mkdir(parents=True)
    t = root / checkout_tests.MARKER
    t.parent.mkdir(parents=True)
    t.write_text("def test_passes():\n    assert True\n\n\ndef test_fails():\n    assert 1 == 2\n")
    return root


def test_the_checkouts_tests_run_and_each_outcome_is_reported(tmp_path):
    root = fake_checkout(tmp_path / "checkout")
    (tmp_path / "out").mkdir()
    part = checkout_tests.run_tests(tmp_path / "out", root / "tests",
                                    tests=[checkout_tests.MARKER])
    assert part["status"] == "failed" and part["checkout"] == str(root)
    assert part["counts"] == {"passed": 1, "failed": 1, "error": 0, "skipped": 0}
    outcome = {t["test"].split("::")[1]: t["outcome"] for t in part["tests"]}
    assert outcome == {"test_passes": "passed", "test_fails": "failed"}
    assert "1 passed, 1 failed" in checkout_tests.summary_line(part)


def test_an_installed_package_without_tests_reports_them_skipped(tmp_path, monkeypatch):
    site = tmp_path / "site-packages" / "ganbench"
    site.mkdir(parents=True)
    monkeypatch.setattr(checkout_tests, "PACKAGE", site)
    monkeypatch.chdir(tmp_path)
    part = checkout_tests.run_tests(tmp_path)
    assert part["status"] == "skipped"
    assert "not with the installed package" in part["reason"] and "--tests PATH" in part["reason"]
    root, how = checkout_tests.find_checkout(tmp_path / "nowhere")
    assert root is None and "no tests/harness/test_host_syncs.py there" in how
    assert checkout_tests.find_checkout(fake_checkout(tmp_path / "c"))[0] == tmp_path / "c"


# --- the repeat's comparison -------------------------------------------------------------
def write_run(folder: Path, fid: float, weight: torch.Tensor, wall: float) -> None:
    run = folder / "runs" / "r0"
    run.mkdir(parents=True)
    (run / "history.csv").write_text("step,d_loss\n1,0.5\n")
    (run / "metrics.json").write_text(json.dumps({"run_id": "r0", "wall_s": wall, "group_wall_s": wall,
                                                  "metrics": {"fid": fid, "osc_period": None}}))
    torch.save({"G": {"w": weight}}, run / "model.pt")


def test_the_repeat_finds_one_changed_bit_and_ignores_wall_times(tmp_path):
    w = torch.randn(3, 4)
    write_run(tmp_path / "a", 12.5, w, wall=1.0)
    write_run(tmp_path / "same", 12.5, w.clone(), wall=2.0)
    assert differences(tmp_path / "a", tmp_path / "same") == {"r0": []}
    flipped = w.clone()
    flipped.view(-1).view(torch.int32)[5] ^= 1                       # the last bit of one weight
    write_run(tmp_path / "bit", 12.5, flipped, wall=1.0)
    assert differences(tmp_path / "a", tmp_path / "bit") == {"r0": ["model.pt"]}
    write_run(tmp_path / "ulp", float(torch.nextafter(torch.tensor(12.5, dtype=torch.float64),
                                                      torch.tensor(13.0, dtype=torch.float64))), w, 1.0)
    assert differences(tmp_path / "a", tmp_path / "ulp") == {"r0": ["metrics.fid"]}


# --- placement --------------------------------------------------------------------------
def test_placement_names_a_tensor_off_the_device():
    G, D = torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.BatchNorm1d(1))
    opt = torch.optim.Adam(G.parameters())
    G(torch.ones(1, 2)).sum().backward()
    opt.step()                                     # state: a CPU step count and two moments
    players = SimpleNamespace(G=G, D=D, opt_g=opt, opt_d=torch.optim.SGD(D.parameters()),
                              noise=lambda n: torch.zeros(n, 2), real_batch=lambda n: torch.zeros(n, 3))
    ok = placement(players, torch.device("cpu"))
    assert ok == {"tensors": 2 + 7 + 6 + 2, "off_device": [], "host_scalars": 0}
    D[1].running_mean = D[1].running_mean.to("meta")
    off = placement(players, torch.device("cpu"))["off_device"]
    assert off == ["D.1.running_mean on meta"]
    assert placement(players, torch.device("meta"))["off_device"][0] == "G.weight on cpu"


# --- the command line -------------------------------------------------------------------
@pytest.mark.parametrize("args, says", [
    (["--device", "tpu"], "--device tpu"),
    (["--device", "cuda:7"], "--device cuda:7"),
    (["--skip", "everything"], "--skip"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_options_are_one_line_and_exit_2(args, says, capsys, tmp_path):
    try:
        code = main(args + ["--out", str(tmp_path)])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1, err


# --- ganbench.profiling -----------------------------------------------------------------
def test_kernels_are_the_lowest_aten_ops_that_do_work():
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    x, w = torch.randn(4, 16, 8), torch.randn(4, 8, 8)
    assert aten_kernels(lambda: (a + b).relu()) == 2                        # add, relu
    assert aten_kernels(lambda: (a.view(-1) * 2).sum()) == 2                 # mul, sum
    assert aten_kernels(lambda: a.view(64)[:5].clone()) == 1                 # the copy only
    assert aten_kernels(lambda: a.T.reshape(64)) == 1         # not contiguous: reshape copies
    # mm calls only resolve_conj (no kernel): it counts; linear and matmul above it do not
    assert aten_kernels(lambda: torch.nn.functional.linear(a, b)) == 1
    assert aten_kernels(lambda: torch.bmm(x, w)) == 1
    # baddbmm copies its input into the output (copy_), then one GEMM adds to it
    assert aten_kernels(lambda: torch.baddbmm(x[:, :, :8], x, w)) == 2
    assert cuda_launches(lambda: a + b, "cpu") is None
    assert timed(lambda: time.sleep(0.02), 3, "cpu", warmup=0) == pytest.approx(0.02, abs=0.015)
