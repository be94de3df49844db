"""Seeds on demand: the design of ``ganbench run SUITE --until-decided``, and its looks
replayed from a results folder (OUT/decisions.json).

The design is fixed before the first look: the family of comparisons (each variant
against the reference on each key metric of each dataset, or the metrics named), the
family's alpha split evenly over its comparisons (Bonferroni), a spending function, the
planned seeds a side at each look (the suite's seeds first, then blocks of new seeds up
to ``max_seeds``) and the equivalence margins stated. At each look every still
undecided comparison is tested on the seeds its two groups have (:mod:`.sequential`,
every seed counted by :mod:`.seeds`); only the groups with an undecided comparison
(and their dataset's reference) get the next block of seeds, new ones: block j of a
variant are the seeds after its first block's (a variant's ``seed_offset`` moves them
all). A decision is never revisited.

The looks are a pure function of the design and the runs' files (:func:`play`), so
``compare`` and ``report`` replay the same answer from the folder, and a rerun of the
suite resumes: it replays the looks whose runs exist and trains only what is missing.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..layout import write_text
from ..metrics.catalogue import direction, is_loss_units, key_metrics
from .aggregates import prob_improvement
from .seeds import counted, metric_columns
from .stats import clean
from .sequential import SPENDING, UNDECIDED, decide, look_levels, seeds_for_power

DECISIONS_FILE = "decisions.json"
DEFAULT_ALPHA = 0.05
#: a variant's maximum seeds when not given: this many times its first block
DEFAULT_BUDGET = 4


@dataclass(frozen=True)
class Design:
    """What is decided and how, fixed before the first look."""

    reference: str
    first_seeds: dict               # variant -> its first block's seeds (offset included)
    datasets: list
    block: int                      # new seeds a group gets per look
    max_seeds: int                  # planned seeds a side at the last look
    alpha: float = DEFAULT_ALPHA
    spending: str = "obrien_fleming"
    metrics: list | None = None     # None: each dataset's key metrics
    margins: dict = field(default_factory=dict)     # metric -> equivalence margin

    def __post_init__(self):
        first = {len(s) for s in self.first_seeds.values()}
        if len(first) != 1:
            raise InputError("--until-decided: every variant needs as many seeds in its "
                             f"first block (found {sorted(first)}).")
        if self.max_seeds < self.first:
            raise InputError(f"--max-seeds {self.max_seeds}: fewer than the suite's "
                             f"{self.first} seeds; give at least {self.first}.")
        if self.spending not in SPENDING:
            raise InputError(f"spending {self.spending}: use one of {', '.join(SPENDING)}.")
        if self.reference not in self.first_seeds:
            raise InputError(f"--reference {self.reference}: no such variant; known: "
                             f"{', '.join(self.first_seeds)}.")

    @property
    def first(self) -> int:
        return len(next(iter(self.first_seeds.values())))

    def seeds_at(self) -> list[int]:
        """Seeds a side at each planned look (the last: the most this design uses)."""
        looks = 1 + (self.max_seeds - self.first) // self.block
        return [self.first + k * self.block for k in range(looks)]

    def block_seeds(self, variant: str, block: int) -> list[int]:
        """The seeds of a variant's block (1: the suite's own; then new seeds after them)."""
        first = list(self.first_seeds[variant])
        if block == 1:
            return first
        start = max(first) + 1 + (block - 2) * self.block
        return list(range(start, start + self.block))

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Design":
        return cls(**d)


@dataclass
class Played:
    """The looks so far: each comparison's record (its decision, or undecided), the
    groups that need the next block (empty: finished) and why it stopped."""

    design: Design
    family: list = field(default_factory=list)       # [(dataset, metric, variant)]
    looks: list = field(default_factory=list)
    comparisons: dict = field(default_factory=dict)  # (dataset, metric, variant) -> record
    next_look: int | None = None
    next_groups: list = field(default_factory=list)  # [(dataset, variant)]
    seeds: dict = field(default_factory=dict)        # (dataset, variant) -> seeds it has
    stopped: str = ""

    @property
    def finished(self) -> bool:
        return not self.next_groups


def family(scores: pd.DataFrame, design: Design) -> list[tuple]:
    """(dataset, metric, variant) per comparison: every variant but the reference, on
    the design's metrics (default each dataset's key metrics) with a better direction
    and not in a loss's own units."""
    out = []
    for ds in design.datasets:
        rows = scores[scores.dataset.astype(str) == ds]
        present = [m for m in metric_columns(rows) if rows[m].notna().any()]
        metrics = design.metrics or key_metrics(present)
        metrics = [m for m in metrics if m in present and direction(m) and not is_loss_units(m)]
        out += [(ds, m, v) for m in metrics for v in design.first_seeds if v != design.reference]
    return out


