"""Test-session settings, the shared fixtures, and which tests are end to end.

A plain ``pytest`` runs the fast tests (pyproject.toml: ``-m 'not slow and not e2e'``);
``pytest -m 'not slow'`` adds the end-to-end ones (the README's test command, which CI
runs); ``pytest -m slow`` runs the slow ones. Shared helpers live in tests/helpers/.
"""
import pytest
import torch

from helpers.cli import TINY

torch.set_num_threads(1)

# --- end-to-end tests, marked by where they are ------------------------------------------
#: Tests that drive ganbench as a user's machine does and take seconds each: the real CLI
#: in a subprocess, worker processes and Ray, signals and kills, whole shipped suites,
#: a browser. A module path marks every test in it; ``module::test`` marks one test with
#: all its parameters. They get the ``e2e`` marker here, so no test needs a decorator.
#: A new test that starts processes, sleeps or runs a suite whole belongs here
#: (tests/test_test_layout.py checks that every entry still names a test).
E2E = [
    "tests/runs/test_faults.py",                    # signals, kill -9, a full disk, the folder lock
    "tests/runs/test_worker_death.py",              # a pool worker killed mid-group
    "tests/runs/test_plain_script.py",              # ganbench.run from a script, worker processes
    "tests/runs/test_ray_worker_death.py",          # a Ray worker killed mid-task
    "tests/runs/test_mid_run_resume.py",            # kill -9 mid-group, resumed from its checkpoint
    "tests/test_cli_usage.py",                      # 33 command lines through the entry point
    "tests/test_cli.py::test_unknown_objective_exits_2_with_one_line_and_no_traceback",
    "tests/test_cli.py::test_process_executor_gives_the_same_summary_as_local",
    "tests/test_cli.py::test_ray_executor_gives_the_same_summary_as_local",
    "tests/test_cli.py::test_kill_9_mid_suite_then_rerun_equals_an_uninterrupted_run",
    "tests/runs/test_gpu_workers.py::test_process_workers_are_each_bound_to_one_gpu",
    "tests/runs/test_gpu_workers.py::test_ray_gpu_tasks_get_one_gpu_each_and_never_reuse_a_worker",
    "tests/runs/test_deterministic.py::test_runs_record_where_they_ran_and_deterministic_reaches_the_workers",
    "tests/test_image_suites.py::test_digits_suite_writes_fid_kid_and_modes",
    "tests/test_image_suites.py::test_shipped_gpu_suites_run_on_tiny_files",
    "tests/harness/test_features.py::test_inception_plumbing_with_random_weights",
    "tests/analysis/test_report.py::test_report_renders_in_headless_chromium",
    "tests/test_readme.py::test_the_readmes_test_command_runs_every_test_but_the_slow_ones",
    "tests/test_selftest.py::test_the_cpu_selftest_runs_every_part_and_reports",   # the CPU self-test
    "tests/test_readme_tables.py::test_a_tiny_table_is_regenerated_written_and_recorded",
    "tests/test_trackers.py::test_wandb_offline_runs_read_back_from_their_transaction_logs",  # wandb-core
    "tests/test_trackers.py::test_with_worker_processes_the_driver_logs_each_run_once",
    "tests/runs/test_slurm.py",                     # a real single-node SLURM (slurm_cluster)
    "tests/runs/test_ray_cluster.py::test_two_nodes_train_a_suite_killed_and_resumed_from_checkpoints_to_the_identical_result",
    "tests/test_live_trackers.py",                  # trackers read while groups train
    "tests/test_trackers.py::test_mlflow_ui_serves_the_store_as_the_guide_says",  # mlflow ui
    "tests/runs/test_until_decided.py::test_until_decided_adds_new_seeds_records_resumes_and_compare_replays",
]


#: End-to-end tests of a minute or more (measured in a `pytest -m 'not slow'` run on 2
#: cores: the CPU self-test 105 s, a killed Ray worker 64 s, the shipped GPU suites on
#: tiny files 55 s; the local SLURM 45 s with its start; measured alone: live TensorBoard
#: and MLflow through three executors 59 s (TensorBoard alone: 54 s in the run above),
#: live MLflow and W&B killed and resumed 48 s, `mlflow ui` started and read 27 s, a
#: two-node Ray started and a suite killed and resumed on it 97 s): marked slow as well,
#: so the README's test command leaves them out and CI runs them alongside the default
#: run on the second core (GANBENCH_SLOW_ALONGSIDE below); `pytest -m slow` runs them alone.
SLOW = [
    "tests/test_selftest.py::test_the_cpu_selftest_runs_every_part_and_reports",
    "tests/runs/test_ray_worker_death.py",
    "tests/test_image_suites.py::test_shipped_gpu_suites_run_on_tiny_files",
    "tests/runs/test_slurm.py",
    "tests/test_live_trackers.py",
    "tests/test_trackers.py::test_mlflow_ui_serves_the_store_as_the_guide_says",
    "tests/runs/test_ray_cluster.py::test_two_nodes_train_a_suite_killed_and_resumed_from_checkpoints_to_the_identical_result",
]


