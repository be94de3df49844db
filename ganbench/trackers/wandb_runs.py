"""``--log wandb``: one Weights & Biases run per ganbench run.

Offline unless ``WANDB_MODE`` says otherwise: the runs go to ``OUT/wandb/offline-run-*``
(``wandb sync OUT/wandb/offline-run-*`` uploads them later); ``WANDB_MODE=online`` logs
straight to the server, which needs a login (``wandb login`` or ``WANDB_API_KEY``),
checked before any training. Project: ``WANDB_PROJECT``, else ``ganbench``; entity:
``WANDB_ENTITY`` as wandb reads it.

Per run: name = run id, group = ``suite/dataset/variant`` (W&B's grouping shows the
seeds of one variant together), tags = suite, dataset, variant, ``seed<N>`` and the
status, config = the run's settings; history.csv rows logged at their steps, each
declared picture at its step, ``final/<metric>`` in the run's summary.

While a run trains, a live W&B run of the same name gets each evaluation's rows
(:meth:`WandB.log_rows`, tag ``training``); the finished run replaces it (W&B steps
only grow, so the pictures at earlier evaluations cannot be added to it afterwards):
the live run is finished and deleted (offline: its ``offline-run-*`` folder; online:
through ``wandb.Api``) before the finished run is logged. A new try of a run (resumed
after a kill) deletes the earlier try's live run the same way: offline, a live run's
id is made from OUT and the run id, so a restarted driver finds it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ..errors import InputError
from .base import FinishedRun, Tracker

INSTALL = "pip install 'ganbench[wandb]'"
#: the modes that talk to a W&B server, and those that write offline run folders
ONLINE = ("online", "shared", "run")
OFFLINE = ("offline", "dryrun")


class WandB(Tracker):
    """Weights & Biases runs (offline by default: OUT/wandb; WANDB_MODE=online uploads)."""

    name = "wandb"

    def __init__(self, out: Path, suite: str):
        try:
            import wandb
        except ImportError:
            raise InputError(f"--log wandb: wandb is not installed; {INSTALL}.") from None
        self.wandb = wandb
        self.dir = Path(out)
        self.mode = os.environ.get("WANDB_MODE", "offline")
        if self.mode not in (*OFFLINE, *ONLINE, "disabled"):
            raise InputError(f"--log wandb: WANDB_MODE={self.mode} is not a W&B mode; set it "
                             "to offline (the default), online or disabled.")
        self.project = os.environ.get("WANDB_PROJECT") or "ganbench"
        self.suite = suite
        self._live: dict = {}           # run id -> (the live W&B run, its last step)
        if self.mode in ONLINE:
            self._check_login()

    def _check_login(self) -> None:
        """Online: credentials exist and the server accepts them, before any training."""
        fix = "run 'wandb login' (or set WANDB_API_KEY), or set WANDB_MODE=offline"
        try:
            ok = self.wandb.login(prompt=False, verify=True)
        except Exception as e:  # noqa: BLE001 - wandb raises its own errors, network ones
            why = " ".join(str(e).split())[:160]
            raise InputError(f"--log wandb: W&B is not reachable with WANDB_MODE={self.mode} "
                             f"({type(e).__name__}: {why}); {fix}.") from None
        if not ok:
            raise InputError(f"--log wandb: WANDB_MODE={self.mode} but not logged in to W&B; "
                             f"{fix}.")

    def where(self) -> str:
        if self.mode == "offline":
            return f"W&B offline runs in {self.dir / 'wandb'} (wandb sync to upload)"
        return f"W&B project {self.project} ({self.mode})"

    def _settings(self, live: bool = False):
        """Quiet, no system stats; a live run's offline file flushed every second (wandb's
        default, 15 s, would hold back a reader such as ``wandb beta leet``)."""
        more = {}
        if live and "x_transaction_log_flush_interval" in self.wandb.Settings.model_fields:
            more["x_transaction_log_flush_interval"] = 1.0       # newer wandb (0.31 has it, 0.25 not)
        return self.wandb.Settings(silent=True, console="off", save_code=False,
                                   x_disable_stats=True, **more)

    def live_id(self, run_id: str) -> str | None:
        """The W&B id of ``run_id``'s live run: offline, the same for every try (from OUT
        and the run id), so a restarted driver finds an earlier try's folder; online,
        W&B's own new one (None; W&B refuses the id of a deleted run)."""
        if self.mode not in OFFLINE:
            return None
        key = f"{self.dir.resolve()}\n{self.suite}\n{run_id}"
        return "live" + hashlib.sha1(key.encode()).hexdigest()[:16]

    def log_rows(self, run_id: str, rows: list[tuple[int, dict]], whole: bool) -> None:
        """A training run's new rows in its live W&B run, each row committed at once; its
        first rows (``whole``) start a new live run, the earlier try's deleted."""
        if whole or run_id not in self._live:
            self._drop_live(run_id)
            r = self.wandb.init(project=self.project, dir=str(self.dir), mode=self.mode,
                                id=self.live_id(run_id), name=run_id, job_type=self.suite,
                                tags=[self.suite[:64], "training"], reinit="create_new",
                                config={"suite": self.suite, "run_id": run_id},
                                settings=self._settings(live=True))
            self._live[run_id] = (r, -1)
        r, last = self._live[run_id]
        for step, values in rows:
            if step > last:
                r.log(values, step=step, commit=True)
                last = step
        self._live[run_id] = (r, last)

    def _drop_live(self, run_id: str) -> None:
        """Finish and delete ``run_id``'s live run (this driver's, or offline an earlier
        driver's folder)."""
        r, _ = self._live.pop(run_id, (None, -1))
        if r is not None:
            path = f"{r.entity}/{r.project}/{r.id}" if self.mode in ONLINE else None
            r.finish()
            if path:                    # untested here (no W&B server)
                self.wandb.Api().run(path).delete()
        if self.mode in OFFLINE:
            for d in (self.dir / "wandb").glob(f"offline-run-*-{self.live_id(run_id)}"):
                shutil.rmtree(d, ignore_errors=True)

    def close(self) -> None:
        for r, _ in self._live.values():
            r.finish()
        self._live.clear()

    def log_run(self, run: FinishedRun) -> None:
        self._drop_live(run.run_id)
        wandb = self.wandb
        numbers, text = run.finals()
        tags = [run.suite, run.dataset, run.variant, f"seed{run.seed}", run.status] + \
            ([run.setting] if run.setting else [])
        r = wandb.init(project=self.project, dir=str(self.dir), mode=self.mode,
                       name=run.run_id, group=run.group, job_type=run.suite,
                       tags=[t[:64] for t in dict.fromkeys(tags)],
                       config={**run.tags, **run.settings()}, reinit="create_new",
                       settings=self._settings())
        try:
            pics: dict[int, list] = {}
            for p in run.pictures:
                pics.setdefault(p.step, []).append(p)
            rows = dict(run.rows())
            for step in sorted(set(rows) | set(pics)):
                values = dict(rows.get(step, {}))
                for p in pics.get(step, []):
                    values[p.name] = wandb.Image(str(p.path), caption=f"{run.run_id} step {step}")
                r.log(values, step=step)
            r.summary.update({**numbers, **text, "status": run.status, "steps": run.steps})
        finally:
            r.finish()
