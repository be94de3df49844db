"""``--log mlflow``: one MLflow run per ganbench run, in the experiment named after the
suite.

Where: ``MLFLOW_TRACKING_URI`` when set (a server, ``sqlite:///...``, Databricks), else
a local file store in ``OUT/mlruns`` (``mlflow ui --backend-store-uri OUT/mlruns``).
MLflow 3 keeps its file store in maintenance mode and refuses it unless
``MLFLOW_ALLOW_FILE_STORE=true``: ganbench sets that for its own default store only.
mlflow-skinny (the ``mlflow`` extra) is enough for a file store or a server; a
``sqlite:`` URI needs the full ``mlflow`` package. The store is checked (reachable,
the experiment readable) before any training.

Per run: run name = run id, tags = suite, dataset, variant, seed, status (and the
sweep's setting), params = the settings flattened to dotted keys, metrics = the
history.csv columns at their steps and ``final/<metric>`` at the last step, each
declared picture at its step (``mlflow.log_image``: the run's images tab).
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from .base import FinishedRun, Tracker

INSTALL = "pip install 'ganbench[mlflow]'"
#: MLflow's limits: a param value's length, metrics and params per log_batch call
PARAM_CHARS, BATCH_METRICS, BATCH_PARAMS = 6000, 1000, 100


@contextmanager
def _quick_http():
    """Within the check: one HTTP try with a short timeout (MLflow retries for minutes)."""
    keys = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class MLflow(Tracker):
    """MLflow runs, experiment = suite (MLFLOW_TRACKING_URI, else a file store in OUT/mlruns)."""

    name = "mlflow"

    def __init__(self, out: Path, suite: str):
        try:
            import mlflow
            from mlflow.entities import Metric, Param, RunTag
        except ImportError:
            raise InputError(f"--log mlflow: MLflow is not installed; {INSTALL}.") from None
        self.mlflow, self.Metric, self.Param, self.RunTag = mlflow, Metric, Param, RunTag
        self.uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not self.uri:
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            self.uri = (Path(out).resolve() / "mlruns").as_uri()
        self.suite = suite
        try:
            with _quick_http():
                self.client = mlflow.MlflowClient(tracking_uri=self.uri)
                found = self.client.get_experiment_by_name(suite)
        except Exception as e:  # noqa: BLE001 - MLflow raises its own and network errors
            why = " ".join(str(e).split())[:200]
            raise InputError(f"--log mlflow: the tracking store {self.uri} cannot be used "
                             f"({type(e).__name__}: {why}); start the server or set "
                             "MLFLOW_TRACKING_URI to a reachable one (unset: a file store "
                             "in OUT/mlruns).") from None
        self.experiment = found.experiment_id if found else None

    def where(self) -> str:
        return f"MLflow experiment {self.suite!r} at {self.uri}"

    def _experiment(self) -> str:
        if self.experiment is None:
            found = self.client.get_experiment_by_name(self.suite)
            self.experiment = (found.experiment_id if found
                               else self.client.create_experiment(self.suite))
        return self.experiment

    def log_run(self, run: FinishedRun) -> None:
        c, M = self.client, self.Metric
        numbers, text = run.finals()
        tags = {**run.tags, **text, "mlflow.runName": run.run_id}
        r = c.create_run(self._experiment(), run_name=run.run_id,
                         tags={k: str(v)[:PARAM_CHARS] for k, v in tags.items()})
        rid, now = r.info.run_id, int(time.time() * 1000)
        status = "FAILED"
        try:
            params = [self.Param(k[:250], str(v)[:PARAM_CHARS]) for k, v in run.params().items()]
            for i in range(0, len(params), BATCH_PARAMS):
                c.log_batch(rid, params=params[i:i + BATCH_PARAMS])
            metrics = [M(k, v, now, step) for step, values in run.rows() for k, v in values.items()]
            metrics += [M(k, v, now, run.steps) for k, v in numbers.items()]
            for i in range(0, len(metrics), BATCH_METRICS):
                c.log_batch(rid, metrics=metrics[i:i + BATCH_METRICS])
            for p in run.pictures:
                from PIL import Image
                with Image.open(p.path) as im:
                    c.log_image(rid, im.convert("RGB"), key=p.name, step=p.step)
            status = "FINISHED"
        finally:
            c.set_terminated(rid, status)
