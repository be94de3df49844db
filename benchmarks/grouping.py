"""How a suite's groups fill the workers: every group, the workers' timelines and the
critical path, for one or more plans (a grouping and an order), trained side by side
in one run.

    python benchmarks/grouping.py suites/mog.yaml                 # ~15 min on 2 cores
    python benchmarks/grouping.py suites/mog_converged.yaml --set defaults.steps=3000
    python benchmarks/grouping.py suites/mog.yaml --plan now:guessed --plan now:model
    python benchmarks/grouping.py suites/mog.yaml --plan /work/wt/base --plan now
    python benchmarks/grouping.py suites/mog.yaml --load /tmp/grouping_mog.json  # print again
    python benchmarks/grouping.py suites/mog.yaml --plan OLD --plan now --keep DIR  # and compare

A plan is ``CHECKOUT[:ORDER]``: the package of CHECKOUT (``now``: this one) groups the
suite as it does and its process executor trains the groups (``ganbench run``, every
core a worker); ORDER is the order groups start in: ``model`` (the checkout's own,
longest first by its cost model) or ``guessed`` (longest first by the formula main
used before the measured model: steps × (g_cost + n_critic × (1 + 1.5 × penalties)) ×
√runs). Another grouping is another checkout (the stacking change's branch against
main's), or, within one checkout, another ORDER added here. Default: ``now:guessed``
and ``now:model``. The plans run one after another, each in a fresh process, from
scratch (``--force``), into a temporary folder.

Per plan it prints:

- every group in the order it started: its runs, steps, worker, start and end (seconds
  from the first start), total seconds (the driver's view: from the group's start to its
  records written), ms per step (the slope of its progress reports: training and the
  periodic evaluations among them), and the cost model's prediction with its error;
- each worker's timeline, and its idle time at the end;
- the critical path (the worker that finished last: its groups end to end), the wall
  time, and the lower bound no order can beat (the longest group, or the work spread
  evenly over the workers).

The timelines are saved (``--save``, default a file in the temporary folder, named at
the end); ``--load`` prints them again, the predictions made anew by this checkout's
cost model (groups matched by label), e.g. after its coefficients were measured again.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def guessed_cost(group) -> float:
    """The cost formula ganbench used to order groups before the measured model."""
    from ganbench.objectives import objectives
    from ganbench.updates import Unrolled, updates
    cfg = group.specs[0].config
    penalties = len(cfg.regularizers) + len(objectives.build(cfg.objective).penalties)
    update = updates.build(cfg.update)          # an unrolled G step as 1 + k (2k second order)
    g_cost = 1 + (2.0 if update.second_order else 1.0) * update.k if isinstance(update, Unrolled) else 1.0
    return group.steps * (g_cost + cfg.n_critic * (1 + 1.5 * penalties)) * len(group.specs) ** 0.5


def child(suite: str, sets: list[str], order: str, workers: int | None,
          keep: str | None = None) -> dict:
    """In a fresh process with the plan's checkout: train the suite, record its timeline."""
    from ganbench.config import overrides
    from ganbench.runs import api, progress
    from ganbench.runs.executors import processes
    events: dict = {}
    P = progress.Progress
    start, steps, finish = P.start, P.steps, P.finish

    def on_start(self, slot, group):
        predicted = group.prediction[1].seconds if hasattr(group, "prediction") else None
        events[id(group)] = {"label": group.label, "runs": len(group.specs), "steps": group.steps,
                             "slot": slot, "start": time.time(), "reports": [],
                             "predicted": predicted}
        return start(self, slot, group)

    def on_steps(self, slot, n):
        for ev in events.values():
            if ev["slot"] == slot and "end" not in ev:
                ev["reports"].append((time.time(), n))
        return steps(self, slot, n)

    def on_finish(self, slot, group, records, *rest):
        out = finish(self, slot, group, records, *rest)
        events[id(group)]["end"] = time.time()
        return out
    P.start, P.steps, P.finish = on_start, on_steps, on_finish
    if order == "guessed":
        processes.longest_first = lambda groups: sorted(groups, key=lambda g: -guessed_cost(g))
    s = overrides.load(suite, tuple(sets))
    with tempfile.TemporaryDirectory() as out:
        t0 = time.time()
        api.run(s, out=keep or out, executor="process", workers=workers, force=True)
        wall = time.time() - t0
    return {"events": sorted(events.values(), key=lambda e: e["start"]), "wall": wall}


