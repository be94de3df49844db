"""The loss contract, checked before any training: one dry pass of a run's game on a
tiny batch of a few stacked runs.

Runs train stacked (:mod:`ganbench.harness.stacking`): D's outputs are ``(S, B)``, S
runs by B samples, and every loss and penalty returns one value per run, shape
``(S,)`` (:mod:`ganbench.objectives`, :mod:`ganbench.regularizers`, :mod:`ganbench.game`).
A loss reduced with ``.mean()`` instead of ``.mean(-1)`` returns one number for all
runs: broadcast into the penalties' sum it trains every run on the mean of all, and it
breaks the history's per-run columns. :func:`check_game` calls each objective loss,
each penalty and each input perturbation once on ``S = DRY_RUNS`` runs and raises an
:class:`~ganbench.errors.InputError` naming the first one that breaks the contract,
what it returned and what is expected. Nothing is trained (no parameter changes). A part
that raises is left to training, where its runs fail with the traceback in error.txt
(one broken variant fails only its own runs; ``ganbench run --debug`` re-raises it).
"""
from __future__ import annotations

import torch

from ..errors import InputError, at
from ..objectives import objectives
from ..regularizers import regularizers

#: stacked runs in the dry pass (more than one, so a loss over all runs shows)
DRY_RUNS = 3
#: samples per run in the dry pass (times D's packing)
DRY_BATCH = 4


def _shape(x) -> str:
    if not isinstance(x, torch.Tensor):
        return f"a {type(x).__name__}, not a tensor"
    return "shape (" + ", ".join(str(int(n)) for n in x.shape) + ("," if x.dim() == 1 else "") + ")"


def _who(registry, spec, fallback: str) -> str:
    """``objective 'mine' (module my_losses)``: the entry and the module it comes from."""
    name = spec.get("name") if isinstance(spec, dict) else spec
    try:
        module = getattr(registry.get(str(name)), "__module__", None)
    except Exception:  # noqa: BLE001 - the name was checked when the part was built
        module = None
    return f"{registry.kind} {str(name or fallback)!r}" + (f" (module {module})" if module else "")


def _per_run(value, what: str, who: str, path: str, S: int, B: int) -> None:
    """``value`` must be (S,): one value per run."""
    if isinstance(value, torch.Tensor) and tuple(value.shape) == (S,):
        return
    if isinstance(value, torch.Tensor) and value.dim() == 0:
        fix = "reduce over the samples with .mean(-1), not .mean()"
    else:
        fix = (f"D's outputs are (runs, samples) = ({S}, {B}) here: reduce over the last "
               "dimension (the samples) only")
    raise at(path, f"{who}: {what} returned {_shape(value)} — a loss returns one value per "
                   f"run, shape ({S},) here; {fix}.")


def check_game(players, config, path: str = "") -> None:
    """Call the objective's losses, each penalty and each perturbation of ``players``
    (built with :data:`DRY_RUNS` stacked runs: :func:`ganbench.harness.build.build_parts`) once on
    a tiny batch; an InputError at ``path`` names the first that does not return what the
    harness stacks (one value per run, or the input's shape). On one torch thread: kernels
    this small run in microseconds on one, and wait on each other for milliseconds on
    several when the cores are busy (measured: 3 us against 16 ms per matmul)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _check(players, config, path)
    except InputError:
        raise
    except Exception:  # noqa: BLE001 - a part that raises fails its runs in training, with
        pass           # its traceback in error.txt (and ganbench run --debug re-raises it)
    finally:
        torch.set_num_threads(threads)


def _check(players, config, path: str) -> None:
    game, G, D, ds = players.game, players.G, players.D, players.dataset
    gens = [torch.Generator().manual_seed(i) for i in range(DRY_RUNS)]
    n = DRY_BATCH * game.packing
    with torch.no_grad():
        real = torch.stack([ds.sample(n, g) for g in gens])
        fake = G(torch.randn(DRY_RUNS, n, G.z_dim, generator=gens[0]))
    # the game's regularizers: the suite's, in order, then the objective's own penalties
    built = list(zip(config.regularizers, game.regularizers))
    for i, (r, reg) in enumerate(built):
        if reg.perturb is not None:
            out = reg.perturb(real, gens, 0.0)
            if not isinstance(out, torch.Tensor) or out.shape != real.shape:
                raise at(f"{path}regularizers[{i}]",
                         f"{_who(regularizers, r, reg.name)}: perturb returned {_shape(out)} — "
                         f"it must return its input's shape {tuple(real.shape)}.")
    xr, xf = game.see(real, gens, 0.0), game.see(fake, gens, 0.0)
    with torch.no_grad():
        r_out, f_out = D(xr), D(xf)
    B = r_out.shape[-1]
    obj = _who(objectives, config.objective, "objective")
    _per_run(game.objective.d_loss(r_out, f_out), "d_loss", obj, f"{path}objective", DRY_RUNS, B)
    _per_run(game.objective.generator_loss(f_out, r_out if game.objective.g_needs_real else None),
             "g_loss", obj, f"{path}objective", DRY_RUNS, B)
    own = [(f"{path}objective", f"{obj}: its penalty {p.name!r}", p)
           for p in game.objective.penalties]
    regs = [(f"{path}regularizers[{i}]", _who(regularizers, r, "regularizer"), reg)
            for i, (r, reg) in enumerate(built)]
    for where, who, reg in own + regs:
        if reg.fn is not None:     # penalties take input gradients: D's graph is needed
            _per_run(reg(D, xr, xf, gens), "its penalty", who, where, DRY_RUNS, B)
