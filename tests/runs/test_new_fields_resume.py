"""A results folder written before a run field existed stays finished when the suite
leaves that field at its default (its config.json lacks the field), and reruns when
the suite sets it otherwise."""
import json

import ganbench
from ganbench.config.suite import parse_suite
from ganbench.runs.store import is_finished

SUITE = {"name": "old", "seeds": 1, "datasets": ["ring8"],
         "defaults": {"steps": 4, "batch_size": 16, "eval_every": 4, "n_eval": 50,
                      "generator": {"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
                      "discriminator": {"name": "mlp", "width": 8, "depth": 1}},
         "variants": {"a": {}}}


def test_configs_without_the_new_fields_count_as_finished(tmp_path):
    ganbench.run(SUITE, out=tmp_path, executor="local")
    f = tmp_path / "runs" / "ring8__a__seed0" / "config.json"
    rec = json.loads(f.read_text())
    for k in ("ema", "log_every", "checkpoint"):            # as written before these existed
        del rec["config"][k]
    f.write_text(json.dumps(rec))
    (spec,) = parse_suite(SUITE).specs
    assert is_finished(tmp_path, spec)
    (changed,) = parse_suite({**SUITE, "variants": {"a": {"log_every": 2}}}).specs
    assert not is_finished(tmp_path, changed)
