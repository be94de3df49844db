"""The package imports one way: no import circle (lazy imports inside functions
included), and each layer imports only the layers below it.

    python tests/test_layering.py      # prints the module graph, layer by layer

Layers, bottom up: errors, interrupts, registry, layout, streams, profiling, metrics (pure:
nothing else of ganbench), published (the papers' numbers as data files and their loader)
< data, models, objectives, regularizers, optimizers, game, updates (the game pieces)
< harness < config < runs < cli, testing, monitor (a user's own loop, written as a run
folder), selftest; analysis reads results files and the metric catalogue (and the published
numbers) only (no torch, no harness); trackers (experiment trackers) read finished run
folders (layout) and sit below runs and monitor, which hand them the runs they wrote.

Inside, data flows one way too: config resolves a suite into RunSpecs, each with a typed
RunConfig (every run setting declared once in layout/run_config.py, below the harness
and the analysis; made by config/schema.py); runs/ cuts them into groups (groups.py)
and hands them to an executor (executors/: local, processes, ray_tasks over one
Executor protocol in base.py), which trains each group where it runs (training.py)
and writes its files (store.py); the harness builds the parts (build.py), trains them
(loop.py), evaluates them (evaluation.py, probes.py, checkpoints.py) and records the
run (recorder.py: history, divergence, metrics, diagnosis and files): the path that
monitor.py, a thin adapter, takes as well.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganbench"

#: what each part of the package may import from ganbench (besides itself)
ALLOWED = {
    "errors": set(),
    "interrupts": set(),
    "registry": {"errors"},
    "layout": {"errors", "interrupts"},
    "metrics": set(),
    "published": {"errors"},
    "streams": set(),
    "profiling": set(),
    "data": {"registry", "errors"},
    "models": {"registry", "errors"},
    "regularizers": {"registry", "errors", "streams"},
    "objectives": {"registry", "errors", "regularizers"},
    "optimizers": {"registry", "errors"},
    "schedules": {"registry", "errors"},
    "game": {"objectives", "regularizers"},
    "updates": {"registry", "errors", "game"},
    "harness": {"errors", "registry", "layout", "metrics", "streams", "data", "models",
                "objectives", "regularizers", "optimizers", "schedules", "game", "updates"},
    "config": {"errors", "registry", "layout", "data", "models", "objectives", "regularizers",
               "optimizers", "schedules", "updates", "harness", "published"},
    "analysis": {"errors", "layout", "metrics", "published"},
    "trackers": {"errors", "registry", "layout"},
    "runs": {"errors", "interrupts", "registry", "layout", "metrics", "data", "models", "objectives",
             "regularizers", "updates", "harness", "config", "analysis", "trackers"},
    "cli": {"errors", "interrupts", "layout", "metrics", "runs", "analysis", "config", "harness", "data",
            "models", "objectives", "optimizers", "schedules", "regularizers", "updates", "published",
            "trackers"},
    "testing": {"analysis", "metrics", "runs"},
    "monitor": {"errors", "layout", "metrics", "data", "objectives", "harness", "runs", "trackers"},
    "selftest": {"errors", "layout", "profiling", "harness", "config", "runs"},
    "__init__": {"runs", "harness", "monitor"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """ganbench modules ``path`` imports anywhere in the file (lazy imports too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ganbench")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("ganbench"):
                continue
            found.add(mod)
            for a in node.names:        # `from . import x` may name a submodule
                if (PACKAGE.parent / Path(*f"{mod}.{a.name}".split("."))).with_suffix(".py").is_file():
                    found.add(f"{mod}.{a.name}")
    return {m for m in found if m != name}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    g = {}
    for name, path in files.items():
        g[name] = {m for m in imports_of(path) if m in files}
    return g


def part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports between modules (a package imports its __init__ implicitly,
    which is not an edge here), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(g):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_circle():
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)


def test_each_layer_imports_only_what_it_may():
    bad = []
    for mod, deps in graph().items():
        own = part(mod)
        for d in deps:
            other = part(d)
            if other != own and other not in ALLOWED[own]:
                bad.append(f"{mod} -> {d}")
    assert not bad, "\n".join(sorted(bad))


def test_analysis_commands_import_no_torch(tmp_path):
    """`ganbench compare`, `check`, `report` and `diagnose` on a results folder never import torch
    (nor the harness): they start in a fraction of the time."""
    code = (
        "import sys, pandas as pd\n"
        "from pathlib import Path\n"
        "out = Path(sys.argv[1])\n"
        "(out / 'runs').mkdir(parents=True)\n"
        "rows = [dict(run_id=f'ring8__{v}__seed{s}', dataset='ring8', variant=v, seed=s,\n"
        "             status='ok', steps=10, wall_s=1.0, modes_captured=6 + s, fd=0.1 * s)\n"
        "        for v in ('nonsaturating', 'wgan_gp') for s in range(5)]\n"
        "pd.DataFrame(rows).to_csv(out / 'summary.csv', index=False)\n"
        "from ganbench.cli import main\n"
        "for args in (['compare', str(out)], ['check', str(out), '--baseline', str(out / 'b.yaml'),\n"
        "             '--update'], ['check', str(out), '--baseline', str(out / 'b.yaml')],\n"
        "             ['report', str(out)], ['diagnose', str(out)]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert not e.code, (args, e.code)\n"
        "heavy = sorted(m for m in ('torch', 'ganbench.harness', 'ganbench.models', 'ganbench.data')\n"
        "               if m in sys.modules)\n"
        "print('imported:', heavy)\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "imported: []" in r.stdout, r.stdout[-500:]


if __name__ == "__main__":
    g = graph()
    cycle = find_cycle(g)
    print("import circle:", " -> ".join(cycle) if cycle else "none")
    for p in sorted({part(m) for m in g}, key=lambda x: (len(ALLOWED.get(x, ())), x)):
        deps = sorted({part(d) for m in g if part(m) == p for d in g[m]} - {p})
        print(f"{p:<13} imports {', '.join(deps) or 'nothing of ganbench'}")
