"""No training step waits for the device: with every host read counted
(tests/host_syncs.py: item, float(), bool(), .cpu(), .numpy(), .tolist(), moves to a
device, data-dependent shapes), a step of the MLP and DCGAN models under every update
scheme, penalty, objective and stacking makes none (the first step may copy a few
constants to the device, once)."""
import pytest
import torch

from ganbench.config.suite import parse_suite
from helpers.host_syncs import HostSyncs
from ganbench.harness.loop import Loop

MLP = {"generator": {"name": "mlp", "width": 8, "depth": 2, "z_dim": 4},
       "discriminator": {"name": "mlp", "width": 8, "depth": 2}}
DCGAN = {"generator": {"name": "dcgan", "width": 8, "z_dim": 8},
         "discriminator": {"name": "dcgan", "width": 8}}
SMALL = {"steps": 6, "eval_every": 6, "batch_size": 8, "n_eval": 16,
         "optimizer": {"name": "adam", "lr": 1e-3}}

CASES = {
    "alternating": ("ring8", MLP, {"v": {"objective": "nonsaturating"}}),
    "g_first": ("ring8", MLP, {"v": {"update": {"name": "alternating", "order": "g_first"},
                                     "n_critic": 2}}),
    "simultaneous+consensus": ("moons", MLP, {"v": {"update": "simultaneous",
                                                    "regularizers": [{"name": "consensus"}]}}),
    "unrolled adam": ("ring8", MLP, {"v": {"update": {"name": "unrolled", "k": 2}}}),
    "unrolled amsgrad": ("ring8", MLP, {"v": {"update": {"name": "unrolled", "k": 2},
                                              "optimizer": {"amsgrad": True}}}),
    "unrolled rmsprop first order + clip": (
        "spiral", MLP, {"v": {"update": {"name": "unrolled", "k": 2, "second_order": False},
                              "objective": "wgan", "optimizer": {"name": "rmsprop"}}}),
    "unrolled sgd": ("grid25", MLP, {"v": {"update": {"name": "unrolled", "k": 2},
                                           "optimizer": {"name": "sgd"}}}),
    "penalties": ("ring8", MLP, {"v": {"objective": "wgan_gp", "regularizers": [
        {"name": "r1"}, {"name": "r2"}, {"name": "dragan"},
        {"name": "instance_noise", "anneal": True}]}}),
    "relativistic + pacgan": ("ring8", {**MLP, "discriminator": {"name": "pacgan", "width": 8}},
                              {"v": {"objective": "relativistic"}}),
    "dirac": ("dirac", {"generator": "dirac", "discriminator": "linear"},
              {"v": {"optimizer": {"name": "sgd", "lr": 0.1}}}),
    "wide stack": ("ring8", MLP, {"a": {"objective": "minimax", "optimizer": {"lr": 1e-3}},
                                  "b": {"objective": "lsgan", "optimizer": {"lr": 3e-4}},
                                  "c": {"objective": {"name": "wgan", "clip": 0.1},
                                        "optimizer": {"lr": 2e-4}}}),
    "wide stack rmsprop sgd": ("ring8", MLP, {
        "a": {"optimizer": {"name": "rmsprop", "lr": 1e-3}, "regularizers": [{"name": "r1", "weight": 1}]},
        "b": {"optimizer": {"name": "rmsprop", "lr": 3e-4, "momentum": 0.5},
              "regularizers": [{"name": "r1", "weight": 10}]}}),
    "dcgan": ("digits", DCGAN, {"v": {"objective": "nonsaturating"}}),
    "dcgan spectral norm + r1 + stacked digits": (
        "stacked_digits", {**DCGAN, "discriminator": {"name": "dcgan", "width": 8, "spectral_norm": True}},
        {"v": {"regularizers": [{"name": "r1"}]}}),
    "dcgan wgan_gp simultaneous": ("digits", DCGAN, {"v": {"objective": "wgan_gp",
                                                           "update": "simultaneous", "n_critic": 2}}),
}


def build(dataset, models, variants):
    specs = parse_suite({"seeds": 2, "datasets": [dataset], "defaults": {**SMALL, **models},
                         "variants": variants}).specs
    return Loop(specs[0].dataset_spec(), [s.config for s in specs], [s.seed for s in specs])


@pytest.mark.parametrize("case", list(CASES))
def test_a_training_step_never_waits_for_the_device(case):
    loop = build(*CASES[case])
    hist = torch.full((6, len(loop.seeds), len(loop.columns)), float("nan"))
    with HostSyncs() as first:
        loop.step(0, hist)               # the first step also makes the optimizers' state
    with HostSyncs() as later:
        for step in range(1, 6):
            loop.step(step, hist)
    assert not later.hits, f"{len(later.hits)} host syncs in 5 steps:\n{later.report()}"
    # the first step may copy constants to the device once (per-slice numbers, made on
    # first use and kept); it reads nothing back
    reads = [h for h in first.hits if h[0] not in ("aten::lift_fresh", "Tensor.to")]
    assert not reads, f"{len(reads)} host reads in the first step:\n{first.report()}"
    assert torch.isfinite(hist).all()


def test_the_counter_sees_every_kind_of_host_sync():
    x = torch.ones(3)
    with HostSyncs() as s:
        x.sum().item()
        float(x[0])
        bool(x[0] > 0)
        x.detach().cpu()
        x.detach().numpy()
        x.tolist()
        x.to("cpu")
        x[x > 0]                          # a boolean mask: its size is the data's
        torch.tensor([1.0, 2.0])          # host data
        x.to(torch.float64)               # a dtype only: not a sync
    kinds = [what for what, _ in s.hits]
    assert all("test_host_syncs.py" in where for _, where in s.hits), s.report()
    assert kinds == ["Tensor.item", "Tensor.__float__", "Tensor.__bool__", "Tensor.cpu",
                     "Tensor.numpy", "Tensor.tolist", "Tensor.to",
                     "aten::index by a boolean mask", "aten::lift_fresh"], s.report()
