"""Regenerate the results tables of README.md and docs/*.md from the runs that make them.

    python benchmarks/readme_tables.py --list                  # the tables, pages, commands
    python benchmarks/readme_tables.py --dry-run [--only NAME]  # what would run, and how long it took last
    python benchmarks/readme_tables.py --only flagship          # run; the table -> WORK/tables/flagship.md
    python benchmarks/readme_tables.py --only flagship --write  # ... and into its page
    python benchmarks/readme_tables.py --only flagship --resume # finished runs in WORK are kept

Each table (TABLES) names its page, its header line as the page has it (its columns, and
how the table is found in the page), the commands that make it (``ganbench run`` of a
suite, then ``compare``/``check``/``sensitivity``, or a benchmark script), and which
rows it keeps. The commands run from the repository's root with this Python (so a venv
with another torch makes that torch's tables), into WORK (``--work``, default
``results/readme_tables``); ``ganbench run`` gets ``--force`` (``--resume`` keeps the
finished runs, whatever torch made them: the provenance line says which one did, from
the runs' config.json). A command shared by several tables runs once.

Every table written gets a line beside it: the command that remakes it, the date, the
wall time, torch's version, the threads each run trained with, the CPU's cores and
model. The wall times go to ``--record`` (default ``benchmarks/readme_tables.json``),
which ``--dry-run`` reads; a table never run by this script shows its page's time.
Tables that are printed benchmark output in code blocks (throughput, stacking,
sampling) are their scripts' own output and are not handled here.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "python benchmarks/readme_tables.py"


@dataclass
class Table:
    name: str
    page: str
    #: the table's first line in the page: the columns kept (named as the page names them)
    header: str
    #: argv lists; "ganbench" and "python" run with this Python, "{work}" is the work folder
    commands: list[list[str]]
    #: where the source table is: a file under {work}, or "stdout" of the last command
    source: str
    #: a section of the source (its heading's text), "*" for all sections with their
    #: title in the column ``section_column``, or None (the source's one table)
    section: str | None = None
    section_column: str = "dataset"
    #: page column -> the source's column, where they differ
    rename: dict = field(default_factory=dict)
    rows: Callable[[dict], bool] | None = None
    #: exit statuses of the last command that are fine (``ganbench check`` exits 1 on a
    #: regression); the others must exit 0
    ok_codes: tuple = (0,)
    #: the wall time the page states (shown by --dry-run until this script has run it)
    documented: str = ""
    #: printed-rows parser instead of markdown (the DCGAN comparison), by page label
    labels: dict | None = None


def run_suite(suite: str, out: str, *extra: str) -> list[str]:
    return ["ganbench", "run", suite, "--out", f"{{work}}/{out}", "--no-progress", *extra]


def suite_table(name: str, page: str, header: str, suite: str, **kw) -> Table:
    """A table of rows and columns of ``ganbench run SUITE``'s table.md."""
    out = Path(suite).stem
    return Table(name, page, header, [run_suite(suite, out)], f"{out}/table.md", **kw)


DCGAN_LABELS = {
    "reference": "reference (batch norm in D)",
    "ganbench_d_none": "ganbench before: no norm in D",
    "ganbench_d_batch_joint": "ganbench, batch norm in D, real + fake in one D batch",
    "ganbench_d_batch": "**ganbench now: batch norm in D, batches apart**",
    "ganbench_d_layer": "ganbench, layer norm in D",
    "reference_d_norm=none": "reference without D's batch norm",
    "reference_d_batch=joint": "reference, real + fake in one D batch",
    "reference_arch=ganbench": "reference, ganbench's architecture (G's first layer linear with bias, "
                               "bias in G's output layer and D's convolutions, D's head linear)",
    "reference_noise=fresh": "reference, G step on fresh noise (as ganbench)",
    "reference_data=replacement": "reference, data drawn with replacement (as ganbench)",
    "reference_sample_bn=running": "reference, sampled with BN's running statistics",
    "reference_all_ganbench_ways": "reference, every ganbench way at once (no norm in D)",
}