def named(nodeid: str, entries: list[str]) -> bool:
    """Whether an entry names this test (its module, or the test with any parameters)."""
    test = nodeid.split("[", 1)[0]
    return any(test == e or nodeid.startswith(e + "::") for e in entries)


def is_e2e(nodeid: str) -> bool:
    """Whether an E2E entry names this test."""
    return named(nodeid, E2E)


@pytest.hookimpl(tryfirst=True)      # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_e2e(item.nodeid):
            item.add_marker(pytest.mark.e2e)
        if named(item.nodeid, SLOW):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if "not e2e" not in (config.option.markexpr or ""):
        return           # e2e tests were not left out for being end to end (e.g. -m slow)
    left_out = [i for i in terminalreporter.stats.get("deselected", [])
                if i.get_closest_marker("e2e") and not i.get_closest_marker("slow")]
    if left_out:
        terminalreporter.write_line(
            f"{len(left_out)} end-to-end tests left out (tests/conftest.py E2E); "
            "pytest -m 'not slow' runs them too")


@pytest.fixture
def tiny_suite(tmp_path):
    """Write a tiny suite YAML and return its path (text may be overridden)."""
    def make(text: str | None = None, name: str = "tiny.yaml"):
        p = tmp_path / name
        p.write_text(text if text is not None else TINY)
        return p
    return make


@pytest.fixture(scope="session", autouse=True)
def hermetic_caches(tmp_path_factory):
    """Classifiers, reference statistics and torch hub files go to a fresh folder per test
    session (the digit classifier trains once per session), never to ~/.cache."""
    import os
    root = tmp_path_factory.mktemp("caches")
    old = {k: os.environ.get(k) for k in ("GANBENCH_CACHE", "TORCH_HOME", "GANBENCH_DATA")}
    os.environ["GANBENCH_CACHE"] = str(root / "ganbench")
    os.environ["TORCH_HOME"] = str(root / "torch")
    os.environ.pop("GANBENCH_DATA", None)
    yield root
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A real single-node SLURM on this machine (tests/helpers/slurm_cluster.py), started
    once per session when a test asks for it, stopped at the end; its packages are
    apt-get installed if missing (root). Skipped, saying why, where that cannot be."""
    from helpers.slurm_cluster import SlurmCluster, install
    why = install()
    if why:
        pytest.skip(why)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# --- the slow tests alongside the default run (CI) ---------------------------------------
# With GANBENCH_SLOW_ALONGSIDE=1 (set by .ci/run), the session starts the slow tests
# (`pytest -m slow`) in a child process at once and waits for it at the end: the default
# run keeps about one core busy, so on a 2-core machine the slow tests ride on the other
# one instead of adding their minutes after it. A slow failure fails the session.
_slow_child = None


def pytest_sessionstart(session):
    global _slow_child
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path
    if os.environ.pop("GANBENCH_SLOW_ALONGSIDE", "") != "1":
        return
    log = tempfile.TemporaryFile("w+", prefix="ganbench-slow-", suffix=".log")
    basetemp = tempfile.mkdtemp(prefix="ganbench-slow-")
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:cacheprovider",
           "--basetemp", basetemp, str(Path(__file__).parent)]
    _slow_child = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log, basetemp)


def pytest_sessionfinish(session, exitstatus):
    if _slow_child is None:
        return
    import shutil
    child, log, basetemp = _slow_child
    code = child.wait()
    shutil.rmtree(basetemp, ignore_errors=True)    # about 300 MB of training runs a session
    log.seek(0)
    report = session.config.pluginmanager.get_plugin("terminalreporter")
    text = f"\nslow tests (run alongside, exit {code}):\n" + log.read()
    report.write_line(text) if report is not None else print(text)
    if code != 0:
        session.exitstatus = 1
