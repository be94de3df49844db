"""`ganbench check`: fail when training stability regresses against a baseline, by a
test whose false-alarm rate is bounded and measured.

A baseline (YAML, committed) holds per ``dataset/variant`` the per-seed values of the
gated metrics (every seed counted, :mod:`ganbench.analysis.seeds`), the runs and how
many finished ``ok``, and per metric a rule:

    rules:
      modes_captured: {better: higher, margin: 1.0, alpha: 0.01}
      fd: {better: lower, margin: 0.05, rel_margin: 0.5, alpha: 0.01}

The alarm "now is worse than the baseline by more than the margin" is a one-sided
test of a shift. Let δ be the margin (``margin``, or ``rel_margin`` times the baseline's
median, the larger of the two; 0 without either). Now's values are moved by δ in the
better direction and an exact Wilcoxon-Mann-Whitney test (permutation null, ties
included: :func:`ganbench.analysis.stats.rank_test`) asks whether they are still worse
than the baseline's; a metric REGRESSES when p < ``alpha``. Under the shift model
(now = baseline worsened by Δ), when the true worsening Δ is at most δ the chance of an
alarm is at most ``alpha``, at every number of seeds; unchanged code (Δ = 0) is at
least δ away from the alarm. A test that cannot reach ``alpha`` with the seeds at hand
(the smallest p is 1 / C(n + m, n)) is reported as CANNOT TEST, which fails the gate:
the gate is not doing its job. A rule without ``alpha`` compares means against the
margin alone (no error rate known).

Runs: a group REGRESSES when a run failed (an exception is a bug), when it is missing,
or when fewer of its runs finish ``ok`` than in the baseline by a one-sided Fisher
exact test at p < ``ok_alpha`` (a baseline's top-level key, default 0.01).
benchmarks/gate_operating.py measures the whole gate's false-alarm rate and power.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats as sps

from ..errors import InputError
from ..layout import SETTINGS_HASH_COLUMN, write_text
from ..layout.summaries import load_summaries
from .seeds import counted, group_keys
from .stats import clean, min_pvalue, worse_pvalue
from .tables import fmt

RULE_KEYS = {"better", "margin", "rel_margin", "alpha"}
CHECK_COLUMNS = ["dataset", "variant", "metric", "rule", "baseline", "now", "n", "p_min",
                 "p_value", "verdict"]
OK_ALPHA = 0.01
REGRESSED, CANNOT = "REGRESSED", "CANNOT TEST"


def _check_rule(metric: str, rule, path: str) -> dict:
    where = f"{path}: rules.{metric}"
    if not isinstance(rule, dict):
        raise InputError(f"{where}: expected a mapping like {{better: higher, margin: 1.0}}.")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}; use {', '.join(sorted(RULE_KEYS))}.")
    if rule.get("better") not in ("higher", "lower"):
        raise InputError(f"{where}.better: expected higher or lower.")
    if not ({"margin", "rel_margin", "alpha"} & set(rule)):
        raise InputError(f"{where}: give at least one of margin, rel_margin, alpha.")
    for k in ("margin", "rel_margin", "alpha"):
        if k in rule and (not isinstance(rule[k], (int, float)) or rule[k] < 0):
            raise InputError(f"{where}.{k}: expected a number >= 0.")
    if "alpha" in rule and not 0 < rule["alpha"] < 1:
        raise InputError(f"{where}.alpha: expected a level between 0 and 1, e.g. 0.01.")
    return rule


def load_baseline(path: Path) -> dict:
    if not Path(path).is_file():
        raise InputError(f"--baseline {path}: file not found; write one with "
                         f"'ganbench check OUT --baseline {path} --update'.")
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as e:
        raise InputError(f"{path}: not valid YAML ({str(e).splitlines()[0]}); fix or rewrite it "
                         "with --update.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("groups"), dict) or \
            not isinstance(raw.get("rules"), dict):
        raise InputError(f"{path}: a baseline needs 'rules' and 'groups' mappings; rewrite it "
                         "with --update.")
    for m, rule in raw["rules"].items():
        _check_rule(m, rule, str(path))
    ok_alpha = raw.get("ok_alpha", OK_ALPHA)
    if not isinstance(ok_alpha, (int, float)) or not 0 < ok_alpha < 1:
        raise InputError(f"{path}: ok_alpha: expected a level between 0 and 1, e.g. 0.01.")
    return raw


def _number(v: float):
    """A value as the baseline stores it: None for no value, inf kept (YAML .inf)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v) if math.isinf(v) else round(float(v), 6)


