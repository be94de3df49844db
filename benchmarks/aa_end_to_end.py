"""Real A/A runs of seeds on demand, end to end: `ganbench run --until-decided` on a
suite whose two variants are one variant under two names (the twin draws other seeds,
``seed_offset``), each time on a fresh range of seeds. None may decide a difference.

    python benchmarks/aa_end_to_end.py --runs 4 --first-seed 20000 --out /tmp/aa

The suite is ``--suite`` (default suites/ci.yaml) cut to ``--variant`` (default
nonsaturating) and ``<variant>_twin`` with ``seed_offset: --offset`` (default 1000);
run k trains seeds ``first + k * 1000`` on (as many as the suite's seeds, then looks
of as many, up to 4x). Per run it prints the wall time, the runs trained, the looks,
the decisions (any better or worse is a false decision), the smallest p against its
look's level, and whether ``ganbench compare`` on the folder replays the same
decisions (its output names a replay that differs).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def aa_suite(suite: Path, variant: str, offset: int) -> dict:
    raw = yaml.safe_load(suite.read_text())
    v = raw["variants"][variant]
    return {**raw, "name": f"{raw['name']}_aa",
            "variants": {variant: v, f"{variant}_twin": {**v, "seed_offset": offset}}}


def one(suite_file: Path, seeds: list[int], out: Path) -> dict:
    cmd = [sys.executable, "-m", "ganbench.cli", "run", str(suite_file), "--out", str(out),
           "--seeds", ",".join(map(str, seeds)), "--until-decided", "--no-progress"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"aa_end_to_end: {' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
    doc = json.loads((out / "decisions.json").read_text())
    comps = doc["comparisons"]
    decided = [c for c in comps if c["decision"] in ("better", "worse")]
    smallest = min((c for c in comps if c["p"] is not None), key=lambda c: c["p"] / c["level"],
                   default=None)
    compare = subprocess.run([sys.executable, "-m", "ganbench.cli", "compare", str(out)],
                             capture_output=True, text=True, cwd=ROOT)
    replays = "differ" not in (compare.stdout + compare.stderr)
    return {"wall": wall, "runs": sum(1 for _ in (out / "runs").iterdir()),
            "looks": len(doc["looks"]), "comparisons": len(comps), "decided": len(decided),
            "seeds": doc["seeds"], "smallest": smallest, "replays": replays,
            "decided_rows": decided}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "suites" / "ci.yaml")
    ap.add_argument("--variant", default="nonsaturating")
    ap.add_argument("--offset", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--first-seed", type=int, default=20000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/aa_end_to_end"))
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    suite = aa_suite(a.suite, a.variant, a.offset)
    suite_file = a.out / "aa.yaml"
    suite_file.write_text(yaml.safe_dump(suite, sort_keys=False))
    n = suite["seeds"] if isinstance(suite["seeds"], int) else len(suite["seeds"])
    false = 0
    for k in range(a.runs):
        seeds = list(range(a.first_seed + 1000 * k, a.first_seed + 1000 * k + n))
        r = one(suite_file, seeds, a.out / f"run{k}")
        false += bool(r["decided"])
        s = r["smallest"]
        low = (f"smallest p {s['p']:.3g} ({s['metric']}) against its look's level "
               f"{s['level']:.2g}") if s else "no p"
        print(f"A/A run {k}: seeds {seeds[0]}..{seeds[-1]}: {r['wall']:.1f} s, {r['runs']} runs "
              f"in {r['looks']} looks, seeds {r['seeds']}; decided {r['decided']} of "
              f"{r['comparisons']} comparisons; {low}; compare replays the same: "
              f"{'yes' if r['replays'] else 'NO'}", flush=True)
        for c in r["decided_rows"]:
            print(f"  decided: {c['dataset']} {c['metric']} {c['variant']}: {c['decision']} "
                  f"p {c['p']:.3g} at level {c['level']:.2g}")
    print(f"A/A runs with a false decision: {false} of {a.runs}")


if __name__ == "__main__":
    main()
