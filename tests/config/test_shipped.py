"""The shipped suites by name: `ganbench run mog` finds suites/mog.yaml (from a wheel:
the package ganbench.suites, .ci/smoke runs it), a path still wins, and `ganbench list`
shows each with its runs and measured wall time (suites/wall_times.yaml)."""
from pathlib import Path

import pytest
import yaml

from ganbench.config import shipped
from ganbench.config.overrides import load
from ganbench.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_every_suite_in_suites_is_shipped_by_its_name():
    names = shipped.suites()
    files = sorted(ROOT.glob("suites/*.yaml")) + sorted(ROOT.glob("suites/*/*.yaml"))
    assert {p.stem for p in files if p.name != shipped.WALL_TIMES} == set(names)
    assert names["mog"] == ROOT / "suites/mog.yaml"
    assert names["pacgan_ring_cpu"] == ROOT / "suites/literature/pacgan_ring_cpu.yaml"


def test_a_name_is_a_shipped_suite_and_a_path_that_exists_wins(tmp_path, monkeypatch):
    assert shipped.suite_path("ci") == shipped.suite_path("ci.yaml") == ROOT / "suites/ci.yaml"
    suite = load("ci", ("defaults.steps=20", "defaults.eval_every=10"), "2")
    assert suite.name == "ci" and len(suite.specs) == 4 * 2 and suite.specs[0].config.steps == 20
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ci.yaml").write_text("mine: true\n")
    assert shipped.suite_path("ci.yaml") == Path("ci.yaml")          # the file here
    assert shipped.suite_path("suites/nope.yaml") == Path("suites/nope.yaml")
    (tmp_path / "mog").mkdir()                    # a results folder: --out mog
    assert shipped.suite_path("mog") == ROOT / "suites/mog.yaml"
    with pytest.raises(InputError, match=r"nope: suite file not found; give a suite file's path "
                                         r"or a shipped suite's name \(ci, "):
        load("nope")


def test_the_listing_counts_runs_and_says_where_the_time_comes_from():
    rows = {r["name"]: r for r in shipped.listing()}
    assert rows["mog"]["runs"] == 90 and rows["sensitivity"]["runs"] == 432
    assert rows["ci"]["runs"] == 64 and rows["pacgan_ring_cpu"]["runs"] == 20
    times = yaml.safe_load((ROOT / "suites" / shipped.WALL_TIMES).read_text())
    for name, row in rows.items():
        entry = times.get(name) or {}
        assert row["wall_s"] == entry.get("wall_s")
        if row["wall_s"]:                 # measured: by what, and with today's settings?
            assert row["machine"] and not row["changed"], name


def test_a_suite_changed_after_its_measurement_says_so(tmp_path, monkeypatch):
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "a.yaml").write_text("datasets: [ring8]\nseeds: 3\nvariants: {v: {objective: hinge}}\n")
    raw = yaml.safe_load((folder / "a.yaml").read_text())
    (folder / shipped.WALL_TIMES).write_text(
        f"a: {{wall_s: 61, machine: here, settings: {shipped.settings_hash(raw)}}}\n")
    monkeypatch.setattr(shipped, "folder", lambda: folder)
    assert shipped.listing() == [{"name": "a", "runs": 3, "wall_s": 61, "machine": "here",
                                  "note": None, "changed": False}]
    (folder / "a.yaml").write_text("# a comment does not count\n" + (folder / "a.yaml").read_text())
    assert not shipped.listing()[0]["changed"]
    (folder / "a.yaml").write_text((folder / "a.yaml").read_text().replace("seeds: 3", "seeds: 4"))
    assert shipped.listing()[0]["changed"] and shipped.listing()[0]["runs"] == 4
