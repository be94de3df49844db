"""The README and the docs/ pages say what the code does: their examples run, their
generated tables are the code's declarations, every table of results is made by a
script and prose quoting one of its cells says what the table says, their links and
the package map hold, and the README's test command (the one CI runs) runs every test
but the slow ones.

    python tests/test_readme.py --write    # rewrite the generated tables from the code
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from helpers import readme_tables

ROOT = Path(__file__).resolve().parents[1]
README = "README.md"
PAGES = [README] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))
#: pages the README or docs link to that other branches of issues 22 and 25 write
#: (docs/statistics.md: compare and check; the label for a generator that never
#: learned); until they are merged their links are not checked
PENDING = {"docs/statistics.md", "docs/diagnosis_never_learned.md"}
README_MAX_LINES = 350


def text(page: str) -> str:
    return (ROOT / page).read_text()


def blocks(lang: str) -> list[str]:
    """Every ```lang code block of the README and the docs pages, page by page."""
    return [b for page in PAGES for b in re.findall(rf"```{lang}\n(.*?)```", text(page), re.S)]


# --- generated tables -----------------------------------------------------------------
def table_starting(page_text: str, header: str) -> str:
    """The markdown table whose first line is ``header`` (through its last row)."""
    start = page_text.index(header + "\n")
    end = page_text.find("\n\n", start)
    return page_text[start:] if end < 0 else page_text[start:end + 1]


#: summary columns the README's table describes by hand (not metrics of the catalogue)
HAND_COLUMNS = ("status", "wall_s")


def column_table(current: str) -> str:
    """The column table: its header, the hand-written rows as they are, then a row per
    declared column, generated from the metric catalogue."""
    from ganbench.metrics import catalogue
    lines = current.splitlines(keepends=True)
    hand = [ln for ln in lines[2:] if any(ln.startswith(f"| `{c}` |") for c in HAND_COLUMNS)]
    return "".join(lines[:2] + hand) + catalogue.markdown_table()


def threshold_table(current: str) -> str:
    from ganbench.metrics import diagnosis
    return diagnosis.thresholds_markdown()


#: page -> (the table's header line, what the table must be)
GENERATED = {
    "docs/guide.md": ("| column | meaning |", column_table),
    "docs/diagnosis.md": ("| label | threshold | value | rule |", threshold_table),
}


def test_generated_tables_are_the_codes_declarations():
    """Every summary column's row is generated from its declaration in the metric
    catalogue (and no row names a metric that is not declared); the diagnosis thresholds
    table is generated from ``ganbench.metrics.diagnosis.THRESHOLDS``."""
    for page, (header, expected) in GENERATED.items():
        current = table_starting(text(page), header)
        assert current == expected(current), (
            f"{page}: the table under {header!r} differs from the code; "
            "`python tests/test_readme.py --write` rewrites it")


def test_the_column_table_has_a_row_per_summary_column():
    from ganbench.metrics import catalogue
    table = table_starting(text("docs/guide.md"), "| column | meaning |")
    rows = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    declared = {m.name.replace("{c}", "<c>") for m in catalogue.metrics() if m.column}
    assert set(rows) - set(HAND_COLUMNS) == declared and set(HAND_COLUMNS) <= set(rows)


def write_generated() -> None:
    for page, (header, expected) in GENERATED.items():
        t = text(page)
        current = table_starting(t, header)
        (ROOT / page).write_text(t.replace(current, expected(current), 1))
        print(f"{page}: {header}")


# --- numbers in the pages: each made by a script ----------------------------------------
#: benchmarks/readme_tables.py's tables that `ganbench run` made before that script
#: existed, so no provenance line follows them yet; ``python benchmarks/readme_tables.py
#: --only NAME --write`` remakes one with its line, and then it leaves this list (the
#: test says so). They wait for one regeneration at the end of a session: stacking
#: across datasets moves these runs by float rounding (seed-sized, not a regression).
AWAITING = {
    "mog_converged": "made by ganbench run before readme_tables.py (25 min 37 s)",
    "sensitivity": "made by ganbench run and sensitivity before readme_tables.py (11 min 44 s)",
    "pacgan_ring_cpu": "made by ganbench run and compare before readme_tables.py (28 min 37 s)",
    "digits": "made by ganbench run before readme_tables.py (18 min 52 s)",
    "stacked_digits": "made before issue 14 and before every seed counted (docs/images.md)",
    "dcgan_reference": "benchmarks/dcgan_reference.py's rows before readme_tables.py (about 20 min)",
    "dirac": "made by ganbench run before readme_tables.py (1 min 43 s)",
}

#: every other table of the pages, and what makes its numbers (none of them is a table
#: of a suite's results: those are readme_tables.py's)
OTHER_TABLES = {
    ("README.md", "| condition | gate failed (committed baseline) | over rotated baselines |"):
        "benchmarks/gate_operating.py prints it (its output: benchmarks/gate_operating.md)",
    ("docs/statistics.md", "| condition | variants | gate failed, vs the committed baseline | gate "
     "failed, vs each unchanged block as baseline | rows that fired (vs committed) |"):
        "benchmarks/gate_operating.py prints it (its output: benchmarks/gate_operating.md)",
    ("docs/statistics.md", "| metric | better | key metric on | loss units | worst (a seed without "
     "a value) | only some variants |"):
        "the metric catalogue's declarations (tests/analysis/test_seeds.py)",
    ("docs/statistics.md", "| noise_margin | false alarms | of which CANNOT TEST alone | power, "
     "worse by 1 / 2 seed spreads: modes_captured, hq_fraction, reverse_kl, fd |"):
        "benchmarks/noise_margin.py prints it",
    ("docs/devices.md", "| suite | groups | kernels/step | GFLOP/step | training on one GPU | "
     "evaluations (host work, timed on this CPU) | measured on the 2-core CPU |"):
        "benchmarks/gpu_estimate.py prints it; the last column quotes the suites' tables",
    ("docs/suites.md", "| suite | what it trains | wall time here | results |"):
        "the suites' wall times, as the sections it links to measured them",
    ("docs/guide.md", "| command | what it does |"): "no measured numbers",
    ("docs/guide.md", "| option | meaning |"): "no measured numbers",
    ("docs/guide.md", "| `--log` | where | extra |"): "no measured numbers",
    ("docs/guide.md", "| how | round 1 | round 2 | a group (nonsaturating ×3, wgan_gp ×3) |"):
        "measured once by hand, as the paragraph above it says (no script remakes it)",
    ("docs/diagnosis_never_learned.md", "| samples | captured | `modes_effective` | `hq_fraction` "
     "| label |"): "the calibration cases of tests/metrics/test_diagnosis.py",
    ("docs/diagnosis_never_learned.md", "| images (2,500; 32×32) | classes found | "
     "`modes_effective` | `precision` | `fid` | label |"):
        "benchmarks/unlearned_calibration.py prints it",
    ("docs/diagnosis_never_learned.md", "| variant | `fid` | classes | `modes_effective` | "
     "`precision` | diagnosis |"): "benchmarks/unlearned_calibration.py --runs prints it",
    ("docs/diagnosis_never_learned.md", "| label | threshold | value | rule |"):
        "a design note's copy of docs/diagnosis.md's generated table",
}


def page_tables(page_text: str) -> list[tuple[int, str, str]]:
    """(line, header, the line after the blank one that follows it) of each markdown table
    of a page, code blocks left out."""
    lines, out, in_code = page_text.splitlines(), [], False
    for i, line in enumerate(lines):
        in_code ^= line.startswith("```")
        if not in_code and line.startswith("|") and i + 1 < len(lines) \
                and re.match(r"\|\s*:?-", lines[i + 1]) and not lines[i - 1].startswith("|"):
            end = next((j for j in range(i, len(lines)) if not lines[j].startswith("|")), len(lines))
            out.append((i + 1, line, lines[end + 1] if end + 1 < len(lines) else ""))
    return out


