"""The Python API from a plain script (no ``if __name__ == "__main__":`` guard) with
worker processes: the workers never run the script, so every run trains; a worker
that dies while starting reports its own stderr, never a guess."""
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.cli import TINY

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import ganbench
summary = ganbench.run("tiny.yaml", out="out", executor="process", workers=2)
print(summary[["run_id", "status", "modes_captured", "hq_fraction"]].to_string())
print("statuses:", ",".join(sorted(set(summary.status))))
"""


def run_script(folder: Path, code: str) -> subprocess.CompletedProcess:
    (folder / "script.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "script.py"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_plain_script_without_a_main_guard_trains_every_run_in_workers(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    done = run_script(tmp_path, SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "statuses: ok\n" in done.stdout, done.stdout + done.stderr[-3000:]
    assert "WorkerDied" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
    summary = (tmp_path / "out" / "summary.csv").read_text().splitlines()
    assert len(summary) == 1 + 8
    # the workers trained (not a fallback to this process): each group records its worker;
    # a group: a variant's 2 seeds on ring8 and on moons (the sets of the plane stack)
    groups = {json.loads(p.read_text())["group_size"] for p in (tmp_path / "out").glob("runs/*/metrics.json")}
    assert groups == {4}


def test_a_users_imports_module_works_in_workers_from_a_plain_script(tmp_path):
    (tmp_path / "my_losses.py").write_text(
        "import torch.nn.functional as F\n"
        "from ganbench.objectives import objectives, Objective, minimax_d_loss\n"
        "@objectives.register('margin_ns')\n"
        "def margin_ns(margin: float = 0.5):\n"
        "    return Objective(minimax_d_loss, lambda f: F.softplus(margin - f).mean(-1), d_output='logit')\n")
    (tmp_path / "tiny.yaml").write_text(TINY.replace("name: tiny\n", "name: tiny\nimports: [my_losses]\n")
                                        .replace("wgan_gp: {objective: wgan_gp, n_critic: 2}",
                                                 "mine: {objective: margin_ns}"))
    done = run_script(tmp_path, SCRIPT)
    assert done.returncode == 0 and "statuses: ok\n" in done.stdout, done.stdout + done.stderr[-3000:]


def test_an_objective_registered_in_the_script_itself_trains_in_this_process(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY.replace("wgan_gp: {objective: wgan_gp, n_critic: 2}",
                                                     "mine: {objective: in_script}"))
    code = ("import torch.nn.functional as F\n"
            "from ganbench.objectives import objectives, Objective, minimax_d_loss\n"
            "objectives.register('in_script', lambda: Objective(minimax_d_loss, "
            "lambda f: F.softplus(-f).mean(-1), d_output='logit'))\n" + SCRIPT)
    done = run_script(tmp_path, code)
    assert done.returncode == 0 and "statuses: ok\n" in done.stdout, done.stdout + done.stderr[-3000:]
    assert "objective 'in_script' is registered in your script (__main__)" in done.stderr


def test_a_worker_that_dies_starting_reports_its_own_stderr(tmp_path):
    (tmp_path / "picky.py").write_text(
        "import multiprocessing, sys\n"
        "if multiprocessing.parent_process() is not None:\n"
        "    print('picky: no GPU driver in this worker', file=sys.stderr)\n"
        "    sys.stderr.flush()\n"
        "    import os; os._exit(3)\n")
    (tmp_path / "tiny.yaml").write_text(TINY.replace("name: tiny\n", "name: tiny\nimports: [picky]\n")
                                        .replace("datasets: [ring8, {name: moons}]", "datasets: [ring8]"))
    # every run fails: no metric columns to print
    done = run_script(tmp_path, SCRIPT.replace('"modes_captured", "hq_fraction"', ""))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "statuses: failed\n" in done.stdout, done.stdout
    meta = json.loads(next((tmp_path / "out").glob("runs/*/metrics.json")).read_text())
    error = meta["error"]
    assert error.startswith("WorkerDied: the worker process training this group exited with code 3"), error
    assert "its stderr ends: picky: no GPU driver in this worker" in error, error
    assert "memory" not in error, error
    run = next((tmp_path / "out").glob("runs/*/error.txt")).read_text()
    assert "picky: no GPU driver in this worker" in run
