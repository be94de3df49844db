"""The live rows a training group hands out after each evaluation (for trackers that
show runs while they train): each evaluation once, in order, the first report whole,
and together exactly the rows of each run's history.csv; a resumed group's first report
holds the whole history so far again."""
import io
import math

import pandas as pd
import pytest
import yaml

from ganbench.config.suite import parse_suite
from ganbench.runs import training
from ganbench.runs.groups import pending_groups
from ganbench.runs.store import resume_point
from helpers.cli import TINY


def group(tmp_path, **defaults):
    raw = yaml.safe_load(TINY)
    raw["datasets"] = ["ring8"]
    raw["variants"] = {"ns": {"objective": "nonsaturating"}}
    raw["defaults"].update(log_every=5, **defaults)
    return pending_groups(tmp_path, parse_suite(raw).specs)[0]


def rows_of(history_csv: str) -> list[tuple[int, dict]]:
    h = pd.read_csv(io.StringIO(history_csv))
    cols = [c for c in h.columns if c != "step"]
    return [(int(r.step), {c: float(getattr(r, c)) for c in cols
                           if not math.isnan(float(getattr(r, c)))})
            for r in h.itertuples(index=False)]


def same_rows(live, history_csv) -> bool:
    """The same steps and columns, the values as history.csv writes them (float32)."""
    want = rows_of(history_csv)
    return [(s, sorted(r)) for s, r in live] == [(s, sorted(r)) for s, r in want] and all(
        r == pytest.approx(w, rel=1e-6) for (_, r), (_, w) in zip(live, want))


def test_each_evaluations_rows_once_and_together_the_history(tmp_path):
    g = group(tmp_path)
    got = []
    files = training.train_group(g, "cpu", live=lambda rows, whole: got.append((rows, whole)))
    assert [w for _, w in got] == [True, False, False]             # evaluations at 10, 20, 30
    for f in files:
        live = [row for rows, _ in got for row in rows[f.run_id]]
        assert [s for s, _ in live] == sorted({s for s, _ in live})   # in order, none twice
        assert same_rows(live, f.history_csv)


def test_a_resumed_groups_first_report_is_its_whole_history(tmp_path):
    g = group(tmp_path, checkpoint_every=10, steps=40)
    point = resume_point(tmp_path, g.specs, "cpu")
    reports = []

    def stop_at_20(rows, whole):
        reports.append((rows, whole))
        if max(s for s, _ in next(iter(rows.values()))) >= 20:
            raise KeyboardInterrupt             # killed after the checkpoint at step 20
    try:
        training.train_group(g, "cpu", resume=point, live=stop_at_20)
    except KeyboardInterrupt:
        pass
    again = []
    files = training.train_group(g, "cpu", resume=point,
                                 live=lambda rows, whole: again.append((rows, whole)))
    assert again[0][1] and min(s for s, _ in again[0][0][files[0].run_id]) <= 5
    live = [row for rows, _ in again for row in rows[files[0].run_id]]
    assert same_rows(live, files[0].history_csv)
