"""`ganbench report OUT`: one self-contained HTML page (images embedded) and a summary PNG.

From a results folder alone (no retraining). The page leads with what a person reads
first, per dataset: a verdict board (variant × diagnosis, runs counted: what each run
did, ganbench.metrics.diagnosis), the key metrics (the catalogue's summary metrics) as
small charts of their distribution across seeds (every seed a dot coloured by its
diagnosis, failed and diverged seeds marked, each variant's mean with its 95% bootstrap
interval), and per variant one sample picture for each outcome its runs have (Dirac-GAN
runs: their trajectories in the (θ, ψ) plane). Then, per dataset, the training curves
averaged over seeds (the losses one axis per objective), D's output
over the plane beside the optimal D* (2D runs) and the other images runs declare (the
vanishing probe's curves, ...), and for a swept suite the Sensitivity section
(ganbench.analysis.sweep_figures). Last, folded, the full tables: every run's
diagnosis with its evidence, mean ± std over seeds grouped as coverage, quality,
dynamics and theory, and the comparison. Nothing on the page is wider than the page.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..layout import atomic_write, write_text
from ..metrics import catalogue
from .against_published import published_html
from .compare import compare, html_tables, numeric_metrics
from .diagnose import load as load_diagnosed
from .curve_figures import histories
from .figures import summary_figure
from .html import STYLE, details, esc, img_tag
from .report_sections import tables_section, top_screen, training_section
from .sensitivity import has_sweep, sensitivity, without_sweep
from .sweep_figures import sensitivity_html
from .tables import aggregate


def check_results_folder(out: Path) -> None:
    """A report is of a results folder (its summary.csv): anything else is bad input."""
    if (out / "summary.csv").is_file():
        return
    if (out / "metrics.json").is_file():
        raise InputError(f"{out}: one run's folder; a report covers a results folder: give the "
                         f"folder that holds summary.csv ({out.parent.parent}?), or see this "
                         f"run's diagnosis with 'ganbench diagnose {out}'.")
    what = "no such folder" if not out.exists() else "no summary.csv here"
    raise InputError(f"{out}: not a results folder ({what}); give a folder written by "
                     "'ganbench run' (e.g. results/mog).")


def comparison_html(pooled: pd.DataFrame, outs=()) -> str:
    if pooled.variant.nunique() < 2:
        return ""
    ranked = [m for m in numeric_metrics(pooled) if catalogue.direction(m)]
    cmp = compare(pooled, metrics=ranked, outs=outs) if ranked else pd.DataFrame()
    if not len(cmp):
        return ""
    return (f"<p>Against {esc(cmp.attrs['reference'])}.</p>" +
            html_tables(cmp, "variant", cmp.attrs["reference"]).replace("<table>", "<div class='box'><table>")
            .replace("</table>", "</table></div>"))


def build_html(out: Path) -> tuple[str, bytes]:
    summary = load_diagnosed(out)
    hist = histories(out, summary[summary.status != "failed"])
    name = esc(out.resolve().name)
    counts = summary.status.value_counts().to_dict()
    swept = has_sweep(summary)
    pooled = without_sweep(summary) if swept else summary    # swept fields are no metrics
    datasets = list(dict.fromkeys(summary.dataset))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' "
             f"content='width=device-width'><title>ganbench report: {name}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>ganbench report: {name}</h1>",
             "<p>" + esc(", ".join(f"{v} {k}" for k, v in counts.items())) +
             f" runs from <code>{esc(out)}</code>. Per dataset: what each variant did, the key "
             "metrics across seeds, a picture of each outcome; then training curves and D "
             "against D*; the full tables last.</p>"]
    for ds in datasets:
        parts += top_screen(out, str(ds), summary[summary.dataset == ds], hist)
    sens = sensitivity(summary, outs=[out]) if swept else pd.DataFrame()
    published = "\n".join(published_html(out, pooled))   # the papers the suite names
    if published:
        parts.append(published.replace("<table>", "<div class='box'><table>")
                     .replace("</table>", "</table></div>"))
    for ds in datasets:
        runs = summary[summary.dataset == ds]
        parts += training_section(out, str(ds), runs, hist)
        if swept:
            parts += sensitivity_html(str(ds), runs, sens, [out])
    if swept:
        parts.append("<p>A hyperparameter sweep: the tables and the comparison pool every setting "
                     "of a variant; see each dataset's Sensitivity section.</p>")
    parts += tables_section(summary, aggregate(pooled, [out]), comparison_html(pooled, [out]))
    png = summary_figure(summary, [out])
    parts += [details("Summary figure (report.png)", img_tag(png, "summary figure")),
              "</body></html>"]
    return "\n".join(parts), png


def write_report(out: Path, output: Path | None = None) -> tuple[Path, Path]:
    out = Path(out)
    check_results_folder(out)
    page, png = build_html(out)
    html_path = Path(output) if output else out / "report.html"
    png_path = html_path.with_suffix(".png")
    write_text(html_path, page)
    atomic_write(png_path, lambda p: p.write_bytes(png))
    return html_path, png_path
