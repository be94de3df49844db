"""Seeds on demand as the user reads them (``run --until-decided``, ``compare``,
``report``): the design in one line, which variant to use where decided, one line per
comparison (how and at how many seeds it was decided, or why not and how many seeds
would decide it), the seeds per group."""
from __future__ import annotations

from .decisions import Design, comparison_alpha
from .sequential import PLAN_GRID, UNDECIDED, look_levels
from .stats import min_pvalue


def text(doc: dict) -> str:
    """The decisions as the user reads them (``run --until-decided``, ``compare``): the
    design in one line, one line per comparison, the seeds per group."""
    return (header(doc) + "\n" + "".join(f"{x}\n" for x in advice(doc["comparisons"])) +
            "".join(f"- {x}\n" for x in lines(doc["comparisons"])) +
            "Seeds per group: " + ", ".join(f"{g} {n}" for g, n in doc["seeds"].items()) + "\n")


def advice(comparisons: list[dict]) -> list[str]:
    """Which variant to use where decided: per dataset and variant, one line naming the
    metrics it was decided better, worse or equivalent on (undecided ones left out)."""
    found: dict = {}
    for r in comparisons:
        if r["decision"] != UNDECIDED:
            found.setdefault((r["dataset"], r["variant"], r["reference"]), {}) \
                .setdefault(r["decision"], []).append(r["metric"])
    out = []
    for (ds, v, ref), by in found.items():
        said = "; ".join(f"{d} on {', '.join(by[d])}" for d in ("better", "worse", "equivalent")
                         if d in by)
        if "better" in by and "worse" not in by:
            use = f"use {v} rather than {ref}"
        elif "worse" in by and "better" not in by:
            use = f"keep {ref} rather than {v}"
        elif "better" in by:
            use = f"{v} against {ref} is a trade-off"
        else:
            use = f"{v} and {ref} are equivalent where decided"
        out.append(f"{ds}: {use} ({said}).")
    return out


def lines(comparisons: list[dict]) -> list[str]:
    """One line per comparison: how it was decided, at which look and seeds."""
    out = []
    for r in comparisons:
        who = f"{r['dataset']}: {r['variant']} vs {r['reference']} on {r['metric']}"
        seeds = f"{r['seeds']} vs {r['reference_seeds']} seeds ({r['runs']}; {r['reference_runs']})"
        if r["decision"] == UNDECIDED:
            why = (f"smallest p {r['p']:.3g} > {r['level'] / 2:.2g}" if r["can_fire"] else
                   f"cannot reach {r['level'] / 2:.2g} at these seeds")
            out.append(f"{who}: undecided at {seeds}: {why}{_plan_text(r)}")
        else:
            margin = f" within ±{r['margin']:g}" if r["decision"] == "equivalent" else ""
            out.append(f"{who}: {r['decision']}{margin} at look {r['look']}, {seeds}: "
                       f"p {r['p']:.3g} <= {r['level'] / 2:.2g}")
    return out


def _plan_text(r: dict) -> str:
    if "plan" not in r:
        return ""
    if r["plan"] is None and r.get("plan_note"):
        return f"; {r['plan_note']}"
    if r["plan"] is None:
        return (f"; no number of seeds up to {PLAN_GRID[-1]} a side would decide it at 80% "
                "power")
    return (f"; about {r['plan']} seeds per variant would decide it (80% power by "
            f"resampling these seeds, level {r['plan_level']:.2g})")


def header(doc: dict) -> str:
    d = Design.from_dict(doc["design"])
    n = len(doc["comparisons"])
    margins = ", ".join(f"{m} ±{v:g}" for m, v in d.margins.items()) or "none stated"
    decided = sum(r["decision"] != UNDECIDED for r in doc["comparisons"])
    return (f"Decided {decided} of {n} comparisons against {d.reference} by a group-sequential "
            f"design: family alpha {d.alpha:g} (Bonferroni: {comparison_alpha(d, n):.3g} each), "
            f"{d.spending} spending over looks at {', '.join(map(str, d.seeds_at()))} seeds a "
            f"side ({first_firing(d, n)}); equivalence margins: {margins}; {doc['stopped']}.")


def first_firing(design: Design, size: int) -> str:
    """The first look whose level the exact test can reach with no tie: 1 / C(2n, n) at
    most half the look's level."""
    seeds = design.seeds_at()
    levels = look_levels(seeds, comparison_alpha(design, size), design.spending)
    for k, (n, level) in enumerate(zip(seeds, levels), start=1):
        if min_pvalue(n, n) <= level / 2:
            return f"a test can fire from look {k}, {n} vs {n} seeds"
    return "no look's test can fire: more seeds or a smaller family"
