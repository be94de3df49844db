"""``--log mlflow``: one MLflow run per ganbench run, in the experiment named after the
suite.

Where: ``MLFLOW_TRACKING_URI`` when set (a server, ``sqlite:///...``, Databricks), else
a SQLite store in ``OUT/mlflow.db`` with the pictures in ``OUT/mlartifacts``
(``mlflow ui --backend-store-uri sqlite:///OUT/mlflow.db``): MLflow 3's own default
kind of store (its file store is in maintenance mode and refused without
``MLFLOW_ALLOW_FILE_STORE=true``). A SQLite store, and ``mlflow ui``, need the full
``mlflow`` package (the ``mlflow`` extra); a server needs only its client. The store is
checked (reachable, the experiment readable) before any training.

Per run: run name = run id, tags = suite, dataset, variant, seed, status (and the
sweep's setting), params = the settings flattened to dotted keys, metrics = the
history.csv columns at their steps and ``final/<metric>`` at the last step, each
declared picture at its step (``mlflow.log_image``: the run's images tab).

While a run trains its MLflow run is RUNNING (status tag ``training``) and gets each
evaluation's rows (:meth:`MLflow.log_rows`); the finished run completes that MLflow
run. A new try of a run (resumed after a kill) starts a new MLflow run and deletes the
earlier try's unfinished one (MLflow keeps deleted runs until ``mlflow gc``), so the
experiment's runs hold each step once.
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
    """MLflow runs, experiment = suite (MLFLOW_TRACKING_URI, else sqlite:///OUT/mlflow.db)."""

    name = "mlflow"

    def __init__(self, out: Path, suite: str):
        try:
            import mlflow
            from mlflow.entities import Metric, Param, RunTag
        except ImportError:
            raise InputError(f"--log mlflow: MLflow is not installed; {INSTALL}.") from None
        self.mlflow, self.Metric, self.Param, self.RunTag = mlflow, Metric, Param, RunTag
        self.out, self.suite = str(Path(out).resolve()), suite
        self.uri = os.environ.get("MLFLOW_TRACKING_URI")
        self.artifacts = None               # the experiment's own default, for a URI given
        if not self.uri:
            self.uri = default_uri(Path(out))
            self.artifacts = (Path(self.out) / "mlartifacts").as_uri()
            _needs_full_mlflow(self.uri)
        self._live: dict[str, tuple[str, int]] = {}  # run id -> (MLflow run id, last step)
        try:
            with _quick_http():
                self.client = mlflow.MlflowClient(tracking_uri=self.uri)
                found = self.client.get_experiment_by_name(suite)
        except Exception as e:  # noqa: BLE001 - MLflow raises its own and network errors
            why = " ".join(str(e).split())[:200]
            raise InputError(f"--log mlflow: the tracking store {self.uri} cannot be used "
                             f"({type(e).__name__}: {why}); start the server or set "
                             "MLFLOW_TRACKING_URI to a reachable one (unset: "
                             "sqlite:///OUT/mlflow.db).") from None
        self.experiment = found.experiment_id if found else None

    def where(self) -> str:
        return f"MLflow experiment {self.suite!r} at {self.uri}"

    def _experiment(self) -> str:
        if self.experiment is None:
            found = self.client.get_experiment_by_name(self.suite)
            self.experiment = (found.experiment_id if found else
                               self.client.create_experiment(self.suite, self.artifacts))
        return self.experiment

    def _start(self, run_id: str, tags: dict) -> str:
        """A new MLflow run for ``run_id``, after deleting the live runs an earlier try of
        it left unfinished (a killed driver's or worker's)."""
        c = self.client
        stale = c.search_runs([self._experiment()], f"tags.run_id = '{run_id}' and "
                              f"tags.out = '{self.out}' and attributes.status = 'RUNNING'")
        for r in stale:
            c.delete_run(r.info.run_id)
        tags = {**tags, "run_id": run_id, "out": self.out, "mlflow.runName": run_id}
        return c.create_run(self._experiment(), run_name=run_id,
                            tags={k: str(v)[:PARAM_CHARS] for k, v in tags.items()}).info.run_id

    def _metrics(self, rid: str, rows, after: int = -1) -> int:
        """The rows (step, {name: value}) past step ``after``; returns the last step."""
        now, M = int(time.time() * 1000), self.Metric
        metrics = [M(k, v, now, step) for step, values in rows if step > after
                   for k, v in values.items()]
        for i in range(0, len(metrics), BATCH_METRICS):
            self.client.log_batch(rid, metrics=metrics[i:i + BATCH_METRICS])
        return max([after] + [step for step, _ in rows])

    def log_rows(self, run_id: str, rows: list[tuple[int, dict]], whole: bool) -> None:
        """A training run's new rows in its MLflow run (status RUNNING); its first rows
        (``whole``) start a new MLflow run, the earlier try's deleted."""
        if whole or run_id not in self._live:
            self._live[run_id] = (self._start(run_id, {"suite": self.suite,
                                                       "status": "training"}), -1)
        rid, last = self._live[run_id]
        self._live[run_id] = (rid, self._metrics(rid, rows, last))

    def log_run(self, run: FinishedRun) -> None:
        """The finished run: its live MLflow run completed (the rows it has not had, the
        settings, finals and pictures), else a new one."""
        c = self.client
        numbers, text = run.finals()
        tags = {**run.tags, **text}
        rid, last = self._live.pop(run.run_id, (None, -1))
        if rid is None:
            rid = self._start(run.run_id, tags)
        else:
            c.log_batch(rid, tags=[self.RunTag(k, str(v)[:PARAM_CHARS]) for k, v in tags.items()])
        status = "FAILED"
        try:
            params = [self.Param(k[:250], str(v)[:PARAM_CHARS]) for k, v in run.params().items()]
            for i in range(0, len(params), BATCH_PARAMS):
                c.log_batch(rid, params=params[i:i + BATCH_PARAMS])
            self._metrics(rid, list(run.rows()), last)
            self._metrics(rid, [(run.steps, numbers)])
            for p in run.pictures:
                from PIL import Image
                with Image.open(p.path) as im:
                    c.log_image(rid, im.convert("RGB"), key=p.name, step=p.step)
            status = "FINISHED"
        finally:
            c.set_terminated(rid, status)


def default_uri(out: Path) -> str:
    """The store when MLFLOW_TRACKING_URI is unset: ``sqlite:///OUT/mlflow.db`` (MLflow's
    own default, ``sqlite:///mlflow.db``, under OUT), as an absolute path."""
    return "sqlite:///" + str(Path(out).resolve() / "mlflow.db")


def _needs_full_mlflow(uri: str) -> None:
    """A sqlite store needs the full mlflow package (SQLAlchemy, Alembic): mlflow-skinny
    alone is bad input, before any training."""
    try:
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        raise InputError(f"--log mlflow: the default store {uri} needs the full mlflow "
                         f"package (mlflow-skinny is not enough); {INSTALL}, or set "
                         "MLFLOW_TRACKING_URI to an MLflow server.") from None