def test_every_table_of_results_is_made_by_a_script():
    """A table of a page is a results table of benchmarks/readme_tables.py with its
    provenance line (the command, date, torch and CPU that made it), a table generated
    from the code's declarations, or one of OTHER_TABLES, each named with what makes it:
    a new hand-typed table of numbers fails here."""
    rt = readme_tables.load()
    made = {t.header: t for t in rt.TABLES}
    generated = {(page, header) for page, (header, _) in GENERATED.items()}
    bad = []
    for page in PAGES:
        for line, header, after in page_tables(text(page)):
            if header in made:
                t = made[header]
                lined = after.startswith(rt.provenance_prefix(t.name))
                if not lined and t.name not in AWAITING:
                    bad.append(f"{page}:{line}: {t.name} has no provenance line; "
                               f"`python benchmarks/readme_tables.py --only {t.name} --write`")
                elif lined and t.name in AWAITING:
                    bad.append(f"{page}:{line}: {t.name} was regenerated: drop it from AWAITING")
            elif (page, header) not in generated | set(OTHER_TABLES):
                bad.append(f"{page}:{line}: a table no script makes ({header[:60]}...); make it "
                           "with benchmarks/readme_tables.py, or name what makes it in OTHER_TABLES")
    assert not bad, "\n".join(bad)