def comparison_alpha(design: Design, size: int) -> float:
    return design.alpha / max(size, 1)


def play(summary: pd.DataFrame, design: Design, outs=()) -> Played:
    """Replay the looks of ``design`` on the runs of ``summary`` (the folder's runs;
    ``outs``: their folders, for diverged seeds' last evaluations)."""
    played = Played(design)
    seeds_at = design.seeds_at()
    blocks = {(ds, v): 1 for ds in design.datasets for v in design.first_seeds}
    for k, n_k in enumerate(seeds_at, start=1):
        active = [g for g, b in blocks.items() if b == k]
        rows = _rows(summary, design, blocks)
        have = rows.groupby(["dataset", "variant"]).size() if len(rows) else {}
        missing = [g for g in active if have.get(g, 0) < n_k]
        if missing:
            played.next_look, played.next_groups = k, active
            played.stopped = f"look {k}: {len(missing)} groups lack seeds"
            return played
        scores = counted(rows, outs)
        if k == 1:
            played.family = family(scores, design)
            summary = _needed(summary, played.family)   # the family's metrics only: faster
        groups = _by_group(scores, sorted({m for _, m, _ in played.family}))
        played.seeds = {g: len(groups[g][0]) for g in blocks if g in groups}
        alpha_c = comparison_alpha(design, len(played.family))
        level = look_levels(seeds_at, alpha_c, design.spending)[k - 1]
        look = {"look": k, "seeds": n_k, "level": level,
                "groups": ["/".join(g) for g in active], "decided": []}
        for c in played.family:
            if played.comparisons.get(c, {}).get("decision", UNDECIDED) != UNDECIDED:
                continue
            played.comparisons[c] = _record(groups, design, c, k, level)
            if played.comparisons[c]["decision"] != UNDECIDED:
                look["decided"].append("/".join(c))
        played.looks.append(look)
        open_ = [c for c, r in played.comparisons.items() if r["decision"] == UNDECIDED]
        if not open_:
            played.stopped = f"every comparison decided at look {k}"
            return played
        if k == len(seeds_at):
            played.stopped = f"the budget ({design.max_seeds} seeds a side) is spent"
            return played
        nxt = {(ds, v) for ds, _, v in open_} | {(ds, design.reference) for ds, _, _ in open_}
        for g in nxt:
            blocks[g] = k + 1
    return played


def _needed(summary: pd.DataFrame, fam: list) -> pd.DataFrame:
    """The run columns, the family's metrics and modes_total (a worst value reads it)."""
    metrics = {m for _, m, _ in fam} | {"modes_total"}
    others = set(metric_columns(summary)) - metrics
    return summary[[c for c in summary.columns if c not in others]]


def _rows(summary: pd.DataFrame, design: Design, blocks: dict) -> pd.DataFrame:
    """The runs each group has at its block count."""
    ds = summary.dataset.astype(str).to_numpy()
    variant = summary.variant.astype(str).to_numpy()
    seed = pd.to_numeric(summary.seed, errors="coerce").to_numpy()
    keep = np.zeros(len(summary), dtype=bool)
    for (d, v), b in blocks.items():
        wanted = [s for j in range(1, b + 1) for s in design.block_seeds(v, j)]
        keep |= (ds == d) & (variant == v) & np.isin(seed, wanted)
    return summary[keep]


def _by_group(scores: pd.DataFrame, metrics: list) -> dict:
    """(dataset, variant) -> (its runs' statuses, {metric: its seeds' values})."""
    out = {}
    for g, part in scores.groupby([scores.dataset.astype(str), scores.variant.astype(str)],
                                  sort=False):
        out[g] = (part.status.astype(str).to_numpy(),
                  {m: pd.to_numeric(part[m], errors="coerce").to_numpy(float) for m in metrics})
    return out


def _record(groups: dict, design: Design, c: tuple, look: int, level: float) -> dict:
    ds, m, v = c
    (status, xs), (ref_status, ys) = groups[(ds, v)], groups[(ds, design.reference)]
    x, y = xs[m], ys[m]
    d = decide(x, y, direction(m), level, design.margins.get(m))
    return {"dataset": ds, "metric": m, "variant": v, "reference": design.reference,
            "decision": d.decision, "look": look, "seeds": int(len(x)),
            "reference_seeds": int(len(y)), "runs": _runs_text(status),
            "reference_runs": _runs_text(ref_status), "p": _num(d.p), "level": level,
            "p_better": _num(d.p_better), "p_worse": _num(d.p_worse),
            "p_equivalent": _num(d.p_equivalent), "margin": design.margins.get(m),
            "can_fire": d.can_fire}


