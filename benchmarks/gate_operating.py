"""The CI gate's operating characteristic, measured: how often `ganbench check` fails on
unchanged code (false alarms) and how often it catches graded regressions (power).

    python benchmarks/gate_operating.py                       # the whole measurement
    python benchmarks/gate_operating.py --lock /tmp/ganbench-cpu.lock   # one heavy job at a time
    python benchmarks/gate_operating.py --analyse-only        # re-check the pools already run
    python benchmarks/gate_operating.py --analyse-only --block-seeds 12 \
        --baseline tests/analysis/ci_baseline_12_seeds.yaml   # another design, same pools

For the suite (default suites/ci.yaml, N seeds) and its committed baseline (default
results/baselines/ci.yaml), it trains, per condition, `--blocks` fresh blocks of N seeds
(seeds from `--first-seed` on, never the baseline's; the same seeds for every
condition), stacked as ganbench stacks seeds (one suite run per condition: seeds are
cheap), and checks each block against the baseline exactly as `ganbench check` does
(ganbench.analysis.check.check, every seed counted, the baseline's rules):

- unchanged: the suite as it is. A block that fails the gate is a false alarm.
- r1: nonsaturating_r1 without its R1 penalty (the variant alone).
- lr3, lr10, lr100: the learning rate times 3, 10, 100 (every variant's, or those of
  `--lr-variants`).
- packing: pacgan2's D without packing (a plain MLP of the same size; the variant alone).

A regression's block is detected when the gate fails on a group it changed. Besides the
committed baseline, `--rotate` (on by default) takes each unchanged block in turn as the
baseline (written as `ganbench check --update` would) and checks every other block
against it: the rates averaged over baselines, which says how much the committed one's
luck matters. Writes OUT/operating.md and OUT/operating.csv; prints the table.

A block here is a slice of a stack of up to 48 seeds, where the CI run stacks N: float
rounding differs with the stack, so a seed's outcome differs, but not the distribution
of outcomes (each seed has its own random streams), which is what the rates are about.
"""
from __future__ import annotations

import argparse
import copy
import fcntl
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbench.analysis.check import baseline_from, check, load_baseline  # noqa: E402
from ganbench.layout.summaries import load_summaries  # noqa: E402
from ganbench.analysis.gate_estimate import rate_text as rate  # noqa: E402

CONDITIONS = ("unchanged", "r1", "lr3", "lr10", "lr100", "packing")
#: the variants whose learning rate the lr conditions raise (--lr-variants; all when empty)
LR_VARIANTS: list[str] = []


def _lr(variant: dict, defaults: dict, k: float) -> dict:
    """The variant with its learning rate (its own, else the suite's default) times k."""
    v = copy.deepcopy(variant)
    own = v.get("optimizer") or {}
    lr = own.get("lr", (defaults.get("optimizer") or {}).get("lr"))
    v["optimizer"] = {**own, "lr": float(lr) * k}
    return v


def condition(raw: dict, name: str) -> tuple[dict, list[str]]:
    """(the suite's variants as the condition changes them, the variants it changes)."""
    variants, defaults = raw["variants"], raw.get("defaults") or {}
    if name == "unchanged":
        return copy.deepcopy(variants), list(variants)
    if name == "r1":
        v = copy.deepcopy(variants["nonsaturating_r1"])
        v["regularizers"] = [r for r in v.get("regularizers", []) if r.get("name") != "r1"]
        return {"nonsaturating_r1": v}, ["nonsaturating_r1"]
    if name.startswith("lr"):
        k = float(name[2:])
        changed = [n for n in variants if n in LR_VARIANTS] or list(variants)
        return {n: _lr(variants[n], defaults, k) for n in changed}, changed
    if name == "packing":
        v = copy.deepcopy(variants["pacgan2"])
        d = {k: x for k, x in v["discriminator"].items() if k != "packing"}
        v["discriminator"] = {**d, "name": "mlp"}
        return {"pacgan2": v}, ["pacgan2"]
    raise SystemExit(f"gate_operating: unknown condition {name!r}; known: {', '.join(CONDITIONS)}")


