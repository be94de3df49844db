"""A real single-node SLURM cluster on this machine, for the SLURM executor's tests.

Debian's packages (``slurm-wlm``, ``slurmdbd``, ``munge``, ``mariadb-server``), every
daemon in the foreground as a child of this process, every file under one temporary
folder (configuration, state, spool, logs, the accounting database):

- ``munged`` (the munge user; the machine's one, started only if none answers);
- ``mariadbd`` with a database made here, reached over 127.0.0.1 on a free port;
- ``slurmdbd``: job accounting, so ``sacct`` (which submitit reads job states with)
  answers as on a real cluster; without it sacct says accounting is disabled, and
  submitit never learns that a job died without a result;
- ``slurmctld`` and ``slurmd``: one node (this host, its CPUs), partition ``debug``.

Clients find it through ``SLURM_CONF`` (:attr:`SlurmCluster.env`). Needs root (the
daemons run as root, munged as munge); ``apt-get install`` of the packages if missing.

    python tests/helpers/slurm_cluster.py DIR     # start one by hand; Ctrl-C or kill stops it
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

try:
    from helpers.ports import free_port
except ImportError:             # run as a script (python tests/helpers/slurm_cluster.py): beside it
    from ports import free_port

PACKAGES = ["slurm-wlm", "slurmdbd", "munge", "mariadb-server"]
PROGRAMS = ["slurmctld", "slurmd", "slurmdbd", "munged", "mariadbd", "mariadb-install-db"]


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]


def install() -> str | None:
    """Install the packages with apt when a program is missing; None, or why it cannot."""
    if not missing_programs():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"SLURM's programs are missing ({', '.join(missing_programs())}) and apt-get " \
               "as root is not available to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    r = subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:       # a stale package list: update it once and try again
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], env=env,
                           capture_output=True, text=True)
    if r.returncode != 0 or missing_programs():
        return f"apt-get install {' '.join(PACKAGES)} failed: {r.stderr.strip()[-300:]}"
    return None


def wait_for(check, what: str, timeout: float = 60.0, proc=None, log: Path | None = None):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = check()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"the test SLURM cluster: {what} did not come up\n{tail}")


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop` (see the module)."""

    def __init__(self, folder: Path, cpus: int | None = None):
        self.folder = Path(folder)
        self.host = socket.gethostname().split(".")[0]
        self.cpus = cpus or os.cpu_count() or 1
        self.procs: list[subprocess.Popen] = []
        self.conf = self.folder / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    def run(self, *cmd, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), env=self.env, capture_output=True, text=True, **kw)

    def daemon(self, name: str, *cmd) -> subprocess.Popen:
        log = open(self.folder / f"{name}.out", "w")
        p = subprocess.Popen(list(cmd), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start(self) -> "SlurmCluster":
        self.folder.mkdir(parents=True, exist_ok=True)
        for sub in ("state", "spool", "db"):
            (self.folder / sub).mkdir(exist_ok=True)
        self._munge()
        self._database()
        self._slurm()
        return self

    def _munge(self) -> None:
        if subprocess.run("munge -n | unmunge", shell=True, capture_output=True).returncode == 0:
            return          # the machine's munged answers
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        self.daemon("munged", "runuser", "-u", "munge", "--", "munged", "--foreground")
        wait_for(lambda: subprocess.run("munge -n | unmunge", shell=True,
                                        capture_output=True).returncode == 0, "munged")

    def _database(self) -> None:
        db, self.db_port = self.folder / "db", free_port()
        r = self.run("mariadb-install-db", "--user=root", f"--datadir={db}",
                     "--auth-root-authentication-method=socket", "--skip-test-db")
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed: {r.stderr[-1000:]}")
        sock = self.folder / "mysql.sock"
        self.daemon("mariadbd", "mariadbd", "--no-defaults", "--user=root", f"--datadir={db}",
                    f"--socket={sock}", f"--port={self.db_port}", "--bind-address=127.0.0.1",
                    f"--pid-file={self.folder / 'mariadbd.pid'}", "--skip-log-bin")
        wait_for(lambda: sock.exists() and answers(self.db_port), "mariadbd", proc=self.procs[-1],
                 log=self.folder / "mariadbd.out")
        sql = ("CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm'; "
               "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';")
        r = self.run("mariadb", f"--socket={sock}", "-u", "root", "-e", sql)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb: {r.stderr[-1000:]}")

    def _slurm(self) -> None:
        f = self.folder
        self.dbd_port, ctld, slurmd = free_port(), free_port(), free_port()
        dbd = f / "slurmdbd.conf"
        dbd.write_text("\n".join([
            "AuthType=auth/munge", "DbdHost=localhost", f"DbdPort={self.dbd_port}",
            "SlurmUser=root", f"LogFile={f / 'slurmdbd.log'}", f"PidFile={f / 'slurmdbd.pid'}",
            "StorageType=accounting_storage/mysql", "StorageHost=127.0.0.1",
            f"StoragePort={self.db_port}", "StorageUser=slurm", "StoragePass=slurm",
            "StorageLoc=slurm_acct_db", ""]))
        dbd.chmod(0o600)
        self.conf.write_text("\n".join([
            "ClusterName=ganbench", f"SlurmctldHost={self.host}", "AuthType=auth/munge",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/slurmdbd",
            f"AccountingStorageHost=localhost", f"AccountingStoragePort={self.dbd_port}",
            f"SlurmctldPort={ctld}", f"SlurmdPort={slurmd}",
            f"StateSaveLocation={f / 'state'}", f"SlurmdSpoolDir={f / 'spool'}",
            f"SlurmctldPidFile={f / 'slurmctld.pid'}", f"SlurmdPidFile={f / 'slurmd.pid'}",
            f"SlurmctldLogFile={f / 'slurmctld.log'}", f"SlurmdLogFile={f / 'slurmd.log'}",
            "SlurmUser=root", "JobRequeue=1", "MinJobAge=300",
            # a requeued job waits cred_expire seconds before it may start again (default 120)
            "AuthInfo=cred_expire=5", "SchedulerParameters=sched_interval=1",
            f"NodeName={self.host} CPUs={self.cpus} RealMemory=2000 State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""]))
        self.daemon("slurmdbd", "slurmdbd", "-D")
        wait_for(lambda: answers(self.dbd_port), "slurmdbd", proc=self.procs[-1],
                 log=f / "slurmdbd.log")
        self.run("sacctmgr", "-i", "add", "cluster", "ganbench")
        self.daemon("slurmctld", "slurmctld", "-D", "-i", "-f", str(self.conf))
        self.daemon("slurmd", "slurmd", "-D", "-f", str(self.conf))
        wait_for(lambda: self.run("sinfo", "-h", "-o", "%T").stdout.strip() == "idle",
                 "an idle node (sinfo)", log=f / "slurmctld.log")

    def stop(self) -> None:
        """End the jobs still there (their slurmstepd would outlive slurmd), then stop the
        daemons this object started (the last started first)."""
        jobs = self.run("squeue", "-h", "-o", "%i").stdout.split() if self.procs else []
        if jobs:
            self.run("scancel", "--full", "--signal=KILL", *jobs)
            self.run("scancel", *jobs)
            wait_for(lambda: not self.run("squeue", "-h", "-o", "%i").stdout.split(),
                     "no job left (squeue)", timeout=30)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cluster = SlurmCluster(Path(sys.argv[1]))
    try:
        cluster.start()
        print(f"export SLURM_CONF={cluster.conf}", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
