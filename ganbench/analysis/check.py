"""`ganbench check`: fail when training stability regresses against a baseline, by a
test whose false-alarm rate is bounded and measured.

A baseline (YAML, committed; :mod:`.baseline`) holds per group the per-seed values of
the gated metrics (every seed counted, :mod:`.seeds`), the runs and how many finished
``ok``, and per metric a rule:

    rules:
      modes_captured: {better: higher, noise_margin: 0.25, alpha: 0.01}
      fd: {better: lower, margin: 0.0125, rel_margin: 0.125, alpha: 0.01}

Per group and gated metric (:func:`.gate_rules.regressed`): now's values, moved by the
margin δ in the better direction, are tested against the baseline's by a one-sided
exact rank test; the metric REGRESSES at p < ``alpha``. Under the shift model (now =
baseline worsened by Δ), a worsening of at most δ alarms at most ``alpha`` of the time,
at every number of seeds. A test that could not reach ``alpha`` even with every seed now
at the metric's worst value is CANNOT TEST (with the reason and the seeds that would),
which fails the gate: the gate is not doing its job there. A rule without ``alpha``
compares means against the margin alone (no error rate known).

Runs (:func:`.gate_rules.runs_verdict`): a group REGRESSES when a run failed (an
exception is a bug), when it is missing, or when fewer of its runs finish ``ok`` than in
the baseline by a one-sided Fisher exact test at p < ``ok_alpha`` (default 0.01); it
CANNOT TEST with fewer runs now than in the baseline, or when that test could not fire.
benchmarks/gate_operating.py measures the whole gate's false-alarm rate and power;
``--update`` estimates them from the baseline's own seeds (:mod:`.gate_estimate`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..layout import SETTING_COLUMN, SETTINGS_HASH_COLUMN
from ..layout.summaries import differing_fields, load_summaries, read_config
from ..metrics.catalogue import default_rules
from .baseline import (OK_ALPHA, baseline_from, load_baseline, settings_of,  # noqa: F401
                       suite_name, write_baseline)
from .gate_estimate import estimate
from .gate_rules import (CANNOT, REGRESSED, as_stored, margin_of, regressed, runs_verdict,
                         statuses)
from .seeds import counted, worst_values
from .stats import clean
from .tables import fmt

CHECK_COLUMNS = ["dataset", "variant", "metric", "rule", "baseline", "now", "n", "p_min",
                 "p_value", "verdict", "note"]


def _rule_text(rule: dict, base=()) -> str:
    """'higher, margin 0.25 seed spread (δ 0.371), exact p<0.01': the rule, and the margin
    it gives this group's baseline seeds."""
    parts = [rule["better"]]
    if "margin" in rule:
        parts.append(f"margin {rule['margin']:g}")
    if "rel_margin" in rule:
        parts.append(f"margin {100 * rule['rel_margin']:g}% of median")
    if "noise_margin" in rule:
        parts.append(f"margin {rule['noise_margin']:g} seed spread")
    if len(clean(base)) and ({"rel_margin", "noise_margin"} & set(rule)):
        parts[-1] += f" (δ {fmt(margin_of(rule, base))})"
    parts.append(f"exact p<{rule['alpha']:g}" if "alpha" in rule else "means (no test)")
    return ", ".join(parts)


def _mean_std(v) -> str:
    c = clean(v)
    if len(c) == 0:
        return ""
    with np.errstate(invalid="ignore"):
        std = fmt(c.std(ddof=1)) if len(c) > 1 and np.isfinite(c).all() else ""
    return fmt(c.mean()) + (f" ± {std}" if std else "")


def _runs_row(ds, var, entry: dict, g: pd.DataFrame, ok_alpha: float) -> dict:
    """The group's runs (:func:`.gate_rules.runs_verdict`)."""
    ok_now, runs_now, failed = statuses(g)
    ok_base, runs_base = int(entry.get("ok", 0)), int(entry.get("runs", 0))
    verdict, p, p_min, note = runs_verdict(ok_now, runs_now, failed, ok_base, runs_base, ok_alpha)
    return {"dataset": ds, "variant": var, "metric": "ok runs",
            "rule": f"no failed run; fewer ok: Fisher p<{ok_alpha:g}",
            "baseline": f"{ok_base}/{runs_base}",
            "now": f"{ok_now}/{runs_now}" + (f" ({failed} failed)" if failed else ""),
            "n": f"{runs_now} vs {runs_base}", "p_min": p_min, "p_value": p,
            "verdict": verdict, "note": note}


def group_rows(scores: pd.DataFrame, key: str) -> tuple[str, pd.DataFrame]:
    """(the variant as the table shows it, the rows of ``scores``) of a baseline group key
    'dataset/variant' or 'dataset/variant/setting'."""
    ds, var, *setting = key.split("/", 2)
    g = scores[(scores.dataset.astype(str) == ds) & (scores.variant.astype(str) == var)]
    if setting:
        on = scores[SETTING_COLUMN].astype(str) if SETTING_COLUMN in scores else None
        g = g[on[g.index] == setting[0]] if on is not None else g.iloc[:0]
        var = f"{var} [{setting[0]}]"
    return var, g


def _metric_row(ds, var, m: str, rule: dict, base: list, now: list, worst) -> dict:
    base = [math.nan if v is None else float(v) for v in base]
    verdict, p, p_min, note = regressed(rule, base, now, worst)
    nb, nn = len(clean(base)), len(clean(now))
    return {"dataset": ds, "variant": var, "metric": m, "rule": _rule_text(rule, base),
            "baseline": _mean_std(base), "now": _mean_std(now) or note, "n": f"{nn} vs {nb}",
            "p_min": p_min, "p_value": p, "verdict": verdict,
            "note": "" if note == "no values now" else note}


