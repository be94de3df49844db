"""PacGAN packing (Lin et al. 2018) around any seed-stacked discriminator of vectors.

``discriminator: {name: packed, packing: 2, body: {name: maxout, width: 200, depth: 3,
pieces: 5}}`` builds the body for inputs of ``packing`` × the data's dimension and marks
it packed: the game then concatenates ``packing`` consecutive samples of a batch into one
input (:func:`ganbench.game.pack`), real with real and fake with fake, so D judges packs.
This is how PacGAN's official 2D code packs its maxout discriminator: only the input
layer widens (``input_dim = num_xdim * num_packing`` in fjxmlzn/PacGAN
``synthetic_data_experiments/2DRing_GAN&PacGAN/pacgan_task.py``). ``pacgan`` is the
same thing with an MLP body; DCGAN packs its images itself (``dcgan``'s ``packing``).
"""
from __future__ import annotations

from types import SimpleNamespace

from ..errors import InputError
from .base import build_model, discriminators


@discriminators.register("packed")
def packed_discriminator(n_seeds: int, data_dim: int, init, packing: int = 2,
                         body: dict | str = "mlp"):
    """PacGAN: any vector discriminator (`body`, e.g. {name: maxout, ...}) judging packs of
    `packing` samples, concatenated.

    The body is built (seed-stacked or a plain module, as any discriminator) for inputs of
    ``packing * data_dim``; image discriminators pack themselves (``dcgan``'s ``packing``)."""
    if isinstance(packing, bool) or int(packing) != packing or int(packing) < 1:
        raise ValueError("packing must be a whole number >= 1")
    m = int(packing)
    if isinstance(body, dict) and body.get("name") == "packed" or body == "packed":
        raise ValueError("body: a packed body would pack twice; give the plain discriminator")
    try:
        wide = SimpleNamespace(dim=data_dim * m, image_shape=None)   # what the body sees: a pack
        d = build_model(discriminators, body, "body", wide, init)
    except InputError as e:
        raise ValueError(str(e)) from None
    if int(getattr(d, "packing", 1)) != 1:
        raise ValueError(f"body: {body!r} packs its input itself (packing "
                         f"{getattr(d, 'packing')}); give an unpacked discriminator")
    d.packing = m
    return d