TABLES = [
    suite_table("flagship", "README.md",
                "| dataset | variant | ok/N | modes_captured | hq_fraction | reverse_kl | fd | jsd | "
                "d_star_gap | grad_vanish_ratio | nash_gap | osc_amplitude |", "suites/mog.yaml",
                rows=lambda r: r["dataset"] == "ring8", documented="6 min 52 s"),
    suite_table("mog_converged", "docs/suites.md",
                "| dataset | variant | ok/N | diagnosis | modes_captured | hq_fraction | reverse_kl | "
                "jsd | nash_gap | mode_hops |", "suites/mog_converged.yaml", documented="25 min 37 s"),
    Table("sensitivity", "docs/suites.md",
          "| dataset | variant | success rate [95% CI] | median [IQR] over settings | best setting: modes | "
          "E[best of 1] | E[best of 3] |",
          [run_suite("suites/sensitivity.yaml", "sensitivity"),
           ["ganbench", "sensitivity", "{work}/sensitivity", "--metric", "modes_captured",
            "--success", "modes_captured >= 7"]],
          "sensitivity/sensitivity.md", section="*",
          rename={"median [IQR] over settings": "median [IQR]", "best setting: modes": "best setting: value"},
          documented="11 min 44 s"),
    Table("pacgan_ring_cpu", "docs/suites.md",
          "| metric | variant | n | mean ± std | 95% CI | p vs gan | published (n; method, table) | "
          "their 95% CI | published in our CI | ours in their CI |",
          [run_suite("suites/literature/pacgan_ring_cpu.yaml", "pacgan_ring_cpu"),
           ["ganbench", "compare", "{work}/pacgan_ring_cpu", "--published", "pacgan2018", "--metric",
            "modes_captured", "--metric", "hq_fraction", "--metric", "reverse_kl"]],
          "stdout", section="ring8", documented="28 min 37 s"),
    suite_table("digits", "docs/images.md",
                "| dataset | variant | ok/N | diagnosis | fid | kid | modes_captured | reverse_kl | "
                "d_saturation | grad_vanish_ratio |", "suites/digits.yaml", documented="18 min 52 s"),
    suite_table("stacked_digits", "docs/images.md",
                "| dataset | variant | ok/N | fid | kid | modes_captured | reverse_kl | "
                "grad_vanish_ratio | osc_amplitude |", "suites/stacked_digits.yaml",
                documented="about 12 min (docs/devices.md)"),
    Table("dcgan_reference", "docs/images.md",
          "| run | seed 0: std / fid / classes | seed 1: std / fid / classes |",
          [["python", "benchmarks/dcgan_reference.py", "--ablate", "--out", "{work}/dcgan_reference"]],
          "stdout", labels=DCGAN_LABELS, documented="about 20 min, --ablate about an hour more"),
    suite_table("dirac", "docs/theory.md", "| variant | ok/N | verdict | eig_max_real | dist_eq_final |",
                "suites/dirac.yaml", documented="1 min 43 s"),
]


# --- reading tables ---------------------------------------------------------------------
def cells(line: str) -> list[str]:
    """A markdown table row's cells (escaped pipes kept as they are)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def md_tables(text: str) -> list[tuple[str | None, list[str], list[list[str]]]]:
    """Every markdown table in ``text``: (the heading above it, header cells, rows)."""
    out, heading, lines, i = [], None, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"#{1,6} (.*)", line)
        if m:
            heading = m.group(1).strip()
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"\|\s*:?-", lines[i + 1]):
            head, rows, i = cells(line), [], i + 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(cells(lines[i]))
                i += 1
            out.append((heading, head, rows))
            continue
        i += 1
    return out


def printed_rows(text: str, labels: dict) -> tuple[list[str], list[list[str]]]:
    """benchmarks/dcgan_reference.py's printed rows, as the page's table."""
    found = {}
    for line in text.splitlines():
        name = line.split(" ", 1)[0]
        seeds = re.findall(r"seed (\d+): std ([\d.]+) fid\s+([\d.]+) classes\s+(\d+)", line)
        if name in labels and seeds:
            found[name] = [f"{std} / {fid} / {classes}" for _, std, fid, classes in seeds]
    head = ["run"] + [f"seed {s}: std / fid / classes" for s in range(2)]
    return head, [[labels[n]] + found[n] for n in labels if n in found]


def render(table: Table, text: str) -> str:
    """The page's table from the source text."""
    want = cells(table.header)
    if table.labels is not None:
        head, rows = printed_rows(text, table.labels)
    else:
        found = md_tables(text)
        if table.section == "*":
            head = [table.section_column] + found[0][1]
            rows = [[title or ""] + r for title, _, rs in found for r in rs]
        else:
            picked = [t for t in found if table.section is None or t[0] == table.section]
            if len(picked) != 1:
                raise ValueError(f"{table.name}: {len(picked)} tables match section {table.section!r} "
                                 f"(sections: {[t[0] for t in found]})")
            _, head, rows = picked[0]
    source_of = {c: table.rename.get(c, c) for c in want}
    missing = [c for c in want if source_of[c] not in head]
    if missing:
        raise ValueError(f"{table.name}: the source has no column {missing} (it has {head})")
    idx = [head.index(source_of[c]) for c in want]
    kept = [[r[i] if i < len(r) else "" for i in idx] for r in rows]
    if table.rows is not None:
        kept = [r for r in kept if table.rows(dict(zip(want, r)))]
    lines = ["| " + " | ".join(want) + " |", "|" + "---|" * len(want)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in kept]) + "\n"


