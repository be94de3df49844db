"""Each run setting declared once, on RunConfig: the schema's fields, defaults and kinds
and the layout's names all come from its declarations; a resolved config is typed
(components read-only, G's average an Ema), frozen, plain data in config.json, and its
n_eval is the dataset's when the suite sets none."""
import copy
import dataclasses
import json
import pickle

import pytest

from ganbench.config.schema import RUN_FIELDS, run_config
from ganbench.config.suite import parse_suite
from ganbench.layout import NOT_SETTINGS, RUN_FIELD_NAMES
from ganbench.layout.run_config import FIELDS, Component, Ema, RunConfig


def test_the_declarations_are_the_one_list_of_settings():
    assert tuple(RUN_FIELDS) == RUN_FIELD_NAMES == tuple(f.name for f in dataclasses.fields(RunConfig))
    assert RUN_FIELDS["objective"] == ("nonsaturating", "component")
    assert RUN_FIELDS["n_eval"] == (None, "positive_int") and NOT_SETTINGS == ("checkpoint_every",)
    assert all(f.metadata["doc"] for f in FIELDS)


def test_a_resolved_config_is_typed_frozen_and_plain_in_config_json():
    cfg = run_config(objective={"name": "wgan", "clip": 0.05}, ema={"decay": 0.9},
                     d_optimizer={"lr": 1e-3})
    assert isinstance(cfg.objective, Component) and cfg.objective.name == "wgan"
    assert cfg.objective.settings == {"clip": 0.05} and cfg.ema == Ema(0.9, 0, True)
    with pytest.raises(TypeError, match="read-only"):
        cfg.objective["clip"] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 3
    plain = cfg.as_dict()
    assert type(plain["objective"]) is dict
    assert plain["ema"] == {"decay": 0.9, "start": 0, "evaluate": True}
    assert json.loads(json.dumps(plain)) == plain and RunConfig.from_dict(plain) == cfg
    assert pickle.loads(pickle.dumps(cfg)) == cfg and copy.deepcopy(cfg) == cfg
    # G's and D's optimizers, each whole: D's merged over optimizer once, at resolution
    assert cfg.optimizer_for("g_optimizer") == cfg.optimizer
    assert cfg.optimizer_for("d_optimizer") == {**cfg.optimizer, "lr": 1e-3}


def test_n_eval_is_filled_at_resolution_from_the_dataset():
    raw = {"datasets": ["ring8", {"name": "stacked_digits"}], "variants": {"v": {}}}
    s = parse_suite(raw)
    assert {sp.dataset["label"]: sp.config.n_eval for sp in s.specs} == \
        {"ring8": 2500, "stacked_digits": 26000}
    assert s.resolved["variants"]["v"]["n_eval"] is None      # the suite as written: the dataset's
    assert run_config().n_eval == 2500 and run_config(n_eval=7).n_eval == 7
