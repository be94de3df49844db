"""Experiment trackers (``ganbench run --log``, ``Monitor(log=...)``): each backend's own
reader gets back what the run folders hold (TensorBoard's EventAccumulator, W&B's
offline transaction log, an MLflow file store through MlflowClient); a tracker that is
missing or unreachable is exit 2 before training. No network: W&B offline, MLflow local.
"""
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


from ganbench.errors import InputError
from ganbench.layout import run_dir
from ganbench.trackers import Trackers, parse_names, read_run
from ganbench.trackers.base import flatten, picture_step, picture_tag
from helpers.cli import TINY, run_cli
from helpers.ports import free_port

#: 2 variants x 2 seeds on one dataset (4 runs in 2 stacked groups); log_every 5 keeps
#: steps 5, 10, ..., 30 of the losses, evaluations at 10, 20, 30
SUITE = (TINY.replace("name: tiny", "name: tiny_log")
         .replace("datasets: [ring8, {name: moons}]", "datasets: [ring8]")
         .replace("  eval_every: 10\n", "  eval_every: 10\n  log_every: 5\n"))
RUNS = [f"ring8__{v}__seed{s}" for v in ("nonsaturating", "wgan_gp") for s in (0, 1)]


def full_mlflow() -> bool:
    """MLflow's default store here (sqlite:///OUT/mlflow.db) needs the full mlflow
    package, which the mlflow extra installs; mlflow-skinny alone cannot open it."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None for m in ("mlflow", "alembic", "sqlalchemy"))


def needs_full_mlflow():
    if not full_mlflow():
        pytest.skip("the full mlflow (the mlflow extra) is not installed: mlflow-skinny "
                    "cannot open a sqlite store")


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """The suite run once with --log tensorboard,mlflow (MLflow, when the full mlflow is
    installed: sqlite:///OUT/mlflow.db)."""
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    tmp = tmp_path_factory.mktemp("trackers")
    (tmp / "suite.yaml").write_text(SUITE)
    out = tmp / "out"
    log = "tensorboard,mlflow" if full_mlflow() else "tensorboard"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert run_cli("run", str(tmp / "suite.yaml"), "--out", str(out), "--no-progress",
                       "--log", log) == 0
    return out


def history(out, run_id) -> pd.DataFrame:
    return pd.read_csv(out / "runs" / run_id / "history.csv")


def logged_steps(h: pd.DataFrame, column: str) -> list[int]:
    return h.step[h[column].notna()].astype(int).tolist()


def metrics(out, run_id) -> dict:
    return json.loads((out / "runs" / run_id / "metrics.json").read_text())["metrics"]


# --- TensorBoard -------------------------------------------------------------------------

def accumulator(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    ea.Reload()
    return ea


def test_tensorboard_holds_each_run_apart_with_its_history_finals_and_picture(logged):
    assert sorted(p.name for p in (logged / "tb").iterdir()) == sorted(RUNS)
    for run_id in RUNS:
        ea, h = accumulator(logged / "tb" / run_id), history(logged, run_id)
        tags = ea.Tags()
        # the losses at log_every, the evaluation numbers at each evaluation
        assert logged_steps(h, "d_loss") == [5, 10, 15, 20, 25, 30]
        assert logged_steps(h, "modes_captured") == [10, 20, 30]
        for col in [c for c in h.columns if c != "step" and h[c].notna().any()]:
            events = ea.Scalars(col)
            assert [e.step for e in events] == logged_steps(h, col), col
            np.testing.assert_allclose([e.value for e in events], h[col].dropna(), rtol=1e-6)
        # metrics.json's numbers as final/<name> at the last step; the diagnosis as text
        m = metrics(logged, run_id)
        for k, v in m.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                (e,) = ea.Scalars(f"final/{k}")
                assert e.step == 30 and e.value == pytest.approx(v, rel=1e-6)
        assert "final/diagnosis/text_summary" in tags["tensors"]
        assert "settings/text_summary" in tags["tensors"]
        (img,) = ea.Images("samples")
        assert img.step == 30 and img.width > 100
        # the samples at every evaluation, each at its step
        series = sorted((run_dir(logged, run_id) / "samples").glob("step_*.png"))
        assert series and [e.step for e in ea.Images("samples_evaluations")] == \
            [int(f.stem.split("_")[1]) for f in series]


def test_tensorboard_hparams_carry_the_grouping_and_the_settings(logged):
    from tensorboard.plugins.hparams import plugin_data_pb2
    ea = accumulator(logged / "tb" / "ring8__wgan_gp__seed1")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        ea.PluginTagToContent("hparams")["_hparams_/session_start_info"]).session_start_info
    hp = {k: v.string_value or v.number_value for k, v in start.hparams.items()}
    assert (hp["suite"], hp["variant"], hp["seed"], hp["dataset"]) == ("tiny_log", "wgan_gp", 1, "ring8")
    assert hp["config.n_critic"] == 2 and hp["config.objective.name"] == "wgan_gp"


def test_a_resumed_suite_logs_no_run_twice(logged):
    before = {p: p.stat().st_mtime_ns for p in (logged / "tb").rglob("events.*")}
    log = "tensorboard,mlflow" if full_mlflow() else "tensorboard"
    assert run_cli("run", str(logged.parent / "suite.yaml"), "--out", str(logged), "--no-progress",
                   "--log", log) == 0
    after = {p: p.stat().st_mtime_ns for p in (logged / "tb").rglob("events.*")}
    assert after == before
    if full_mlflow():
        assert len(mlflow_runs(logged)) == 4


def test_with_worker_processes_the_driver_logs_each_run_once(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = tmp_path / "out"
    assert run_cli("run", str(tmp_path / "suite.yaml"), "--out", str(out), "--no-progress",
                   "--executor", "process", "--workers", "2", "--log", "tensorboard") == 0
    for run_id in RUNS:
        (events,) = (out / "tb" / run_id).glob("events.*")       # one writer, one file
        ea = accumulator(events.parent)
        assert [e.step for e in ea.Scalars("d_loss")] == [5, 10, 15, 20, 25, 30]


# --- MLflow -------------------------------------------------------------------------------

def mlflow_client(out):
    """The store as the guide reads it back: MlflowClient on sqlite:///OUT/mlflow.db."""
    import mlflow
    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{out.resolve()}/mlflow.db")


def mlflow_runs(out, suite="tiny_log"):
    c = mlflow_client(out)
    exp = c.get_experiment_by_name(suite)
    return c.search_runs([exp.experiment_id], order_by=["tags.run_id"])


def test_mlflow_holds_one_run_per_run_with_params_tags_and_metric_histories(logged):
    needs_full_mlflow()
    c, runs = mlflow_client(logged), mlflow_runs(logged)
    assert [r.info.run_name for r in runs] == sorted(RUNS)
    for r in runs:
        run_id = r.info.run_name
        tags, params = r.data.tags, r.data.params
        assert r.info.status == "FINISHED"
        assert {k: tags[k] for k in ("suite", "dataset", "variant", "seed", "status")} == \
            dict(zip(("suite", "dataset", "variant", "seed", "status"),
                     ("tiny_log", "ring8", run_id.split("__")[1], run_id[-1], "ok")))
        cfg = json.loads((logged / "runs" / run_id / "config.json").read_text())
        assert params["config.steps"] == "30" and params["config.log_every"] == "5"
        assert params["config.optimizer.lr"] == str(cfg["config"]["optimizer"]["lr"])
        assert params["config.objective.name"] == cfg["variant"]
        h = history(logged, run_id)
        for col in ("d_loss", "g_loss", "modes_captured", "fd"):
            got = c.get_metric_history(r.info.run_id, col)
            assert sorted(m.step for m in got) == logged_steps(h, col), col
            np.testing.assert_allclose([m.value for m in sorted(got, key=lambda m: m.step)],
                                       h[col].dropna(), rtol=1e-6)
        m = metrics(logged, run_id)
        assert r.data.metrics["final/fd"] == pytest.approx(m["fd"])
        assert tags["final/diagnosis"] == m["diagnosis"]
        images = [a.path for a in c.list_artifacts(r.info.run_id, "images")]
        assert any(p.startswith("images/samples+step+30+") and p.endswith(".png") for p in images)


def test_the_guides_read_back_works_as_written(logged, monkeypatch):
    """docs/guide.md's lines, run where OUT is ``out`` (the guide's results/mog)."""
    needs_full_mlflow()
    import mlflow
    monkeypatch.chdir(logged.parent)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    client = mlflow.MlflowClient(tracking_uri="sqlite:///out/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("tiny_log").experiment_id])
    assert sorted(r.info.run_name for r in runs) == sorted(RUNS)
    assert not (logged.parent / "mlruns").exists()       # nothing beside OUT


def test_mlflow_ui_serves_the_store_as_the_guide_says(logged):
    """``mlflow ui --backend-store-uri sqlite:///OUT/mlflow.db`` (the guide's command, on a
    free port) starts, serves its page and answers the REST API with the suite's runs and
    a run's metric history; then it is stopped (its process group)."""
    needs_full_mlflow()
    import signal
    import subprocess
    import time
    import urllib.request
    port = free_port()
    mlflow_cmd = Path(sys.executable).parent / "mlflow"
    cmd = [str(mlflow_cmd), "ui", "--backend-store-uri", "sqlite:///out/mlflow.db", "--port", str(port)]
    p = subprocess.Popen(cmd, cwd=logged.parent, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    url, t0 = f"http://127.0.0.1:{port}", time.time()

    def get(path, body=None):
        req = urllib.request.Request(url + path, json.dumps(body).encode() if body else None,
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()
    try:
        while True:
            try:
                get("/health")
                break
            except OSError:
                assert p.poll() is None and time.time() - t0 < 120, p.stderr.read()[-2000:]
                time.sleep(0.5)
        started = time.time() - t0
        assert "<html" in get("/").lower()
        exp = json.loads(get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=tiny_log"))
        eid = exp["experiment"]["experiment_id"]
        runs = json.loads(get("/api/2.0/mlflow/runs/search", {"experiment_ids": [eid]}))["runs"]
        rid = next(r["info"]["run_id"] for r in runs if r["info"]["run_name"] == RUNS[0])
        hist = json.loads(get(f"/api/2.0/mlflow/metrics/get-history?run_id={rid}"
                              "&metric_key=modes_captured"))["metrics"]
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=60)
    print(f"\n{' '.join(cmd[1:])}: answered after {started:.1f} s; runs "
          f"{sorted(r['info']['run_name'] for r in runs)}; {RUNS[0]} modes_captured at "
          f"steps {sorted(m['step'] for m in hist)}")
    assert sorted(r["info"]["run_name"] for r in runs) == sorted(RUNS)
    assert sorted(m["step"] for m in hist) == [10, 20, 30]


# --- W&B ----------------------------------------------------------------------------------

def test_wandb_offline_runs_read_back_from_their_transaction_logs(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    from helpers.wandb_file import read_offline_run
    monkeypatch.delenv("WANDB_MODE", raising=False)          # offline is the default
    monkeypatch.delenv("WANDB_PROJECT", raising=False)
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = tmp_path / "out"
    assert run_cli("run", str(tmp_path / "suite.yaml"), "--out", str(out), "--no-progress",
                   "--log", "wandb") == 0
    dirs = sorted((out / "wandb").glob("offline-run-*"))
    runs = {r["name"]: (r, d) for d in dirs for r in [read_offline_run(d)]}
    assert sorted(runs) == sorted(RUNS)
    for run_id, (r, d) in runs.items():
        variant, seed = run_id.split("__")[1], int(run_id[-1])
        assert r["project"] == "ganbench" and r["group"] == f"tiny_log/ring8/{variant}"
        assert r["tags"] == ["tiny_log", "ring8", variant, f"seed{seed}", "ok"]
        cfg = r["config"]
        assert cfg["suite"] == "tiny_log" and cfg["seed"] == seed and cfg["variant"] == variant
        assert cfg["config"]["steps"] == 30 and cfg["config"]["log_every"] == 5
        h, hist = history(out, run_id), r["history"]
        assert sorted(hist) == h.step.tolist() == [5, 10, 15, 20, 25, 30]
        assert [s for s in sorted(hist) if "modes_captured" in hist[s]] == [10, 20, 30]
        np.testing.assert_allclose([hist[s]["d_loss"] for s in sorted(hist)], h.d_loss, rtol=1e-6)
        m = metrics(out, run_id)
        assert r["summary"]["final/fd"] == pytest.approx(m["fd"])
        assert r["summary"]["final/diagnosis"] == m["diagnosis"]
        pic = hist[30]["samples/path"]
        assert (d / "files" / pic).is_file() and pic.endswith(".png")


# --- live while training ------------------------------------------------------------------

def wandb_steps(out, run_id, steps: list[int]) -> dict[str, dict]:
    """Each offline W&B run folder of ``run_id`` (by its name) -> its history rows, once
    one folder holds ``steps`` (or after 30 s). A live run's log is written by wandb-core
    on its flush interval: read at once after ``finish()``, it once had no run record yet
    (a CI rehearsal on a fresh clone, on a loaded machine)."""
    from helpers.wandb_file import offline_runs
    t0 = time.time()
    while True:
        got = {d: r["history"] for d, r in offline_runs(out / "wandb").items()
               if r.get("name") == run_id}
        if [sorted(h) for h in got.values()] == [steps] or time.time() - t0 > 30:
            return got
        time.sleep(0.2)


def test_live_rows_a_killed_try_and_the_finished_run_leave_each_step_once(tmp_path, monkeypatch):
    """MLflow and W&B take each evaluation's rows while a run trains; a driver killed
    mid-run leaves an unfinished live run, which the next try's first (whole) rows
    replace; the finished run completes (MLflow) or replaces (W&B) the live one, so each
    store holds one run per run id with each step once."""
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    needs_full_mlflow()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    (tmp_path / "suite.yaml").write_text(SUITE)
    out = tmp_path / "out"
    assert run_cli("run", str(tmp_path / "suite.yaml"), "--out", str(out), "--no-progress") == 0
    run_id = RUNS[0]
    rows = list(read_run(out, run_id, "tiny_log").rows())      # steps 5, 10, ..., 30
    first = Trackers(out, "tiny_log", ["mlflow", "wandb"])
    first.live({run_id: rows[:2]}, whole=True)                    # evaluation at 10
    first.live({run_id: rows[2:4]}, whole=False)                  # evaluation at 20
    c = mlflow_client(out)
    (live,) = mlflow_runs(out)
    assert live.info.status == "RUNNING" and live.data.tags["status"] == "training"
    assert [m.step for m in c.get_metric_history(live.info.run_id, "modes_captured")] == [10, 20]
    first.close()                       # the driver dies; its live runs stay unfinished
    (w,) = wandb_steps(out, run_id, [5, 10, 15, 20]).values()
    assert sorted(w) == [5, 10, 15, 20] and [s for s in w if "modes_captured" in w[s]] == [10, 20]

    again = Trackers(out, "tiny_log", ["mlflow", "wandb"])          # the resumed try
    again.live({run_id: rows[:2]}, whole=True)
    again.live({run_id: rows[2:]}, whole=False)
    assert again.log([run_id]) == 1
    again.close()
    (r,) = mlflow_runs(out)
    assert r.info.status == "FINISHED" and r.info.run_id != live.info.run_id
    assert c.get_run(live.info.run_id).info.lifecycle_stage == "deleted"
    h = history(out, run_id)
    for col in ("d_loss", "modes_captured"):
        got = sorted(m.step for m in c.get_metric_history(r.info.run_id, col))
        assert got == logged_steps(h, col), col                  # each step once
    assert r.data.params["config.steps"] == "30" and r.data.tags["status"] == "ok"
    (w,) = wandb_steps(out, run_id, [5, 10, 15, 20, 25, 30]).values()   # the live folder is gone
    assert sorted(w) == [5, 10, 15, 20, 25, 30] and "samples/path" in w[30]


def test_mlflow_skinny_alone_is_exit_2_naming_the_extra(tiny_suite, tmp_path, capsys,
                                                        monkeypatch):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setitem(sys.modules, "alembic", None)     # as with mlflow-skinny only
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"), "--log", "mlflow") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "needs the full mlflow package" in err
    assert "pip install 'ganbench[mlflow]'" in err and _no_training(tmp_path / "o")


# --- exit 2 before training ---------------------------------------------------------------

def _no_training(out: Path) -> bool:
    return not (out / "runs").exists()


def test_an_unknown_tracker_is_exit_2_naming_the_known_ones(tiny_suite, tmp_path, capsys):
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"), "--log",
                   "tensorbord") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Did you mean 'tensorboard'" in err
    assert "Known: mlflow, tensorboard, wandb" in err and _no_training(tmp_path / "o")


@pytest.mark.parametrize("name", ["tensorboard", "wandb", "mlflow"])
def test_a_tracker_not_installed_is_exit_2_with_the_install_line(name, tiny_suite, tmp_path,
                                                                 capsys, monkeypatch):
    blocked = {"tensorboard": ["tensorboard", "torch.utils.tensorboard"], "wandb": ["wandb"],
               "mlflow": ["mlflow"]}[name]
    for mod in blocked:                    # an import of it fails, as when not installed
        monkeypatch.setitem(sys.modules, mod, None)
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"), "--log", name) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"pip install 'ganbench[{name}]'" in err and _no_training(tmp_path / "o")


def test_an_unreachable_mlflow_server_is_exit_2_before_training(tiny_suite, tmp_path, capsys,
                                                               monkeypatch):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")   # nothing listens there
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"), "--log", "mlflow") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "http://127.0.0.1:9 cannot be used" in err
    assert _no_training(tmp_path / "o")


def test_wandb_online_without_a_login_is_exit_2_before_training(tiny_suite, tmp_path, capsys,
                                                               monkeypatch):
    pytest.importorskip("wandb", reason="the wandb extra is not installed")
    (tmp_path / "netrc").write_text("")
    for k in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb_config"))
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"), "--log", "wandb") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not logged in to W&B" in err
    assert "WANDB_MODE=offline" in err and _no_training(tmp_path / "o")


# --- the pieces ---------------------------------------------------------------------------

def test_log_names_are_comma_lists_or_repeats_each_once():
    assert parse_names(["tensorboard,mlflow", "tensorboard", " wandb "]) == \
        ["tensorboard", "mlflow", "wandb"]
    assert parse_names(None) == [] and parse_names([]) == []
    with pytest.raises(InputError, match="no tracker named"):
        parse_names([","])


def test_settings_flatten_to_dotted_keys_by_hand():
    got = flatten({"config": {"optimizer": {"lr": 1e-3, "betas": [0.5, 0.9]}, "regs": [],
                              "ema": None}, "seed": 3})
    assert got == {"config.optimizer.lr": 1e-3, "config.optimizer.betas.0": 0.5,
                   "config.optimizer.betas.1": 0.9, "config.regs": "[]", "config.ema": None,
                   "seed": 3}


def test_pictures_are_tagged_and_stepped_by_their_declaration_or_file_name():
    files = ("samples.png", "samples_step000500.png", "samples/000500.png", "samples-step20.png",
             "vanishing.png", "fig2.png")
    assert [picture_tag(f) for f in files] == ["samples"] * 4 + ["vanishing", "fig2"]
    assert [picture_step({"file": f}, 30) for f in files] == [30, 500, 500, 20, 30, 30]
    assert picture_step({"file": "samples.png", "step": 10}, 30) == 10


def _fake_run(out: Path, run_id: str, status: str, pictures: list[dict]) -> None:
    """A finished run folder as the store writes it, with pictures declared per step."""
    from PIL import Image
    d = out / "runs" / run_id
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"run_id": run_id, "dataset": {"name": "ring8"},
                                               "variant": "v", "seed": 0, "config": {"steps": 30}}))
    pd.DataFrame({"step": [10, 20, 30], "d_loss": [1.0, 0.5, math.nan]}).to_csv(
        d / "history.csv", index=False)
    for i, a in enumerate(pictures):
        (d / a["file"]).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(d / a["file"])
    (d / "metrics.json").write_text(json.dumps({
        "run_id": run_id, "dataset": "ring8", "variant": "v", "seed": 0, "status": status,
        "steps": 30, "metrics": {"fd": 1.5}, "artifacts": pictures}))


def test_a_picture_declared_at_each_evaluation_is_logged_at_its_step(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    pics = [{"file": "samples/000010.png", "caption": "samples", "kind": "image", "step": 10},
            {"file": "samples_step000020.png", "caption": "samples", "kind": "image"},
            {"file": "samples.png", "caption": "samples", "kind": "image"}]
    _fake_run(tmp_path, "r_ok", "ok", pics)
    _fake_run(tmp_path, "r_failed", "failed", [])
    logs = Trackers(tmp_path, "fake", ["tensorboard"])
    assert logs.log(["r_ok", "r_failed", "r_missing"]) == 1      # failed runs are not logged
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["r_ok"]
    ea = accumulator(tmp_path / "tb" / "r_ok")
    assert [e.step for e in ea.Images("samples")] == [10, 20, 30]
    assert [e.step for e in ea.Scalars("d_loss")] == [10, 20]
    assert read_run(tmp_path, "r_failed", "fake") is None


def test_a_tracker_that_fails_on_a_run_is_a_warning_not_a_failed_suite(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    _fake_run(tmp_path, "r_ok", "ok", [])
    said = []
    logs = Trackers(tmp_path, "fake", ["tensorboard"], said.append)

    def broken(run):
        raise OSError("disk full")
    logs.open[0].log_run = broken
    assert logs.log(["r_ok"]) == 1
    assert len(said) == 1 and "--log tensorboard: run r_ok not logged (OSError: disk full)" in said[0]


# --- Monitor ------------------------------------------------------------------------------

def test_monitor_logs_its_run_when_closed(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    import torch
    from ganbench import Monitor
    mon = Monitor(tmp_path / "mine", dataset="ring8", variant="v", log="tensorboard")
    gen = torch.Generator().manual_seed(0)
    for step in range(1, 21):
        mon.log(step, d_loss=torch.tensor(1.0 / step), g_loss=0.7)
        if step % 10 == 0:
            mon.evaluate(step, samples=torch.randn(500, 2, generator=gen))
    mon.close()
    ea = accumulator(tmp_path / "mine" / "tb" / "ring8__v__seed0")
    assert [e.step for e in ea.Scalars("d_loss")] == list(range(1, 21))
    assert ea.Scalars("d_loss")[3].value == pytest.approx(0.25)
    assert [e.step for e in ea.Scalars("modes_captured")] == [10, 20]
    assert [e.step for e in ea.Images("samples")] == [20]


def test_monitor_refuses_an_unknown_tracker(tmp_path):
    from ganbench import Monitor
    with pytest.raises(InputError, match="unknown tracker 'tensorflow'"):
        Monitor(tmp_path / "mine", dataset="ring8", log="tensorflow")