def run_plan(plan: str, suite: str, sets: list[str], workers: int | None,
             keep: Path | None = None) -> dict:
    checkout, _, order = plan.partition(":")
    path = ROOT if checkout in ("now", "") else Path(checkout).resolve()
    order = order or "model"
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [sys.executable, __file__, suite, "--child", f.name, "--order", order]
        cmd += [a for s in sets for a in ("--set", s)]
        cmd += ["--workers", str(workers)] if workers else []
        cmd += ["--keep", str(keep)] if keep else []
        env = dict(os.environ, PYTHONPATH=str(path))
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"plan {plan}: {done.stderr[-3000:]}")
        out = json.loads(Path(f.name).read_text())
    out["plan"] = f"{'now' if path == ROOT else path.name}:{order}"
    return out


def same_results(folders: list[Path]) -> None:
    """How each plan's summary.csv compares with the first plan's, run by run: the runs
    whose every number is equal, and the largest relative difference of each metric."""
    import numpy as np
    import pandas as pd
    first = pd.read_csv(folders[0] / "summary.csv").set_index("run_id").sort_index()
    cols = [c for c in first.columns if first[c].dtype.kind == "f" and "wall" not in c]
    for folder in folders[1:]:
        other = pd.read_csv(folder / "summary.csv").set_index("run_id").sort_index()
        a, b = first[cols].to_numpy(), other.loc[first.index, cols].to_numpy()
        same = ((a == b) | (np.isnan(a) & np.isnan(b))).all(1)
        rel = np.abs(a - b) / (np.abs(a) + 1e-12)
        rel = np.where(np.isnan(rel), -np.inf, rel).max(0)      # NaN: a metric the run lacks
        worst = sorted(zip(rel, cols), reverse=True)[:3]
        status = (first["status"] == other.loc[first.index, "status"]).sum()
        print(f"{folder.name} against {folders[0].name}: {same.sum()}/{len(same)} runs with every "
              f"number equal, {status}/{len(same)} with the same status; largest relative "
              "differences: " + ", ".join(f"{c} {r:.2g}" for r, c in worst))


def slope_ms(ev: dict) -> float | None:
    """ms per step from the first to the last progress report (None: fewer than two)."""
    r = ev["reports"]
    if len(r) < 2 or r[-1][1] == r[0][1]:
        return None
    return 1e3 * (r[-1][0] - r[0][0]) / (r[-1][1] - r[0][1])


def predict_again(results: list[dict], suite: str, sets: list[str]) -> None:
    """Each group's prediction by this checkout's cost model (its groups of the suite,
    and those of one dataset each as before stacks crossed datasets, matched by label;
    None for a group it does not make)."""
    from ganbench.config import overrides
    from ganbench.runs import groups as grouping
    specs = overrides.load(suite, tuple(sets)).specs
    groups = {}
    key = grouping.data_key
    try:
        for data_key in (key, lambda dataset: dataset["label"]):
            grouping.data_key = data_key
            with tempfile.TemporaryDirectory() as out:
                groups.update({g.label: g for g in grouping.pending_groups(Path(out), specs, force=True)})
    finally:
        grouping.data_key = key
    for res in results:
        for ev in res["events"]:
            g = groups.get(ev["label"])
            ev["predicted"] = g.cost if g is not None and len(g.specs) == ev["runs"] else None