#: a quoted "mean ± std", and a quote pinned to the cell it quotes:
#: ``7.4 ± 1.34<!-- cell flagship ring8/minimax modes_captured -->`` (the table's name in
#: benchmarks/readme_tables.py, the row's first cells, the column)
NUMBER = r"-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?"
QUOTE = re.compile(rf"(?<![\w.])({NUMBER}) ± ({NUMBER})(?![\w.])")
PIN = re.compile(rf"(?<![\w.])({NUMBER}(?: ± {NUMBER})?) ?<!-- cell (\S+) (\S+) (.+?) -->")
#: a quote of numbers no table of the pages holds, saying where they are from
ELSEWHERE = "<!-- not in a table: "


def as_quoted(quote: str, cell: str) -> bool:
    """Whether ``cell`` says ``quote``, to the quote's precision (``5 ± 4.1`` quotes
    ``5 ± 4.12``, ``18`` quotes ``17.9``)."""
    qs, cs = quote.split(" ± "), cell.replace(",", "").split(" ± ")
    if len(qs) > len(cs):
        return False
    for q, c in zip(qs, cs):
        digits = len(re.sub(r"e.*|[-.,]", "", q).lstrip("0")) or 1
        try:
            if f"{float(c):.{digits}g}" != f"{float(q.replace(',', '')):.{digits}g}":
                return False
        except ValueError:
            return False
    return True


def page_results() -> dict[str, list[list[str]]]:
    """Each readme_tables table's rows as its page has them (header first), by name."""
    rt = readme_tables.load()
    out = {}
    for t in rt.TABLES:
        page = text(t.page)
        (_, head, rows), = rt.md_tables(page[page.index(t.header + "\n"):].split("\n\n")[0])
        out[t.name] = [head] + rows
    return out


def prose(page_text: str) -> str:
    """A page's text without code blocks and tables, each paragraph on one line."""
    kept = re.sub(r"```.*?```", "", page_text, flags=re.S)
    kept = "\n".join(ln for ln in kept.splitlines() if not ln.startswith("|"))
    return re.sub(r"(?<!\n)\n(?!\n)", " ", kept)


def test_a_quote_matches_a_cell_to_its_own_precision():
    assert as_quoted("5 ± 4.1", "5 ± 4.12") and as_quoted("18", "17.9") and as_quoted("0.34", "0.341")
    assert as_quoted("2.5e-05", "2.48e-05 ± 4.01e-06") and as_quoted("978", "978 ± 6.81")
    assert not as_quoted("4.6 ± 4.2", "5 ± 4.12") and not as_quoted("7.6 ± 0.9", "7.4 ± 1.34")
    assert not as_quoted("5 ± 4.1", "5") and not as_quoted("18", "n/a")
    (pinned,) = PIN.finditer("so 2.75<!-- cell sensitivity ring8/minimax E[best of 1] --> modes")
    assert pinned.groups() == ("2.75", "sensitivity", "ring8/minimax", "E[best of 1]")