def _runs_text(status: np.ndarray) -> str:
    names, counts = np.unique(status, return_counts=True)
    rest = [f"{n} {s}" for s, n in zip(names, counts) if s != "ok"]
    ok = int(counts[names == "ok"].sum())
    return f"{ok}/{len(status)} ok" + (f" ({', '.join(rest)})" if rest else "")


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def plan(played: Played, summary: pd.DataFrame, outs=()) -> None:
    """For each undecided comparison, about how many seeds a side would decide it at 80%
    power at the last look's level, by resampling the seeds in hand
    (:func:`.sequential.seeds_for_power`); None: not within the tried counts, or no
    direction seen. Sets the record's ``plan``."""
    design = played.design
    blocks = {g: 1 + (n - design.first) // design.block for g, n in played.seeds.items()}
    scores = counted(_rows(summary, design, blocks), outs)
    alpha_c = comparison_alpha(design, len(played.family))
    level = look_levels(design.seeds_at(), alpha_c, design.spending)[-1]
    groups = _by_group(scores, sorted({m for _, m, _ in played.family}))
    for (ds, m, v), r in played.comparisons.items():
        if r["decision"] != UNDECIDED:
            continue
        x, y = groups[(ds, v)][1][m], groups[(ds, design.reference)][1][m]
        r["plan"] = seeds_for_power(x, y, level)
        r["plan_note"] = ("the seeds in hand show no difference (P(better) = 1/2)"
                          if r["plan"] is None and prob_improvement(clean(x), clean(y)) == 0.5
                          else "")
        r["plan_level"] = level


# --- the file -------------------------------------------------------------------------

def document(played: Played) -> dict:
    """What OUT/decisions.json holds: the design, every look, every comparison's record,
    why it stopped and the seeds each group has."""
    return {"design": played.design.as_dict(), "looks": played.looks,
            "comparisons": list(played.comparisons.values()), "stopped": played.stopped,
            "seeds": {"/".join(g): n for g, n in played.seeds.items()}}


def write(out: Path, played: Played) -> None:
    write_text(Path(out) / DECISIONS_FILE, json.dumps(document(played), indent=1) + "\n")


def read(out: Path) -> dict | None:
    """OUT/decisions.json as written, or None when the folder has none."""
    path = Path(out) / DECISIONS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: unreadable ({e}); delete it to decide again from the "
                         "runs.") from None


def replay(out: Path, summary: pd.DataFrame) -> tuple[dict | None, str]:
    """The decisions of a folder written by ``--until-decided``, replayed from its runs
    (``summary``: the folder's), and a note when the replay differs from what
    decisions.json recorded (e.g. runs deleted or retrained since); (None, "") without
    decisions.json."""
    recorded = read(out)
    if recorded is None:
        return None, ""
    played = play(summary, Design.from_dict(recorded["design"]), [out])
    plan(played, summary, [out])
    doc = document(played)
    said = {_key(r): (r["decision"], r["look"]) for r in recorded["comparisons"]}
    now = {_key(r): (r["decision"], r["look"]) for r in doc["comparisons"]}
    differ = sorted(k for k in set(said) | set(now) if said.get(k) != now.get(k))
    note = (f"{len(differ)} decisions replayed from the runs differ from "
            f"{Path(out) / DECISIONS_FILE} (e.g. {differ[0]}: {said.get(differ[0])} recorded, "
            f"{now.get(differ[0])} now); the replay is shown") if differ else ""
    return doc, note


def _key(r: dict) -> str:
    return f"{r['dataset']}/{r['variant']}/{r['metric']}"


def same_design(recorded: dict | None, design: Design, out: Path) -> None:
    """A rerun must keep the design its looks were made under."""
    if recorded is None:
        return
    before = recorded["design"]
    now = design.as_dict()
    changed = [k for k in now if json.dumps(before.get(k), sort_keys=True) !=
               json.dumps(now[k], sort_keys=True)]
    if changed:
        k = changed[0]
        raise InputError(f"{Path(out) / DECISIONS_FILE}: its looks were made with {k} "
                         f"{before.get(k)!r}, not {now[k]!r}; rerun with the same options, or "
                         "use a new --out.")
