"""The record of a run as it trains, and what it becomes: each seed's result and files.

One :class:`Recorder` per run of S seeds trained together (S = 1 for a user's own loop
under :class:`ganbench.Monitor`). The harness's loop and Monitor feed it the same way:

- :meth:`Recorder.steps`: the values some steps logged, (T, S, C) on their device.
  Each is checked for divergence (a value that is not finite or beyond ``EXPLODE``
  marks its seed ``diverged`` at that step); every ``log_every``-th step, the last
  one given and the step where a seed diverged are kept for history.csv;
  a loop of one's own hands :meth:`Recorder.row`, one mapping of named numbers a step;
- :meth:`Recorder.evaluation`: an evaluation's (numbers, tracks) per seed, None for a
  seed whose samples blew up (``diverged`` at that step), and its samples, kept as a
  small picture per seed (:mod:`ganbench.harness.snapshots`);
  :meth:`Recorder.amend` adds numbers to an evaluation (e.g. end-of-run ones);
- :meth:`Recorder.probe`: a checkpoint probe's table per seed.

:meth:`Recorder.results` turns it into one :class:`SeedResult` per seed: the status,
history.csv (kept steps, evaluations merged in, cut where the seed diverged), the
metrics (the last evaluation, the history metrics, the probes' summaries, and the
diagnosis with its evidence: :mod:`ganbench.metrics.diagnosis`) and the run's files
(samples.png, a picture per evaluation in samples/, discriminator.npz, the probes'
tables and plots, model.pt).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..metrics import diagnosis
from ..metrics.series import history_metrics
from .artifacts import run_artifacts
from .snapshots import snapshot

#: |value| above this, logged or generated, counts as exploding (the run is ``diverged``)
EXPLODE = 1e6


def exploded(x: np.ndarray) -> bool:
    """Whether generated samples blew up: a value not finite, or beyond ``EXPLODE``."""
    return not np.isfinite(x).all() or np.abs(x).max() > EXPLODE


@dataclass
class SeedResult:
    """One seed's result. Its ``metrics`` carry its diagnosis (``diagnosis`` and
    ``evidence``, from its metrics, status, history and divergence step), made with it:
    a failed run's is its status."""

    seed: int
    status: str                 # ok | diverged | failed
    steps: int                  # G steps completed
    metrics: dict = field(default_factory=dict)
    history: pd.DataFrame | None = None
    real: np.ndarray | None = None  # final evaluation samples, for samples.png
    fake: np.ndarray | None = None
    diverged_at: int | None = None
    error: str | None = None
    #: a failed run's full traceback (written as error.txt: ganbench.harness.artifacts)
    traceback: str | None = None
    #: checkpoint probes' tables by probe name
    probe_tables: dict = field(default_factory=dict)
    #: D (and D*) on a grid over the plane, 2D datasets (written as discriminator.npz)
    d_map: dict | None = None
    #: the end-of-run checkpoint (model.pt: ganbench.harness.saved), unless checkpoint: false
    model: bytes | None = None
    #: a picture of the samples of each evaluation before it diverged, by step
    #: (ganbench.harness.snapshots)
    pictures: dict = field(default_factory=dict)
    #: the run folder's files besides config.json, history.csv and metrics.json (name ->
    #: bytes or text), and their declarations (ganbench.harness.artifacts)
    artifacts: dict = field(default_factory=dict)
    declared: list = field(default_factory=list)
    #: the step its training resumed at from a training checkpoint (None: from step 0)
    resumed_at: int | None = None

    def __post_init__(self):
        if "diagnosis" not in self.metrics:
            self.metrics = {**self.metrics, **diagnosis.columns(self.metrics, self.status,
                                                                self.history, self.diverged_at)}


