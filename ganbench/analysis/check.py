"""`ganbench check`: fail when training stability regresses against a baseline.

A baseline (YAML, committed) holds per ``dataset/variant`` the per-seed values of the
gated metrics and the number of runs that finished ``ok``, and per metric a rule:

    rules:
      modes_captured: {better: higher, margin: 1.0, alpha: 0.05}
      fd: {better: lower, rel_margin: 0.5, alpha: 0.05}

A metric regresses when *every* test its rule states says so: its mean is worse than
the baseline's by more than ``margin`` (absolute) and/or ``rel_margin`` (relative to
the baseline mean; with both, the larger allowance counts), and, with ``alpha``, a
one-sided Mann-Whitney U test of now-worse-than-baseline has p < alpha. Requiring
both keeps seed noise from failing CI while a real regression fails it. When too few
values are left (diverged seeds) for the test ever to reach alpha, the margin alone
decides. A group
also regresses when fewer of its runs finish ``ok`` than in the baseline, or when it
is missing from the results.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import yaml

from ..errors import InputError
from ..layout import SETTING_COLUMN, write_text
from .compare import load_summaries
from .stats import clean, min_pvalue, worse_pvalue
from .tables import fmt

RULE_KEYS = {"better", "margin", "rel_margin", "alpha"}
CHECK_COLUMNS = ["dataset", "variant", "metric", "rule", "baseline", "now", "p_value", "verdict"]


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
    return raw


def _group_keys(summary: pd.DataFrame) -> list[str]:
    """The columns a baseline group is keyed by: dataset, variant, and a swept suite's
    setting (each setting is gated on its own)."""
    return ["dataset", "variant"] + ([SETTING_COLUMN] if SETTING_COLUMN in summary else [])


def baseline_from(summary: pd.DataFrame, rules: dict, suite: str = "") -> dict:
    """A baseline holding ``summary``'s per-seed values of the ruled metrics, per
    ``dataset/variant`` (``dataset/variant/setting`` in a swept suite)."""
    groups = {}
    for key, g in summary.groupby(_group_keys(summary), sort=False):
        entry = {"runs": int(len(g)), "ok": int((g.status == "ok").sum()), "values": {}}
        for m in rules:
            if m in g:
                vals = pd.to_numeric(g.sort_values("seed")[m], errors="coerce")
                entry["values"][m] = [None if math.isnan(v) else round(float(v), 6) for v in vals]
        groups["/".join(str(k) for k in key)] = entry
    return {"suite": suite, "rules": rules, "groups": groups}


def _regressed(rule: dict, base: list, now: list) -> tuple[bool, float, str]:
    b, n = clean(base), clean(now)
    if len(n) == 0:
        return (len(b) > 0, math.nan, "no values now")
    if len(b) == 0:
        return (False, math.nan, "no baseline values")
    sign = 1 if rule["better"] == "higher" else -1
    worse_by = (b.mean() - n.mean()) * sign          # > 0: now is worse
    flags, p = [], math.nan
    if "margin" in rule or "rel_margin" in rule:
        allow = max(rule.get("margin", 0.0), rule.get("rel_margin", 0.0) * abs(b.mean()))
        flags.append(worse_by > allow)
    if "alpha" in rule:
        p = worse_pvalue(n, b, sign)
        if min_pvalue(len(n), len(b)) < rule["alpha"] or not flags:
            flags.append(p < rule["alpha"])
        # else: too few values (diverged seeds) for the test ever to reach alpha: the
        # margin alone decides
    return (all(flags), p, "")


def _rule_text(rule: dict) -> str:
    parts = [rule["better"]]
    if "margin" in rule:
        parts.append(f"±{rule['margin']:g}")
    if "rel_margin" in rule:
        parts.append(f"±{100 * rule['rel_margin']:g}%")
    if "alpha" in rule:
        parts.append(f"U p<{rule['alpha']:g}")
    return ", ".join(parts)


def _mean_std(v) -> str:
    c = clean(v)
    if len(c) == 0:
        return ""
    return fmt(c.mean()) + (f" ± {fmt(c.std(ddof=1))}" if len(c) > 1 else "")


def check(summary: pd.DataFrame, baseline: dict) -> pd.DataFrame:
    """One row per gated (group, metric) plus one per group for its ok count."""
    rows = []
    for key, entry in baseline["groups"].items():
        ds, var, *setting = key.split("/", 2)
        g = summary[(summary.dataset.astype(str) == ds) & (summary.variant.astype(str) == var)]
        if setting:
            on = summary[SETTING_COLUMN].astype(str) if SETTING_COLUMN in summary else None
            g = g[on[g.index] == setting[0]] if on is not None else g.iloc[:0]
            var = f"{var} [{setting[0]}]"
        if g.empty:
            rows.append({"dataset": ds, "variant": var, "metric": "runs", "rule": "present",
                         "baseline": str(entry.get("runs", "")), "now": "0", "p_value": math.nan,
                         "verdict": "REGRESSED"})
            continue
        ok_now = int((g.status == "ok").sum())
        rows.append({"dataset": ds, "variant": var, "metric": "ok runs", "rule": "no fewer",
                     "baseline": str(entry["ok"]), "now": str(ok_now), "p_value": math.nan,
                     "verdict": "REGRESSED" if ok_now < entry["ok"] else "ok"})
        g = g.sort_values("seed")
        for m, rule in baseline["rules"].items():
            base = entry["values"].get(m)
            if base is None:
                continue
            now = pd.to_numeric(g[m], errors="coerce").tolist() if m in g else []
            base = [math.nan if v is None else v for v in base]
            bad, p, note = _regressed(rule, base, now)
            rows.append({"dataset": ds, "variant": var, "metric": m, "rule": _rule_text(rule),
                         "baseline": _mean_std(base),
                         "now": _mean_std(now) or note, "p_value": p,
                         "verdict": "REGRESSED" if bad else "ok"})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def check_folder(out: Path, baseline: Path) -> pd.DataFrame:
    """The check table of the results folder ``out`` against the baseline file."""
    return check(load_summaries([Path(out)]), load_baseline(Path(baseline)))


def regressions(table: pd.DataFrame) -> list[str]:
    """'dataset/variant metric' of each regressed row of a check table."""
    return [f"{r.dataset}/{r.variant} {r.metric}" for _, r in table[table.verdict != "ok"].iterrows()]


def suite_name(out: Path) -> str:
    """The suite's name from OUT/suite.yaml (else the folder's name)."""
    try:
        return str(yaml.safe_load((Path(out) / "suite.yaml").read_text())["name"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return Path(out).name


def baseline_of(out: Path, rules: dict) -> dict:
    """A baseline from the results folder ``out``, gating ``rules``."""
    return baseline_from(load_summaries([Path(out)]), rules, suite=suite_name(out))


def to_markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(CHECK_COLUMNS) + " |", "|" + "---|" * len(CHECK_COLUMNS)]
    for _, r in table.iterrows():
        p = "" if math.isnan(r.p_value) else f"{r.p_value:.3g}"
        cells = [str(r.dataset), str(r.variant), str(r.metric), r.rule, r.baseline, r.now, p,
                 f"**{r.verdict}**" if r.verdict != "ok" else "ok"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_baseline(path: Path, baseline: dict) -> None:
    header = ("# ganbench baseline: per dataset/variant, the per-seed values of the gated\n"
              "# metrics and how many runs finished ok; per metric, the rule `ganbench check`\n"
              "# applies (see ganbench/analysis/check.py). Rewrite with: ganbench check OUT --baseline "
              f"{path} --update\n")
    write_text(Path(path), header + yaml.safe_dump(baseline, sort_keys=False))
