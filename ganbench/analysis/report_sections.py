"""The report's sections: per dataset the top screen (verdict board, the key metrics'
distributions across seeds, a sample picture per variant and outcome), then its
training curves and D against D*, and last the full tables, folded and grouped."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..layout import SETTING_COLUMN, run_dir
from ..layout.run_folder import RunFolder
from ..metrics import catalogue, diagnosis
from .curve_figures import loss_curves_figure, objectives, shared_curves_figure, variant_colours
from .diagnose import OUTCOMES, board
from .figures import discriminator_figure, key_metrics, key_metrics_figure, trajectories_figure
from .html import details, esc, figure, img_tag, table
from .sample_strips import strips_html
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


def outcome_runs(g: pd.DataFrame) -> list[tuple[str, pd.Series, int]]:
    """(outcome, the run that shows it, how many runs have it) for each outcome among a
    variant's runs, in the board's order. The run is the first seed with that outcome
    not already shown for an earlier one; an outcome whose runs are all shown already
    (a run both collapsed and oscillating) is named in that picture's caption."""
    labels = [diagnosis.label_names(d) for d in g["diagnosis"]]
    shown: set = set()
    out = []
    for o in OUTCOMES:
        carry = [i for i, labs in enumerate(labels) if o in labs]
        fresh = [i for i in carry if g.run_id.iloc[i] not in shown]
        if fresh:
            r = g.iloc[fresh[0]]
            shown.add(r.run_id)
            out.append((o, r, len(carry)))
    return out


def _number(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def key_numbers(r: pd.Series, metrics: list[str]) -> str:
    """'modes_captured 6/8, hq_fraction 0.33, fd 0.25': a run's key metrics, with the
    share of its samples that look like data (what tells collapsed from unlearned)."""
    parts = []
    for m in dict.fromkeys(metrics + [q for q, _ in diagnosis.QUALITY]):
        v = pd.to_numeric(pd.Series([r.get(m)]), errors="coerce").iloc[0]
        if pd.isna(v):
            continue
        total = pd.to_numeric(pd.Series([r.get("modes_total")]), errors="coerce").iloc[0]
        if m == "modes_captured" and pd.notna(total):
            parts.append(f"modes {int(v)}/{int(total)}")
        else:
            parts.append(f"{m} {_number(float(v))}")
    return ", ".join(parts)


def pictures(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> str:
    """Per variant, one sample picture (samples.png) for each outcome its runs have
    ("3 unconverged, 2 collapsed" shows one of each), captioned with the outcome, the
    seed, its diagnosis and key numbers; a Dirac-GAN dataset shows its trajectories."""
    metrics = key_metrics(runs)
    groups, any_img = [], False
    for var, g in runs.groupby("variant", sort=False):
        cells = []
        for o, r, k in outcome_runs(g):
            d = run_dir(out, r.run_id)
            img = [a for a in RunFolder(d).declared()
                   if a["kind"] == "image" and a["file"] == "samples.png"]
            said = f"{o} ({k}/{len(g)}) · seed {r.seed}"
            if str(r["diagnosis"]) != o:
                said += f": {r['diagnosis']}"
            nums = key_numbers(r, metrics)
            caption = said + (f"; {nums}" if nums else "")
            if img:
                any_img = True
                cells.append(figure(img_tag((d / "samples.png").read_bytes(),
                                            f"{r.run_id} samples ({o})", 190), caption))
            else:
                cells.append(figure(f"<div class='nopic'>no samples ({esc(r.status)})</div>", caption))
        groups.append(f"<div class='vgroup'><div class='vname'>{esc(var)}</div>"
                      f"<div class='grid thumbs'>{''.join(cells)}</div></div>")
    if any_img:
        return "<div class='vgroups'>" + "".join(groups) + "</div>"
    traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
    return img_tag(traj, f"{ds} Dirac-GAN trajectories") if traj else ""


def top_screen(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> list[str]:
    """What a person reads first about a dataset: the verdict board beside the key metrics'
    distributions across seeds, then a picture per variant and outcome."""
    n_seeds = runs.groupby("variant").size()
    parts = [f"<h2>{esc(ds)}</h2>",
             f"<p>{len(runs)} runs, {runs.variant.nunique()} variants × "
             f"{'/'.join(map(str, sorted(set(n_seeds))))} seeds. Board: runs of each variant "
             "showing each diagnosis (hover a cell for its evidence; every run's evidence is in "
             "the tables at the end).</p>"]
    key = key_metrics_figure(ds, runs, [out])
    parts.append("<div class='top'><div>" + board_html(runs) + "</div>" +
                 (f"<div>{img_tag(key, f'{ds} key metrics across seeds, 95% intervals')}</div>"
                  if key else "") +
                 "</div>")
    parts.append(pictures(out, ds, runs, hist))
    return parts


def training_section(out: Path, ds: str, runs: pd.DataFrame, hist: dict) -> list[str]:
    """A dataset's samples over training, its training curves, D against D* and the
    other images its runs declare (e.g. the vanishing probe's curves), for each
    variant's representative run."""
    parts = [f"<h2>{esc(ds)}: training, D against D*</h2>"]
    reps = [(var, representative(g)) for var, g in runs.groupby("variant", sort=False)]
    strips = strips_html([(str(var), run_dir(out, r.run_id), str(r.run_id), str(r["diagnosis"]),
                           RunFolder.of(out, r.run_id).declared()) for var, r in reps])
    if strips:
        parts.append(strips)
    colours = variant_colours(runs.variant)
    fig = shared_curves_figure(ds, runs, hist, colours)
    if fig:
        parts.append(img_tag(fig, f"{ds} training curves"))
    fig = loss_curves_figure(ds, runs, hist, objectives(out, runs), colours)
    if fig:
        parts.append("<p>The losses, one pair of panels per objective: each is in its own "
                     "objective's units, so no loss shares an axis with another objective's.</p>" +
                     img_tag(fig, f"{ds} training losses per objective"))
    shown_traj = not any((run_dir(out, r) / "samples.png").is_file() for r in runs.run_id)
    if not shown_traj:
        traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
        if traj:
            parts.append(img_tag(traj, f"{ds} Dirac-GAN trajectories"))
    cells = []
    for var, r in reps:
        d = run_dir(out, r.run_id)
        imgs = []
        for a in RunFolder(d).declared():
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