def _worsts(scores: pd.DataFrame) -> dict:
    """{dataset: {metric: its worst value there}}."""
    if scores.empty:
        return {}
    return {ds: worst_values(rows) for ds, rows in scores.groupby("dataset", sort=False)}


def check(summary: pd.DataFrame, baseline: dict, outs=()) -> pd.DataFrame:
    """One row per gated (group, metric) plus one per group for its runs; ``outs``: the
    folders whose history files give diverged runs' last evaluations."""
    scores = counted(summary, outs)
    ok_alpha = baseline.get("ok_alpha", OK_ALPHA)
    worsts = _worsts(scores)
    rows = []
    for key, entry in baseline["groups"].items():
        ds = key.split("/", 1)[0]
        var, g = group_rows(scores, key)
        if g.empty:
            rows.append({"dataset": ds, "variant": var, "metric": "runs", "rule": "present",
                         "baseline": str(entry.get("runs", "")), "now": "0", "n": "",
                         "p_min": math.nan, "p_value": math.nan, "verdict": REGRESSED,
                         "note": "no runs now"})
            continue
        rows.append(_runs_row(ds, var, entry, g, ok_alpha))
        g = g.sort_values("seed")
        for m, rule in baseline["rules"].items():
            base = entry["values"].get(m)
            if base is None:
                continue
            now = as_stored(pd.to_numeric(g[m], errors="coerce")) if m in g else []
            rows.append(_metric_row(ds, var, m, rule, base, now, worsts.get(ds, {}).get(m)))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_folder(out: Path, baseline: Path, pool: bool = False) -> pd.DataFrame:
    """The check table of the results folder ``out`` against the baseline file (a group
    whose runs have different settings is bad input unless ``pool``)."""
    base = load_baseline(Path(baseline))
    summary = load_summaries([Path(out)], pool=pool)
    table = check(summary, base, [Path(out)])
    table.attrs["settings_changed"] = settings_notes(summary, base, [Path(out)])
    return table


def regressions(table: pd.DataFrame) -> list[str]:
    """'dataset/variant metric' of each row of a check table that fails the gate."""
    return [f"{r.dataset}/{r.variant} {r.metric}" for _, r in table[table.verdict != "ok"].iterrows()]


def untestable(table: pd.DataFrame) -> list[str]:
    """One line per row that cannot test, with the reason."""
    return [f"{r.dataset}/{r.variant} {r.metric}: {r.note}"
            for _, r in table[table.verdict == CANNOT].iterrows()]


def underpowered(summary: pd.DataFrame, baseline: dict, outs=()) -> list[str]:
    """The rows that would CANNOT TEST against this baseline with as many seeds now as it
    holds (checked against the seeds it was written from), with the reason."""
    return untestable(check(summary, baseline, outs))


def settings_notes(summary: pd.DataFrame, baseline: dict, outs=()) -> list[str]:
    """'group (field: baseline vs now; ...)' for each group whose settings hash differs
    from the one the baseline recorded (a changed suite or config default: the gate then
    compares different settings); the fields from the baseline's recorded settings and
    the now run's config.json (``outs``)."""
    if SETTINGS_HASH_COLUMN not in summary:
        return []
    notes = []
    for key, entry in baseline["groups"].items():
        want = entry.get("settings_hash")
        _, g = group_rows(summary, key)
        have = list(dict.fromkeys(g[SETTINGS_HASH_COLUMN].dropna()))
        if not want or not have or set(have) == {want}:
            continue
        now = settings_of(read_config(g.run_id.iloc[0], outs)) if len(g) else None
        if entry.get("settings") and now:
            fields = differing_fields([json.loads(entry["settings"]), now])
            said = "; ".join(fields[:4]) + (" ..." if len(fields) > 4 else "")
        else:
            said = (f"settings hash {want} in the baseline, {', '.join(have)} now; the baseline "
                    "records no settings to name the field (rewrite it with --update)")
        notes.append(f"{key} ({said})")
    return notes


def baseline_of(out: Path, rules: dict, pool: bool = False) -> dict:
    """A baseline from the results folder ``out``, gating ``rules``."""
    return baseline_from(load_summaries([Path(out)], pool=pool), rules, suite=suite_name(out),
                         outs=[Path(out)])


def update(out: Path, path: Path, pool: bool = False) -> tuple[dict, list[str]]:
    """Write the baseline file ``path`` from the results folder ``out``, with the rules of
    the file already there (else the catalogue's: margins of a quarter of each group's seed
    spread) and the error rates they give, estimated from its seeds
    (:mod:`.gate_estimate`); returns it and the rows that would CANNOT TEST."""
    out = Path(out)
    rules = load_baseline(Path(path))["rules"] if Path(path).is_file() else default_rules()
    summary = load_summaries([out], pool=pool)
    made = baseline_from(summary, rules, suite=suite_name(out), outs=[out])
    groups = made.pop("groups")
    made["operating"] = estimate({**made, "groups": groups}, _worsts(counted(summary, [out])))
    made["groups"] = groups
    write_baseline(Path(path), made)
    return made, underpowered(summary, made, [out])


def to_markdown(table: pd.DataFrame) -> str:
    head = ["dataset", "variant", "metric", "rule", "baseline", "now", "seeds (now vs base)",
            "smallest p", "p", "verdict", "why"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        p = "" if math.isnan(r.p_value) else f"{r.p_value:.3g}"
        pmin = "" if math.isnan(r.p_min) else f"{r.p_min:.3g}"
        cells = [str(r.dataset), str(r.variant), str(r.metric), r.rule, r.baseline, r.now,
                 str(r.n), pmin, p, f"**{r.verdict}**" if r.verdict != "ok" else "ok",
                 str(r.note)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

