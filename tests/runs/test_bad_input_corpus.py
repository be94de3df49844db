"""A corpus of broken suites: each is one line on stderr naming the problem, exit 2,
no traceback, and no run is written as finished."""
import json
import os
import subprocess
import sys
from pathlib import Path

BASE = """name: broken
seeds: 2
datasets: [ring8]
defaults: {steps: 5, batch_size: 8, n_eval: 50, eval_every: 5}
variants:
  a: {objective: nonsaturating}
"""


def with_(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


CORPUS = {
    # wrong types
    "steps text": with_("steps: 5", "steps: five"),
    "steps float": with_("steps: 5", "steps: 5.5"),
    "steps bool": with_("steps: 5", "steps: true"),
    "batch list": with_("batch_size: 8", "batch_size: [8]"),
    "seeds text": with_("seeds: 2", "seeds: two"),
    "seeds negative list": with_("seeds: 2", "seeds: [-1, 2]"),
    "seeds repeated": with_("seeds: 2", "seeds: [1, 1]"),
    "datasets mapping": with_("datasets: [ring8]", "datasets: {ring8: 1}"),
    "datasets empty": with_("datasets: [ring8]", "datasets: []"),
    "variants list": with_("variants:\n  a: {objective: nonsaturating}", "variants: [a]"),
    "variant settings list": with_("a: {objective: nonsaturating}", "a: [nonsaturating]"),
    "objective number": with_("objective: nonsaturating", "objective: 3"),
    "optimizer list": with_("defaults: {", "defaults: {optimizer: [adam], "),
    "lr text": with_("defaults: {", "defaults: {optimizer: {lr: fast}, "),
    "betas one number": with_("defaults: {", "defaults: {optimizer: {betas: [0.5]}, "),
    "betas a number": with_("defaults: {", "defaults: {optimizer: {betas: 0.5}, "),
    "regularizers mapping": with_("objective: nonsaturating", "objective: nonsaturating, regularizers: {name: r1}"),
    # nesting errors
    "setting at top": BASE + "steps: 5\n",
    "unknown top field": BASE + "defualts: {}\n",
    "unknown run field": with_("defaults: {", "defaults: {stpes: 3, "),
    "unknown setting": with_("objective: nonsaturating", "objective: {name: wgan, clipp: 1}"),
    "component without name": with_("defaults: {", "defaults: {generator: {width: 8}, update: {k: 3}, "),
    "name not text": with_("objective: nonsaturating", "objective: {name: [x]}"),
    "suite a list": "- ring8\n- nonsaturating\n",
    "suite a string": "just text\n",
    # YAML anchors and aliases, and bad YAML
    "alias to a list as steps": "x: &n [1, 2]\n" + BASE.replace("steps: 5", "steps: *n"),
    "undefined alias": BASE.replace("steps: 5", "steps: *nowhere"),
    "bad indentation": BASE.replace("  a: {objective: nonsaturating}", " a: {objective: nonsaturating}\n    b: 1"),
    "unclosed bracket": BASE.replace("[ring8]", "[ring8"),
    "tab indentation": BASE.replace("  a:", "\ta:"),
    # huge, negative, zero, NaN, infinity
    "huge steps": with_("steps: 5", "steps: 100000000000000000000000"),
    "huge n_eval": with_("n_eval: 50", "n_eval: 100000000000000"),
    "huge batch": with_("batch_size: 8", "batch_size: 100000000000"),
    "huge seeds": with_("seeds: 2", "seeds: 1000000"),
    "huge width": with_("defaults: {", "defaults: {generator: {name: mlp, width: 1000000}, "),
    "huge history": with_("steps: 5", "steps: 99000000").replace("seeds: 2", "seeds: 48"),
    "negative steps": with_("steps: 5", "steps: -5"),
    "zero batch": with_("batch_size: 8", "batch_size: 0"),
    "negative lr": with_("defaults: {", "defaults: {optimizer: {lr: -0.1}, "),
    "nan lr": with_("defaults: {", "defaults: {optimizer: {lr: .nan}, "),
    "infinite lr": with_("defaults: {", "defaults: {optimizer: {lr: .inf}, "),
    "nan penalty weight": with_("objective: nonsaturating", "objective: nonsaturating, regularizers: [{name: r1, weight: .nan}]"),
    "negative clip": with_("objective: nonsaturating", "objective: {name: wgan, clip: -1}"),
    # unknown names at every registry
    "unknown dataset": with_("[ring8]", "[ring9]"),
    "unknown objective": with_("objective: nonsaturating", "objective: nonsaturatin"),
    "unknown regularizer": with_("objective: nonsaturating", "objective: nonsaturating, regularizers: [r3]"),
    "unknown generator": with_("defaults: {", "defaults: {generator: mpl, "),
    "unknown discriminator": with_("defaults: {", "defaults: {discriminator: cnn, "),
    "unknown optimizer": with_("defaults: {", "defaults: {optimizer: {name: adamw}, "),
    "unknown update": with_("defaults: {", "defaults: {update: unrolld, "),
    "unknown checkpoint probe": with_("defaults: {", "defaults: {checkpoint_probes: [vanish], "),
    "unknown features": with_("defaults: {", "defaults: {features: incepton, "),
    "unknown import": BASE + "imports: [no_such_module_here]\n",
    # sweeps
    "sweep bad path": BASE + "sweep: {optimizer.lrr: [0.1]}\n",
    "sweep not a list": BASE + "sweep: {optimizer.lr: 0.1}\n",
    "sweep too large": BASE + "sweep: {random: {n: 100000000}, optimizer.lr: [0.1]}\n",
    # files that are not suites
    "empty file": "",
    "only a comment": "# nothing here\n",
}


RUNNER = r"""
import contextlib, io, json, sys, traceback
from ganbench.cli import main
results = {}
for name, path, out in json.loads(sys.argv[1]):
    err = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(err):
        try:
            main(["run", path, "--out", out, "--executor", "local", "--no-progress"])
        except SystemExit as e:
            code = e.code or 0
        except BaseException:
            code, _ = "exception", traceback.print_exc(file=err)
    results[name] = [code, err.getvalue()]
print(json.dumps(results))
"""


def run_all(cases: list[tuple[str, str, str]]) -> dict:
    """Each (name, suite path, out) through the real CLI, all in one fresh interpreter."""
    r = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(cases)], capture_output=True,
                       text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.splitlines()[-1])


def assert_bad_input(name, code, stderr, out: Path):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert code == 2, (name, code, stderr[-1500:])
    assert len(lines) == 1 and lines[0].startswith("ganbench: error:"), (name, stderr[-1500:])
    assert "Traceback" not in stderr, name
    assert not list(out.glob("runs/*/metrics.json")), name


def test_every_broken_suite_is_one_line_and_exit_2(tmp_path):
    cases = []
    for k, (name, text) in enumerate(sorted(CORPUS.items())):
        (tmp_path / f"s{k}.yaml").write_text(text)
        cases.append((name, str(tmp_path / f"s{k}.yaml"), str(tmp_path / f"out{k}")))
    bad = tmp_path / "bytes.yaml"
    bad.write_bytes(BASE.encode() + b"\nname: \xff\xfe\x00bad\n")
    cases.append(("non-UTF-8 bytes", str(bad), str(tmp_path / "out_bytes")))
    (tmp_path / "dir.yaml").mkdir()
    cases.append(("a directory", str(tmp_path / "dir.yaml"), str(tmp_path / "out_dir")))
    results = run_all(cases)
    assert len(results) == len(cases) >= 40
    for name, _, out in cases:
        assert_bad_input(name, *results[name], Path(out))
