"""Every run setting, declared once: :class:`RunConfig`'s fields, each with its default,
its kind and what it means. The suite schema (:mod:`ganbench.config.schema`) checks and
resolves a suite's settings by them, the results folder's layout names them (a swept
column, the settings hash), and the harness trains from a RunConfig.

A :class:`RunConfig` is one run's settings, resolved: every default filled in (``n_eval``
too: the dataset's), every component (objective, networks, optimizers, ...) a
:class:`Component` that names it and holds every setting of its factory, G's and D's
optimizers each whole (:meth:`RunConfig.optimizer_for`). It is frozen; a field missing
when one is made is an error, not a silent default (the defaults are the schema's,
applied at resolution). ``as_dict`` gives it as config.json holds it.

This module imports nothing of ganbench: the analysis and the trackers read run folders
through the layout without the harness.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

#: the kinds of run settings (ganbench.config.schema checks and resolves each kind)
KINDS = ("component", "component_list", "component_or_null", "optimizer", "optimizer_or_null",
         "positive_int", "positive_int_or_null", "bool", "ema")


def setting(default: Any, kind: str, doc: str, registry: str | None = None,
            result: bool = True, from_dataset: str | None = None):
    """A run setting's declaration: its ``default`` (as a suite would write it), its
    ``kind`` (:data:`KINDS`), what it means, the ``registry`` its components come from,
    whether it changes a result (``result``: False leaves it out of the settings hash), and
    the dataset attribute that fills it when it is left unset (``from_dataset``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of run setting {kind!r}")
    return field(metadata={"default": default, "kind": kind, "doc": doc, "registry": registry,
                           "result": result, "from_dataset": from_dataset})


class Component(dict):
    """A resolved component: ``{"name": ..., <every setting of its factory>}``, read-only
    (a changed copy is ``{**component, "lr": 0.01}``)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self["name"]

    @property
    def settings(self) -> dict:
        """Its settings without the name."""
        return {k: v for k, v in self.items() if k != "name"}

    def _read_only(self, *args, **kwargs):
        raise TypeError("a resolved component is read-only; make a changed copy, "
                        "{**component, 'setting': value}")

    __setitem__ = __delitem__ = __ior__ = _read_only
    update = pop = popitem = clear = setdefault = _read_only

    def __reduce__(self):
        return (Component, (dict(self),))

    def __copy__(self) -> "Component":
        return self

    def __deepcopy__(self, memo) -> "Component":
        return Component(copy.deepcopy(dict(self), memo))


@dataclass(frozen=True)
class Ema:
    """G's exponential weight average (resolved by ganbench.harness.averaging)."""

    decay: float
    start: int
    #: evaluations (and samples.png) use the averaged G
    evaluate: bool

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunConfig:
    """Every run setting of one run, resolved (the declarations: :func:`setting`)."""

    objective: Component = setting(
        "nonsaturating", "component", "the GAN loss", "objective")
    regularizers: list[Component] = setting(
        [], "component_list", "penalties and perturbations added to the game", "regularizer")
    generator: Component = setting({"name": "mlp"}, "component", "G's network", "generator")
    discriminator: Component = setting(
        {"name": "mlp"}, "component", "D's network", "discriminator")
    optimizer: Component = setting(
        {"name": "adam", "lr": 1e-4}, "optimizer", "both players' optimizer (and its lr "
        "schedule)", "optimizer")
    g_optimizer: Component | None = setting(
        None, "optimizer_or_null", "G's optimizer, merged over optimizer (null: optimizer)",
        "optimizer")
    d_optimizer: Component | None = setting(
        None, "optimizer_or_null", "D's optimizer, merged over optimizer (null: optimizer)",
        "optimizer")
    update: Component = setting("alternating", "component", "the update scheme", "update")
    n_critic: int = setting(1, "positive_int", "D steps per G step")
    steps: int = setting(2000, "positive_int", "G steps")
    batch_size: int = setting(256, "positive_int", "samples per batch")
    eval_every: int = setting(250, "positive_int", "steps between evaluations (at most steps)")
    n_eval: int = setting(None, "positive_int", "generated samples per evaluation (unset: the "
                          "dataset's, 2500; stacked digits 26000)", from_dataset="default_n_eval")
    min_hq: int = setting(1, "positive_int", "high-quality samples that make a mode captured")
    checkpoint_probes: list[Component] = setting(
        [], "component_list", "probes at chosen steps (vanishing)", "checkpoint_probe")
    features: Component | None = setting(
        None, "component_or_null", "the FID/KID feature extractor (null: the dataset's)",
        "features")
    ema: Ema | None = setting(None, "ema", "G weight averaging {decay, start, evaluate} (null: off)")
    log_every: int = setting(1, "positive_int", "history.csv keeps every log_every-th step "
                             "(and the evaluations)")
    checkpoint: bool = setting(True, "bool", "model.pt (G, D, averaged G) in each run folder")
    checkpoint_every: int | None = setting(
        None, "positive_int_or_null", "steps between a stacked group's training checkpoints "
        "(mid-run resume: ganbench.harness.resume; null: none)", result=False)

    def __post_init__(self):
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _typed(getattr(self, f.name), f.metadata["kind"]))

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> "RunConfig":
        """A run config from every field's value (as :meth:`as_dict` gives them, e.g. a
        run's config.json); a missing or unknown field is a ValueError."""
        missing = [k for k in RUN_FIELD_NAMES if k not in settings]
        unknown = [k for k in settings if k not in RUN_FIELD_NAMES]
        if missing or unknown:
            raise ValueError(f"a run config needs exactly the run fields: missing {missing}, "
                             f"unknown {unknown}")
        return cls(**copy.deepcopy(dict(settings)))

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, in declaration order, as plain data (config.json's ``config``)."""
        return {k: _plain(getattr(self, k)) for k in RUN_FIELD_NAMES}

    def replace(self, **changes) -> "RunConfig":
        """A copy with ``changes`` (field -> value)."""
        return dataclasses.replace(self, **changes)

    def optimizer_for(self, key: str) -> Component:
        """The whole optimizer of ``key`` (``g_optimizer`` or ``d_optimizer``): its own,
        already merged over ``optimizer`` where it is set (at resolution), else
        ``optimizer``."""
        return getattr(self, key) or self.optimizer


def _typed(value: Any, kind: str) -> Any:
    """A field's value as RunConfig holds it: components as :class:`Component`, ``ema``
    as :class:`Ema`."""
    if value is None:
        return None
    if kind == "component_list":
        return [_typed(v, "component") for v in value]
    if kind == "ema":
        return value if isinstance(value, Ema) else Ema(**value)
    if kind.startswith(("component", "optimizer")):
        return Component(value) if isinstance(value, Mapping) else Component(name=value)
    return value


def _plain(value: Any) -> Any:
    """A field's value as plain data (JSON and YAML): a copy."""
    if isinstance(value, Ema):
        return value.as_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: copy.deepcopy(v) for k, v in value.items()}
    return copy.deepcopy(value)


FIELDS = tuple(dataclasses.fields(RunConfig))
#: the run settings, in declaration order
RUN_FIELD_NAMES = tuple(f.name for f in FIELDS)
#: each run setting's default, as a suite would write it
DEFAULTS = {f.name: f.metadata["default"] for f in FIELDS}
#: run settings that change how a run is kept, not what it computes: left out of the
#: settings hash and of the "same settings" test of resume (changing them retrains nothing)
NOT_SETTINGS = tuple(f.name for f in FIELDS if not f.metadata["result"])
