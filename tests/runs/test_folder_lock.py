"""The results folder's lock: a writer that takes it clears temporaries a killed writer left,
never those of a cluster job still writing in its staging folder."""
from ganbench.runs.executors.cluster_staging import STAGING_DIR
from ganbench.runs.store import folder_lock


def test_taking_the_lock_removes_a_killed_writers_temporary_files(tmp_path):
    run = tmp_path / "runs" / "ring8__wgan__seed0"
    run.mkdir(parents=True)
    stale = [run / ".metrics.json.abc123.tmp", tmp_path / ".summary.csv.x1.tmp"]
    for p in stale:
        p.write_text("half")
    kept = run / "metrics.json"
    kept.write_text("{}")
    job = tmp_path / STAGING_DIR / "0123456789abcdef"       # a SLURM job writing
    job.mkdir(parents=True)
    writing = [job / ".checkpoint.pt.x1y2.tmp", job / ".step.abc.tmp"]
    for p in writing:
        p.write_text("a job is writing this")
    with folder_lock(tmp_path):
        assert not any(p.exists() for p in stale)
    assert kept.read_text() == "{}"
    assert all(p.exists() for p in writing)
