"""The GAN game's theory, measured: JSD(pdata || pg), V(D*, G) and D's distance to D*.

For a fixed G the optimal discriminator is D*(x) = pdata(x) / (pdata(x) + pg(x)) and
V(D*, G) = -log 4 + 2·JSD(pdata || pg) (Goodfellow et al. 2014). On datasets whose
density is known exactly, pdata is exact and pg is a kernel density estimate (KDE) of
the generated samples:

- ``jsd`` (nats) = ½ E_pdata[log 2p/(p+q)] + ½ E_pg[log 2q/(p+q)], Monte Carlo over
  the evaluation's real and generated samples; q at a generated sample leaves that
  sample out of its own KDE. The estimate is clipped to [0, log 2], the range of the
  JSD (noise can take it slightly outside);
- ``v_star`` = -log 4 + 2·jsd;
- ``d_star_gap`` = mean |D(x) - D*(x)| over x drawn from ½(pdata + pg) (the evaluation's
  real and generated samples, equally many), for objectives whose D is a probability.

The estimator's bias: the KDE blurs pg with a Gaussian of bandwidth h (chosen by
leave-one-out likelihood), which lowers q at the modes' peaks. With pg = pdata exactly
the raw estimate is slightly *negative* (it is then clipped to 0): measured over 5
draws, -0.0070 ± 0.0009 nats on ring8 and -0.0132 ± 0.0011 on grid25 at n = 2500
samples per side (the default ``n_eval``), -0.010 / -0.026 at n = 1000 and -0.020 /
-0.063 at n = 300. With half the modes covered the estimate is 0.2115 against the
closed form 0.2158 on ring8 (0.2215 against 0.2269 on grid25) at n = 2500. So 2500
samples keep the bias within about 0.015 nats (2% of log 2) for mixtures of up to 25
sharp modes; fewer samples or more modes need more (tests/metrics/test_theory.py).
"""
from __future__ import annotations

# torch is imported inside the functions: the catalogue declarations below are read by
# the analysis commands, which import no torch.

import math
from typing import TYPE_CHECKING

import numpy as np

from ._arrays import as_numpy
from .catalogue import Metric, declare

if TYPE_CHECKING:
    import torch

declare(
    Metric("jsd", "JSD(pdata ‖ pg) in nats, datasets with an exact density: pdata exact, pg a "
           "Gaussian KDE of the 2500 samples (bandwidth by leave-one-out likelihood), clipped to "
           "[0, log 2]. Bias at 2500 samples: −0.007 (ring8) / −0.013 (grid25) nats when pg = "
           "pdata; 0.2115 against the closed form 0.2158 with half of ring8's modes",
           better="lower", order=100, summary=True, key=("2d",), kinds=("2d",),
           worst=math.log(2.0)),
    Metric("v_star", "V(D*, G) = −log 4 + 2·jsd: the value of the game against the optimal D",
           better="lower", order=110, kinds=("2d",), worst=0.0),
    Metric("d_star_gap", "mean |D(x) − D*(x)| over x from ½(pdata + pg), D* = pdata/(pdata + pg) "
           "(probability Ds, unpacked)", better="lower", order=120, kinds=("2d",), worst=1.0,
           variant_specific=True),
    group="theory")

LOG2 = math.log(2.0)
#: bandwidths searched, relative to the generated samples' mean coordinate std.
BANDWIDTH_RANGE = (1e-3, 1.0)
#: at most this many samples score each bandwidth (leave-one-out likelihood).
BANDWIDTH_SUBSAMPLE = 500


def _t(x, dtype=None) -> torch.Tensor:
    """A CPU tensor (float64 unless ``dtype``) from an array or tensor."""
    import torch
    return torch.as_tensor(as_numpy(x)).to(dtype or torch.float64)


def _log_kernel_mean(d2: torch.Tensor, h: float, n: int, dim: int) -> torch.Tensor:
    """log of the mean Gaussian kernel (bandwidth h) over n samples, from squared distances.

    A log-sum-exp by hand, several times faster than torch.logsumexp here: shifted by
    each row's largest term, summed in float32, with exponents clamped at -80 so that
    no term is a denormal float (10x slower to make; each adds < 2e-35 to a sum >= 1)."""
    a = d2 * (-0.5 / h**2)
    top = a.amax(1, keepdim=True)
    total = a.sub_(top).clamp_(min=-80.0).exp_().sum(1)     # in place: one buffer
    return (top.squeeze(1).double() + total.double().log() - math.log(n)
            - dim * (math.log(h) + 0.5 * math.log(2 * math.pi)))


