"""The results folder's side of mid-run resume: where a group's training checkpoint
lives and what its key covers, that an interrupted suite's groups are the groups it
had, that a finished group's checkpoint is deleted and one no pending group can use is
pruned, that checkpoint_every changes no result (finished runs stay finished, the
settings hash is the one without the field), and the local executor resuming a group
in-process."""
import json

import pandas as pd
import torch

import ganbench
from ganbench.config.suite import parse_suite
from ganbench.layout import settings_hash
from ganbench.runs import groups as groups_mod
from ganbench.runs.groups import pending_groups
from ganbench.runs.store import is_finished, resume_point, spec_record

SMALL = {"steps": 40, "batch_size": 16, "eval_every": 20, "n_eval": 50,
         "generator": {"name": "mlp", "width": 8, "depth": 1, "z_dim": 2},
         "discriminator": {"name": "mlp", "width": 8, "depth": 1}}


def suite(seeds=2, **defaults):
    return {"name": "ck", "seeds": seeds, "datasets": ["ring8"],
            "defaults": {**SMALL, **defaults}, "variants": {"a": {}}}


def test_the_key_covers_runs_settings_and_device_kind_but_not_checkpoint_every(tmp_path):
    specs = parse_suite(suite()).specs
    p = resume_point(tmp_path, specs, "cpu")
    assert p.path.parent == tmp_path / "checkpoints" and p.path.suffix == ".pt"
    assert resume_point(tmp_path, list(reversed(specs)), "cpu").path == p.path   # named by its runs
    assert resume_point(tmp_path, parse_suite(suite(checkpoint_every=7)).specs, "cpu").key == p.key
    assert resume_point(tmp_path, specs, "cuda:0").key != p.key
    assert resume_point(tmp_path, specs, "cuda:0").key == resume_point(tmp_path, specs, "cuda:1").key
    other = parse_suite(suite(batch_size=32)).specs
    assert resume_point(tmp_path, other, "cpu").path == p.path       # the same runs' ids ...
    assert resume_point(tmp_path, other, "cpu").key != p.key         # ... other settings
    assert resume_point(tmp_path, specs[:1], "cpu").path != p.path


def test_checkpoint_every_changes_neither_the_settings_hash_nor_what_is_finished(tmp_path):
    (spec,) = parse_suite(suite(seeds=1)).specs
    (every,) = parse_suite(suite(seeds=1, checkpoint_every=10)).specs
    rec = spec_record(spec)
    old = {**rec, "config": {k: v for k, v in rec["config"].items() if k != "checkpoint_every"}}
    assert settings_hash(rec) == settings_hash(spec_record(every)) == settings_hash(old)
    ganbench.run(suite(seeds=1), out=tmp_path, executor="local")
    assert is_finished(tmp_path, every)
    f = tmp_path / "runs" / spec.run_id / "config.json"
    cfg = json.loads(f.read_text())
    del cfg["config"]["checkpoint_every"]                  # written before the field existed
    f.write_text(json.dumps(cfg))
    assert is_finished(tmp_path, spec) and is_finished(tmp_path, every)


def test_an_interrupted_suites_groups_are_the_groups_it_had(tmp_path, monkeypatch):
    specs = parse_suite(suite(seeds=10)).specs
    whole = [[s.run_id for s in g.specs] for g in pending_groups(tmp_path, specs, max_slices=4)]
    assert [len(g) for g in whole] == [4, 4, 2]
    done = set(whole[0])                                  # the first group finished
    monkeypatch.setattr(groups_mod, "is_finished", lambda out, s: s.run_id in done)
    left = [[s.run_id for s in g.specs] for g in pending_groups(tmp_path, specs, max_slices=4)]
    assert left == whole[1:]                              # not re-cut into 6 = 3 + 3


def test_the_local_executor_resumes_a_group_deletes_its_checkpoint_and_prunes_strays(tmp_path):
    raw = suite(checkpoint_every=10, log_every=3, ema={"decay": 0.9})
    whole = ganbench.run(raw, out=tmp_path / "whole", executor="local")
    out = tmp_path / "resumed"
    specs = parse_suite(raw).specs
    point = resume_point(out, specs, "cpu")
    # a checkpoint of this group at step 20, as a killed run leaves it
    from ganbench.harness.loop import Loop

    class Stop(Exception):
        pass

    def stop(n):
        if n > 20:
            raise Stop
    loop = Loop(specs[0].dataset_spec(), [s.config for s in specs], [s.seed for s in specs],
                names=[s.run_id for s in specs])
    try:
        loop.run(stop, point)
    except Stop:
        pass
    assert torch.load(point.path, weights_only=False)["step"] == 20
    stray = out / "checkpoints" / "0123456789abcdef.pt"
    stray.write_bytes(b"left by a suite whose runs changed")
    (out / "checkpoints" / ".x.pt.123.tmp").write_bytes(b"half")
    again = ganbench.run(raw, out=out, executor="local")
    pd.testing.assert_frame_equal(again.drop(columns="wall_s"), whole.drop(columns="wall_s"),
                                  check_exact=True)
    for s in specs:
        a = (out / "runs" / s.run_id / "history.csv").read_bytes()
        assert a == (tmp_path / "whole" / "runs" / s.run_id / "history.csv").read_bytes()
        assert json.loads((out / "runs" / s.run_id / "metrics.json").read_text())["resumed_at"] == 20
    assert not (out / "checkpoints").exists()             # deleted, pruned, no temporary left
