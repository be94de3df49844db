"""Groups of runs: the unfinished runs of a suite, cut into the stacked models they
train as, and their predicted time (:mod:`.costs`: to start the longest first, and
for the time left)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..config.suite import RunSpec
from ..harness.stacking import MAX_SLICES, chunks, data_key, stack_key
from .costs import Features, Prediction, features_of, predict
from .store import is_finished


@dataclass
class Group:
    """Unfinished runs that train as one stacked model: the seeds of a variant, and runs
    of other variants, settings and datasets with the same stack key and data key
    (ganbench.harness.stacking)."""

    specs: list[RunSpec]
    #: which part of a stack split for the workers ('1 of 2'; '' when whole)
    part: str = ""
    _predicted: tuple[Features, Prediction] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        s = self.specs[0]
        variants = list(dict.fromkeys(sp.variant for sp in self.specs))
        settings = len({sp.setting_label for sp in self.specs})
        data = "+".join(dict.fromkeys(sp.dataset["label"] for sp in self.specs))
        return (f"{data}/{'+'.join(variants)}"
                + (f" [{s.setting_label}]" if s.setting and settings == 1 else "")
                + (f" [{settings} settings]" if settings > 1 else "")
                + (f" ({self.part})" if self.part else ""))

    @property
    def steps(self) -> int:
        return self.specs[0].config.steps

    @property
    def prediction(self) -> tuple[Features, Prediction]:
        """What the group's time depends on, and its predicted seconds on one worker."""
        if self._predicted is None:
            features = features_of(self.specs)
            self._predicted = (features, predict(features))
        return self._predicted

    @property
    def cost(self) -> float:
        """Predicted seconds on one worker (:mod:`.costs`, a measured model), to start the
        longest groups first and to estimate the time left."""
        return self.prediction[1].seconds

    def share_after(self, steps: int) -> float:
        """The share of the group's predicted time done once ``steps`` steps are."""
        features, prediction = self.prediction
        return prediction.done_after(steps, features)


def longest_first(groups: list[Group]) -> list[Group]:
    """Costliest groups first, so parallel workers finish close together."""
    return sorted(groups, key=lambda g: -g.cost)


def makespan(costs: list[float], slots: int) -> float:
    """The wall time of ``costs`` started longest first on ``slots`` workers, each
    taking the next when it is free (as the process executor does)."""
    loads = [0.0] * max(1, slots)
    for c in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += c
    return max(loads)


#: a stack predicted shorter than this is never split: a half saves at most half of it,
#: within the cost model's error on short groups (about 20%), and each split re-cuts a
#: stack (its runs move by float chaos) and adds the half's fixed costs
MIN_SPLIT_SECONDS = 30.0


def balanced(cut: list[list[RunSpec]], slots: int) -> list[tuple[list[RunSpec], str]]:
    """(runs, part) of each group once stacks too long for ``slots`` workers are split:
    while halving a group (the costliest first) shortens the predicted wall time
    (:func:`makespan`, by the cost model) by more than 1%, it is halved (never one
    predicted under :data:`MIN_SPLIT_SECONDS`). A stack whose
    time grows with its depth (a gradient penalty's double backward: a 6-run wgan_gp
    stack steps in 49 ms, its 3-run halves in 25 and 26 ms, benchmarks/grouping.py)
    otherwise keeps one worker busy while the others idle. One worker: nothing split."""
    if slots <= 1:
        return [(c, "") for c in cut]
    known: dict[tuple, float] = {}                 # a part's runs -> its predicted seconds

    def cost(part: list[RunSpec]) -> float:
        key = tuple(s.run_id for s in part)
        if key not in known:
            known[key] = predict(features_of(part)).seconds
        return known[key]

    stacks = [[c] for c in cut]                    # each stack's parts, whole at first
    best = makespan([cost(c) for c in cut], slots)
    while True:
        for parts in sorted(stacks, key=lambda ps: -max(map(cost, ps))):
            widest = max(parts, key=cost)
            if len(widest) < 2 or cost(widest) < MIN_SPLIT_SECONDS:
                continue
            half = len(widest) // 2
            a, b = widest[:half], widest[half:]
            trial = [cost(p) for ps in stacks for p in ps if p is not widest] + [cost(a), cost(b)]
            if makespan(trial, slots) < 0.99 * best:
                i = parts.index(widest)
                parts[i:i + 1] = [a, b]
                best = makespan(trial, slots)
                break
        else:
            return [(p, f"{i + 1} of {len(ps)}" if len(ps) > 1 else "")
                    for ps in stacks for i, p in enumerate(ps)]


def pending_groups(out: Path, specs: list[RunSpec], force: bool = False,
                   max_slices: int = MAX_SLICES, slots: int = 1) -> list[Group]:
    """The unfinished runs (all with ``force``) in stacked groups of at most
    ``max_slices`` runs: one data key (one dataset, or the sets of the plane together)
    and one stack key, split further (:func:`balanced`) where ``slots`` workers would
    otherwise wait on one long stack. The chunks are cut from all of the suite's runs of a data key and
    stack key, then the finished runs are left out: an
    interrupted suite's groups are the groups it had (the same runs stack together, and
    a group finds its training checkpoint again) when it runs on as many workers."""
    groups: dict[tuple, list[RunSpec]] = {}
    keys: dict[str, str] = {}       # a config (as JSON) -> its stack key, made once
    for s in specs:
        cfg = json.dumps(s.config.as_dict(), sort_keys=True, default=str)
        if cfg not in keys:
            keys[cfg] = stack_key(s.config)
        groups.setdefault((data_key(s.dataset), keys[cfg]), []).append(s)
    cut = [chunk for v in groups.values() for chunk in chunks(v, max_slices)]
    pending = [([s for s in chunk if force or not is_finished(out, s)], part)
               for chunk, part in balanced(cut, slots)]
    return [Group(c, part) for c, part in pending if c]
