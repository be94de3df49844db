"""``ganbench run SUITE --until-decided``: seeds on demand.

The suite's seeds are the first look; after each look the design
(:mod:`ganbench.analysis.decisions`) names the groups whose comparisons are still
undecided, and only those train their next block of new seeds, stacked like any other
runs by the same executors (one call of :func:`.api.run` per block, so a block's runs
stack with each other). OUT/decisions.json is written after every look; the looks are
replayed from the runs, so a rerun resumes: finished runs are never trained again.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import pandas as pd

from ..analysis import decisions
from ..config.suite import Suite
from ..errors import InputError
from .api import run
from .store import folder_lock, write_results


def design_of(suite: Suite, max_seeds: int | None, block: int | None, reference: str | None,
              alpha: float, spending: str, metrics: list[str] | None,
              margins: dict) -> decisions.Design:
    """The design of a suite's seeds on demand (bad options: InputError before any work)."""
    if suite.resolved.get("sweeps"):
        raise InputError("--until-decided: the suite sweeps settings; decide variants of a "
                         "suite without a sweep.")
    first: dict[str, list[int]] = {}
    for spec in suite.specs:
        if spec.dataset["label"] == suite.specs[0].dataset["label"]:
            first.setdefault(spec.variant, []).append(spec.seed)
    if len(first) < 2:
        raise InputError("--until-decided: the suite has one variant; it needs a reference "
                         "and a variant to compare.")
    n1 = len(next(iter(first.values())))
    if reference is None:
        reference = "nonsaturating" if "nonsaturating" in first else next(iter(first))
    return decisions.Design(
        reference=reference, first_seeds=first,
        datasets=[ds["label"] for ds in suite.resolved["datasets"]],
        block=block or n1, max_seeds=max_seeds or decisions.DEFAULT_BUDGET * n1, alpha=alpha,
        spending=spending, metrics=metrics, margins=dict(margins))


def run_until_decided(suite: Suite, out: Path | None, design: decisions.Design,
                      say: Callable[[str], None], **run_options) -> tuple[pd.DataFrame,
                                                                           decisions.Played]:
    """Train the looks of ``design`` until every comparison is decided or the budget is
    spent; returns the summary of every run and the played looks."""
    out = Path(out) if out is not None else Path("results") / suite.name
    decisions.same_design(decisions.read(out), design, out)
    templates = {(s.dataset["label"], s.variant): s for s in suite.specs}
    ids: list[str] = []
    groups, look = list(templates), 1
    while True:
        specs = [_spec(templates[g], seed) for g in groups
                 for seed in design.block_seeds(g[1], look)]
        say(f"ganbench: --until-decided: look {look}: {len(groups)} groups, "
            f"{len(specs)} runs of seeds {_span(design, groups, look)}")
        run(dataclasses.replace(suite, specs=specs), out, **run_options, echo=say)
        ids += [s.run_id for s in specs]
        with folder_lock(out):
            summary = write_results(out, ids)
            played = decisions.play(summary, design, [out])
            if played.finished:
                decisions.plan(played, summary, [out])
            decisions.write(out, played)
        if played.finished:
            summary.attrs.update(out=str(out), suite=suite.name)
            return summary, played
        if played.next_look <= look:
            raise InputError(f"--until-decided: look {played.next_look} still lacks runs after "
                             "training them; see the failed runs in summary.csv.")
        groups, look = played.next_groups, played.next_look


def _spec(template, seed: int):
    """The template's run (its dataset, variant and settings) at another seed."""
    return dataclasses.replace(template, seed=seed,
                               run_id=template.run_id.rsplit("seed", 1)[0] + f"seed{seed}")


def _span(design: decisions.Design, groups: list, look: int) -> str:
    seeds = design.block_seeds(groups[0][1], look)
    return f"{seeds[0]}..{seeds[-1]}" + (" (+ each variant's offset)" if len(
        {design.block_seeds(g[1], look)[0] for g in groups}) > 1 else "")
