"""How much the self-test trains, per kind of device, and its suites at those sizes.

The suites are the shipped ones (:mod:`ganbench.config.shipped`, in a wheel too): the
flagship ``mog``, and ``digits`` with its nonsaturating variant only; and this package's
``repeat.yaml`` (the bit-for-bit repeat).

On a GPU the budget keeps the self-test within 8 minutes on one GPU by the estimates of
``benchmarks/gpu_estimate.py`` (docs/devices.md): the flagship's groups are
launch-bound at about 1-7 ms a step, so 500 steps of its 6 groups take well under a
minute, and the digits run is ``suites/digits.yaml``'s nonsaturating row in full (400
steps, 3 seeds, 2,500 samples for FID). On a CPU the same checks run at a few steps
each, on fewer samples, with DCGANs of width 8 and a digit classifier trained 2
epochs (no accuracy floor) for the FID features: the CPU form tests the self-test itself (it is one of the
tests), not the CPU's speed, and its FID numbers mean nothing.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from ..config.shipped import suites
from ..config.suite import parse_yaml

HERE = Path(__file__).parent
#: the CPU form's FID features: a digit classifier trained briefly (seconds, not minutes)
QUICK_FEATURES = {"name": "digits", "epochs": 2, "min_accuracy": 0.0}
#: the CPU form's DCGAN: width 8 (the same layers as width 32, a sixteenth of the work)
SMALL_DCGAN = {"generator": {"name": "dcgan", "width": 8, "z_dim": 16},
               "discriminator": {"name": "dcgan", "width": 8}}


@dataclass(frozen=True)
class Budget:
    #: per package suite, the settings put into its ``defaults``
    mog: dict
    digits: dict
    repeat: dict
    digits_seeds: int
    #: training steps timed in each stacked group (after 2 warm-up steps)
    timed_steps: int


BUDGETS = {
    "cuda": Budget(mog={"steps": 500, "eval_every": 250},
                   digits={"steps": 400, "eval_every": 400},
                   repeat={"steps": 40, "eval_every": 20},
                   digits_seeds=3, timed_steps=50),
    "cpu": Budget(mog={"steps": 20, "eval_every": 10, "n_eval": 500},
                  digits={"steps": 4, "eval_every": 4, "n_eval": 256, "features": QUICK_FEATURES,
                          **SMALL_DCGAN},
                  repeat={"steps": 3, "eval_every": 3, "n_eval": 128, "features": QUICK_FEATURES,
                          **SMALL_DCGAN},
                  digits_seeds=2, timed_steps=2),
}


def budget_for(device: str) -> Budget:
    return BUDGETS["cuda" if device.startswith("cuda") else "cpu"]


#: the variants of a shipped suite the self-test trains (all of them if not named)
VARIANTS = {"digits": ["nonsaturating"]}


def suite_file(name: str) -> Path:
    return HERE / "repeat.yaml" if name == "repeat" else suites()[name]


def raw_suite(name: str) -> dict:
    """The self-test's suite ``name`` (``mog``, ``digits``, ``repeat``) as written."""
    raw = parse_yaml(suite_file(name).read_text(encoding="utf-8"))
    if name in VARIANTS:
        raw["variants"] = {v: raw["variants"][v] for v in VARIANTS[name]}
    return raw


def sized(name: str, budget: Budget) -> dict:
    """The package's suite ``name`` with the budget's settings (and seeds) filled in."""
    raw = copy.deepcopy(raw_suite(name))
    raw["defaults"].update(copy.deepcopy(getattr(budget, name)))
    if name == "digits":
        raw["seeds"] = budget.digits_seeds
    raw["name"] = f"selftest_{name}"
    return raw
