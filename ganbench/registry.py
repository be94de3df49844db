"""One small generic registry: name -> factory, with a decorator to add entries.

Every kind of pluggable thing in ganbench (datasets, objectives, regularizers,
generators, discriminators, optimizers, probes) is a :class:`Registry`. A user adds
an entry from their own module::

    from ganbench.objectives import objectives, Objective

    @objectives.register("my_loss")
    def my_loss(margin: float = 1.0) -> Objective:
        ...

and names it in a suite YAML. Factories take their settings as keyword arguments;
:meth:`Registry.build` checks those against the factory's signature so a misspelled
setting is an error naming the field, never silently ignored.
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Iterator, Mapping

from .errors import at


class Registry:
    #: every registry made, in order (e.g. to find entries a script registered)
    instances: list["Registry"] = []

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[..., Any]] = {}
        Registry.instances.append(self)

    def register(self, name: str, factory: Callable[..., Any] | None = None):
        """Add ``factory`` under ``name``; usable as ``@registry.register("name")``."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{self.kind} name must be an identifier, got {name!r}")

        def add(f: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries and self._entries[name] is not f:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = f
            return f

        return add(factory) if factory is not None else add

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str, path: str = "") -> Callable[..., Any]:
        """The factory for ``name``; an unknown name lists the known ones and the closest."""
        if name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(str(name), self.names(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise at(path, f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}. "
                       f"{self.plugin_hint()}")

    def plugin_hint(self) -> str:
        """Where a user's own entry comes from: the module that registers it must be
        imported (a suite's ``imports:``, ``--import``, or ``imports=`` in Python)."""
        return (f"Your own {self.kind}? Register it in a module and name that module under "
                "the suite's 'imports:' (or pass --import MODULE).")

    def describe(self, name: str) -> str:
        """First line of the factory's docstring."""
        doc = inspect.getdoc(self._entries[name]) or ""
        return doc.splitlines()[0] if doc else ""

    def build(self, spec: str | Mapping[str, Any], path: str = "", **context: Any) -> Any:
        """Call the factory named by ``spec`` (a name, or a mapping with ``name`` and settings).

        ``context`` holds arguments the harness supplies (not settable from YAML).
        """
        name, params = split_spec(spec, path)
        factory = self.get(name, f"{path}.name" if isinstance(spec, Mapping) else path)
        check_params(factory, params, path, reserved=set(context))
        try:
            return factory(**context, **params)
        except (TypeError, ValueError) as e:
            raise at(path, f"{self.kind} {name!r}: {e}") from None


def split_spec(spec: Any, path: str) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``{"name": ..., **settings}`` -> (name, settings)."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise at(path, "missing 'name'. Write e.g. {name: adam, lr: 0.001}.")
        params = dict(spec)
        name = params.pop("name")
        if not isinstance(name, str):
            raise at(f"{path}.name", f"expected a name (text), got {name!r}.")
        return name, params
    raise at(path, f"expected a name or a mapping with 'name', got {spec!r}.")


def check_params(factory: Callable[..., Any], params: Mapping[str, Any], path: str,
                 reserved: set[str] = frozenset()) -> None:
    """Every key of ``params`` must be a keyword of ``factory`` (and not a harness one)."""
    sig = inspect.signature(factory)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    allowed = [n for n, p in sig.parameters.items()
               if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in reserved]
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            known = ", ".join(allowed) or "none"
            raise at(f"{path}.{key}", f"unknown setting.{hint} Settings here: {known}.")


def merge_spec(base: Any, override: Any) -> Any:
    """``override`` on top of ``base`` (component specs: names or mappings).

    A mapping without a name, or with the same name, updates the base's settings
    (``{lr: 0.001}`` over ``{name: adam, lr: 0.0001}``); another name replaces it.
    """
    if override is None:
        return base
    if base is None:
        return override
    if isinstance(override, Mapping):
        base_name = base.get("name") if isinstance(base, Mapping) else base
        if override.get("name", base_name) == base_name:
            base_settings = dict(base) if isinstance(base, Mapping) else {"name": base}
            return {**base_settings, **override}
    return override