# --- pages --------------------------------------------------------------------------------
def provenance_prefix(name: str) -> str:
    return f"<sub>`{SCRIPT} --only {name}`"


def replace_in_page(page_text: str, table: Table, new: str, provenance: str) -> str:
    """``page_text`` with ``table``'s table replaced by ``new`` and the provenance line
    (after a blank line) replaced or added."""
    start = page_text.index(table.header + "\n")
    end = start
    for line in page_text[start:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        end += len(line)
    rest = page_text[end:]
    m = re.match(r"\n" + re.escape(provenance_prefix(table.name)) + r"[^\n]*\n", rest)
    if m:
        rest = rest[m.end():]
    return page_text[:start] + new + "\n" + provenance + "\n" + rest


# --- running ------------------------------------------------------------------------------
def argv_of(cmd: list[str], work: Path, resume: bool) -> list[str]:
    argv = [c.replace("{work}", str(work)) for c in cmd]
    if argv[0] == "ganbench":
        argv = [sys.executable, "-m", "ganbench.cli"] + argv[1:]
        if argv[3] == "run" and not resume:
            argv.append("--force")
    elif argv[0] == "python":
        argv = [sys.executable] + argv[1:]
    return argv


def shown(cmd: list[str]) -> str:
    return " ".join(f"'{c}'" if " " in c else c for c in cmd)


def minutes(s: float) -> str:
    return f"{int(s // 60)} min {int(round(s % 60)):02d} s" if s >= 60 else f"{s:.0f} s"


def environment(work: Path, table: Table) -> dict:
    """torch, the threads each run trained with and the device it trained on, from a
    run's config.json that this table's commands wrote (else this process's torch);
    this machine's cores and CPU."""
    from ganbench.harness.device import environment as here
    env = None
    for cmd in table.commands:
        if "--out" in cmd:
            out = Path(cmd[cmd.index("--out") + 1].replace("{work}", str(work)))
            cfg = next(iter(sorted(out.glob("runs/*/config.json"))), None)
            if cfg is not None:
                env = json.loads(cfg.read_text()).get("environment")
                break
    cpu = here("cpu")
    env = env or cpu
    return {"torch": env["torch"], "threads": env["threads"], "device": env["device_name"],
            "cores": os.cpu_count(), "cpu": cpu["device_name"]}


def readable(cmd: list[str]) -> str:
    """A command as a reader would type it: results/ for the work folder, no --no-progress,
    no --out where it is the suite's default folder."""
    cmd = [c for c in cmd if c != "--no-progress"]
    if "--out" in cmd:
        i = cmd.index("--out")
        if Path(cmd[i + 1]).name == Path(cmd[2]).stem:
            del cmd[i:i + 2]
    return shown(cmd).replace("{work}/", "results/")


def provenance(table: Table, env: dict, walls: list[float] | None) -> str:
    what = "; ".join(readable(c) for c in table.commands)
    took = minutes(sum(walls)) if walls is not None else "finished runs reused"
    return (f"{provenance_prefix(table.name)} on {date.today().isoformat()} ({what}; {took}): "
            f"torch {env['torch']}, {env['threads']} thread{'s' if env['threads'] != 1 else ''} per "
            f"run, {env['device']}" + (f" on {env['cpu']}" if env["device"] != env["cpu"] else "")
            + f", {env['cores']} cores.</sub>")


def regenerate(tables: list[Table], work: Path, record_file: Path, root: Path = ROOT,
               write: bool = False, resume: bool = False, say=print) -> dict:
    """Run the tables' commands (each once), render each table into WORK/tables/NAME.md,
    and with ``write`` into its page; returns and records each table's provenance."""
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    done: dict[str, tuple[float, str]] = {}
    (work / "tables").mkdir(parents=True, exist_ok=True)
    for t in tables:
        walls, stdout = [], ""
        for i, cmd in enumerate(t.commands):
            key = shown(cmd)
            if key not in done:
                argv = argv_of(cmd, work, resume)
                say(f"{t.name}: {shown(argv[1:])}")
                t0 = time.perf_counter()
                p = subprocess.run(argv, cwd=root, capture_output=True, text=True)
                if p.returncode not in (t.ok_codes if i == len(t.commands) - 1 else (0,)):
                    raise RuntimeError(f"{t.name}: {key} exited {p.returncode}:\n{p.stderr[-2000:]}")
                done[key] = (time.perf_counter() - t0, p.stdout)
            walls.append(done[key][0])
            stdout = done[key][1]
        text = stdout if t.source == "stdout" else (work / t.source).read_text()
        new = render(t, text)
        env = environment(work, t)
        line = provenance(t, env, None if resume else walls)
        (work / "tables" / f"{t.name}.md").write_text(new + "\n" + line + "\n")
        page = root / t.page
        before = page.read_text()
        same = before[before.index(t.header + "\n"):].startswith(new)
        if write:
            page.write_text(replace_in_page(before, t, new, line))
        earlier = {c["command"]: c for c in record.get(t.name, {}).get("commands", [])}
        commands = [{"command": shown(c), "wall_s": round(w, 1), "resumed": resume}
                    for c, w in zip(t.commands, walls)]
        # a resumed run's time is not the table's: keep the last full run's
        commands = [earlier[c["command"]] if resume and c["command"] in earlier else c for c in commands]
        record[t.name] = {"date": date.today().isoformat(), **env, "written": write,
                          "same_as_page": same, "commands": commands}
        say(f"{t.name}: {'written to ' + t.page if write else 'in ' + str(work / 'tables' / (t.name + '.md'))}"
            f" ({'the same as' if same else 'differs from'} the page's table)")
    record_file.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


def plan(tables: list[Table], record_file: Path) -> str:
    """What --dry-run prints: each table's commands and how long each took last."""
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    lines, seen, total = [], set(), 0.0
    for t in tables:
        last = {c["command"]: c["wall_s"] for c in record.get(t.name, {}).get("commands", [])}
        resumed = {c["command"]: c.get("resumed") for c in record.get(t.name, {}).get("commands", [])}
        lines.append(f"{t.name} ({t.page})" + (f", last run {record[t.name]['date']} with torch "
                                               f"{record[t.name]['torch']}" if t.name in record else ""))
        for i, cmd in enumerate(t.commands):
            key = shown(cmd)
            if key in seen:
                lines.append(f"    (already run above) {key}")
                continue
            seen.add(key)
            took = last.get(key)
            total += took or 0.0
            never = "never run by this script" + (f"; the page says {t.documented}"
                                                  if i == 0 and t.documented else "")
            lines.append(f"    {key}    last: {minutes(took) if took is not None else never}"
                         + (" (resumed)" if took is not None and resumed.get(key) else ""))
    lines.append(f"total of the recorded times: {minutes(total)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these tables (default: all)")
    ap.add_argument("--list", action="store_true", help="list the tables and exit")
    ap.add_argument("--dry-run", action="store_true", help="what would run, and how long it took last")
    ap.add_argument("--write", action="store_true", help="replace the tables in their pages")
    ap.add_argument("--resume", action="store_true", help="keep finished runs in WORK (no --force)")
    ap.add_argument("--work", type=Path, default=ROOT / "results" / "readme_tables")
    ap.add_argument("--record", type=Path, default=ROOT / "benchmarks" / "readme_tables.json")
    args = ap.parse_args(argv)
    names = [t.name for t in TABLES]
    unknown = [n for n in args.only or [] if n not in names]
    if unknown:
        sys.exit(f"--only {' '.join(unknown)}: no such table; tables: {', '.join(names)}")
    tables = [t for t in TABLES if not args.only or t.name in args.only]
    if args.list:
        for t in tables:
            print(f"{t.name:16} {t.page:15} " + "; ".join(shown(c) for c in t.commands))
    elif args.dry_run:
        print(plan(tables, args.record))
    else:
        regenerate(tables, args.work, args.record, write=args.write, resume=args.resume)


if __name__ == "__main__":
    main()
