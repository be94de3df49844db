"""The results folder's lock: a writer that takes it clears temporaries a killed writer left."""
from ganbench.runs.store import folder_lock


def test_taking_the_lock_removes_a_killed_writers_temporary_files(tmp_path):
    run = tmp_path / "runs" / "ring8__wgan__seed0"
    run.mkdir(parents=True)
    stale = [run / ".metrics.json.abc123.tmp", tmp_path / ".summary.csv.x1.tmp"]
    for p in stale:
        p.write_text("half")
    kept = run / "metrics.json"
    kept.write_text("{}")
    with folder_lock(tmp_path):
        assert not any(p.exists() for p in stale)
    assert kept.read_text() == "{}"
