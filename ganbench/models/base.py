"""The model registries.

A model factory is called as ``factory(n_seeds=S, data_dim=..., init=gens, **settings)``
where ``init`` is a list of S CPU ``torch.Generator`` objects, one per seed, used to
draw that seed's initial weights (so seed s starts from the same weights whether it
trains alone or stacked with other seeds). Factories that declare an ``image_shape``
argument also get the dataset's (C, H, W) (None for non-image data); factories that
declare ``per_sample`` get True when the run has a gradient penalty (r1, r2, gp,
dragan, wgan_gp), whose per-sample input gradients need a D that does not mix the
samples of a batch (no batch norm). Generators map
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
MODEL_CONTEXT = {"n_seeds", "data_dim", "init", "image_shape", "per_sample"}


def mixes_samples(net) -> bool:
    """Whether ``net``'s output for a sample depends on the other samples of its batch:
    batch norm (torch's, or a module that says so with ``mixes_samples = True``)."""
    from torch.nn.modules.batchnorm import _BatchNorm
    return any(isinstance(m, _BatchNorm) or getattr(m, "mixes_samples", False)
               for m in net.modules())


def build_model(registry: Registry, spec, path: str, dataset, init: list, per_sample: bool = False):
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
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if "image_shape" in params or takes_all:
        context["image_shape"] = getattr(dataset, "image_shape", None)
    if "per_sample" in params or takes_all:
        context["per_sample"] = bool(per_sample)
    return registry.build(spec, path, **context)