def kde_log_density(points, samples, h: float, leave_out_self: bool = False) -> torch.Tensor:
    """log q(points) for a Gaussian KDE with bandwidth ``h`` on ``samples`` (n, d).

    With ``leave_out_self``, ``points`` are ``samples`` itself and each point's own
    kernel is left out (leave-one-out). Distances in float32, sums in float64."""
    import torch
    x, y = _t(points, torch.float32), _t(samples, torch.float32)
    d2 = torch.cdist(x, y).pow(2)
    n = len(y)
    if leave_out_self:
        d2.fill_diagonal_(float("inf"))
        n -= 1
    return _log_kernel_mean(d2, h, n, y.shape[1])


def select_bandwidth(samples, seed: int = 0) -> float:
    """The bandwidth with the highest leave-one-out log-likelihood (bounded search over
    log h, h from 1e-3 to 1 times the samples' mean coordinate std)."""
    import torch
    from scipy.optimize import minimize_scalar
    y = _t(samples, torch.float32)
    scale = max(float(y.std(0).mean()) if len(y) > 1 else 0.0, 1e-6)
    n, dim = len(y), y.shape[1]
    if n > BANDWIDTH_SUBSAMPLE:
        idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:BANDWIDTH_SUBSAMPLE]
    else:
        idx = torch.arange(n)
    d2 = torch.cdist(y[idx], y).pow(2)
    d2[torch.arange(len(idx)), idx] = float("inf")     # leave each point out of its own KDE

    def neg_ll(log_h: float) -> float:
        return -float(_log_kernel_mean(d2, math.exp(log_h), n - 1, dim).mean())

    lo, hi = math.log(scale * BANDWIDTH_RANGE[0]), math.log(scale * BANDWIDTH_RANGE[1])
    res = minimize_scalar(neg_ll, bounds=(lo, hi), method="bounded", options={"xatol": 0.03})
    return float(math.exp(res.x))


def jsd_terms(log_p_real, log_q_real, log_p_fake, log_q_fake) -> float:
    """Monte Carlo JSD from log-densities at samples of pdata (real) and of pg (fake)."""
    import torch

    def term(a, b):  # E[log 2a/(a+b)] over samples of a
        return float((LOG2 + a - torch.logaddexp(a, b)).mean())
    return 0.5 * term(log_p_real, log_q_real) + 0.5 * term(log_q_fake, log_p_fake)


def theory_metrics(real, fake, log_prob, d_real_prob=None, d_fake_prob=None) -> dict:
    """jsd, v_star and (given D's probabilities on ``real`` and ``fake``) d_star_gap.

    ``log_prob`` is pdata's exact log-density, a function of an (n, d) tensor."""
    import torch
    real_t, fake_t = _t(real), _t(fake)
    h = select_bandwidth(fake_t)
    lq_real = kde_log_density(real_t, fake_t, h)
    lq_fake = kde_log_density(fake_t, fake_t, h, leave_out_self=True)
    lp_real = log_prob(real_t).double()
    lp_fake = log_prob(fake_t).double()
    jsd = min(max(jsd_terms(lp_real, lq_real, lp_fake, lq_fake), 0.0), LOG2)
    out = {"jsd": jsd, "v_star": -2 * LOG2 + 2 * jsd}
    if d_real_prob is not None and d_fake_prob is not None:
        d_star = torch.sigmoid(torch.cat([lp_real - lq_real, lp_fake - lq_fake]))
        d = torch.as_tensor(np.concatenate([as_numpy(d_real_prob), as_numpy(d_fake_prob)]),
                            dtype=torch.float64)
        out["d_star_gap"] = float((d - d_star).abs().mean())
    return out


def d_star_on(points, fake, log_prob) -> np.ndarray:
    """D* = pdata / (pdata + pg) at ``points``, pg a KDE of ``fake`` (for maps of D*)."""
    import torch
    pts, f = _t(points), _t(fake)
    lq = kde_log_density(pts, f, select_bandwidth(f))
    return torch.sigmoid(log_prob(pts).double() - lq).numpy()