@contextmanager
def held(lock: str | None):
    """Hold the file lock (e.g. the machine's one-heavy-job lock) while training."""
    if not lock:
        yield
        return
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_pool(raw: dict, name: str, seeds: list[int], out: Path, lock: str | None,
             executor: str) -> list[Path]:
    """Train the condition's variants on ``seeds`` into OUT/<name>/<variant> (one suite run
    per variant, each under the lock, so other heavy jobs can interleave; resumes)."""
    from ganbench.runs.api import run
    variants, _ = condition(raw, name)
    folders = []
    for vname, v in variants.items():
        suite = {**copy.deepcopy(raw), "name": f"gate_{name}_{vname}", "seeds": seeds,
                 "variants": {vname: v}}
        suite.pop("published", None)
        folder = out / name / vname
        with held(lock):
            t0 = time.perf_counter()
            run(suite, folder, device="cpu", executor=executor)
            print(f"gate_operating: {name}/{vname}: {len(seeds)} seeds in "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
        folders.append(folder)
    return folders


def fails(summary: pd.DataFrame, baseline: dict, variants: list[str], outs) -> list[str]:
    """The rows of the gate that fail ('variant metric'), on the groups of ``variants``."""
    groups = {k: e for k, e in baseline["groups"].items() if k.split("/")[1] in variants}
    table = check(summary, {**baseline, "groups": groups}, outs)
    bad = table[table.verdict != "ok"]
    return [f"{r.variant} {r.metric}" for _, r in bad.iterrows()]


def blocks_of(summary: pd.DataFrame, n: int, count: int) -> list[pd.DataFrame]:
    """The first ``count`` blocks of ``n`` seeds (fewer when the pool holds fewer)."""
    seeds = sorted(summary.seed.unique())
    count = min(count, len(seeds) // n)
    return [summary[summary.seed.isin(seeds[i * n:(i + 1) * n])] for i in range(count)]


def measure(raw: dict, baseline: dict, pools: dict, n: int, count: int, rotate: bool) -> pd.DataFrame:
    """One row per condition: the gate's failures against the committed baseline, and
    (``rotate``) against each unchanged block taken as the baseline in turn."""
    unchanged = blocks_of(pools["unchanged"][0], n, count)
    rows = []
    for name, (summary, folders) in pools.items():
        _, variants = condition(raw, name)
        blocks = blocks_of(summary, n, count)
        fired = [fails(b, baseline, variants, folders) for b in blocks]
        row = {"condition": name, "variants": ", ".join(variants), "blocks": len(blocks),
               "gate_failed": sum(bool(f) for f in fired),
               "committed": rate(sum(bool(f) for f in fired), len(blocks)),
               "rows_fired": "; ".join(f"{k} ×{v}" for k, v in pd.Series(
                   [x for f in fired for x in f]).value_counts().items())}
        if rotate:
            hits = total = 0
            for i, base_block in enumerate(unchanged):
                base = baseline_from(base_block, baseline["rules"], outs=pools["unchanged"][1])
                for j, b in enumerate(blocks):
                    if name == "unchanged" and i == j:
                        continue
                    hits += bool(fails(b, base, variants, folders))
                    total += 1
            row["over_baselines"] = rate(hits, total)
        rows.append(row)
    return pd.DataFrame(rows)


def environment() -> str:
    """'torch X, CPU model, N cores' (the CPU's name as runs record it)."""
    import os
    from ganbench.harness.device import environment as run_environment
    env = run_environment("cpu")
    return f"torch {env['torch']}, {env['device_name']}, {os.cpu_count()} cores"


def to_markdown(table: pd.DataFrame, head: str) -> str:
    cols = ["condition", "variants", "committed", "over_baselines", "rows_fired"]
    cols = [c for c in cols if c in table]
    names = {"committed": "gate failed, vs the committed baseline",
             "over_baselines": "gate failed, vs each unchanged block as baseline",
             "rows_fired": "rows that fired (vs committed)"}
    lines = [head, "", "| " + " | ".join(names.get(c, c) for c in cols) + " |",
             "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for _, r in table.iterrows()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", default=str(ROOT / "suites" / "ci.yaml"))
    ap.add_argument("--baseline", default=str(ROOT / "results" / "baselines" / "ci.yaml"))
    ap.add_argument("--out", default=str(ROOT / "results" / "gate_operating"))
    ap.add_argument("--blocks", type=int, default=20)
    ap.add_argument("--power-blocks", type=int, default=None,
                    help="blocks per regression (default --blocks): the first ones of the "
                         "unchanged pool's seeds")
    ap.add_argument("--lr-variants", default="",
                    help="comma list: the variants the lr conditions change (default: all)")
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--lock", default=None, help="a file to flock while training")
    ap.add_argument("--executor", default="auto")
    ap.add_argument("--analyse-only", action="store_true", help="check the pools already run")
    ap.add_argument("--no-rotate", action="store_true")
    ap.add_argument("--block-seeds", type=int, default=None,
                    help="seeds a block (default the suite's): another design on the same pools")
    a = ap.parse_args(argv)
    LR_VARIANTS[:] = [v.strip() for v in a.lr_variants.split(",") if v.strip()]
    raw = yaml.safe_load(Path(a.suite).read_text())
    suite_seeds = raw["seeds"] if isinstance(raw["seeds"], list) else list(range(raw["seeds"]))
    n = a.block_seeds or len(suite_seeds)
    seeds = list(range(a.first_seed, a.first_seed + a.blocks * n))
    if set(seeds) & set(suite_seeds):
        raise SystemExit("gate_operating: --first-seed overlaps the suite's own seeds")
    out = Path(a.out)
    baseline = load_baseline(Path(a.baseline))
    names = [c.strip() for c in a.conditions.split(",") if c.strip()]
    if "unchanged" not in names:
        names.insert(0, "unchanged")
    t0 = time.perf_counter()
    pools = {}
    power = a.blocks if a.power_blocks is None else min(a.power_blocks, a.blocks)
    for name in names:
        own = seeds if name == "unchanged" else seeds[:power * n]
        folders = [out / name / v for v in condition(raw, name)[0]] if a.analyse_only else \
            run_pool(raw, name, own, out, a.lock, a.executor)
        pools[name] = (load_summaries(folders), folders)
    table = measure(raw, baseline, pools, n, a.blocks, not a.no_rotate)
    head = (f"Gate operating characteristic: {a.suite} ({n} seeds a block, {a.blocks} blocks of "
            f"fresh seeds {seeds[0]}..{seeds[-1]}; {power} blocks per regression) against {a.baseline}; {environment()}; "
            f"{time.perf_counter() - t0:.0f} s.")
    md = to_markdown(table, head)
    out.mkdir(parents=True, exist_ok=True)
    (out / "operating.md").write_text(md)
    table.to_csv(out / "operating.csv", index=False)
    print(md)
    return table


if __name__ == "__main__":
    main()
