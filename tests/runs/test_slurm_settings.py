"""The slurm executor's settings without a cluster: time limits in SLURM's formats, the
sbatch request they make, the suite's executor: block and the command line's options,
and their bad values as one line each (the cluster itself: tests/runs/test_slurm.py;
the folder lock and a job's staging folder: tests/runs/test_folder_lock.py)."""
import pytest

from ganbench.config.suite import parse_suite
from ganbench.errors import InputError
from ganbench.runs.api import build_executor
from ganbench.runs.executors import slurm_settings
from helpers.cli import TINY, run_cli


@pytest.mark.parametrize("given, expected", [
    (90, 90), ("90", 90), ("1:30:00", 90), ("90:30", 91), ("2-00", 2880),
    ("1-12:00:00", 2160), ("0:00:20", 1), (0.4, 1)])
def test_time_limits_in_slurms_formats_become_minutes(given, expected):
    assert slurm_settings.minutes(given, "--time-limit") == expected


@pytest.mark.parametrize("bad", ["soon", "1:2:3:4", "0", True, -5, "0:00"])
def test_a_bad_time_limit_is_one_line_naming_it(bad):
    with pytest.raises(InputError, match="--time-limit"):
        slurm_settings.minutes(bad, "--time-limit")


def test_settings_make_the_sbatch_request_and_submitits_parameters():
    s = slurm_settings.settings("gpu", "2:00:00", "lab", 4, ["--qos=high", "--exclusive"])
    assert s.flags(gpu=True) == ["--cpus-per-task=4", "--ntasks=1", "--partition=gpu",
                                 "--account=lab", "--time=120", "--gpus-per-node=1",
                                 "--qos=high", "--exclusive"]
    p = s.submitit_parameters(gpu=False, name="ganbench:x")
    assert (p["partition"], p["time"], p["account"], p["cpus_per_task"], p["gpus_per_node"]) == \
        ("gpu", 120, "lab", 4, None)
    assert p["additional_parameters"] == {"qos": "high", "exclusive": True}


@pytest.mark.parametrize("kw, field", [({"cpus": 0}, "cpus"), ({"cpus": "two"}, "cpus"),
                                       ({"sbatch": ["qos=high"]}, "sbatch")])
def test_bad_settings_are_one_line(kw, field):
    with pytest.raises(InputError, match=field):
        slurm_settings.settings(**kw)


def test_the_suites_executor_block_with_the_command_line_over_it():
    suite = parse_suite({**_tiny(), "executor": {"slurm": {"partition": "a", "cpus": 2,
                                                           "time_limit": 30}}})
    ex = build_executor(suite, "slurm", {"partition": "b", "account": None, "sbatch": []})
    assert (ex.settings.partition, ex.settings.cpus, ex.settings.time_limit) == ("b", 2, 30)
    assert type(build_executor(suite, "local", {})).__name__ == "Local"   # the block: slurm's


def test_an_unknown_setting_in_the_block_names_it():
    suite = parse_suite({**_tiny(), "executor": {"slurm": {"partion": "a"}}})
    with pytest.raises(InputError, match=r"executor\.slurm\.partion.*partition"):
        build_executor(suite, "slurm", {})
    with pytest.raises(InputError, match="executor"):
        parse_suite({**_tiny(), "executor": "slurm"})


def test_a_slurm_option_without_the_slurm_executor_exits_2(tiny_suite, tmp_path, capsys):
    assert run_cli("run", str(tiny_suite()), "--out", str(tmp_path / "o"),
                   "--partition", "gpu") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--partition" in err[0] and "--executor slurm" in err[0]


def _tiny() -> dict:
    import yaml
    return yaml.safe_load(TINY)


@pytest.mark.parametrize("said, names", [
    ("resolve_ctls_from_dns_srv: res_nsearch error: Unknown host", "no SLURM controller"),
    ("Invalid account or account/partition combination specified", "--account lab"),
    ("Requested time limit is invalid (missing or exceeds some limit)", "--time-limit 30"),
    ("Invalid qos specification", "the sbatch flags given: --qos=x")])
def test_what_slurm_refuses_is_named_in_one_line(said, names):
    s = slurm_settings.settings(None, 30, "lab", 1, ["--qos=x"])
    line = slurm_settings.refusal(s, said)
    assert names in line and said in line and "\n" not in line