def test_prose_quotes_of_a_table_say_what_the_table_says():
    """A number pinned to a cell (PIN) is that cell's, to its precision; a "mean ± std"
    in prose is a cell of a results table of the pages, or says where else it is from
    (ELSEWHERE). A table regenerated with other numbers fails here until its prose
    follows it."""
    tables, bad = page_results(), []
    for page in PAGES:
        body = prose(text(page))
        for m in PIN.finditer(body):
            quote, name, row, column = m.groups()
            rows = tables.get(name)
            head = rows[0] if rows else []
            hit = [r for r in rows[1:] if r[:len(row.split("/"))] == row.split("/")] if rows else []
            if not hit or column not in head:
                bad.append(f"{page}: {m.group(0)}: no such cell")
            elif not as_quoted(quote, hit[0][head.index(column)]):
                bad.append(f"{page}: {quote} quotes {name} {row} {column}, which is "
                           f"{hit[0][head.index(column)]}")
        cells = [c for rows in tables.values() for r in rows[1:] for c in r if " ± " in c]
        unpinned = PIN.sub("", body)
        for m in QUOTE.finditer(unpinned):
            elsewhere = unpinned[m.end():].lstrip().startswith(ELSEWHERE)
            if not elsewhere and not any(as_quoted(m.group(0), c) for c in cells):
                bad.append(f"{page}: {m.group(0)} is in no results table; pin it to its cell "
                           f"or say where it is from ({ELSEWHERE}...)")
    assert not bad, "\n".join(bad)


# --- examples -------------------------------------------------------------------------
def test_suite_and_plugin_examples_validate(tmp_path):
    from ganbench.config.suite import load_suite
    plugin = next(b for b in blocks("python") if "objectives.register" in b)
    (tmp_path / "my_losses.py").write_text(plugin)
    suite_text = next(b for b in blocks("yaml") if "datasets:" in b and "variants:" in b and "imports:" in b)
    mine = next(b for b in blocks("yaml") if "softplus_margin" in b)
    # the suite example, with the plugin example's variant added to its variants
    (tmp_path / "s.yaml").write_text(suite_text + mine.split("variants:", 1)[1])
    s = load_suite(tmp_path / "s.yaml")
    variants = {sp.variant for sp in s.specs}
    assert {"nonsaturating", "wgan", "ns_r1", "fast_d", "mine"} <= variants
    assert len({sp.dataset["label"] for sp in s.specs}) == 3


def test_python_api_example_runs(tmp_path, monkeypatch, tiny_suite):
    """The notebook example, on the tiny suite (same calls, smaller suite)."""
    code = next(b for b in blocks("python") if "ganbench.run(" in b)
    suite = tiny_suite()
    monkeypatch.chdir(tmp_path)
    code = code.replace("suites/mog.yaml", str(suite)).replace("results/mog", str(tmp_path / "out"))
    env: dict = {}
    exec(compile(code, "docs example", "exec"), env)
    summary, res = env["summary"], env["res"]
    assert len(summary) == 8 and set(summary.status) == {"ok"}
    assert len(res.table) == 4 and "modes_captured_mean" in res.table
    assert len(env["h"]) == 30


def test_plain_module_example_trains(tmp_path):
    """The plain-module example registers ordinary nn.Modules that a suite trains."""
    import yaml

    from ganbench import run
    code = next(b for b in blocks("python") if "generators.register" in b)
    (tmp_path / "my_models.py").write_text(code)
    suite = next(b for b in blocks("yaml") if "my_mlp" in b)
    raw = yaml.safe_load(suite)
    raw.update(seeds=2, datasets=["ring8"], imports=[str(tmp_path / "my_models.py")])
    raw["defaults"] = {**raw.get("defaults", {}), "steps": 20, "eval_every": 10, "n_eval": 200,
                       "batch_size": 32}
    summary = run(raw, out=tmp_path / "out", device="cpu", executor="local")
    assert set(summary.status) == {"ok"} and len(summary) == 2


