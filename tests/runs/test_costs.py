"""The cost model: what it counts of a group (checked by hand), how its prediction is
made of its parts, and its measured coefficients (every term has one, with where it was
measured)."""
import json

import pytest

from ganbench.config.suite import parse_suite
from ganbench.runs import costs
from ganbench.runs.groups import pending_groups

MLP = {"generator": {"name": "mlp", "width": 64, "depth": 3, "z_dim": 16},
       "discriminator": {"name": "mlp", "width": 64, "depth": 3}}


def features(variant: dict, seeds: int = 3, **defaults):
    s = parse_suite({"seeds": seeds, "datasets": ["ring8"], "defaults": {**MLP, **defaults},
                     "variants": {"v": variant}})
    return costs.features_of(s.specs)


def test_network_sizes_are_the_multiply_adds_counted_by_hand():
    f = features({"objective": "nonsaturating"}, steps=1000, eval_every=100)
    # G: 16 -> 64 -> 64 -> 64 -> 2; D: 2 -> 64 -> 64 -> 64 -> 1 (per sample, one forward)
    assert f.g_macs == 16 * 64 + 64 * 64 * 2 + 64 * 2
    assert f.d_macs == 2 * 64 + 64 * 64 * 2 + 64
    assert f.g_params == f.g_macs + 3 * 64 + 2 and f.d_params == f.d_macs + 3 * 64 + 1
    assert (f.g_tensors, f.d_tensors) == (8, 8)
    assert (f.runs, f.steps, f.evaluations, f.n_critic, f.penalties) == (3, 1000, 9, 1, 0)
    # PacGAN: the pack of 2 widens D's first layer only; per sample, half a pack's work
    packed = features({"discriminator": {"name": "pacgan", "packing": 2, "width": 64, "depth": 3}})
    assert packed.d_macs == (4 * 64 + 64 * 64 * 2 + 64) / 2


def test_what_shapes_a_step_is_read_from_the_settings():
    gp = features({"objective": {"name": "wgan_gp"}, "n_critic": 5, "regularizers": [{"name": "r1"}]})
    assert (gp.n_critic, gp.penalties, gp.unrolled, gp.g_real) == (5, 2, 0.0, False)
    assert features({"update": {"name": "unrolled", "k": 3}}).unrolled == 6.0   # second order
    assert features({"objective": "relativistic"}).g_real
    assert features({"ema": {"decay": 0.99}}).ema
    probe = features({"checkpoint_probes": [{"name": "vanishing", "at": [0, 50], "d_steps": 30}]})
    assert probe.probe_d_steps == 60


def test_a_prediction_is_its_parts_and_its_share_grows_with_the_steps():
    f = features({"objective": "nonsaturating"}, seeds=5, steps=1000, eval_every=100)
    p = costs.predict(f)
    coef = costs.coefficients()["seconds"]
    assert p.seconds == pytest.approx(sum(coef[k] * v for k, v in f.terms().items()))
    assert p.seconds == pytest.approx(p.fixed + 1000 * p.per_step + 9 * p.per_evaluation + p.end)
    assert p.done_after(0, f) == pytest.approx(p.fixed / p.seconds)
    shares = [p.done_after(n, f) for n in (100, 500, 1000)]
    assert shares == sorted(shares) and shares[-1] == pytest.approx(1 - p.end / p.seconds)
    deeper = costs.predict(features({"objective": "nonsaturating"}, seeds=20, steps=1000, eval_every=100))
    assert deeper.per_step > p.per_step and deeper.end > p.end


def test_every_term_has_a_measured_coefficient_with_its_provenance():
    sets = json.loads(costs.COEFFICIENTS.read_text())
    f = features({"objective": "nonsaturating"})
    for kind, found in sets.items():
        assert set(found["seconds"]) == set(f.terms()), kind
        assert all(v >= 0 for v in found["seconds"].values())
        measured = found["measured"]
        assert {"by", "date", "torch", "cpu", "threads", "median_abs_error"} <= set(measured)


def test_groups_start_longest_first_by_the_model(tmp_path):
    s = parse_suite({"seeds": 3, "datasets": ["ring8"], "defaults": {**MLP, "steps": 200},
                     "variants": {"ns": {"objective": "nonsaturating"},
                                  "gp": {"objective": "wgan_gp", "n_critic": 5},
                                  "r1": {"regularizers": [{"name": "r1"}]}}})
    from ganbench.runs.groups import longest_first
    order = [g.label for g in longest_first(pending_groups(tmp_path, s.specs))]
    assert order == ["ring8/gp", "ring8/r1", "ring8/ns"]


def test_a_stack_across_datasets_pays_the_end_of_those_with_a_density():
    def group(datasets):
        s = parse_suite({"seeds": 2, "datasets": datasets, "defaults": {**MLP, "steps": 200},
                         "variants": {"v": {}}})
        return costs.features_of(s.specs)
    mixed, known, unknown = group(["ring8", "spiral"]), group(["ring8", "grid25"]), group(["spiral"])
    assert (mixed.density, known.density, unknown.density) == (0.5, 1.0, 0.0)
    theory = costs.coefficients()["seconds"]["end_theory"] * 4 * 2500 ** 2 / 1e6
    assert costs.predict(known).end - costs.predict(mixed).end >= theory / 2
