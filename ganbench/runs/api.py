"""The Python API: run a suite and load a results folder, from a notebook or a script.

    import ganbench
    summary = ganbench.run("suites/ci.yaml", out="results/ci")   # a pandas DataFrame
    res = ganbench.load("results/ci")
    res.table, res.history("ring8__nonsaturating__seed0")

``ganbench run`` and :mod:`ganbench.testing` call these same functions.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..config.suite import Suite, load_suite, parse_suite
from ..errors import InputError, OutputError, at
from ..harness import resume as resumed
from ..harness.device import make_deterministic
from ..interrupts import Interrupted, handled
from ..harness.features import build_extractor, mode_classifier
from ..layout import FINISHED
from ..layout.run_folder import HISTORY, RunFolder
from ..metrics import catalogue
from ..trackers import Trackers, parse_names
from .executors import Job, executors
from .groups import pending_groups
from .store import folder_lock, prune_checkpoints, resume_point, write_results, write_suite


def resolve_device(name: str) -> str:
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda`` or ``cuda:N`` (checked)."""
    import torch
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {name}: CUDA is not available here; use --device cpu or auto.")
        idx = name.partition(":")[2]
        if name != "cuda" and (not idx.isdigit() or int(idx) >= torch.cuda.device_count()):
            raise InputError(f"--device {name}: no such GPU; this machine has "
                             f"{torch.cuda.device_count()} (cuda:0 .. cuda:{torch.cuda.device_count() - 1}).")
        return f"cuda:{int(idx)}" if idx else name
    raise InputError(f"--device {name}: expected auto, cpu, cuda or cuda:N.")


def prepare_features(suite: Suite) -> None:
    """Load (train once and cache, where needed) every feature extractor and mode
    classifier the suite's image runs use, before any run starts: a classifier below
    its accuracy floor is bad input (InputError naming the field), not failed runs."""
    seen = set()
    for spec in suite.specs:
        key = (spec.dataset["label"], spec.variant)
        if key in seen:
            continue
        seen.add(key)
        ds = suite.datasets[spec.dataset["label"]]
        extractor = build_extractor(spec.config.features, ds)
        try:
            if extractor is not None:
                extractor.prepare()
        except ValueError as e:
            raise at(f"variants.{spec.variant}.features", str(e)) from None
        try:
            mode_classifier(ds, extractor)
        except ValueError as e:
            raise at(f"datasets[{spec.dataset['label']}]", str(e)) from None


def checkpointed(out: Path, groups: list, device: str) -> list[str]:
    """'ring8/ns at step 1200 of 2500' per pending group that will continue from its
    training checkpoint. A checkpoint it cannot use is said here (harness.resume) and
    deleted, so that the group, which trains from step 0, does not say it again."""
    said = []
    for g in groups:
        point = resume_point(out, g.specs, device)
        if not point.path.exists():
            continue
        state = resumed.load(point)
        if state is None:
            resumed.remove(point.path)
        else:
            said.append(f"{g.label} at step {state['step']} of {g.steps}")
    return said


def build_executor(s: Suite, name: str, options: dict):
    """The executor ``name`` with its settings: the suite's ``executor: {name: ...}``
    block, and the caller's ``options`` (the command line's) over it."""
    given = {k: v for k, v in options.items() if v not in (None, (), [])}
    settings = {**((s.resolved.get("executor") or {}).get(name) or {}), **given}
    if not settings:
        return executors.build(name, "--executor")
    return executors.build({"name": name, **settings}, f"executor.{name}")


def _suite(suite, imports) -> Suite:
    if isinstance(suite, Suite):
        return suite
    if isinstance(suite, dict):
        return parse_suite(suite, extra_imports=list(imports))
    return load_suite(suite, list(imports))


