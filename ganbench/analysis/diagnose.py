"""`ganbench diagnose RUN_DIR|OUT`: what each run did, in a few lines, with the evidence.

Reads the ``diagnosis`` and ``evidence`` columns (ganbench.metrics.diagnosis) of a
results folder's summary.csv, or of one run folder's metrics.json; a folder written
before those columns existed is diagnosed from its runs' metrics.json and history.csv.
Per variant (default) it counts the seeds that carry each label and quotes the
evidence of one seed per label; ``--runs`` gives every run its own lines.

Exit codes, for scripts: 0 when no run carries a failure label (``--fail-on``, by
default diverged, unlearned, collapsed, vanishing, oscillating) and none failed; 1 otherwise;
2 on bad input.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..layout.run_folder import RECORD, RunFolder
from ..layout.summaries import load_summaries
from ..metrics import diagnosis

#: what a run can be, in the order the board shows them
OUTCOMES = diagnosis.LABELS + (diagnosis.NO_LABEL, "failed")


def _record_columns(folder: RunFolder) -> dict | None:
    """diagnosis and evidence of one run folder, from its metrics.json (and history.csv when
    the record predates them); None without a readable record."""
    meta = folder.record()
    if meta is None:
        return None
    m = meta.get("metrics") or {}
    if m.get("diagnosis"):
        return {"diagnosis": m["diagnosis"], "evidence": m.get("evidence") or ""}
    return diagnosis.columns(m, meta.get("status", "ok"), folder.history(), meta.get("diverged_at"))


def load(path: Path) -> pd.DataFrame:
    """One row per run (run_id, dataset, variant, seed, status, diagnosis, evidence) of a
    results folder or a run folder."""
    path = Path(path)
    if (path / "summary.csv").is_file():
        s = load_summaries([path])
    elif RunFolder(path).has(RECORD):
        meta = RunFolder(path).record()
        if meta is None:
            raise InputError(f"{path / RECORD}: not readable JSON; run the suite "
                             "again to rewrite it.")
        s = pd.DataFrame([{k: meta.get(k) for k in ("run_id", "dataset", "variant", "seed",
                                                   "status")} | (meta.get("metrics") or {})])
        s.attrs["run_dir"] = str(path)
    else:
        raise InputError(f"{path}: neither a results folder (no summary.csv) nor a run folder "
                         "(no metrics.json); give a folder written by 'ganbench run' or "
                         "ganbench.Monitor.")
    if "diagnosis" not in s or s["diagnosis"].isna().any():
        s = s.copy()
        for c in ("diagnosis", "evidence"):
            s[c] = s[c].astype(object) if c in s else None
        for i, r in s.iterrows():
            if isinstance(r.get("diagnosis"), str) and r["diagnosis"]:
                continue
            folder = RunFolder(Path(s.attrs["run_dir"])) if "run_dir" in s.attrs else \
                RunFolder.of(path, r.run_id)
            got = _record_columns(folder)
            if got is None:                   # no run folder: from the summary row alone
                row = {k: v for k, v in r.items() if not (isinstance(v, float) and v != v)}
                got = diagnosis.columns(row, str(r.status))
            s.at[i, "diagnosis"], s.at[i, "evidence"] = got["diagnosis"], got["evidence"]
    s["evidence"] = s["evidence"].fillna("")
    return s


def board(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and variant: the runs, and for each outcome how many runs show it
    (columns in OUTCOMES order, only those that occur)."""
    rows = []
    for (ds, var), g in runs.groupby(["dataset", "variant"], sort=False):
        row = {"dataset": ds, "variant": var, "runs": len(g)}
        for diag in g["diagnosis"]:
            for lab in diagnosis.label_names(diag):
                row[lab] = row.get(lab, 0) + 1
        rows.append(row)
    df = pd.DataFrame(rows)
    present = [o for o in OUTCOMES if o in df]
    return df.reindex(columns=["dataset", "variant", "runs"] + present).fillna(0) \
        .astype({o: int for o in present})


def failing(runs: pd.DataFrame, fail_on=diagnosis.FAILURES) -> pd.DataFrame:
    """The runs that carry a label of ``fail_on``, or failed."""
    bad = runs["diagnosis"].map(lambda d: diagnosis.is_failure(d, tuple(fail_on) + ("failed",)))
    return runs[bad]


def parse_fail_on(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [n for n in names if n not in OUTCOMES]
    if unknown:
        raise InputError(f"--fail-on {text}: unknown label {', '.join(unknown)}; labels: "
                         f"{', '.join(OUTCOMES)}.")
    return names


def per_variant_text(runs: pd.DataFrame) -> str:
    """Per dataset/variant: the labels with how many runs carry each, and the evidence of
    the first run that carries it."""
    lines = []
    for (ds, var), g in runs.groupby(["dataset", "variant"], sort=False):
        n = len(g)
        counts: dict[str, list] = {}
        for _, r in g.iterrows():
            for lab in diagnosis.label_names(r["diagnosis"]):
                counts.setdefault(lab, []).append(r)
        order = [o for o in OUTCOMES if o in counts]
        lines.append(f"{ds} / {var} ({n} run{'s' if n != 1 else ''}): " +
                     ", ".join(f"{lab} {len(counts[lab])}/{n}" for lab in order))
        for lab in order:
            r = counts[lab][0]
            ev = diagnosis.evidence_parts(r["evidence"]).get(lab)
            if ev:
                lines.append(f"  {lab} ({_seed_name(r)}): {ev}")
    return "\n".join(lines) + "\n"


def _seed_name(r) -> str:
    seed = r.get("seed")
    try:
        return f"seed {int(seed)}"
    except (TypeError, ValueError):
        return str(r.get("run_id"))


def per_run_text(runs: pd.DataFrame) -> str:
    lines = []
    for _, r in runs.iterrows():
        lines.append(f"{r.run_id}: {r['diagnosis']}")
        lines += [f"  {lab}: {ev}" for lab, ev in diagnosis.evidence_parts(r["evidence"]).items() if ev]
    return "\n".join(lines) + "\n"
