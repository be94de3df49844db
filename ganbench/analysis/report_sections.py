"""The report's sections: per dataset the top screen (verdict board, one picture per
variant, the key metrics with confidence intervals), then its training curves and D
against D*, and last the full tables, folded and grouped."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..layout import SETTING_COLUMN, run_dir
from ..metrics import catalogue, diagnosis
from .diagnose import OUTCOMES, board
from .figures import curves_figure, discriminator_figure, key_metrics_figure, trajectories_figure
from .html import details, esc, figure, img_tag, table
from .tables import table_rows

#: how the board colours an outcome
TONE = {"converged": "good", "unconverged": "meh"}


def representative(g: pd.DataFrame) -> pd.Series:
    """The run that stands for a variant: among its ok runs (else all), the first seed with
    the most common diagnosis."""
    ok = g[g.status == "ok"]
    pool = ok if len(ok) else g
    common = pool["diagnosis"].fillna("").value_counts().index[0]
    return pool[pool["diagnosis"].fillna("") == common].iloc[0]


def declared_artifacts(d: Path) -> list[dict]:
    """The files a run declares in its metrics.json (``artifacts``), that exist."""
    try:
        meta = json.loads((d / "metrics.json").read_text())
    except (OSError, ValueError):
        return []
    return [a for a in meta.get("artifacts") or [] if (d / a["file"]).is_file()]


def board_html(runs: pd.DataFrame) -> str:
    """Variant × outcome, the runs (seeds) that show each; hover a cell for the evidence
    of one of them."""
    b = board(runs)
    outcomes = [o for o in OUTCOMES if o in b]
    head = ["variant", "runs"] + outcomes
    out = ["<div class='box'><table class='board'><tr>" +
           "".join(f"<th{' class=l' if j == 0 else ''}>{esc(h)}</th>" for j, h in enumerate(head)) +
           "</tr>"]
    for _, r in b.iterrows():
        g = runs[runs.variant == r.variant]
        cells = [f"<td class='l'>{esc(r.variant)}</td>", f"<td>{int(r.runs)}</td>"]
        for o in outcomes:
            n = int(r[o])
            if not n:
                cells.append("<td></td>")
                continue
            first = g[g["diagnosis"].map(lambda d: o in diagnosis.label_names(d))].iloc[0]
            ev = diagnosis.evidence_parts(first.get("evidence", "")).get(o, "")
            tip = f"{first.run_id}: {ev}" if ev else str(first.run_id)
            cells.append(f"<td class='{TONE.get(o, 'bad')}' title='{esc(tip)}'>{n}/{int(r.runs)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    return "".join(out)


def pictures(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> str:
    """One sample picture per variant (its representative run's samples.png), captioned
    with that run's diagnosis; a Dirac-GAN dataset shows its trajectories instead."""
    cells = []
    for var, g in runs.groupby("variant", sort=False):
        r = representative(g)
        d = run_dir(out, r.run_id)
        img = [a for a in declared_artifacts(d) if a["kind"] == "image" and a["file"] == "samples.png"]
        if img:
            cells.append(figure(img_tag((d / "samples.png").read_bytes(), f"{r.run_id} samples", 190),
                                f"{var}: {r['diagnosis']} (seed {r.seed})"))
    if cells:
        return "<div class='grid thumbs'>" + "".join(cells) + "</div>"
    traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
    return img_tag(traj, f"{ds} Dirac-GAN trajectories") if traj else ""


def top_screen(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> list[str]:
    """What a person reads first about a dataset: the verdict board beside the key metrics,
    then one picture per variant."""
    n_seeds = runs.groupby("variant").size()
    parts = [f"<h2>{esc(ds)}</h2>",
             f"<p>{len(runs)} runs, {runs.variant.nunique()} variants × "
             f"{'/'.join(map(str, sorted(set(n_seeds))))} seeds. Board: runs of each variant "
             "showing each diagnosis (hover a cell for its evidence; every run's evidence is in "
             "the tables at the end).</p>"]
    key = key_metrics_figure(ds, runs)
    parts.append("<div class='top'><div>" + board_html(runs) + "</div>" +
                 (f"<div>{img_tag(key, f'{ds} key metrics with 95% intervals')}</div>" if key else "") +
                 "</div>")
    parts.append(pictures(out, ds, runs, hist))
    return parts


def training_section(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> list[str]:
    """A dataset's training curves, D against D* and the other images its runs declare
    (e.g. the vanishing probe's curves), for each variant's representative run."""
    parts = [f"<h2>{esc(ds)}: training, D against D*</h2>"]
    fig = curves_figure(ds, runs, hist)
    if fig:
        parts.append(img_tag(fig, f"{ds} training curves"))
    shown_traj = not any((run_dir(out, r) / "samples.png").is_file() for r in runs.run_id)
    if not shown_traj:
        traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
        if traj:
            parts.append(img_tag(traj, f"{ds} Dirac-GAN trajectories"))
    cells = []
    for var, g in runs.groupby("variant", sort=False):
        r = representative(g)
        d = run_dir(out, r.run_id)
        imgs = []
        for a in declared_artifacts(d):
            if a["kind"] == "d_map":
                imgs.append(img_tag(discriminator_figure(d / a["file"], r.run_id),
                                    f"{r.run_id} {a['caption']}"))
            elif a["kind"] == "image" and a["file"] != "samples.png":
                imgs.append(img_tag((d / a["file"]).read_bytes(), f"{r.run_id} {a['caption']}"))
        if imgs:
            cells.append(figure("".join(imgs), f"{var} ({r.run_id}): {r['diagnosis']}"))
    if cells:
        parts.append("<div class='grid maps'>" + "".join(cells) + "</div>")
    return parts


def grouped_tables(table_: pd.DataFrame) -> list[tuple[str, list[str], list[list[str]]]]:
    """The aggregated table cut into one table per metric group (coverage, quality,
    dynamics, theory), each with the dataset, variant (setting) and run counts."""
    head, rows = table_rows(table_)
    lead = 3 + (SETTING_COLUMN in table_)
    out = []
    for group in catalogue.GROUPS:
        cols = [j for j in range(lead, len(head)) if catalogue.group_of(head[j]) == group]
        if cols:
            keep = list(range(lead)) + cols
            out.append((group, [head[j] for j in keep], [[r[j] for j in keep] for r in rows]))
    return out


def tables_section(summary: pd.DataFrame, pooled_table: pd.DataFrame, comparison: str) -> list[str]:
    """The full tables, folded: every run's diagnosis with its evidence, then mean ± std
    over seeds per metric group, then the comparison."""
    parts = ["<h2>Tables</h2>"]
    rows = [[str(r.run_id), str(r["diagnosis"]), str(r.get("evidence") or "")]
            for _, r in summary.iterrows()]
    parts.append(details(f"Diagnosis of every run ({len(rows)})",
                         table(["run", "diagnosis", "evidence"], rows,
                               classes=[["", "", "ev"]] * len(rows))))
    for group, head, body in grouped_tables(pooled_table):
        lead = 3 + (SETTING_COLUMN in pooled_table)
        title = ("Diagnosis per variant (runs with each)" if group == "diagnosis"
                 else f"{group.capitalize()} (mean ± std over seeds)")
        parts.append(details(title, table(head, body, left=lead - 1)))
    if comparison:
        parts.append(details("Comparison (95% bootstrap CI, rank, Mann-Whitney U)", comparison))
    return parts
