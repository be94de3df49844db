"""The Dirac-GAN in the paper's coordinates: `linear` with `convention: paper` follows
Mescheder et al.'s vector fields (LMescheder/GAN_stability, notebooks/diracgan/gans.py
and simulate.py) iterate for iterate, written out here by hand:

    GAN:   v_θ = −ψ σ(−ψθ),  v_ψ = θ σ(−ψθ)        (f'(t) = σ(−t))
    NSGAN: v_θ = −ψ σ(ψθ),   v_ψ = θ σ(−ψθ)
    simultaneous: (θ, ψ) += h (v_θ, v_ψ)(θ, ψ); alternating: θ first, then ψ at the new θ.
"""
import math

import pytest

from ganbench.config.schema import run_config
from ganbench.harness.loop import Loop

H = 0.2          # the paper's notebook: h = 0.2, (θ0, ψ0) = (1, 1)
STEPS = 60


def sig(t):
    return 1 / (1 + math.exp(-t))


FIELDS = {
    "minimax": lambda th, ps: (-ps * sig(-ps * th), th * sig(-ps * th)),
    "nonsaturating": lambda th, ps: (-ps * sig(ps * th), th * sig(-ps * th)),
}


def paper_trajectory(objective, alternating, steps=STEPS, theta=1.0, psi=1.0):
    out = []
    v = FIELDS[objective]
    for _ in range(steps):
        if alternating:
            theta += H * v(theta, psi)[0]
            psi += H * v(theta, psi)[1]
        else:
            vt, vp = v(theta, psi)
            theta, psi = theta + H * vt, psi + H * vp
        out.append((theta, psi))
    return out


def run(objective, update, convention="paper", psi0=1.0, regs=(), steps=STEPS):
    cfg = run_config(steps=steps, batch_size=4, eval_every=steps, n_eval=4, n_critic=1, min_hq=1,
                     generator={"name": "dirac", "theta0": 1.0},
                     discriminator={"name": "linear", "psi0": psi0, "convention": convention},
                     optimizer={"name": "sgd", "lr": H}, objective=objective,
                     regularizers=list(regs), update=update)
    return Loop({"name": "dirac"}, cfg, [0]).run()[0]


@pytest.mark.parametrize("objective", ["minimax", "nonsaturating"])
@pytest.mark.parametrize("update,alternating", [
    ("simultaneous", False), ({"name": "alternating", "order": "g_first"}, True)])
def test_paper_convention_follows_the_papers_vector_field(objective, update, alternating):
    h = run(objective, update).history
    want = paper_trajectory(objective, alternating)
    assert list(h.theta) == pytest.approx([t for t, _ in want], abs=1e-5)
    assert list(h.psi) == pytest.approx([p for _, p in want], abs=1e-5)


def test_the_conventions_differ_by_the_sign_of_psi_only():
    paper = run("minimax", "simultaneous", "paper", 1.0).history
    ours = run("minimax", "simultaneous", "ganbench", -1.0).history
    assert list(ours.theta) == pytest.approx(list(paper.theta), abs=1e-6)
    assert list(ours.psi) == pytest.approx(list(-paper.psi), abs=1e-6)
    assert list(ours.dist_eq) == pytest.approx(list(paper.dist_eq), abs=1e-6)
    # ganbench's own (1, 1) is the paper's (1, -1): another trajectory
    other = run("minimax", "simultaneous", "ganbench", 1.0).history
    assert abs(other.theta.iloc[-1] - paper.theta.iloc[-1]) > 1e-3


def test_the_eigenvalues_do_not_depend_on_the_convention():
    regs = [{"name": "r1", "weight": 1.0}]
    a = run("nonsaturating", "simultaneous", "paper", regs=regs, steps=2).metrics["eig_max_real"]
    b = run("nonsaturating", "simultaneous", "ganbench", regs=regs, steps=2).metrics["eig_max_real"]
    assert a == pytest.approx(-0.5, abs=1e-6) and b == pytest.approx(-0.5, abs=1e-6)


def test_an_unknown_convention_is_an_error():
    with pytest.raises(Exception, match="convention must be one of ganbench, paper"):
        run("minimax", "simultaneous", convention="theirs")