def baseline_from(summary: pd.DataFrame, rules: dict, suite: str = "", outs=()) -> dict:
    """A baseline holding ``summary``'s per-seed values of the ruled metrics (every seed
    counted; ``outs``: the folders with the diverged runs' histories), per
    ``dataset/variant`` (``dataset/variant/setting`` in a swept suite)."""
    scores = counted(summary, outs)
    groups = {}
    for key, g in scores.groupby(group_keys(scores), sort=False):
        entry = {"runs": int(len(g)), "ok": int((g.status == "ok").sum()),
                 "failed": int((g.status == "failed").sum())}
        hashes = g[SETTINGS_HASH_COLUMN].dropna().unique() if SETTINGS_HASH_COLUMN in g else []
        if len(hashes) == 1:
            entry["settings_hash"] = str(hashes[0])
        entry["values"] = {}
        for m in rules:
            if m in g:
                vals = pd.to_numeric(g.sort_values("seed")[m], errors="coerce")
                entry["values"][m] = [_number(v) for v in vals]
        groups["/".join(str(k) for k in key)] = entry
    return {"suite": suite, "rules": rules, "ok_alpha": OK_ALPHA, "groups": groups}


def margin_of(rule: dict, base: np.ndarray) -> float:
    """δ: ``margin``, or ``rel_margin`` times the baseline's median, the larger."""
    rel = rule.get("rel_margin", 0.0) * abs(float(np.median(base))) if len(base) else 0.0
    return max(rule.get("margin", 0.0), rel if math.isfinite(rel) else 0.0)


def _regressed(rule: dict, base: list, now: list) -> tuple[str, float, str]:
    """(verdict, p, note) of one gated metric: ok, REGRESSED or CANNOT TEST."""
    b, n = clean(base), clean(now)
    if len(n) == 0:
        return (REGRESSED if len(b) else "ok", math.nan, "no values now")
    if len(b) == 0:
        return ("ok", math.nan, "no baseline values")
    sign = 1 if rule["better"] == "higher" else -1
    delta = margin_of(rule, b)
    if "alpha" not in rule:
        with np.errstate(invalid="ignore"):
            worse_by = (b.mean() - n.mean()) * sign          # > 0: now is worse
        return (REGRESSED if worse_by > delta else "ok", math.nan, "")
    if min_pvalue(len(n), len(b)) >= rule["alpha"]:
        return (CANNOT, math.nan, "")
    p = worse_pvalue(n + sign * delta, b, sign)
    return (REGRESSED if p < rule["alpha"] else "ok", p, "")


def _rule_text(rule: dict) -> str:
    parts = [rule["better"]]
    if "margin" in rule:
        parts.append(f"margin {rule['margin']:g}")
    if "rel_margin" in rule:
        parts.append(f"margin {100 * rule['rel_margin']:g}% of median")
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
    """The group's runs: failed ones regress; fewer ok than the baseline's by a one-sided
    Fisher exact test at ok_alpha."""
    ok_now, runs_now = int((g.status == "ok").sum()), len(g)
    failed = int((g.status == "failed").sum())
    ok_base, runs_base = int(entry.get("ok", 0)), int(entry.get("runs", 0))
    row = {"dataset": ds, "variant": var, "metric": "ok runs",
           "rule": f"no failed run; fewer ok: Fisher p<{ok_alpha:g}",
           "baseline": f"{ok_base}/{runs_base}", "now": f"{ok_now}/{runs_now}",
           "n": f"{runs_now} vs {runs_base}", "p_min": math.nan, "p_value": math.nan,
           "verdict": "ok"}
    if failed:
        row.update(verdict=REGRESSED, now=f"{ok_now}/{runs_now} ({failed} failed)")
        return row
    if runs_base and runs_now:
        table = [[ok_now, runs_now - ok_now], [ok_base, runs_base - ok_base]]
        row["p_value"] = float(sps.fisher_exact(table, alternative="less").pvalue)
        best = [[0, runs_now], [ok_base, runs_base - ok_base]]    # the most extreme outcome
        row["p_min"] = float(sps.fisher_exact(best, alternative="less").pvalue)
        if row["p_value"] < ok_alpha:
            row["verdict"] = REGRESSED
    return row


