"""What the ``slurm`` executor asks SLURM for, from the suite's ``executor: {slurm: ...}``
block and the command line (which wins), checked with SLURM itself before any job is
submitted: ``sbatch --test-only`` with the same flags refuses a bad partition, account
or time limit, and that refusal is one line naming the setting.

    executor:
      slurm:
        partition: gpu          # --partition; default: the cluster's default partition
        time_limit: "4:00:00"   # --time-limit; minutes or SLURM's [D-]HH:MM:SS
        account: mylab          # --account
        cpus: 2                 # CPUs per job (torch threads); default 1
        sbatch: [--qos=high]    # --sbatch, repeatable: any other sbatch flag

Without a time limit a job asks for its partition's default time, else its maximum,
else 24 hours; a job that reaches it is requeued and resumes from its checkpoint.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ...errors import InputError

#: minutes asked for when neither the settings nor the partition name a time limit
FALLBACK_MINUTES = 24 * 60

#: the command line's option for each setting
OPTIONS = {"partition": "--partition", "time_limit": "--time-limit", "account": "--account",
           "cpus": "--cpus", "sbatch": "--sbatch"}


@dataclass
class SlurmSettings:
    partition: str | None = None
    time_limit: int | None = None           # minutes
    account: str | None = None
    cpus: int = 1
    sbatch: list[str] = field(default_factory=list)

    def flags(self, gpu: bool) -> list[str]:
        """sbatch's flags for one group's job (the time limit once resolved)."""
        out = [f"--cpus-per-task={self.cpus}", "--ntasks=1"]
        out += [f"--partition={self.partition}"] if self.partition else []
        out += [f"--account={self.account}"] if self.account else []
        out += [f"--time={self.time_limit}"] if self.time_limit else []
        out += ["--gpus-per-node=1"] if gpu else []
        return out + list(self.sbatch)

    def submitit_parameters(self, gpu: bool, name: str) -> dict:
        """The same request as :meth:`flags`, as submitit's SlurmExecutor parameters."""
        extra = dict(_flag(f) for f in self.sbatch)
        return {"job_name": name, "time": self.time_limit, "cpus_per_task": self.cpus,
                "ntasks_per_node": 1, "nodes": 1, "partition": self.partition,
                "account": self.account, "gpus_per_node": 1 if gpu else None,
                "additional_parameters": extra, "stderr_to_stdout": False}


def _flag(text: str) -> tuple[str, object]:
    """'--qos=high' -> ('qos', 'high'); '--exclusive' -> ('exclusive', True)."""
    key, eq, value = text.lstrip("-").partition("=")
    return key.replace("-", "_"), (value if eq else True)


def minutes(value, where: str) -> int:
    """A time limit in minutes, from minutes or SLURM's time formats ('90', '1:30:00',
    '2-00', '2-12:00:00')."""
    if isinstance(value, bool):
        raise InputError(f"{where}: expected minutes or [D-]HH:MM:SS, got {value!r}.")
    if isinstance(value, (int, float)) and value > 0:
        return max(1, int(round(value)))
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", str(value).strip())
    if not m:
        raise InputError(f"{where}: {value!r} is no time limit; give minutes (90) or "
                         "[D-]HH:MM:SS (1:30:00, 2-00:00:00).")
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if days is not None:        # D-HH[:MM[:SS]]
        total = days * 1440 + a * 60 + (b or 0) + (c or 0) / 60
    elif c is not None:         # HH:MM:SS
        total = a * 60 + b + c / 60
    elif b is not None:         # MM:SS
        total = a + b / 60
    else:
        total = a
    if total <= 0:
        raise InputError(f"{where}: the time limit must be positive, got {value!r}.")
    return max(1, int(-(-total // 1)))


def settings(partition=None, time_limit=None, account=None, cpus=1, sbatch=()) -> SlurmSettings:
    """Settings of the block / the command line, each checked for its type."""
    if cpus is None or isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1:
        raise InputError(f"--cpus / executor.slurm.cpus: expected a whole number >= 1, got {cpus!r}.")
    if isinstance(sbatch, str):
        sbatch = [sbatch]
    bad = [f for f in sbatch if not str(f).startswith("-")]
    if bad:
        raise InputError(f"--sbatch / executor.slurm.sbatch: {bad[0]!r} is no sbatch flag; write "
                         "it as sbatch takes it, e.g. --qos=high.")
    return SlurmSettings(None if partition is None else str(partition),
                         None if time_limit is None else minutes(time_limit, "--time-limit"),
                         None if account is None else str(account), cpus, [str(f) for f in sbatch])


def partition_limit(partition: str | None) -> int | None:
    """The partition's DefaultTime, else its MaxTime, in minutes (None: unlimited)."""
    r = subprocess.run(["scontrol", "show", "partition", "-o"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if (partition and fields.get("PartitionName") == partition) or \
                (not partition and fields.get("Default") == "YES"):
            for key in ("DefaultTime", "MaxTime"):
                value = fields.get(key, "NONE")
                if value not in ("NONE", "UNLIMITED", "INFINITE"):
                    return minutes(value, f"the partition's {key}")
    return None


def check(s: SlurmSettings, gpu: bool) -> SlurmSettings:
    """Ask SLURM whether it would take a job with these settings (``sbatch --test-only``,
    nothing is submitted); resolve the time limit. One line naming the setting if not."""
    if shutil.which("sbatch") is None:
        raise InputError("--executor slurm: SLURM's sbatch is not on this machine's PATH; run "
                         "ganbench on the cluster's login node (or apt-get install slurm-client).")
    try:
        import submitit  # noqa: F401
    except ImportError:
        raise InputError("--executor slurm: submitit is not installed; pip install "
                         "'ganbench[slurm]'.") from None
    probe = SlurmSettings(**{**vars(s), "time_limit": s.time_limit or partition_limit(s.partition)
                             or FALLBACK_MINUTES})
    r = subprocess.run(["sbatch", "--test-only", *probe.flags(gpu), "--wrap", "true"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        said = [ln.removeprefix("sbatch: error: ").strip() for ln in r.stderr.splitlines()
                if ln.strip()]
        raise InputError(refusal(s, said[0] if said else f"sbatch exited with {r.returncode}"))
    return probe


def refusal(s: SlurmSettings, said: str) -> str:
    """One line: which setting SLURM refused, what it said, and what there is."""
    low = said.lower()
    if any(w in low for w in ("controller", "resolve_ctls", "unknown host", "slurm.conf",
                              "connection refused")):
        return (f"--executor slurm: no SLURM controller answers here ({said}); run ganbench on "
                "the cluster's login node (or point SLURM_CONF at the cluster's slurm.conf).")
    if "account" in low or "association" in low:
        return (f"--account {s.account} (executor.slurm.account): SLURM refuses it ({said}); "
                "sacctmgr show assoc user=$USER lists yours.")
    if "partition" in low:
        known = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True)
        names = ", ".join(p.rstrip("*") + (" (the default)" if p.endswith("*") else "")
                          for p in known.stdout.split()) or "none"
        return (f"--partition {s.partition} (executor.slurm.partition): SLURM refuses it "
                f"({said}); partitions here: {names}.")
    if "time" in low:
        return (f"--time-limit {s.time_limit} (executor.slurm.time_limit): SLURM refuses it "
                f"({said}); sinfo -o '%P %l' shows each partition's limit.")
    flags = " ".join(s.sbatch) or "(none)"
    return (f"--executor slurm: SLURM refuses a job with these settings ({said}); the sbatch "
            f"flags given: {flags}.")