class Recorder:
    """What S seeds trained together have logged, evaluated and probed so far.

    ``columns`` name the logged values (more may come with :meth:`steps`); ``names`` are
    the runs' names (plot titles), ``probes`` the checkpoint probes that may add tables
    (more via :meth:`probe`)."""

    def __init__(self, dataset, seeds: Sequence[int], columns: Sequence[str],
                 names: Sequence[str] | None = None, probes: Sequence = (), log_every: int = 1):
        self.dataset, self.seeds, self.columns = dataset, list(seeds), list(columns)
        self.names = list(names) if names is not None else [f"seed{s}" for s in self.seeds]
        self.log_every = int(log_every)
        S = len(self.seeds)
        #: per seed: still training sanely, and the step where it diverged (None: it did not)
        self.alive = np.ones(S, dtype=bool)
        self.diverged_at: list[int | None] = [None] * S
        #: kept steps' values: (their columns, (k, S, C) on the device)
        self._rows: list[tuple[list[str], torch.Tensor]] = []
        self._steps: list[int] = []
        self._evals: dict[int, list] = {}
        #: per seed: the picture of each evaluation's samples, by step
        self._pictures: list[dict[int, bytes]] = [{} for _ in self.seeds]
        self._probes = {p.name: p for p in probes}
        #: steps of a loop of one's own not yet recorded (:meth:`row`)
        self._pending: list[tuple[int, dict]] = []
        self._frames: dict[str, list[list[pd.DataFrame]]] = {p.name: [[] for _ in self.seeds]
                                                             for p in probes}

    # --- feeding it -----------------------------------------------------------------
    def _diverge(self, s: int, step: int) -> bool:
        """Seed s diverged at ``step`` (the earliest step counts); whether that is new."""
        self.alive[s] = False
        if self.diverged_at[s] is None or step < self.diverged_at[s]:
            self.diverged_at[s] = int(step)
            return True
        return False

    def steps(self, steps: Sequence[int], values: torch.Tensor, given: torch.Tensor | None = None,
              columns: Sequence[str] | None = None) -> None:
        """The values logged at ``steps`` (increasing), (T, S, C), C ``columns`` (default:
        the recorder's); ``given`` marks the values that were logged (default: all), the
        others are NaN."""
        columns = list(self.columns if columns is None else columns)
        self.columns += [c for c in columns if c not in self.columns]
        flags = ~torch.isfinite(values) | (values.abs() > EXPLODE)
        if given is not None:
            flags &= given
        bad = flags.any(-1).cpu().numpy()                      # (T, S)
        blew = set()
        for s in np.flatnonzero(bad.any(0)):
            at = int(steps[int(np.argmax(bad[:, s]))])
            if self._diverge(s, at):
                blew.add(at)
        last = steps[-1] if len(steps) else None
        keep = [i for i, t in enumerate(steps)
                if t % self.log_every == 0 or t == last or t in blew]
        if keep:
            self._rows.append((columns, values[keep]))
            self._steps += [int(steps[i]) for i in keep]

    def row(self, step: int, values: dict) -> None:
        """One logged step of one seed: a mapping name -> number (a float or a 0-d tensor,
        on any device), kept as it is until the record is read (then :meth:`rows`)."""
        self._pending.append((int(step), values))

    def _flush(self) -> None:
        if self._pending:
            steps, rows = zip(*self._pending)
            self._pending = []
            self.rows(list(steps), list(rows))

    def rows(self, steps: Sequence[int], rows: list[dict]) -> None:
        """One seed's logged steps, one mapping name -> number (a float or a 0-d tensor,
        on any device) per step; a step may leave a name out (one host transfer per name)."""
        cols = list(dict.fromkeys(k for r in rows for k in r))
        values = torch.full((len(rows), 1, len(cols)), float("nan"))
        given = torch.zeros(values.shape, dtype=torch.bool)
        for j, c in enumerate(cols):
            idx = [i for i, r in enumerate(rows) if c in r]
            got = [rows[i][c] for i in idx]
            dev = next((v.device for v in got if isinstance(v, torch.Tensor)), "cpu")
            values[idx, 0, j] = torch.stack([torch.as_tensor(v, dtype=torch.float32, device=dev)
                                             for v in got]).cpu()
            given[idx, 0, j] = True
        self.steps(steps, values, given, cols)

    def evaluation(self, step: int, rows: list[tuple[dict, dict] | None],
                   fake: Sequence[np.ndarray] | None = None,
                   real: Sequence[np.ndarray] | None = None) -> None:
        """An evaluation at ``step``: per seed (numbers, tracks), or None where the
        samples blew up; ``fake[s]`` (and ``real[s]``, the data drawn beneath 2D samples):
        seed s's samples on the host, kept as a small picture while it trains sanely."""
        self._flush()
        for s, row in enumerate(rows):
            if row is None:
                self._diverge(s, step)
            elif fake is not None and self.alive[s]:
                pic = snapshot(self.dataset.of_slice(s), None if real is None else real[s], fake[s])
                if pic is not None:
                    self._pictures[s][int(step)] = pic
        self._evals[int(step)] = list(rows)

    def amend(self, step: int, numbers: list[dict]) -> None:
        """Add ``numbers[s]`` to seed s's evaluation at ``step`` (where it has one)."""
        for row, more in zip(self._evals[int(step)], numbers):
            if row is not None:
                row[0].update(more)

    def probe(self, probe, frames: list[pd.DataFrame]) -> None:
        """A checkpoint probe's table per seed (added to the earlier ones of that probe)."""
        if probe.name not in self._frames:
            self._frames[probe.name] = [[] for _ in self.seeds]
        self._probes[probe.name] = probe
        for s, frame in enumerate(frames):
            self._frames[probe.name][s].append(frame)

    @property
    def last_step(self) -> int:
        """The last step logged or evaluated (0: none)."""
        self._flush()
        return max([*self._steps[-1:], *self._evals], default=0)

    # --- a training checkpoint (ganbench.harness.resume) -------------------------------
    def state(self) -> dict:
        """Everything recorded so far, the logged values on the host (picklable)."""
        return {"columns": list(self.columns), "alive": self.alive.copy(),
                "diverged_at": list(self.diverged_at), "steps": list(self._steps),
                "rows": [(list(c), v.cpu()) for c, v in self._rows],
                "evals": self._evals, "frames": self._frames}

    def load_state(self, state: dict, device) -> None:
        """Continue from :meth:`state` (the logged values back on ``device``)."""
        self.columns, self.alive = list(state["columns"]), np.array(state["alive"], dtype=bool)
        self.diverged_at, self._steps = list(state["diverged_at"]), list(state["steps"])
        self._rows = [(c, v.to(device)) for c, v in state["rows"]]
        self._evals, self._frames = state["evals"], state["frames"]

    # --- what it becomes ------------------------------------------------------------
    def _logged(self, first: int = 0) -> np.ndarray:
        """The kept steps' values from the ``first``-th on, (k, S, C), on the host (one
        transfer when they all have the recorder's columns; NaN where a step logged no
        value of a column)."""
        S, C = len(self.seeds), len(self.columns)
        rows, at = [], 0
        for cols, v in self._rows:
            if at + len(v) > first:
                rows.append((cols, v[max(0, first - at):]))
            at += len(v)
        if not rows:
            return np.zeros((0, S, C), dtype=np.float32)
        if all(cols == self.columns for cols, _ in rows):
            return torch.cat([v for _, v in rows]).cpu().numpy()
        parts = []
        for cols, v in rows:
            part = np.full((len(v), S, C), np.nan, dtype=np.float32)
            part[..., [self.columns.index(c) for c in cols]] = v.cpu().numpy()
            parts.append(part)
        return np.concatenate(parts)

    def history(self, s: int, logged: np.ndarray | None = None, since: int = -1) -> pd.DataFrame:
        """Seed s's history.csv: the kept steps, every evaluation's numbers merged in, up
        to the step where it diverged; with ``since``, only the steps after it
        (``logged``: :meth:`_logged` of those steps, when at hand)."""
        self._flush()
        first = bisect.bisect_right(self._steps, since)
        h = self._logged(first) if logged is None else logged
        df = pd.DataFrame(h[:, s], columns=self.columns)
        df.insert(0, "step", np.asarray(self._steps[first:], dtype=int))
        if self.diverged_at[s] is not None:
            df = df[df.step <= self.diverged_at[s]].reset_index(drop=True)
        kept = [(k, row) for k, row in self._kept(s) if k > since]
        if kept:
            evals = pd.DataFrame([dict(step=k, **numbers) for k, (numbers, _) in kept])
            how = "left" if set(evals.step) <= set(df.step) else "outer"
            df = df.merge(evals, on="step", how=how)
        return df

    def news(self, since: int) -> list[list[tuple[int, dict]]]:
        """Per seed, its history rows after step ``since``, each (step, {column: value})
        with the NaNs left out (what a live tracker has not been given yet)."""
        self._flush()
        logged = self._logged(bisect.bisect_right(self._steps, since))   # only the new ones
        out = []
        for s in range(len(self.seeds)):
            h = self.history(s, logged, since)
            cols = [c for c in h.columns if c != "step"]
            values = h[cols].to_numpy(dtype=float, na_value=np.nan)
            out.append([(int(k), {c: float(v) for c, v in zip(cols, row) if np.isfinite(v)})
                        for k, row in zip(h.step, values)])
        return out

    def _kept(self, s: int) -> list[tuple[int, tuple[dict, dict]]]:
        """Seed s's evaluations before it diverged, in step order."""
        d = self.diverged_at[s]
        return [(k, rows[s]) for k, rows in sorted(self._evals.items())
                if rows[s] is not None and (d is None or k < d)]

    def results(self, done: int, real: Sequence, fake: Sequence,
                d_maps: Sequence | None = None, models: Sequence | None = None) -> list[SeedResult]:
        """Each seed's result after ``done`` steps, with its files: ``real[s]`` and
        ``fake[s]`` are its last evaluation's samples (for samples.png), ``d_maps[s]``
        its D map and ``models[s]`` its model.pt (each None where there is none)."""
        self._flush()
        out, logged = [], self._logged()
        for s, seed in enumerate(self.seeds):
            df = self.history(s, logged)
            kept = self._kept(s)
            tracks = {name: [t[name] for _, (_, t) in kept if name in t]
                      for name in {n for _, (_, t) in kept for n in t}}
            tables = {name: pd.concat(frames[s], ignore_index=True)
                      for name, frames in self._frames.items() if frames[s]}
            model = models[s] if models is not None else None
            pictures = {k: self._pictures[s][k] for k, _ in kept if k in self._pictures[s]}
            if self.alive[s]:
                metrics = dict(kept[-1][1][0]) if kept else {}
                metrics.update(history_metrics(df, tracks))
                for name, table in tables.items():
                    metrics.update(self._probes[name].summarize(table))
                r = SeedResult(seed, "ok", done, metrics, df, real[s], fake[s], probe_tables=tables,
                               d_map=d_maps[s] if d_maps else None, model=model)
            else:
                r = SeedResult(seed, "diverged", done, {}, df, real[s], None,
                               diverged_at=self.diverged_at[s], probe_tables=tables, model=model)
            r.pictures = pictures
            r.artifacts, r.declared = run_artifacts(r, self.dataset.of_slice(s), list(self._probes.values()),
                                                    self.names[s])
            out.append(r)
        return out