def check(summary: pd.DataFrame, baseline: dict, outs=()) -> pd.DataFrame:
    """One row per gated (group, metric) plus one per group for its runs; ``outs``: the
    folders whose history files give diverged runs' last evaluations."""
    scores = counted(summary, outs)
    ok_alpha = baseline.get("ok_alpha", OK_ALPHA)
    rows = []
    for key, entry in baseline["groups"].items():
        ds, var, *setting = key.split("/", 2)
        g = scores[(scores.dataset.astype(str) == ds) & (scores.variant.astype(str) == var)]
        if setting:
            on = scores["setting"].astype(str) if "setting" in scores else None
            g = g[on[g.index] == setting[0]] if on is not None else g.iloc[:0]
            var = f"{var} [{setting[0]}]"
        if g.empty:
            rows.append({"dataset": ds, "variant": var, "metric": "runs", "rule": "present",
                         "baseline": str(entry.get("runs", "")), "now": "0", "n": "",
                         "p_min": math.nan, "p_value": math.nan, "verdict": REGRESSED})
            continue
        rows.append(_runs_row(ds, var, entry, g, ok_alpha))
        g = g.sort_values("seed")
        for m, rule in baseline["rules"].items():
            base = entry["values"].get(m)
            if base is None:
                continue
            now = pd.to_numeric(g[m], errors="coerce").tolist() if m in g else []
            base = [math.nan if v is None else float(v) for v in base]
            verdict, p, note = _regressed(rule, base, now)
            nb, nn = len(clean(base)), len(clean(now))
            rows.append({"dataset": ds, "variant": var, "metric": m, "rule": _rule_text(rule),
                         "baseline": _mean_std(base), "now": _mean_std(now) or note,
                         "n": f"{nn} vs {nb}",
                         "p_min": min_pvalue(nn, nb) if nn and nb and "alpha" in rule else math.nan,
                         "p_value": p, "verdict": verdict})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_folder(out: Path, baseline: Path, pool: bool = False) -> pd.DataFrame:
    """The check table of the results folder ``out`` against the baseline file (a group
    whose runs have different settings is bad input unless ``pool``)."""
    base = load_baseline(Path(baseline))
    summary = load_summaries([Path(out)], pool=pool)
    table = check(summary, base, [Path(out)])
    table.attrs["settings_changed"] = settings_notes(summary, base)
    return table


def regressions(table: pd.DataFrame) -> list[str]:
    """'dataset/variant metric' of each row of a check table that fails the gate."""
    return [f"{r.dataset}/{r.variant} {r.metric}" for _, r in table[table.verdict != "ok"].iterrows()]


def untestable(table: pd.DataFrame) -> list[str]:
    """One line per row whose test cannot reach its alpha at its numbers of seeds."""
    return [f"{r.dataset}/{r.variant} {r.metric}: {r.n} seeds, smallest p {r.p_min:.3g}, not "
            f"below the rule's alpha" for _, r in table[table.verdict == CANNOT].iterrows()]


def underpowered(baseline: dict) -> list[str]:
    """One line per rule whose test could not reach its alpha even against as many
    seeds now as the baseline holds (a baseline of too few seeds)."""
    runs = [int(e.get("runs", 0)) for e in baseline["groups"].values()]
    n = min(runs) if runs else 0
    out = []
    for m, rule in baseline["rules"].items():
        if "alpha" in rule and n and min_pvalue(n, n) >= rule["alpha"]:
            out.append(f"rules.{m}: with {n} seeds a side the smallest p is "
                       f"{min_pvalue(n, n):.3g}, not below alpha {rule['alpha']:g}: the check "
                       "will say CANNOT TEST; use more seeds (5 reach 0.004).")
    return out


def settings_notes(summary: pd.DataFrame, baseline: dict) -> list[str]:
    """Groups whose settings hash differs from the one the baseline recorded (a changed
    suite or config default: the gate then compares different settings)."""
    if SETTINGS_HASH_COLUMN not in summary:
        return []
    notes = []
    for key, entry in baseline["groups"].items():
        want = entry.get("settings_hash")
        ds, var, *setting = key.split("/", 2)
        g = summary[(summary.dataset.astype(str) == ds) & (summary.variant.astype(str) == var)]
        have = set(g[SETTINGS_HASH_COLUMN].dropna())
        if want and have and have != {want}:
            notes.append(key)
    return notes


def suite_name(out: Path) -> str:
    """The suite's name from OUT/suite.yaml (else the folder's name)."""
    try:
        return str(yaml.safe_load((Path(out) / "suite.yaml").read_text())["name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return Path(out).name


def baseline_of(out: Path, rules: dict, pool: bool = False) -> dict:
    """A baseline from the results folder ``out``, gating ``rules``."""
    return baseline_from(load_summaries([Path(out)], pool=pool), rules, suite=suite_name(out),
                         outs=[Path(out)])


def to_markdown(table: pd.DataFrame) -> str:
    head = ["dataset", "variant", "metric", "rule", "baseline", "now", "seeds (now vs base)",
            "smallest p", "p", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        p = "" if math.isnan(r.p_value) else f"{r.p_value:.3g}"
        pmin = "" if math.isnan(r.p_min) else f"{r.p_min:.3g}"
        cells = [str(r.dataset), str(r.variant), str(r.metric), r.rule, r.baseline, r.now,
                 str(r.n), pmin, p, f"**{r.verdict}**" if r.verdict != "ok" else "ok"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_baseline(path: Path, baseline: dict) -> None:
    header = ("# ganbench baseline: per dataset/variant, the per-seed values of the gated\n"
              "# metrics (every seed counted: docs/statistics.md), its runs and how many\n"
              "# finished ok; per metric, the rule `ganbench check` applies (see\n"
              "# ganbench/analysis/check.py). Rewrite with: ganbench check OUT --baseline "
              f"{path} --update\n")
    write_text(Path(path), header + yaml.safe_dump(baseline, sort_keys=False))
