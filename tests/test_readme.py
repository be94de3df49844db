"""The README and the docs/ pages say what the code does: their examples run, their
generated tables are the code's declarations, their links and the package map hold,
and the README's test command (the one CI runs) runs every test but the slow ones.

    python tests/test_readme.py --write    # rewrite the generated tables from the code
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

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



def collected(*args: str) -> set[str]:
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                        *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return {ln for ln in r.stdout.splitlines() if "::" in ln}


def test_the_readmes_test_command_runs_every_test_but_the_slow_ones():
    """CI runs the README's test command: its pytest selects everything, end-to-end tests
    included, but the slow tests (which CI runs alongside); a plain pytest leaves the
    end-to-end ones out."""
    pytest_args = shlex.split(readme_test_command().split("&&")[-1])
    assert pytest_args[0] == "pytest"
    ci = collected(*[a for a in pytest_args[1:] if not a.startswith("--durations")])
    every, slow, e2e = collected("-m", ""), collected("-m", "slow"), collected("-m", "e2e")
    assert slow and e2e and ci == every - slow
    assert collected() == every - slow - e2e


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_generated()
    else:
        sys.exit(f"usage: python {sys.argv[0]} --write    (rewrite the generated tables)")