def report(res: dict) -> dict:
    """Print one plan's groups, timelines and critical path; return its summary."""
    evs, wall = res["events"], res["wall"]
    t0 = min(e["start"] for e in evs)
    print(f"\n== plan {res['plan']}: {len(evs)} groups, {sum(e['runs'] for e in evs)} runs, "
          f"wall {wall:.0f} s (the whole `ganbench run`, {wall - (max(e['end'] for e in evs) - t0):.0f} s of it "
          "before the first group and after the last)")
    print(f"{'group':44}{'runs':>5}{'steps':>7}{'w':>3}{'start':>7}{'end':>7}{'total s':>9}"
          f"{'ms/step':>9}{'model s':>9}{'error':>7}")
    for e in evs:
        total = e["end"] - e["start"]
        ms = slope_ms(e)
        pred = e.get("predicted")
        err = f"{100 * (pred - total) / total:+6.0f}%" if pred else ""
        print(f"{e['label'][:43]:44}{e['runs']:5}{e['steps']:7}{e['slot']:3}{e['start'] - t0:7.0f}"
              f"{e['end'] - t0:7.0f}{total:9.1f}{ms if ms is not None else float('nan'):9.1f}"
              f"{pred if pred else float('nan'):9.1f}{err:>7}")
    slots = sorted({e["slot"] for e in evs})
    end = max(e["end"] for e in evs) - t0
    print("workers' timelines (seconds from the first start):")
    finish = {}
    for s in slots:
        mine = [e for e in evs if e["slot"] == s]
        finish[s] = max(e["end"] for e in mine) - t0
        line = " | ".join(f"{e['label']} {e['start'] - t0:.0f}-{e['end'] - t0:.0f}" for e in mine)
        busy = sum(e["end"] - e["start"] for e in mine)
        print(f"  worker {s}: busy {busy:.0f} s, idle at the end {end - finish[s]:.0f} s: {line}")
    last = max(finish, key=finish.get)
    chain = [e for e in evs if e["slot"] == last]
    work = sum(e["end"] - e["start"] for e in evs)
    longest = max(e["end"] - e["start"] for e in evs)
    bound = max(longest, work / len(slots))
    print(f"critical path: worker {last}, {len(chain)} groups, {finish[last]:.0f} s: "
          + " -> ".join(e["label"] for e in chain))
    print(f"lower bound {bound:.0f} s (longest group {longest:.0f} s; work {work:.0f} s over "
          f"{len(slots)} workers {work / len(slots):.0f} s); the groups took {end:.0f} s, "
          f"{100 * (end / bound - 1):.0f}% over it")
    errs = [abs(e["predicted"] - (e["end"] - e["start"])) / (e["end"] - e["start"])
            for e in evs if e.get("predicted")]
    return {"plan": res["plan"], "groups": len(evs), "wall": wall, "span": end, "bound": bound,
            "idle": sum(end - f for f in finish.values()),
            "err_median": 100 * sorted(errs)[len(errs) // 2] if errs else math.nan,
            "err_max": 100 * max(errs) if errs else math.nan}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                    help="an override of the suite, as ganbench run --set")
    ap.add_argument("--plan", action="append", metavar="CHECKOUT[:ORDER]",
                    help="a plan to train (repeatable); default now:guessed and now:model")
    ap.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    ap.add_argument("--child", metavar="JSON", help=argparse.SUPPRESS)
    ap.add_argument("--order", default="model", help=argparse.SUPPRESS)
    ap.add_argument("--save", metavar="JSON", help="where to keep the timelines")
    ap.add_argument("--load", metavar="JSON", help="print saved timelines, predicted anew")
    ap.add_argument("--keep", metavar="DIR", help="keep each plan's results in DIR/<n>-<plan> and "
                    "compare their summary.csv with the first plan's")
    args = ap.parse_args()
    if args.child:
        Path(args.child).write_text(json.dumps(child(args.suite, args.sets, args.order, args.workers,
                                                     args.keep)))
        return
    import torch
    from ganbench.harness.device import environment
    if args.load:
        saved = json.loads(Path(args.load).read_text())
        results = saved["results"]
        predict_again(results, saved["suite"], saved["sets"])
        print(f"{saved['header']}\n(saved timelines, {args.load}; predictions by this checkout's "
              "cost model)")
    else:
        plans = args.plan or ["now:guessed", "now:model"]
        header = (f"{args.suite} {' '.join('--set ' + s for s in args.sets)}; torch "
                  f"{torch.__version__}, {environment('cpu')['device_name']}, "
                  f"{len(os.sched_getaffinity(0))} cores; plans {', '.join(plans)}, one after another")
        print(header)
        keep = [Path(args.keep).resolve() / f"{i}-{Path(p.partition(':')[0]).name}"
                for i, p in enumerate(plans)] if args.keep else [None] * len(plans)
        results = [run_plan(p, args.suite, args.sets, args.workers, k) for p, k in zip(plans, keep)]
        save = Path(args.save or Path(tempfile.gettempdir()) / f"grouping_{Path(args.suite).stem}.json")
        save.write_text(json.dumps({"suite": args.suite, "sets": args.sets, "header": header,
                                    "results": results}))
    summaries = [report(r) for r in results]
    print(f"\n{'plan':28}{'groups':>7}{'wall s':>8}{'groups s':>9}{'bound s':>8}{'idle s':>7}"
          f"{'model |err| median':>19}{'max':>6}")
    for s in summaries:
        print(f"{s['plan'][:27]:28}{s['groups']:7}{s['wall']:8.0f}{s['span']:9.0f}{s['bound']:8.0f}"
              f"{s['idle']:7.0f}{s['err_median']:18.0f}%{s['err_max']:5.0f}%")
    if not args.load:
        print(f"timelines saved in {save}")
    if args.keep and not args.load:
        same_results(keep)


if __name__ == "__main__":
    main()
