"""RunFolder, the one reader of a run's folder: each file read once, None where a file is
missing or cannot be read, finished only with an ok or diverged record, the declared
files that exist, the pictures over training by step."""
import json

import pandas as pd

from ganbench.layout.run_folder import CONFIG, HISTORY, RECORD, RunFolder


def test_a_run_folder_read_back(tmp_path):
    d = tmp_path / "runs" / "r1"
    (d / "samples").mkdir(parents=True)
    (d / RECORD).write_text(json.dumps({"status": "ok", "artifacts": [
        {"file": "samples.png", "kind": "image"}, {"file": "gone.png", "kind": "image"},
        {"file": "samples", "kind": "image_series"}]}))
    (d / CONFIG).write_text(json.dumps({"run_id": "r1", "config": {"steps": 3}}))
    pd.DataFrame({"step": [1, 2], "d_loss": [0.5, 0.4]}).to_csv(d / HISTORY, index=False)
    (d / "samples.png").write_bytes(b"png")
    for step in (20, 100, 3):
        (d / "samples" / f"step_{step:06d}.png").write_bytes(b"png")
    f = RunFolder.of(tmp_path, "r1")
    assert f.run_id == "r1" and f.finished and f.config()["config"] == {"steps": 3}
    assert list(f.history().step) == [1, 2] and f.has(HISTORY) and not f.has("model.pt")
    assert [a["file"] for a in f.declared()] == ["samples.png", "samples"]
    assert [s for s, _ in f.image_series()] == [3, 20, 100]
    (d / RECORD).write_text("{}")
    assert f.finished                       # read once: the record it read stays
    assert not RunFolder.of(tmp_path, "r1").finished
    assert [g.run_id for g in RunFolder.every(tmp_path)] == ["r1"]


def test_missing_or_unreadable_files_are_none(tmp_path):
    d = tmp_path / "runs" / "r2"
    d.mkdir(parents=True)
    (d / RECORD).write_text("{not json")
    (d / CONFIG).write_text("[1, 2]")                      # JSON, but no record
    (d / HISTORY).write_bytes(b"\xff\xfe\x00")
    f = RunFolder(d)
    assert f.record() is None and f.config() is None and f.history() is None
    assert not f.finished and f.declared() == [] and f.has(RECORD)
    empty = RunFolder.of(tmp_path, "nothing")
    assert empty.record() is None and empty.history() is None and not empty.has(RECORD)