def run(suite: str | Path | dict | Suite, out: str | Path | None = None, device: str = "auto",
        executor: str = "auto", workers: int | None = None, force: bool = False,
        progress: bool = False, imports: tuple[str, ...] = (), ray_address: str | None = None,
        echo: Callable[[str], None] | None = None, deterministic: bool = False,
        log: str | list[str] | None = None, debug: bool = False,
        executor_options: dict | None = None) -> pd.DataFrame:
    """Train every unfinished run of ``suite`` (a YAML path, a dict of the same content,
    or a parsed Suite) into ``out`` (default ``results/<suite name>``); returns the
    summary (one row per run). Bad input raises InputError before any work.
    ``deterministic`` sets deterministic kernels here and in every worker
    (:func:`ganbench.harness.device.make_deterministic`). ``debug`` trains in this
    process (the local executor, whatever ``executor`` says) and re-raises the first
    exception a run raises, with its traceback, instead of recording the run failed.
    ``executor_options``: the executor's settings (e.g. slurm's ``partition``), over the
    suite's ``executor: {<name>: {...}}`` block."""
    say = echo or (lambda msg: None)
    s = _suite(suite, imports)
    names = parse_names(log)                    # an unknown tracker: before any folder is made
    dev = resolve_device(device)
    execute = build_executor(s, "local" if debug else executor, executor_options or {})
    execute.check_device(dev)                   # e.g. Ray refuses a named GPU
    out = Path(out) if out is not None else Path("results") / s.name
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {out}: cannot create the results folder ({e.strerror}); "
                         "choose a writable folder.") from None
    with folder_lock(out), handled():
        logs = Trackers(out, s.name, names, echo or main_echo)   # each checked here
        prepare_features(s)
        write_suite(out, s.resolved)
        groups = pending_groups(out, s.specs, force, slots=execute.slots(dev, workers))
        prune_checkpoints(out, [resume_point(out, g.specs, dev).path for g in groups])
        done = len(s.specs) - sum(len(g.specs) for g in groups)
        say(f"ganbench: {s.name}: {len(s.specs)} runs ({done} already finished) on {dev} -> {out}")
        resuming = [] if force else checkpointed(out, groups, dev)
        if resuming:
            say(f"ganbench: resuming from training checkpoints: {'; '.join(resuming)}")
        for line in logs.where():
            say(f"ganbench: --log: {line}")
        if deterministic:
            make_deterministic()
        try:
            execute.run(Job(out, s.specs, groups, dev, s.resolved["imports"],
                        s.path.parent if s.path else None, workers, progress=progress,
                        ray_address=ray_address, deterministic=deterministic,
                        trackers=logs, debug=debug, force=force))
        except (Interrupted, OutputError) as e:
            e.out, e.total = out, len(s.specs)
            e.finished = _keep_finished(out, s)
            raise
        finally:
            logs.close()
        summary = _write_results(out, s)
    missing = [c for c in catalogue.columns() if c not in summary]
    if missing and not summary.status.isin(FINISHED).any():
        # no run finished (every one failed): the metric columns are there, empty, so the
        # caller's next line reads NaN and the status column rather than a KeyError
        summary = summary.reindex(columns=list(summary.columns) + missing)
    summary.attrs.update(out=str(out), suite=s.name)
    return summary


def _keep_finished(out: Path, s: Suite) -> int | None:
    """After an interrupt or a failed write: summary.csv and the tables of the runs that
    finished (best effort: the disk may still be full); returns how many finished."""
    try:
        summary = _write_results(out, s)
    except (OutputError, Interrupted):
        return None
    return int(summary.status.isin(FINISHED).sum()) if len(summary) else 0


def _write_results(out: Path, s: Suite) -> pd.DataFrame:
    """summary.csv and the tables, from the run records there are (a signal waits)."""
    return write_results(out, [sp.run_id for sp in s.specs])


@dataclass
class Results:
    """A results folder, read: the summary, the aggregated table, per-run histories."""

    out: Path
    summary: pd.DataFrame
    table: pd.DataFrame
    _histories: dict = field(default_factory=dict, repr=False)

    def history(self, run_id: str) -> pd.DataFrame:
        """history.csv of one run (every step, evaluations merged in)."""
        if run_id not in self._histories:
            folder = RunFolder.of(self.out, run_id)
            h = folder.history()
            if h is None:
                raise InputError(f"{run_id}: no readable history.csv in {folder.path}; known runs: "
                                 f"{', '.join(self.summary.run_id.astype(str)[:5])} ...")
            self._histories[run_id] = h
        return self._histories[run_id]

    def sensitivity(self, metrics: list[str] | None = None, success: str | None = None) -> pd.DataFrame:
        """The table of ``ganbench sensitivity``: per dataset x variant x metric, the
        spread over the settings tried and the expected best-of-k curve."""
        from ..analysis.sensitivity import sensitivity
        return sensitivity(self.summary, metrics, success)

    def histories(self) -> dict[str, pd.DataFrame]:
        """Every run's history that exists, by run id."""
        return {r: self.history(r) for r in self.summary.run_id.astype(str)
                if RunFolder.of(self.out, r).has(HISTORY)}


def load(out: str | Path) -> Results:
    """Read a results folder written by ``ganbench run`` (or :func:`run`)."""
    from ..analysis.tables import aggregate
    from ..layout.summaries import load_summaries
    out = Path(out)
    summary = load_summaries([out])
    return Results(out, summary, aggregate(summary, [out]))


def main_echo(msg: str) -> None:
    print(msg, file=sys.stderr)
