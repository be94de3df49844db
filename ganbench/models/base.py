"""The model registries.

A model factory is called as ``factory(n_seeds=S, data_dim=..., init=gens, **settings)``
where ``init`` is a list of S CPU ``torch.Generator`` objects, one per seed, used to
draw that seed's initial weights (so seed s starts from the same weights whether it
trains alone or stacked with other seeds). Generators map ``(S, B, z_dim)`` to
``(S, B, data_dim)`` and expose ``z_dim``; discriminators map ``(S, B, data_dim)``
to ``(S, B)``.
"""
from ..registry import Registry

generators = Registry("generator")
discriminators = Registry("discriminator")
