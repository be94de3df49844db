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
    _predicted: tuple[Features, Prediction] | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        s = self.specs[0]
        variants = list(dict.fromkeys(sp.variant for sp in self.specs))
        settings = len({sp.setting_label for sp in self.specs})
        data = "+".join(dict.fromkeys(sp.dataset["label"] for sp in self.specs))
        return (f"{data}/{'+'.join(variants)}"
                + (f" [{s.setting_label}]" if s.setting and settings == 1 else "")
                + (f" [{settings} settings]" if settings > 1 else ""))

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


def pending_groups(out: Path, specs: list[RunSpec], force: bool = False,
                   max_slices: int = MAX_SLICES) -> list[Group]:
    """The unfinished runs (all with ``force``) in stacked groups of at most
    ``max_slices`` runs: one data key (one dataset, or the sets of the plane together)
    and one stack key. The chunks are cut from all of the suite's runs of a data key and
    stack key, then the finished runs are left out: an
    interrupted suite's groups are the groups it had (the same runs stack together, and
    a group finds its training checkpoint again)."""
    groups: dict[tuple, list[RunSpec]] = {}
    keys: dict[str, str] = {}       # a config (as JSON) -> its stack key, made once
    for s in specs:
        cfg = json.dumps(s.config.as_dict(), sort_keys=True, default=str)
        if cfg not in keys:
            keys[cfg] = stack_key(s.config)
        groups.setdefault((data_key(s.dataset), keys[cfg]), []).append(s)
    pending = [[s for s in chunk if force or not is_finished(out, s)]
               for v in groups.values() for chunk in chunks(v, max_slices)]
    return [Group(c) for c in pending if c]
