"""End-of-run checkpoints: model.pt in each run folder, and ganbench.load_generator /
sample / load_discriminator / evaluation_noise reproduce the run's final evaluation
exactly, for runs trained stacked with other seeds and variants."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml
from torch import nn

import ganbench
from ganbench.errors import InputError
from ganbench.harness.artifacts import MODEL_FILE
from ganbench.harness.evaluation import generate
from ganbench.harness.saved import FILE, model_bytes
from ganbench.models import build_model, discriminators, generators

SUITE = {
    "name": "saved", "seeds": 2, "datasets": ["ring8"],
    "defaults": {"steps": 40, "batch_size": 32, "eval_every": 20, "n_eval": 300,
                 "generator": {"name": "mlp", "width": 16, "depth": 2, "z_dim": 3, "batch_norm": True},
                 "discriminator": {"name": "maxout", "width": 8, "depth": 2, "pieces": 3},
                 "optimizer": {"name": "adam", "lr": 0.002}},
    "variants": {"plain": {}, "averaged": {"ema": {"decay": 0.9}, "optimizer": {"lr": 0.001}},
                 "kept": {"ema": {"decay": 0.9, "evaluate": False}},
                 "none": {"checkpoint": False}},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("saved")
    summary = ganbench.run(SUITE, out=out, executor="local")
    assert (summary.status == "ok").all()
    return out


def run_dir(out, variant, seed):
    return out / "runs" / f"ring8__{variant}__seed{seed}"


@pytest.mark.parametrize("variant", ["plain", "averaged", "kept"])
@pytest.mark.parametrize("seed", [0, 1])
def test_loaded_generator_reproduces_the_final_evaluation_exactly(results, variant, seed):
    d = run_dir(results, variant, seed)
    G = ganbench.load_generator(d)
    z = ganbench.evaluation_noise(d)
    assert z.shape == (300, 3) and G.z_dim == 3 and not G.training
    with torch.no_grad():
        x = G(z).numpy()
    saved = np.load(d / "discriminator.npz")
    np.testing.assert_array_equal(x, saved["fake"])         # the final evaluation's samples
    # and the discriminator: D's map over the plane, as the run drew it
    pts = torch.tensor(np.stack(np.meshgrid(saved["xs"], saved["ys"]), -1).reshape(-1, 2),
                       dtype=torch.float32)
    with torch.no_grad():
        dmap = torch.sigmoid(ganbench.load_discriminator(d)(pts)).numpy().reshape(saved["d"].shape)
    np.testing.assert_allclose(dmap, saved["d"], rtol=1e-6, atol=1e-7)


def test_ema_choice_and_sampling(results):
    avg = run_dir(results, "averaged", 0)
    z = ganbench.evaluation_noise(avg)
    with torch.no_grad():
        trained = ganbench.load_generator(avg, ema=False)(z)
        averaged = ganbench.load_generator(avg, ema=True)(z)
        default = ganbench.load_generator(avg)(z)
    assert torch.equal(default, averaged) and not torch.allclose(trained, averaged)
    kept = run_dir(results, "kept", 0)                       # averaged, not evaluated
    with torch.no_grad():
        assert torch.equal(ganbench.load_generator(kept)(z), ganbench.load_generator(kept, ema=False)(z))
    with pytest.raises(InputError, match="no averaged generator"):
        ganbench.load_generator(run_dir(results, "plain", 0), ema=True)
    x = ganbench.sample(avg, 50, seed=4)
    with torch.no_grad():
        want = ganbench.load_generator(avg)(torch.randn(50, 3, generator=torch.Generator().manual_seed(4)))
    assert x.shape == (50, 2) and torch.equal(x, want)
    assert not torch.equal(x, ganbench.sample(avg, 50, seed=5))


def test_checkpoint_false_writes_none(results):
    none = run_dir(results, "none", 1)
    assert (none / "metrics.json").is_file() and not (none / FILE).exists()
    with pytest.raises(InputError, match="checkpoint: false"):
        ganbench.load_generator(none)


def test_model_file_holds_one_seed_and_how_to_rebuild_it(results):
    payload = torch.load(run_dir(results, "averaged", 1) / FILE, weights_only=True)
    assert MODEL_FILE == FILE
    assert payload["seed"] == 1 and payload["steps"] == 40 and payload["status"] == "ok"
    assert payload["ema"] == {"decay": 0.9, "start": 0, "evaluate": True}
    assert payload["generator"]["batch_norm"] is True and payload["discriminator"]["name"] == "maxout"
    for key in ("G", "D", "G_ema"):
        assert all(t.shape[0] == 1 for t in payload[key].values()), key
    assert "net.1.running_var" in payload["G_ema"]
    suite = yaml.safe_load((results / "suite.yaml").read_text())
    assert suite["variants"]["none"]["checkpoint"] is False


# --- generators whose evaluation is chunked (batch statistics), and plain modules -----

@generators.register("test_saved_plain_g")
def plain_g(data_dim: int, z_dim: int = 3) -> nn.Module:
    return nn.Sequential(nn.Linear(z_dim, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, data_dim))


@pytest.mark.parametrize("spec,data,n", [
    ({"name": "dcgan", "width": 8, "z_dim": 4}, SimpleNamespace(dim=64, image_shape=(1, 8, 8)), 700),
    ({"name": "test_saved_plain_g"}, SimpleNamespace(dim=2), 600),
])
def test_chunked_and_plain_generators_round_trip(tmp_path, spec, data, n):
    init = [torch.Generator().manual_seed(s) for s in (3, 4)]
    G = build_model(generators, spec, "generator", data, init)
    z = torch.randn(2, n, G.z_dim)
    with torch.no_grad():
        want = generate(G, z)
    meta = {"seed": 4, "status": "ok", "steps": 0, "dataset": {"name": "x"}, "data_dim": data.dim,
            "image_shape": getattr(data, "image_shape", None), "generator": spec,
            "discriminator": {"name": "mlp"}, "ema": None}
    D = build_model(discriminators, {"name": "mlp", "width": 4, "depth": 1}, "d",
                    SimpleNamespace(dim=data.dim), init)
    (tmp_path / FILE).write_bytes(model_bytes(1, G, D, None, z[1], meta))
    loaded = ganbench.load_generator(tmp_path)
    assert loaded.image_shape == getattr(data, "image_shape", None)
    with torch.no_grad():
        got = loaded(ganbench.evaluation_noise(tmp_path))
    # grouped convolutions (DCGAN) and vmap (plain modules) may sum in another order with
    # one seed than with two: equal up to float rounding (MLPs: bit for bit, above)
    torch.testing.assert_close(got, want[1], rtol=1e-5, atol=1e-6)
