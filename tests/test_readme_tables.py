"""benchmarks/readme_tables.py: every table it knows is in its page once; on a tiny suite
it runs the command, renders the page's columns and rows, writes the table and its
provenance line into the page (again: replaced, not added), records the wall time and
shows it in its dry run; sections, renamed columns and printed rows render."""
from pathlib import Path

import pytest
import torch

from helpers import readme_tables
from helpers.cli import TINY

ROOT = Path(__file__).resolve().parents[1]
rt = readme_tables.load()


def test_every_table_is_in_its_page_once():
    assert len({t.name for t in rt.TABLES}) == len(rt.TABLES)
    for t in rt.TABLES:
        assert (ROOT / t.page).read_text().count(t.header + "\n") == 1, (t.name, t.page)
        for cmd in t.commands:
            if cmd[:2] == ["ganbench", "run"]:
                assert (ROOT / cmd[2]).is_file(), (t.name, cmd[2])


PAGE = """# A page

Intro.

| dataset | variant | ok/N | fd |
|---|---|---|---|
| old | row | 0/0 | 1 |

After the table.
"""


def test_a_tiny_table_is_regenerated_written_and_recorded(tmp_path):
    root = tmp_path / "repo"
    (root / "suites").mkdir(parents=True)
    (root / "suites" / "tiny.yaml").write_text(TINY)
    (root / "page.md").write_text(PAGE)
    table = rt.Table("tiny", "page.md", "| dataset | variant | ok/N | fd |",
                     [rt.run_suite("suites/tiny.yaml", "tiny")], "tiny/table.md",
                     rows=lambda r: r["dataset"] == "ring8", documented="1 s")
    work, record = tmp_path / "work", tmp_path / "record.json"
    assert "never run by this script; the page says 1 s" in rt.plan([table], record)
    out = rt.regenerate([table], work, record, root=root, write=True, say=lambda m: None)
    page = (root / "page.md").read_text()
    (_, head, rows), = rt.md_tables((work / "tiny" / "table.md").read_text())
    source = {tuple(r[:2]): r for r in rows}
    fd = head.index("fd")
    want = [f"| ring8 | {v} | 2/2 | {source[('ring8', v)][fd]} |" for v in ("nonsaturating", "wgan_gp")]
    assert page.startswith("# A page\n\nIntro.\n\n| dataset | variant | ok/N | fd |\n|---|---|---|---|\n"
                           + "\n".join(want) + "\n\n<sub>`python benchmarks/readme_tables.py --only tiny` on ")
    line = page.splitlines()[9]
    assert "(ganbench run suites/tiny.yaml; " in line and f"torch {torch.__version__}" in line
    assert "per run" in line and "cores" in line and page.endswith("</sub>\n\nAfter the table.\n")
    assert out["tiny"]["same_as_page"] is False and out["tiny"]["commands"][0]["wall_s"] > 0
    assert (work / "tables" / "tiny.md").read_text() == "\n".join(page.splitlines()[4:10]) + "\n"
    # again: the table and its line are replaced, not added; now it equals the page's
    again = rt.regenerate([table], work, record, root=root, write=True, resume=True, say=lambda m: None)
    page2 = (root / "page.md").read_text()
    assert page2.count("<sub>") == 1 and page2.count("| dataset |") == 1 and "finished runs reused" in page2
    assert again["tiny"]["same_as_page"] is True
    assert again["tiny"]["commands"][0] == out["tiny"]["commands"][0]      # the full run's time kept
    assert "last: " in rt.plan([table], record) and "never run" not in rt.plan([table], record)


def test_sections_renamed_columns_and_printed_rows_render():
    compare = ("### ring8\n\n| metric | variant | n | rank |\n|---|---|---|---|\n| m (higher) | a | 5 | 1 |\n"
               "|  | b | 4 | 2 |\n\n### grid25\n\n| metric | variant | n | rank |\n|---|---|---|---|\n"
               "| m (higher) | a | 5 | 2 |\n")
    t = rt.Table("c", "p", "| variant | n |", [], "stdout", section="grid25")
    assert rt.render(t, compare) == "| variant | n |\n|---|---|\n| a | 5 |\n"
    t = rt.Table("c", "p", "| dataset | variant | place |", [], "stdout", section="*", rename={"place": "rank"})
    assert rt.render(t, compare).splitlines()[2:] == ["| ring8 | a | 1 |", "| ring8 | b | 2 |",
                                                      "| grid25 | a | 2 |"]
    with pytest.raises(ValueError, match="no column"):
        rt.render(rt.Table("c", "p", "| variant | fid |", [], "stdout", section="ring8"), compare)
    printed = ("digits at 32×32: ...\nreference                          seed 0: std 0.320 fid   168.0 "
               "classes 10 rkl 0.050  seed 1: std 0.312 fid   200.6 classes 10 rkl 0.060  (600 s)\n")
    t = rt.Table("d", "p", "| run | seed 0: std / fid / classes | seed 1: std / fid / classes |", [],
                 "stdout", labels={"ganbench_d_none": "before", "reference": "the reference"})
    assert rt.render(t, printed).splitlines()[2] == "| the reference | 0.320 / 168.0 / 10 | 0.312 / 200.6 / 10 |"
