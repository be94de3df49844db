"""A small version of benchmarks/sequential_aa.py: A/A experiments of the whole
sequential procedure drawn from a pool of one variant's seeds (here made up, with ties
and a failed run), without margins and with margins wide enough to end equivalent."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ganbench.analysis.decisions import Design

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import sequential_aa  # noqa: E402


def pool(n: int = 48) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [{"run_id": f"ring8__v__seed{s}", "dataset": "ring8", "variant": "v", "seed": s,
             "status": "ok", "steps": 10, "wall_s": 1.0,
             "hq_fraction": round(float(rng.beta(2, 8)), 2),
             "modes_captured": float(rng.integers(5, 9))} for s in range(n)]
    rows[0].update(status="failed", hq_fraction=0.0, modes_captured=0.0)   # counted at worst
    return pd.DataFrame(rows)


def design(margins=None) -> Design:
    return Design(reference="a", first_seeds={"a": list(range(6)), "b": list(range(1000, 1006))},
                  datasets=["ring8"], block=6, max_seeds=18, margins=margins or {})


def test_aa_experiments_rarely_decide_and_a_margin_stops_them_early():
    rng = np.random.default_rng(0)
    runs = [sequential_aa.experiment(pool(), design(), rng) for _ in range(20)]
    assert sum(r["false"] for r in runs) <= 1 and all(r["seeds"] == 18 for r in runs)
    wide = design({"hq_fraction": 0.5, "modes_captured": 8.0})
    runs = [sequential_aa.experiment(pool(), wide, rng) for _ in range(5)]
    # two comparisons, equivalent as soon as a look can fire (12 vs 12 seeds)
    assert all(r["equivalent"] == 2 and r["seeds"] == 12 for r in runs)


def test_clopper_pearson_by_hand():
    # 0 of 10: the upper limit solves (1 - p)^10 = 0.025, p = 1 - 0.025^(1/10) = 0.3085
    lo, hi = sequential_aa.clopper_pearson(0, 10)
    assert lo == 0 and abs(hi - 0.30850) < 1e-4
