"""``ganbench run --until-decided`` end to end on a tiny suite, and its bad input."""
import json

import pandas as pd
import pytest

from helpers.cli import run_cli

#: an A/A pair (one variant under two names, the twin's seeds offset) and a third variant:
#: 2 seeds a look, at most 4 (two looks), 6 steps
AA = """
name: aa
seeds: 2
datasets: [ring8]
defaults:
  steps: 6
  batch_size: 16
  eval_every: 6
  n_eval: 100
  generator: {name: mlp, width: 8, depth: 1, z_dim: 2}
  discriminator: {name: mlp, width: 8, depth: 1}
variants:
  nonsaturating: {objective: nonsaturating}
  twin: {objective: nonsaturating, seed_offset: 1000}
  wgan: {objective: wgan}
"""


def test_until_decided_adds_new_seeds_records_resumes_and_compare_replays(tiny_suite, tmp_path,
                                                                          capsys):
    out = tmp_path / "out"
    args = ["run", str(tiny_suite(AA)), "--out", str(out), "--no-progress", "--until-decided",
            "--max-seeds", "4", "--metric", "modes_captured", "--margin", "modes_captured=3"]
    assert run_cli(*args) == 0
    printed, err = capsys.readouterr()
    summary = pd.read_csv(out / "summary.csv")
    twin = sorted(summary.seed[summary.variant == "twin"])
    assert twin in ([1000, 1001], [1000, 1001, 1002, 1003])          # offset; new seeds
    assert "look 1: 3 groups, 6 runs" in err
    doc = json.loads((out / "decisions.json").read_text())
    assert doc["design"]["max_seeds"] == 4 and len(doc["comparisons"]) == 2
    assert "Decided" in printed and "Seeds per group: ring8/nonsaturating" in printed
    # at 2 vs 2 seeds nothing can fire (1 / C(4, 2) = 0.17): a second look was trained
    assert len(doc["looks"]) == 2 and len(summary) >= 8
    # a rerun trains nothing and says the same
    assert run_cli(*args) == 0
    again, err = capsys.readouterr()
    assert "already finished" in err and "(0 already finished)" not in err
    assert json.loads((out / "decisions.json").read_text())["comparisons"] == doc["comparisons"]
    assert run_cli("compare", str(out)) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == printed.split("\n\n")[-1].splitlines()[0]
    # another design on the same folder is refused before any work
    assert run_cli(*args[:-4], "--max-seeds", "6") == 2
    assert "made with max_seeds 4, not 6" in capsys.readouterr().err


@pytest.mark.parametrize("extra, needle", [
    (["--max-seeds", "4"], "--max-seeds: only with --until-decided"),
    (["--until-decided", "--margin", "modes_captured"], "--margin modes_captured: expected"),
    (["--until-decided", "--margin", "nope=1"], "--margin nope=1"),
    (["--until-decided", "--max-seeds", "1"], "--max-seeds 1: fewer than the suite's 2 seeds"),
    (["--until-decided", "--reference", "zz"], "--reference zz: no such variant"),
    (["--until-decided", "--metric", "modes"], "--metric modes: not a metric"),
    (["--until-decided", "--metric", "osc_period"], "--metric osc_period: not a metric"),
])
def test_bad_until_decided_options_exit_2_before_any_work(tiny_suite, tmp_path, capsys, extra,
                                                          needle):
    out = tmp_path / "o"
    assert run_cli("run", str(tiny_suite(AA)), "--out", str(out), *extra) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (out / "summary.csv").exists()


@pytest.mark.parametrize("suite, needle", [
    (AA + "sweep: {steps: [4, 6]}\n", "the suite sweeps settings"),
    (AA.split("  twin:")[0], "the suite has one variant"),
])
def test_until_decided_needs_variants_without_a_sweep(tiny_suite, tmp_path, capsys, suite,
                                                      needle):
    assert run_cli("run", str(tiny_suite(suite)), "--out", str(tmp_path / "o"),
                   "--until-decided") == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
