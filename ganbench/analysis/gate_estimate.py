"""The false-alarm rate and power of a baseline's rules, estimated from its own seeds
(what ``ganbench check --update`` writes into the baseline as ``operating``).

The seeds a baseline holds are taken as the distribution of each group's outcomes: a
pair of blocks of as many seeds (drawn with replacement, all metrics of a seed together,
and the runs' statuses) plays baseline and now, and the gate applies every rule as
``check`` does (:mod:`.gate_rules`).

- False alarms: the share of pairs where the gate fails on any group (unchanged code).
- Power, per gated metric: the share of pairs where that metric's row REGRESSES when now's
  seeds of one group (each group in turn) are worse by one or two of the group's seed
  spreads (:func:`.gate_rules.spread`), clipped at the metric's worst value; groups
  whose seeds have no spread are left out.

Rates come with 95% Clopper-Pearson intervals over the pairs drawn. An estimate: it
assumes the baseline's seeds are the distribution of outcomes, where a block of fresh
seeds varies also by what those seeds miss; ``benchmarks/gate_operating.py --suite
SUITE --baseline FILE`` measures the rates on freshly trained seeds.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .gate_rules import CANNOT, REGRESSED, regressed, runs_verdict, spread

DRAWS = 200
#: the worsenings power is estimated against, in seed spreads of the group
SHIFTS = (1.0, 2.0)


def rate_text(k: int, n: int) -> str:
    """'k/n = p% [95% Clopper-Pearson]'."""
    if n == 0:
        return ""
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    return f"{k}/{n} = {100 * k / n:.0f}% [{100 * ci.low:.0f}, {100 * ci.high:.0f}]"


def _values(entry: dict, m: str) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in entry["values"][m]])


def _statuses(entry: dict, n: int) -> np.ndarray:
    """A status per seed from the group's counts (ok, failed, the rest diverged)."""
    ok, failed = int(entry.get("ok", 0)), int(entry.get("failed", 0))
    return np.array(["ok"] * ok + ["failed"] * failed + ["diverged"] * max(0, n - ok - failed))


def _group_verdicts(entry: dict, rules: dict, worst: dict, ok_alpha: float, ib, inow) -> set:
    """The verdicts of a group's rows with baseline seeds ``ib`` and now's ``inow``."""
    st = _statuses(entry, len(ib))
    sb, sn = st[ib], st[inow]
    found = {runs_verdict(int((sn == "ok").sum()), len(sn), int((sn == "failed").sum()),
                          int((sb == "ok").sum()), len(sb), ok_alpha)[0]}
    for m, rule in rules.items():
        if m in entry["values"]:
            v = _values(entry, m)
            found.add(regressed(rule, v[ib], v[inow], worst.get(m), explain=False)[0])
    return found


def _worsened(v: np.ndarray, by: float, rule: dict, worst: float | None) -> np.ndarray:
    """``v`` worse by ``by``, not beyond the worst value."""
    if rule["better"] == "higher":
        return np.maximum(v - by, worst) if worst is not None else v - by
    return np.minimum(v + by, worst) if worst is not None else v + by


def estimate(baseline: dict, worsts: dict, draws: int = DRAWS, seed: int = 0) -> dict:
    """{how, false_alarms, of_which_cannot_test, power: {metric: {worse by k spreads:
    rate}}} of ``baseline``'s rules; ``worsts``: per dataset, each metric's worst value
    (:func:`.seeds.worst_values`)."""
    rng = np.random.default_rng(seed)
    rules, ok_alpha = baseline["rules"], baseline.get("ok_alpha", 0.01)
    groups = [(e, worsts.get(k.split("/", 1)[0], {})) for k, e in baseline["groups"].items()
              if e.get("runs")]
    sizes = [len(next(iter(e["values"].values()), [])) or int(e["runs"]) for e, _ in groups]
    if not groups:
        return {"how": "no group with runs: nothing to estimate", "false_alarms": "",
                "of_which_cannot_test": "", "power": {}}
    regressed_, cannot = 0, 0
    for _ in range(draws):
        found = set().union(*(_group_verdicts(e, rules, w, ok_alpha, rng.integers(0, n, n),
                                              rng.integers(0, n, n))
                              for (e, w), n in zip(groups, sizes)))
        regressed_ += REGRESSED in found
        cannot += CANNOT in found and REGRESSED not in found
    power = {}
    for m, rule in rules.items():
        cells = [(e, w, n) for (e, w), n in zip(groups, sizes)
                 if m in e["values"] and spread(_values(e, m)) > 0]
        if not cells:
            continue
        power[m] = {}
        for k in SHIFTS:
            hits = 0
            for i in range(draws):
                e, w, n = cells[i % len(cells)]
                v = _values(e, m)
                ib, inow = rng.integers(0, n, n), rng.integers(0, n, n)
                now = _worsened(v[inow], k * spread(v), rule, w.get(m))
                hits += regressed(rule, v[ib], now, w.get(m), explain=False)[0] == REGRESSED
            power[m][f"worse by {k:g} seed spread{'' if k == 1 else 's'}"] = rate_text(hits, draws)
    n_text = "/".join(str(n) for n in sorted(set(sizes)))
    return {"how": (f"estimated from the seeds below: {draws} pairs of {n_text}-seed blocks per "
                    "group drawn with replacement play baseline and now, every rule applied as "
                    "check applies it (ganbench/analysis/gate_estimate.py)"),
            "false_alarms": rate_text(regressed_ + cannot, draws),
            "of_which_cannot_test": rate_text(cannot, draws),
            "power": power}


def operating_text(op: dict) -> str:
    """One line of an estimate: the false alarms, then per metric the power against
    each worsening."""
    if not op["false_alarms"]:
        return op["how"]
    power = "; ".join(f"{m} " + ", ".join(f"{k}: {v.split(' [')[0].split(' = ')[-1]}"
                                          for k, v in ks.items())
                      for m, ks in op["power"].items())
    return (f"false alarms {op['false_alarms']} of the pairs of unchanged blocks (CANNOT TEST "
            f"alone: {op['of_which_cannot_test']}); power of each metric's row against one "
            f"group worse by 1 or 2 of its seed spreads: {power or 'none (no spread)'} "
            f"({op['how']})")
