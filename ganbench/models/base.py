"""The model registries.

A model factory is called as ``factory(n_seeds=S, data_dim=..., init=gens, **settings)``
where ``init`` is a list of S CPU ``torch.Generator`` objects, one per seed, used to
draw that seed's initial weights (so seed s starts from the same weights whether it
trains alone or stacked with other seeds). Factories that declare an ``image_shape``
argument also get the dataset's (C, H, W) (None for non-image data). Generators map
``(S, B, z_dim)`` to ``(S, B, data_dim)`` and expose ``z_dim``; discriminators map
``(S, B, data_dim)`` to ``(S, B)``.
"""
import inspect

from ..errors import at
from ..registry import Registry, check_params, split_spec
from .plain import build_plain, factory_is_plain

generators = Registry("generator")
discriminators = Registry("discriminator")

#: arguments the harness supplies to model factories (not settable from a suite)
MODEL_CONTEXT = {"n_seeds", "data_dim", "init", "image_shape"}


def build_model(registry: Registry, spec, path: str, dataset, init: list):
    """Build a generator or discriminator for ``dataset``, one seed per generator in ``init``.

    Seed-stacked factories (with an ``init`` argument) get the harness's context and
    build all S seeds at once; plain-module factories (no ``init``) are called once per
    seed (under torch's global RNG seeded from that seed's ``init`` generator), given
    ``data_dim`` / ``image_shape`` only if they declare them, and wrapped in a
    :class:`~ganbench.models.plain.PlainStack` (see :mod:`ganbench.models.plain`). Either
    way a setting the factory does not take is an error naming the field."""
    context = {"n_seeds": len(init), "data_dim": dataset.dim, "init": init}
    name, settings = split_spec(spec, path)
    factory = registry.get(name, path)
    if factory_is_plain(factory):
        check_params(factory, settings, path, reserved=MODEL_CONTEXT)
        try:
            return build_plain(factory, registry.kind, init, dataset.dim,
                               getattr(dataset, "image_shape", None), settings)
        except (TypeError, ValueError) as e:
            raise at(path, f"{registry.kind} {name!r}: {e}") from None
    params = inspect.signature(factory).parameters
    if "image_shape" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        context["image_shape"] = getattr(dataset, "image_shape", None)
    return registry.build(spec, path, **context)
