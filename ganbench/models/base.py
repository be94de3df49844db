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

from ..registry import Registry, split_spec

generators = Registry("generator")
discriminators = Registry("discriminator")

#: arguments the harness supplies to model factories (not settable from a suite)
MODEL_CONTEXT = {"n_seeds", "data_dim", "init", "image_shape"}


def build_model(registry: Registry, spec, path: str, dataset, init: list):
    """Build a generator or discriminator for ``dataset``, one seed per generator in ``init``."""
    context = {"n_seeds": len(init), "data_dim": dataset.dim, "init": init}
    factory = registry.get(split_spec(spec, path)[0], path)
    params = inspect.signature(factory).parameters
    if "image_shape" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        context["image_shape"] = getattr(dataset, "image_shape", None)
    return registry.build(spec, path, **context)
