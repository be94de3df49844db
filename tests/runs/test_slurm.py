"""``--executor slurm`` on a real single-node SLURM (the ``slurm_cluster`` fixture:
slurmctld, slurmd, slurmdbd and munged on this machine): the same summary as the local
executor; a driver killed while its jobs run, then the same command, takes in their
results without submitting anything again; a job preempted mid-run (USR2, as SLURM
signals it) is requeued and resumes from its checkpoint to the identical result; a bad
partition is one line, exit 2, before any job is submitted."""
import json
import os
import signal
import subprocess
import sys
import time


from helpers.cli import TWO_GROUPS, same_as_local


LONG = """name: requeue
seeds: 2
datasets: [ring8]
defaults:
  steps: 900
  batch_size: 32
  eval_every: 300
  log_every: 7
  checkpoint_every: 50
  n_eval: 200
  generator: {name: mlp, width: 16, depth: 2, z_dim: 4}
  discriminator: {name: mlp, width: 16, depth: 2}
  optimizer: {name: adam, lr: 0.001}
variants:
  ns: {objective: nonsaturating}
"""


def ganbench(suite, out, *extra):
    return [sys.executable, "-m", "ganbench.cli", "run", str(suite), "--out", str(out),
            "--no-progress", "--executor", "slurm", *extra]


def job_ids(out) -> list[str]:
    return [json.loads(p.read_text())["job_id"] for p in sorted(out.glob("slurm/*/job.json"))]


def jobs_in_accounting(cluster) -> list[str]:
    r = cluster.run("sacct", "-X", "-n", "-P", "-o", "JobID,State")
    return [line for line in r.stdout.splitlines() if line.strip()]


def wait_until(check, timeout=120.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_a_killed_driver_is_rerun_and_takes_in_its_jobs_results_without_resubmitting(
        slurm_cluster, tmp_path):
    suite = tmp_path / "two.yaml"
    suite.write_text(TWO_GROUPS)
    out = tmp_path / "slurm"
    print(slurm_cluster.run("sinfo").stdout)
    before = len(jobs_in_accounting(slurm_cluster))
    driver = subprocess.Popen(ganbench(suite, out), env=slurm_cluster.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_until(lambda: len(job_ids(out)) == 2), "both groups should be submitted"
    print(slurm_cluster.run("squeue").stdout)
    driver.send_signal(signal.SIGKILL)         # the driver dies; its jobs train on
    driver.wait()
    assert not list(out.glob("runs/*/metrics.json"))
    ids = job_ids(out)
    assert wait_until(lambda: all((out / "slurm").glob(f"*/{i}_0_result.pkl") for i in ids))
    again = subprocess.run(ganbench(suite, out), env=slurm_cluster.env, capture_output=True,
                           text=True, timeout=120)
    print(again.stderr)
    assert again.returncode == 0, again.stderr
    assert "found the SLURM jobs of a run before" in again.stderr
    assert len(jobs_in_accounting(slurm_cluster)) == before + 2, "nothing is submitted twice"
    assert not (out / "slurm").exists(), "the staging folders are taken in and removed"
    same_as_local(tmp_path, suite, out)


def test_a_job_preempted_mid_run_is_requeued_and_resumes_to_the_identical_result(
        slurm_cluster, tmp_path):
    suite = tmp_path / "long.yaml"
    suite.write_text(LONG)
    out = tmp_path / "slurm"
    driver = subprocess.Popen(ganbench(suite, out), env=slurm_cluster.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: list(out.glob("slurm/*/checkpoint.pt")) and job_ids(out))
    job = job_ids(out)[0]
    print(slurm_cluster.run("squeue").stdout)
    r = slurm_cluster.run("scancel", "--signal=USR2", job)     # how SLURM preempts it
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: "Restarts=1" in slurm_cluster.run("scontrol", "show", "job", job).stdout,
                      30), "submitit should requeue the job"
    print(slurm_cluster.run("squeue").stdout)
    _, err = driver.communicate(timeout=180)
    print(err)
    assert driver.returncode == 0, err
    records = [json.loads(p.read_text()) for p in out.glob("runs/*/metrics.json")]
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    assert all(r.get("resumed_at", 0) >= 50 for r in records), "it continues from its checkpoint"
    assert len(job_ids(out)) == 0 and not (out / "slurm").exists()
    same_as_local(tmp_path, suite, out, histories=True)


def test_a_bad_partition_is_one_line_and_exit_2_before_any_job(slurm_cluster, tmp_path):
    suite = tmp_path / "two.yaml"
    suite.write_text(TWO_GROUPS)
    before = len(jobs_in_accounting(slurm_cluster))
    r = subprocess.run(ganbench(suite, tmp_path / "out", "--partition", "nosuch"),
                       env=slurm_cluster.env, capture_output=True, text=True, timeout=60)
    print(r.stderr)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--partition nosuch" in lines[0] and "debug" in lines[0]
    assert "Traceback" not in r.stderr
    assert len(jobs_in_accounting(slurm_cluster)) == before
    assert not (tmp_path / "out").exists()
