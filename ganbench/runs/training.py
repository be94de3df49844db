"""Training a group of runs where it runs (this process, a worker process, a Ray task):
preparing the process, training the group as one stacked model, and making its runs'
files, which the process that owns OUT writes."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..config.suite import RunSpec, import_plugins
from ..harness.device import environment, make_deterministic
from ..data.per_slice import stacked
from ..harness.loop import build_data, train_seeds
from ..harness.resume import ResumePoint
from .groups import Group
from .store import RunFiles, run_files, spec_record


def prepare_worker(threads: int, imports: list[str], base: Path | None,
                   deterministic: bool = False) -> None:
    """In a worker process or Ray task: torch's thread count, --deterministic, and the
    suite's plugins."""
    import torch
    torch.set_num_threads(max(1, int(threads)))
    if deterministic:
        make_deterministic()
    if imports:
        import_plugins(imports, base)


def train_stack(specs: list[RunSpec], device: str, on_steps=None,
                resume: ResumePoint | None = None, reraise: bool = False,
                live: Callable | None = None) -> tuple[list, float]:
    """Train ``specs`` as one stacked model (continuing from, and writing, the training
    checkpoint at ``resume`` when the runs set ``checkpoint_every``). When that fails with
    an exception (e.g. one variant's own loss raises) and the stack holds several
    variants or settings, each of them is trained apart (from step 0, without
    checkpoints), so one broken variant fails only its own runs (``reraise``: the
    exception propagates instead, ``ganbench run --debug``). ``live(rows, whole)`` gets
    each evaluation's new history rows by run id (:func:`live_rows`)."""
    data = [s.dataset_spec() for s in specs]
    try:                    # once for the group (a failure: train_seeds records it per run)
        ds = build_data(data)
    except Exception:  # noqa: BLE001
        ds = None

    def train(idx: list[int], point: ResumePoint | None = None):
        ids = [specs[i].run_id for i in idx]
        part = None if ds is None else stacked([ds.of_slice(i) for i in idx])
        return train_seeds([data[i] for i in idx], [specs[i].config for i in idx],
                           [specs[i].seed for i in idx], device, on_steps, ids, part, point,
                           reraise, live_rows(live, ids))
    results, wall = train(list(range(len(specs))), resume)
    parts: dict[tuple, list[int]] = {}
    for i, s in enumerate(specs):
        parts.setdefault((s.dataset["label"], s.variant, s.setting_label), []).append(i)
    if len(parts) == 1 or any(r.status != "failed" for r in results):
        return results, wall
    for idx in parts.values():
        sub, sub_wall = train(idx)
        for i, r in zip(idx, sub):
            results[i] = r
        wall += sub_wall
    return results, wall


def live_rows(live: Callable | None, run_ids: list[str]) -> Callable | None:
    """The loop's ``live(step, rows per seed, whole)`` as ``live({run_id: rows}, whole)``:
    rows are (step, {column: value}), ``whole``: every row since step 0 (the first report
    of a training, which replaces what a tracker had of an earlier try)."""
    if live is None:
        return None
    return lambda step, rows, whole: live(dict(zip(run_ids, rows)), whole)


def train_group(group: Group, device: str, on_steps: Callable[[int], None] | None = None,
                resume: ResumePoint | None = None, reraise: bool = False,
                live: Callable | None = None) -> list[RunFiles]:
    """Train one group; return its runs' files (written by the caller, where OUT is).
    ``resume``: where the group keeps its training checkpoint (None: it keeps none);
    ``reraise``: a run's exception propagates (``ganbench run --debug``); ``live``: see
    :func:`train_stack`."""
    results, wall = train_stack(group.specs, device, on_steps, resume, reraise, live)
    env = environment(device)
    return [run_files(spec_record(spec), res, wall, len(group.specs), device, env)
            for spec, res in zip(group.specs, results)]
