"""GPU workers on a machine without a GPU: two GPUs simulated (torch.cuda patched in
the driver; a suite plugin patches the workers and makes training a group record only
where it ran). Each worker gets one device string, is bound to that GPU, and no GPU
ever has two groups at once; Ray's GPU tasks never reuse a worker; ``--device cuda:N``
is checked."""
import json
import sys

import pytest
import torch

from helpers.fake_cuda import FakeCuda
from ganbench.cli import main
from ganbench.errors import InputError
from ganbench.runs.api import resolve_device, run

PLUGIN = '''
"""In a worker (a spawned process or a Ray task): two fake GPUs, and training a group
records where it ran (as its runs' error) instead of training."""
import json, multiprocessing, os, time
import torch


def in_worker() -> bool:
    if multiprocessing.parent_process() is not None:
        return True
    import ray
    return ray.is_initialized() and ray._private.worker.global_worker.mode == ray.WORKER_MODE


if in_worker():
    state = {"current": 0}

    def set_device(d):
        state["current"] = d if isinstance(d, int) else torch.device(d).index

    torch.cuda.is_available = lambda: True
    torch.cuda.device_count = lambda: 2
    torch.cuda.current_device = lambda: state["current"]
    torch.cuda.set_device = set_device
    from ganbench.harness.recorder import SeedResult
    from ganbench.runs import training
    from ganbench.runs.store import run_files, spec_record

    def train_group(group, device, on_steps=None, resume=None, reraise=False, live=None):
        start = time.time()
        time.sleep(2.0)   # long enough for the two workers to overlap
        info = {"pid": os.getpid(), "device": device, "current": state["current"],
                "visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "start": start, "end": time.time()}
        return [run_files(spec_record(s), SeedResult(s.seed, "failed", 0, error=json.dumps(info)), 0.0,
                          len(group.specs), device) for s in group.specs]

    training.train_group = train_group
'''

SUITE = """
name: gpus
seeds: 1
imports: [fake_gpu_plugin.py]
datasets: [ring8]
defaults: {steps: 10, batch_size: 16, eval_every: 10, n_eval: 32,
           generator: {name: mlp, width: 8, depth: 1}, discriminator: {name: mlp, width: 8, depth: 1}}
variants: {ns: {objective: nonsaturating}, ns2: {objective: nonsaturating, n_critic: 2},
           ns3: {objective: nonsaturating, n_critic: 3}}
"""     # three groups (n_critic splits a stack; the 2D sets would stack together)


@pytest.fixture
def suite(tmp_path):
    (tmp_path / "fake_gpu_plugin.py").write_text(PLUGIN)
    (tmp_path / "gpus.yaml").write_text(SUITE)
    return tmp_path / "gpus.yaml"


def where_groups_ran(out) -> list[dict]:
    infos = [json.loads(json.loads(f.read_text())["error"]) for f in out.glob("runs/*/metrics.json")]
    assert len(infos) == 3
    return infos


def overlapping(infos):
    return [(a, b) for i, a in enumerate(infos) for b in infos[i + 1:]
            if a["start"] < b["end"] and b["start"] < a["end"]]


def test_process_workers_are_each_bound_to_one_gpu(suite, tmp_path, monkeypatch):
    FakeCuda(monkeypatch, n=2)
    run(suite, tmp_path / "out", device="cuda", executor="process", workers=2)
    infos = where_groups_ran(tmp_path / "out")
    assert {i["device"] for i in infos} == {"cuda:0", "cuda:1"}
    for i in infos:                       # the process's current GPU is the one it was given
        assert i["current"] == int(i["device"][-1]), i
    devices_of = {}
    for i in infos:
        devices_of.setdefault(i["pid"], set()).add(i["device"])
    assert all(len(d) == 1 for d in devices_of.values()), devices_of
    assert overlapping(infos), "the two workers should have trained side by side"
    assert all(a["device"] != b["device"] for a, b in overlapping(infos))


def test_ray_gpu_tasks_get_one_gpu_each_and_never_reuse_a_worker(suite, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    FakeCuda(monkeypatch, n=2)
    try:
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
        run(suite, tmp_path / "out", device="cuda", executor="ray")
    finally:
        ray.shutdown()
    infos = where_groups_ran(tmp_path / "out")
    assert {i["device"] for i in infos} == {"cuda"}            # Ray's GPU is the task's only one
    assert {i["visible"] for i in infos} <= {"0", "1"}
    assert len({i["pid"] for i in infos}) == 3, "a GPU worker was reused (max_calls)"
    assert all(a["visible"] != b["visible"] for a, b in overlapping(infos))


def test_device_names_are_checked(monkeypatch, suite, tmp_path, capsys):
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda:0")
    FakeCuda(monkeypatch, n=2)
    assert resolve_device("cuda:1") == "cuda:1" and resolve_device("cuda") == "cuda"
    assert resolve_device("cuda:01") == "cuda:1"
    for bad in ("cuda:2", "cuda:x", "cuda:-1", "cuda:"):
        with pytest.raises(InputError, match="no such GPU|expected"):
            resolve_device(bad)
    with pytest.raises(InputError, match="gpu"):
        resolve_device("gpu")
    # Ray assigns GPUs itself: a named one is bad input, before any work
    with pytest.raises(SystemExit) as e:
        main(["run", str(suite), "--out", str(tmp_path / "o"), "--executor", "ray",
              "--device", "cuda:1"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--device cuda:1" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
