"""Generator weight averaging (ema): the averaged weights after n steps against a hand
computation, per-slice decays and starts, buffers, evaluation on the average, and the
setting's checks."""
import numpy as np
import pytest
import torch
from torch import nn

from ganbench.config.suite import parse_suite
from ganbench.errors import InputError
from ganbench.harness.averaging import GeneratorAverage
from ganbench.harness.evaluation import generate
from ganbench.harness.loop import Loop

SMALL = {"steps": 12, "eval_every": 1, "batch_size": 32, "n_eval": 100,
         "generator": {"name": "mlp", "width": 8, "depth": 1, "z_dim": 2, "batch_norm": True},
         "discriminator": {"name": "mlp", "width": 8, "depth": 1},
         "optimizer": {"name": "adam", "lr": 0.01}}


def configs(variants: dict, **defaults) -> list[dict]:
    raw = {"datasets": ["ring8"], "defaults": {**SMALL, **defaults}, "variants": variants}
    return [sp.config for sp in parse_suite(raw).specs]


def hand_average(snapshots: list[np.ndarray], decay: float, start: int) -> np.ndarray:
    """snapshots[t] = the weights after t steps (t = 0: initial), in float64."""
    avg = snapshots[0].astype(np.float64)
    for t in range(1, len(snapshots)):
        avg = snapshots[t] if t <= start else decay * avg + (1 - decay) * snapshots[t]
    return avg


class Toy(nn.Module):
    def __init__(self, S):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(S, 3))
        self.register_buffer("stat", torch.zeros(S, 3))
        self.register_buffer("count", torch.zeros(S, dtype=torch.long))


def test_average_by_hand_per_slice_decay_and_start():
    G = Toy(3)
    avg = GeneratorAverage(G, decays=[0.9, 0.5, 0.9], starts=[0, 0, 3])
    snaps, stats = [G.w.detach().clone().numpy()], [G.stat.clone().numpy()]
    rng = np.random.default_rng(0)
    for t in range(1, 8):
        with torch.no_grad():
            G.w.copy_(torch.tensor(rng.normal(size=(3, 3)), dtype=torch.float32))
            G.stat.copy_(G.w * 2)
            G.count += t
        avg.update(t)
        snaps.append(G.w.detach().clone().numpy())
        stats.append(G.stat.clone().numpy())
    for s, (d, st) in enumerate([(0.9, 0), (0.5, 0), (0.9, 3)]):
        want = hand_average([x[s] for x in snaps], d, st)
        np.testing.assert_allclose(avg.avg.w[s].numpy(), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(avg.avg.stat[s].numpy(), hand_average([x[s] for x in stats], d, st),
                                   rtol=1e-5, atol=1e-6)
    assert torch.equal(avg.avg.count, G.count)          # integer buffers are copied
    assert not avg.avg.w.requires_grad and not avg.avg.training


@pytest.mark.parametrize("decay,start", [(0.8, 0), (0.5, 5)])
def test_averaged_generator_of_a_run_by_hand(decay, start):
    cfg = configs({"a": {"ema": {"decay": decay, "start": start}}})[0]
    loop = Loop({"name": "ring8"}, cfg, [3])
    G, avg = loop.players.G, loop.average
    snaps = [{n: p.detach().clone().numpy() for n, p in G.state_dict().items()}]
    fakes = []

    def snapshot(step):                           # called after each step's evaluation
        snaps.append({n: p.detach().clone().numpy() for n, p in G.state_dict().items()})
        fakes.append(loop.evaluator.last_fake.copy())
    res = loop.run(snapshot)
    assert len(snaps) == 13 and res[0].status == "ok"
    for name, value in avg.avg.state_dict().items():        # weights and BN running statistics
        want = hand_average([s[name] for s in snaps], decay, start)
        np.testing.assert_allclose(value.numpy(), want, rtol=1e-4, atol=1e-6, err_msg=name)
    # evaluations drew from the averaged G (eval mode), not from G
    np.testing.assert_array_equal(fakes[-1], generate(avg.avg, loop.evaluator.z).detach().numpy())
    assert not np.allclose(fakes[-1], generate(G, loop.evaluator.z).detach().numpy())


def test_evaluate_false_keeps_evaluating_g():
    cfg = configs({"a": {"ema": {"decay": 0.9, "evaluate": False}}})[0]
    loop = Loop({"name": "ring8"}, cfg, [0])
    loop.run()
    np.testing.assert_array_equal(loop.evaluator.last_fake,
                                  generate(loop.players.G, loop.evaluator.z).detach().numpy())


@pytest.mark.parametrize("ema,path", [
    ({"decay": 1.0}, "ema.decay"), ({"decay": -0.1}, "ema.decay"), ({"decay": "x"}, "ema.decay"),
    ({"start": -1}, "ema.start"), ({"start": 1.5}, "ema.start"), ({"evaluate": "yes"}, "ema.evaluate"),
    ({"decya": 0.9}, "ema.decya"), (0.999, "ema"), ([0.9], "ema"),
])
def test_bad_ema_settings_name_the_field(ema, path):
    with pytest.raises(InputError, match=path.replace(".", r"\.")):
        configs({"a": {"ema": ema}})


def test_ema_resolves_with_defaults_and_a_variant_can_turn_it_off():
    on, off, tuned = configs({"on": {}, "off": {"ema": None}, "tuned": {"ema": {"start": 100}}},
                             ema={"decay": 0.99})
    assert on.ema.as_dict() == {"decay": 0.99, "start": 0, "evaluate": True}
    assert off.ema is None
    assert (tuned.ema.decay, tuned.ema.start, tuned.ema.evaluate) == (0.99, 100, True)
    assert configs({"a": {}})[0].ema is None                 # off by default
