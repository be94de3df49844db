"""`ganbench report OUT`: one self-contained HTML page (images embedded) and a summary PNG.

From a results folder alone (no retraining): the table and the seed-statistics
comparison; per dataset the training curves (losses, grad_norm_g on a log scale,
modes captured, fd/fid) averaged over seeds per variant; per variant the generated
samples over the data, D's output over the plane beside the optimal D* (2D runs,
from each run's discriminator.npz) and every image its run declares (its metrics.json
``artifacts``: samples, the vanishing-gradient probe's curves, ...), and for Dirac-GAN
runs the trajectories in the (θ, ψ) plane. Which metrics are curves and which go in
the summary figure comes from the metric catalogue.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..layout import atomic_write, png_bytes, run_dir, write_text  # noqa: E402
from ..metrics import catalogue  # noqa: E402
from .compare import compare, html_tables, load_summaries, numeric_metrics  # noqa: E402
from .tables import aggregate, is_categorical, table_rows  # noqa: E402
STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:12px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}
img{max-width:100%;border:1px solid #eee}
.grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0;width:440px}
figcaption{font-size:12px;color:#444}"""


def img_tag(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode()}">')


def histories(out: Path, runs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """history.csv of each run that has one, by run id."""
    got = {}
    for rid in runs.run_id:
        f = run_dir(out, rid) / "history.csv"
        if f.is_file():
            got[rid] = pd.read_csv(f)
    return got


def curves_figure(ds: str, runs: pd.DataFrame, hist: dict) -> bytes | None:
    curves = [(m.name, m.curve, m.log) for m in catalogue.curves()]
    cols = [c for c in curves if any(c[0] in hist.get(r, {}) for r in runs.run_id)]
    if not cols:
        return None
    fig, axes = plt.subplots(1, len(cols), figsize=(3.3 * len(cols), 3.0), dpi=100, squeeze=False)
    for var, g in runs.groupby("variant", sort=False):
        frames = [hist[r] for r in g.run_id if r in hist]
        if not frames:
            continue
        for ax, (col, title, log) in zip(axes[0], cols):
            parts = [f.set_index("step")[col].dropna() for f in frames if col in f]
            if not parts:
                continue
            mean = pd.concat(parts, axis=1).mean(axis=1)
            if len(mean) > 400:           # smooth dense per-step curves for reading
                mean = mean.rolling(max(1, len(mean) // 200), min_periods=1).mean()
            ax.plot(mean.index, mean.to_numpy(), label=var, lw=1)
            ax.set_title(title, fontsize=9)
            if log:
                ax.set_yscale("log")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{ds}: training curves, mean over seeds", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def discriminator_figure(npz: Path, title: str) -> bytes:
    """D's output over the plane beside D* = pdata / (pdata + pg) (when known)."""
    m = np.load(npz)
    panels = [("D(x)", m["d"])] + ([("D*(x) = p/(p+q)", m["d_star"])] if "d_star" in m else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.1), dpi=100, squeeze=False)
    ext = [m["xs"][0], m["xs"][-1], m["ys"][0], m["ys"][-1]]
    prob = bool(m["probability"])
    for ax, (name, grid) in zip(axes[0], panels):
        im = ax.imshow(grid, origin="lower", extent=ext, cmap="RdBu_r",
                       vmin=0 if prob or name.startswith("D*") else None,
                       vmax=1 if prob or name.startswith("D*") else None)
        if "fake" in m:
            ax.scatter(m["fake"][:, 0], m["fake"][:, 1], s=1, c="k", alpha=0.3, linewidths=0)
        ax.set_title(name if prob or name.startswith("D*") else "D(x) (raw output)", fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def trajectories_figure(ds: str, runs: pd.DataFrame, hist: dict) -> bytes | None:
    runs = runs[[r in hist and {"theta", "psi"} <= set(hist[r].columns) for r in runs.run_id]]
    if runs.empty:
        return None
    n = len(runs)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.8 * cols, 2.8 * rows), dpi=100, squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (_, r) in zip(axes.flat, runs.iterrows()):
        h = hist[r.run_id]
        ax.plot(h.theta, h.psi, lw=0.7)
        ax.plot(h.theta.iloc[0], h.psi.iloc[0], "go", ms=3)
        ax.plot(0, 0, "r+", ms=8)
        verdict = r.get("verdict", "")
        ax.set_title(f"{r.variant}\n{verdict if isinstance(verdict, str) else ''}", fontsize=8)
        ax.set_xlabel("θ", fontsize=8)
        ax.set_ylabel("ψ", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{ds}: Dirac-GAN trajectories (start ●, equilibrium +)", fontsize=10)
    fig.tight_layout()
    return png_bytes(fig)


def summary_figure(summary: pd.DataFrame) -> bytes:
    """Per dataset, mean ± std over seeds of the main metrics, one bar per variant."""
    datasets = list(dict.fromkeys(summary.dataset))
    metrics = [m for m in catalogue.summary_metrics() if m in summary and summary[m].notna().any()
               and not is_categorical(summary[m])] or ["wall_s"]
    fig, axes = plt.subplots(len(datasets), len(metrics), squeeze=False, dpi=100,
                             figsize=(3.2 * len(metrics), 2.9 * len(datasets)))
    for i, ds in enumerate(datasets):
        d = summary[summary.dataset == ds]
        for j, m in enumerate(metrics):
            ax = axes[i][j]
            g = d.groupby("variant", sort=False)[m]
            mean, std = g.mean(), g.std()
            ax.bar(range(len(mean)), mean.to_numpy(), yerr=std.fillna(0).to_numpy(), capsize=2,
                   color="tab:blue", alpha=0.8)
            ax.set_xticks(range(len(mean)), mean.index, rotation=60, ha="right", fontsize=6)
            ax.set_title(f"{ds}: {m}", fontsize=8)
            ax.tick_params(axis="y", labelsize=6)
    fig.tight_layout()
    return png_bytes(fig)


def _table_html(table: pd.DataFrame) -> str:
    head, rows = table_rows(table)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows)
    return ("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
            + cells + "</table>")


def declared_artifacts(d: Path) -> list[dict]:
    """The files a run declares in its metrics.json (``artifacts``), that exist."""
    try:
        meta = json.loads((d / "metrics.json").read_text())
    except (OSError, ValueError):
        return []
    return [a for a in meta.get("artifacts") or [] if (d / a["file"]).is_file()]


def artifact_images(d: Path, rid: str) -> list[str]:
    """<img> tags of a run's declared images and D maps, in declaration order."""
    imgs = []
    for a in declared_artifacts(d):
        if a["kind"] == "image":
            imgs.append(img_tag((d / a["file"]).read_bytes(), f"{rid} {a['caption']}"))
        elif a["kind"] == "d_map":
            imgs.append(img_tag(discriminator_figure(d / a["file"], rid), f"{rid} {a['caption']}"))
    return imgs


def build_html(out: Path) -> tuple[str, bytes]:
    summary = load_summaries([out])
    hist = histories(out, summary[summary.status != "failed"])
    name = html.escape(out.resolve().name)
    counts = summary.status.value_counts().to_dict()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>ganbench report: {name}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>ganbench report: {name}</h1>",
             "<p>" + html.escape(", ".join(f"{v} {k}" for k, v in counts.items())) +
             f" runs, from <code>{html.escape(str(out))}</code>.</p>",
             "<h2>Table (mean ± std over seeds)</h2>", _table_html(aggregate(summary))]
    if summary.variant.nunique() > 1:
        ranked = [m for m in numeric_metrics(summary) if catalogue.direction(m)]
        cmp = compare(summary, metrics=ranked) if ranked else pd.DataFrame()
        if len(cmp):
            body = html_tables(cmp, "variant", cmp.attrs["reference"])
            parts += ["<h2>Comparison (95% bootstrap CI, rank, Mann-Whitney U vs "
                      f"{html.escape(cmp.attrs['reference'])})</h2>", body]
    for ds, runs in summary.groupby("dataset", sort=False):
        parts.append(f"<h2>{html.escape(str(ds))}</h2>")
        fig = curves_figure(ds, runs, hist)
        if fig:
            parts.append(img_tag(fig, f"{ds} training curves"))
        traj = trajectories_figure(ds, runs[runs.status == "ok"], hist)
        if traj:
            parts.append(img_tag(traj, f"{ds} Dirac-GAN trajectories"))
        cells = []
        for var, g in runs.groupby("variant", sort=False):
            ok = g[g.status == "ok"]
            if ok.empty:
                cells.append(f"<figure><figcaption>{html.escape(var)}: no run finished ok "
                             f"({html.escape(', '.join(g.status))})</figcaption></figure>")
                continue
            rid = ok.run_id.iloc[0]
            imgs = artifact_images(run_dir(out, rid), rid)
            if imgs:
                cells.append(f"<figure>{''.join(imgs)}<figcaption>{html.escape(var)} "
                             f"({html.escape(rid)})</figcaption></figure>")
        if cells:
            parts.append("<div class='grid'>" + "".join(cells) + "</div>")
    png = summary_figure(summary)
    parts += ["<h2>Summary figure</h2>", img_tag(png, "summary figure"), "</body></html>"]
    return "\n".join(parts), png


def write_report(out: Path, output: Path | None = None) -> tuple[Path, Path]:
    out = Path(out)
    page, png = build_html(out)
    html_path = Path(output) if output else out / "report.html"
    png_path = html_path.with_suffix(".png")
    write_text(html_path, page)
    atomic_write(png_path, lambda p: p.write_bytes(png))
    return html_path, png_path
