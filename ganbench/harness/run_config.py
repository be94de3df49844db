"""A run's settings, resolved: what the harness trains from.

A :class:`RunConfig` is made in one place, :func:`ganbench.config.schema.resolve_config`,
from the schema's defaults and a suite's layers of settings, with every component
(objective, networks, optimizers, ...) resolved to a mapping that names it and holds
every setting of its factory. It holds no default of its own: a field missing here is
an error, not a silent default. The harness reads its fields by name and never changes
it (frozen; a changed copy is :meth:`RunConfig.replace`).

It is defined here, below the suite schema, because the harness consumes it and the
schema (which imports the harness's registries to validate) produces it.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from ..layout import RUN_FIELD_NAMES

#: a component as the schema resolves it: {"name": ..., <every setting of its factory>}
Component = dict


@dataclass(frozen=True)
class RunConfig:
    """Every run setting of one run (ganbench.config.schema.RUN_FIELDS says what each
    means, its kind and its default)."""

    objective: Component
    regularizers: list[Component]
    generator: Component
    discriminator: Component
    optimizer: Component
    g_optimizer: Component | None
    d_optimizer: Component | None
    update: Component
    n_critic: int
    steps: int
    batch_size: int
    eval_every: int
    #: None until the dataset's default is filled in (ganbench.config.suite.for_dataset)
    n_eval: int | None
    min_hq: int
    checkpoint_probes: list[Component]
    features: Component | None
    #: G weight averaging {decay, start, evaluate}, or None (off)
    ema: dict | None
    log_every: int
    checkpoint: bool
    #: steps between a stacked group's training checkpoints (mid-run resume), or None
    checkpoint_every: int | None

    @classmethod
    def from_dict(cls, settings: dict[str, Any]) -> "RunConfig":
        """A run config from every field's value (as :meth:`as_dict` gives them, e.g. a
        run's config.json); a missing or unknown field is a ValueError."""
        missing = [k for k in RUN_FIELD_NAMES if k not in settings]
        unknown = [k for k in settings if k not in RUN_FIELD_NAMES]
        if missing or unknown:
            raise ValueError(f"a run config needs exactly the run fields: missing {missing}, "
                             f"unknown {unknown}")
        return cls(**copy.deepcopy(dict(settings)))

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, in the schema's order (a copy: config.json's ``config``)."""
        return {k: copy.deepcopy(getattr(self, k)) for k in RUN_FIELD_NAMES}

    def replace(self, **changes) -> "RunConfig":
        """A copy with ``changes`` (field -> value)."""
        return dataclasses.replace(self, **changes)


assert tuple(f.name for f in dataclasses.fields(RunConfig)) == RUN_FIELD_NAMES, \
    "RunConfig's fields must be layout.RUN_FIELD_NAMES, in order"
