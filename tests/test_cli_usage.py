"""A corpus of command-line mistakes, each through the real entry point (``python -m
ganbench.cli``, the ``ganbench`` script's ``main``): exit 2, one line on stderr that names
the problem, no traceback, nothing written."""
import subprocess
import sys

import pytest

from helpers.cli import TINY

# (command line: {suite}, {dir} (a results folder), {nowhere} (a missing path) filled in;
#  text the one line must hold)
CORPUS = [
    # missing arguments
    ("", "Missing command. Commands: check, compare, diagnose, list, report, run, sensitivity."),
    ("run", "Missing argument 'SUITE'. Usage: ganbench run [OPTIONS] SUITE"),
    ("compare", "Missing argument 'OUTS...'"),
    ("check {dir}", "Missing option '--baseline'"),
    ("run {suite} --out", "Option '--out' requires an argument. Usage: ganbench run"),
    # unknown commands and options, with "did you mean"
    ("rnu {suite}", "No such command 'rnu'. Did you mean 'run'?"),
    ("frobnicate", "No such command 'frobnicate'."),
    ("run {suite} --workrs 2", "No such option '--workrs'. Did you mean '--workers'?"),
    ("run {suite} --sed 5", "No such option '--sed'."),
    ("--verison", "Did you mean '--version'?"),
    ("list extra", "Got unexpected extra argument (extra). Usage: ganbench list"),
    # bad option values
    ("run {suite} --workers zero", "Invalid value for '--workers': 'zero' is not a valid whole number."),
    ("run {suite} --workers 0", "Invalid value for '--workers': 0 is not in the range x>=1"),
    ("run {suite} --seeds five", "--seeds: expected a count (e.g. 5) or a list of seeds >= 0, got 'five'."),
    ("run {suite} --seeds 0,1,1", "--seeds: a seed is listed twice."),
    ("run {suite} --device tpu", "--device tpu: expected auto, cpu, cuda or cuda:N."),
    ("run {suite} --executor rya", "unknown executor 'rya'. Did you mean 'ray'?"),
    ("run {suite} --set defaults.stpes=5", "--set defaults.stpes: unknown setting 'stpes'. Did you mean 'steps'?"),
    ("run {suite} --set defaults.steps", "--set defaults.steps: expected PATH=VALUE"),
    ("run {suite} --set variants.wgangp.n_critic=3", "no variant 'wgangp' in the suite. Did you mean 'wgan_gp'?"),
    ("compare {dir} --alpha 2", "Invalid value for '--alpha': 2.0 is not in the range 0<x<=1."),
    ("compare {dir} --format pdf", "Invalid value for '--format': 'pdf' is not one of 'md', 'csv', 'html'."),
    ("diagnose {dir} --fail-on bogus", "--fail-on bogus: unknown label bogus"),
    # a folder where a file is expected, a file where a folder is, missing files
    ("run {dir}", "a folder, not a suite file; give a suite YAML file"),
    ("run {nowhere}.yaml", "suite file not found"),
    ("run {suite} --out {suite}", "--out {suite}: a file, not a folder; give the results folder"),
    ("run {suite} --import {nowhere}.py", "--import {nowhere}.py: file {nowhere}.py not found"),
    ("run {suite} --import no_such_module", "--import no_such_module: cannot import 'no_such_module'"),
    ("compare {suite}", "{suite}: no summary.csv here; give a results folder"),
    ("diagnose {suite}", "{suite}: neither a results folder"),
    ("report {nowhere}", "{nowhere}: not a results folder (no such folder)"),
    ("report {suite}", "{suite}: not a results folder (no summary.csv here)"),
    ("report {run}", "{run}: one run's folder; a report covers a results folder: give the folder "
                     "that holds summary.csv (results?)"),
    # a suite by a name that is not shipped; a value the suite's validation refuses
    ("run mgo", "mgo: suite file not found; give a suite file's path or a shipped suite's name (ci, "),
    ("run {suite} --set defaults.optimizer.betas=[0.5]", "--set defaults.optimizer.betas=[0.5]: "
     "variants.nonsaturating.g_optimizer: optimizer 'adam': betas: expected two numbers"),
    ("sensitivity {suite}", "{suite}: no summary.csv here"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("usage")
    (root / "tiny.yaml").write_text(TINY)
    (root / "results").mkdir()
    (root / "results" / "summary.csv").write_text(
        "run_id,dataset,variant,seed,status,steps,wall_s,modes_captured\n"
        "ring8__a__seed0,ring8,a,0,ok,10,1.0,8\n")
    run = root / "results" / "runs" / "ring8__a__seed0"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text('{"run_id": "ring8__a__seed0", "status": "ok"}')
    return root


def ganbench(args, cwd):
    return subprocess.run([sys.executable, "-m", "ganbench.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("line, needle", CORPUS, ids=[c[0] or "(nothing)" for c in CORPUS])
def test_a_usage_error_is_one_line_and_exit_2(places, line, needle):
    fill = {"suite": "tiny.yaml", "dir": "results", "nowhere": "nowhere",
            "run": "results/runs/ring8__a__seed0"}
    args, needle = line.format(**fill).split(), needle.format(**fill)
    before = sorted(p.name for p in places.rglob("*"))
    p = ganbench(args, places)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("ganbench: error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert sorted(p.name for p in places.rglob("*")) == before     # nothing written


def test_help_and_version_exit_0(places):
    for args in (["--help"], ["-h"], ["run", "--help"], ["compare", "-h"]):
        p = ganbench(args, places)
        assert p.returncode == 0 and p.stdout.startswith("Usage: ganbench") and p.stderr == ""
    p = ganbench(["run", "--help"], places)
    assert "--set PATH=VALUE" in p.stdout and "--seeds N|LIST" in p.stdout
    p = ganbench(["--version"], places)
    assert p.returncode == 0 and "version" in p.stdout
