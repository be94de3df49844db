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
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .base import FinishedRun, Tracker

INSTALL = "pip install 'ganbench[wandb]'"


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
        if self.mode not in ("offline", "online", "disabled", "shared", "dryrun", "run"):
            raise InputError(f"--log wandb: WANDB_MODE={self.mode} is not a W&B mode; set it "
                             "to offline (the default), online or disabled.")
        self.project = os.environ.get("WANDB_PROJECT") or "ganbench"
        if self.mode in ("online", "shared", "run"):
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

    def log_run(self, run: FinishedRun) -> None:
        wandb = self.wandb
        numbers, text = run.finals()
        tags = [run.suite, run.dataset, run.variant, f"seed{run.seed}", run.status] + \
            ([run.setting] if run.setting else [])
        r = wandb.init(project=self.project, dir=str(self.dir), mode=self.mode,
                       name=run.run_id, group=run.group, job_type=run.suite,
                       tags=[t[:64] for t in dict.fromkeys(tags)],
                       config={**run.tags, **run.settings()}, reinit="create_new",
                       settings=wandb.Settings(silent=True, console="off", save_code=False,
                                               x_disable_stats=True))
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
