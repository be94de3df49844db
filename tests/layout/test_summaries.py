"""No silent pooling: the settings hash every run records, and compare / check refusing
to merge runs of one variant whose settings differ (exit 2, one line), unless --pool."""
import json

import pandas as pd
import pytest

from helpers.cli import TINY
from ganbench.layout.summaries import load_summaries
from ganbench.config.suite import load_suite
from ganbench.harness.loop import SeedResult
from ganbench.layout import settings_hash
from ganbench.runs.store import run_files, spec_record, write_run
from helpers.cli import run_cli


def specs(tmp_path, text=TINY, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return load_suite(p).specs


def test_the_hash_leaves_the_seed_out_and_is_the_one_config_json_gives(tmp_path):
    ss = specs(tmp_path)
    ring = [s for s in ss if s.dataset["label"] == "ring8" and s.variant == "nonsaturating"]
    files = [run_files(spec_record(s), SeedResult(s.seed, "ok", 30, {"fd": 0.1}), 1.0, 2, "cpu",
                       environment={"torch": "x"}) for s in ring]
    hashes = {f.meta["settings_hash"] for f in files}
    assert len(ring) == 2 and len(hashes) == 1                       # seeds 0 and 1: one setting
    assert settings_hash(json.loads(json.dumps(files[0].config))) in hashes   # config.json's
    other = specs(tmp_path, TINY.replace("lr: 0.001", "lr: 0.002"), "t.yaml")
    moved = next(s for s in other if s.run_id == ring[0].run_id)
    moved_files = run_files(spec_record(moved), SeedResult(0, "ok", 30), 1.0, 1, "cpu")
    assert moved_files.meta["settings_hash"] not in hashes
    assert {settings_hash(run_files(spec_record(s), SeedResult(0, "ok", 30), 1.0, 1, "cpu").config)
            for s in ss if s.variant == "wgan_gp" and s.dataset["label"] == "ring8"} != hashes


def folder(path, suite_text, tmp_path, seeds, name, hashed=True):
    """A results folder of the suite's ring8 nonsaturating runs (no training: records
    written as a run would write them)."""
    from ganbench.runs.store import summary_frame
    ss = [s for s in specs(tmp_path, suite_text.replace("seeds: 2", f"seeds: {list(seeds)}"), name)
          if s.dataset["label"] == "ring8" and s.variant == "nonsaturating"]
    recs = []
    for s, seed in zip(ss, seeds):
        recs.append(write_run(path, run_files(spec_record(s), SeedResult(seed, "ok", 30, {
            "modes_captured": 8 - seed % 3, "modes_total": 8, "hq_fraction": 0.1 * seed,
            "fd": 0.1 + seed, "jsd": 0.3}), 1.0, 1, "cpu")))
    df = summary_frame(recs)
    if not hashed:
        df = df.drop(columns="settings_hash")      # a folder written before the hash existed
    path.mkdir(exist_ok=True)
    df.to_csv(path / "summary.csv", index=False)
    return path


SEEDS5 = TINY


def test_compare_and_check_refuse_to_pool_different_settings(tmp_path, capsys):
    a = folder(tmp_path / "a", SEEDS5, tmp_path, range(5), "a.yaml")
    b = folder(tmp_path / "b", SEEDS5.replace("steps: 30", "steps: 40").replace(
        "lr: 0.001", "lr: 0.0005"), tmp_path, range(5, 10), "b.yaml")
    capsys.readouterr()
    assert run_cli("compare", str(a), str(b)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "ring8/nonsaturating: runs with different settings would be pooled (5 vs 5 runs;" in err[0]
    assert "steps: 30 vs 40" in err[0] and "optimizer.lr: 0.001 vs 0.0005" in err[0]
    assert "--pool" in err[0]
    assert run_cli("compare", str(a), str(b), "--pool") == 0
    assert "| nonsaturating (reference) | 10/10 |" in capsys.readouterr().out
    # one folder holding both (e.g. a monitor's runs): check refuses it too
    merged = tmp_path / "m"
    for f in (a, b):
        for d in (f / "runs").iterdir():
            (merged / "runs" / d.name).mkdir(parents=True)
            for x in d.iterdir():
                (merged / "runs" / d.name / x.name).write_bytes(x.read_bytes())
    pd.concat([pd.read_csv(a / "summary.csv"), pd.read_csv(b / "summary.csv")]).to_csv(
        merged / "summary.csv", index=False)
    base = tmp_path / "base.yaml"
    assert run_cli("check", str(a), "--baseline", str(base), "--update") == 0
    capsys.readouterr()
    assert run_cli("check", str(merged), "--baseline", str(base)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "steps: 30 vs 40" in err[0] and "--pool" in err[0]
    assert run_cli("check", str(merged), "--baseline", str(base), "--pool") in (0, 1)
    assert "| ring8 | nonsaturating | ok runs | no failed run; fewer ok: Fisher p<0.01 | 5/5 | " \
        "10/10 | 10 vs 5 |" in capsys.readouterr().out          # pooled: 10 seeds now


def test_older_folders_get_the_hash_from_config_json(tmp_path, capsys):
    a = folder(tmp_path / "a", SEEDS5, tmp_path, range(5), "a.yaml", hashed=False)
    b = folder(tmp_path / "b", SEEDS5, tmp_path, range(5, 10), "b.yaml")
    merged = load_summaries([a, b], pool=False)             # the same settings: no refusal
    assert merged.settings_hash.nunique() == 1 and merged.settings_hash.notna().all()
    c = folder(tmp_path / "c", SEEDS5.replace("n_eval: 200", "n_eval: 300"), tmp_path,
               range(10, 15), "c.yaml", hashed=False)
    with pytest.raises(Exception, match="n_eval: 200 vs 300"):
        load_summaries([a, c], pool=False)


def test_sweep_settings_stay_separate_groups(tmp_path):
    sweep = TINY.replace("seeds: 2", "seeds: 5") + "sweep:\n  optimizer.lr: [0.001, 0.002]\n"
    ss = [s for s in specs(tmp_path, sweep) if s.dataset["label"] == "ring8"
          and s.variant == "nonsaturating"]
    recs = [write_run(tmp_path / "o", run_files(spec_record(s), SeedResult(s.seed, "ok", 30, {"fd": 0.1}),
                                                1.0, 1, "cpu")) for s in ss]
    from ganbench.runs.store import summary_frame
    summary_frame(recs).to_csv(tmp_path / "o" / "summary.csv", index=False)
    merged = load_summaries([tmp_path / "o"], pool=False)
    assert merged.settings_hash.nunique() == 2 and merged.setting.nunique() == 2


def test_the_same_run_ids_with_different_settings_are_refused_not_hidden(tmp_path):
    """Two folders of the same seeds: equal settings keep the first folder's runs (a
    warning); different settings would hide one folder behind the other: refused."""
    a = folder(tmp_path / "a", SEEDS5, tmp_path, range(5), "a.yaml")
    same = folder(tmp_path / "s", SEEDS5, tmp_path, range(5), "s.yaml")
    warned = []
    assert len(load_summaries([a, same], warn=warned.append, pool=False)) == 5
    assert "5 run ids appear in more than one folder" in warned[0]
    other = folder(tmp_path / "o", SEEDS5.replace("steps: 30", "steps: 40"), tmp_path, range(5), "o.yaml")
    with pytest.raises(Exception, match="the same run id with different settings in two folders"):
        load_summaries([a, other], pool=False)
    assert len(load_summaries([a, other], pool=True)) == 5       # --pool: the first folder's