# --- the README's size, links, the package map ------------------------------------------
def test_the_readme_is_short():
    n = len(text(README).splitlines())
    assert n <= README_MAX_LINES, f"README.md has {n} lines (at most {README_MAX_LINES}: the rest goes to docs/)"


def anchors(page_text: str) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated one numbered."""
    seen: dict[str, int] = {}
    out = set()
    in_code = False
    for line in page_text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"#{1,6} (.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
            seen[slug] = seen.get(slug, 0) + 1
    return out


def test_links_between_pages_hold():
    broken = []
    for page in PAGES:
        prose = re.sub(r"```.*?```", "", text(page), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            file = (ROOT / page).parent / path if path else ROOT / page
            rel = str(file.resolve().relative_to(ROOT)) if file.resolve().is_relative_to(ROOT) else str(file)
            if rel in PENDING and not file.exists():
                continue
            if not file.exists():
                broken.append(f"{page}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
                broken.append(f"{page}: {target} (no such heading)")
    assert not broken, broken


def package_map() -> set[str]:
    """The module paths the architecture page's package map names."""
    block = re.search(r"<!-- package-map -->\n```text\n(.*?)```", text("docs/architecture.md"), re.S).group(1)
    stack: list[tuple[int, str]] = []
    paths = set()
    for line in block.splitlines():
        m = re.match(r"( *)(\S+)", line)
        if not m:
            continue
        depth, name = len(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        path = "".join(n for _, n in stack) + name
        if name.endswith("/"):
            stack.append((depth, name))
        paths.add(path.rstrip("/"))
    return paths


def test_the_package_map_names_every_module():
    named = package_map()
    package = ROOT / "ganbench"
    modules = {str(p.relative_to(ROOT)) for p in package.rglob("*.py")
               if p.name != "__init__.py" or p.parent == package}
    packages = {str(p.parent.relative_to(ROOT)) for p in package.rglob("__init__.py") if p.parent != package}
    code = modules | packages | {"ganbench"}
    assert not code - named, f"docs/architecture.md's package map lacks {sorted(code - named)}"
    assert not named - code, f"docs/architecture.md's package map names what is gone: {sorted(named - code)}"


# --- the test command CI runs -----------------------------------------------------------
def readme_test_command() -> str:
    """The first line of the code block after ``<!-- test-command -->`` (what .ci/run evals)."""
    after = text(README).split("<!-- test-command -->", 1)[1]
    return re.search(r"```[a-z]*\n(.*?)\n", after).group(1)



def collecting(*args: str) -> subprocess.Popen:
    """``pytest --collect-only`` with ``args``, started (several collections overlap)."""
    return subprocess.Popen([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(  # -p helpers.markers
                                filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))})


def collected(p: subprocess.Popen) -> list[str]:
    """The lines of a finished collection that name a test."""
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, out[-2000:] + err[-2000:]
    return [ln for ln in out.splitlines() if "::" in ln]


def test_the_readmes_test_command_runs_every_test_but_the_slow_ones():
    """CI runs the README's test command: its pytest selects everything, end-to-end tests
    included, but the slow tests (which CI runs alongside); a plain pytest leaves the
    end-to-end ones out."""
    pytest_args = shlex.split(readme_test_command().split("&&")[-1])
    assert pytest_args[0] == "pytest"
    runs = [collecting(*[a for a in pytest_args[1:] if not a.startswith("--durations")]),
            collecting("-m", "", "-p", "helpers.markers"), collecting()]
    ci, every, plain = (collected(p) for p in runs)
    marks = dict(ln.removeprefix("MARKERS ").rsplit(" ", 1) for ln in every if ln.startswith("MARKERS "))
    marks = {test: set(names.split(",")) for test, names in marks.items()}
    every = {ln for ln in every if not ln.startswith("MARKERS ")}
    assert set(marks) == every
    slow = {t for t, m in marks.items() if "slow" in m}
    e2e = {t for t, m in marks.items() if "e2e" in m}
    assert slow and e2e and set(ci) == every - slow
    assert set(plain) == every - slow - e2e


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_generated()
    else:
        sys.exit(f"usage: python {sys.argv[0]} --write    (rewrite the generated tables)")
