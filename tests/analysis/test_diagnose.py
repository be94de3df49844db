"""`ganbench diagnose` on a results folder: counts per variant, evidence, and --fail-on
with the diagnosis's labels (unlearned among them)."""
import pandas as pd

from helpers.cli import run_cli

EVIDENCE = {"unlearned": "unlearned: 8 of 8 modes lost (modes_captured 0: ≥ 2 lost) and G's samples "
                         "fall nearest to 1 modes' worth (modes_effective ≤ 6), but only 0% of its "
                         "samples look like data (hq_fraction 0 < 0.05: within 3 std of a mode): "
                         "G fits no mode",
            "unconverged": "unconverged: no failure found; not near the equilibrium: jsd 0.4 > 0.03"}


def folder(tmp_path, diagnoses):
    out = tmp_path / "out"
    out.mkdir(parents=True)
    pd.DataFrame([{"run_id": f"ring8__ns__seed{i}", "dataset": "ring8", "variant": "ns", "seed": i,
                   "status": "ok", "steps": 10, "wall_s": 1.0, "diagnosis": d, "evidence": EVIDENCE[d]}
                  for i, d in enumerate(diagnoses)]).to_csv(out / "summary.csv", index=False)
    return out


def test_unlearned_is_a_failure_by_default_and_a_fail_on_label(tmp_path, capsys):
    out = folder(tmp_path, ["unconverged", "unlearned", "unconverged"])
    assert run_cli("diagnose", str(out)) == 1
    text = capsys.readouterr().out
    assert "ring8 / ns (3 runs): unlearned 1/3, unconverged 2/3" in text
    assert "  unlearned (seed 1): 8 of 8 modes lost" in text
    assert run_cli("diagnose", str(out), "--fail-on", "unlearned") == 1
    assert run_cli("diagnose", str(out), "--fail-on", "collapsed,oscillating") == 0
    assert run_cli("diagnose", str(folder(tmp_path / "b", ["unconverged"] * 2))) == 0


def test_an_unknown_fail_on_label_is_one_line_and_exit_2(tmp_path, capsys):
    out = folder(tmp_path, ["unconverged"])
    capsys.readouterr()
    assert run_cli("diagnose", str(out), "--fail-on", "never_learned") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown label never_learned" in err and "unlearned" in err
