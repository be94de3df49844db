"""A two-node Ray cluster on this machine, as a user starts one on two hosts: ``ray
start --head`` and a second ``ray start --address=HEAD``, each node with one CPU and a
resource of its own (``node_a``, ``node_b``), both on 127.0.0.1.

Ray 2.60 turns token authentication on for a head whose user has a token file
(``~/.ray/auth_token``, which a local ``ray.init`` may have made), while a joining
``ray start --address`` left to its default does not, and fails with
``AuthenticationError`` (InvalidAuthToken). So every process here, both nodes and the
drivers, gets ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN_PATH`` naming a token made
for this cluster (:attr:`RayCluster.env`), as Ray's token-auth guide says for a real
cluster (the same token on every node). The cluster keeps its sockets, logs and
``ray_current_cluster`` in a temporary folder of its own (``--temp-dir``), so no other
``ray.init()`` on this machine finds it; each node is a ``ray start --block`` in a
session of its own, stopped by signalling that session (never ``ray stop``, which
stops every Ray on the machine).

``python tests/helpers/ray_cluster.py`` starts one, prints its address and
environment, and stops it on Enter.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from helpers.ports import free_port
except ImportError:             # run as a script (python tests/helpers/ray_cluster.py): beside it
    from ports import free_port

RAY = str(Path(sys.executable).parent / "ray")


class RayCluster:
    """``start()`` it, read :attr:`address` and :attr:`env`, ``stop()`` it."""

    def __init__(self):
        # a short path: Ray's unix sockets live under it (at most 107 characters)
        self.root = Path(tempfile.mkdtemp(prefix="gbray-"))
        token = self.root / "token"
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self.env.pop("RAY_ADDRESS", None)
        self.address = f"127.0.0.1:{free_port()}"
        self.nodes: list[subprocess.Popen] = []

    def _node(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.log", "w")
        self.nodes.append(subprocess.Popen(
            [RAY, "start", "--block", "--num-cpus=1", f"--resources={json.dumps({name: 1})}",
             "--node-ip-address=127.0.0.1", f"--temp-dir={self.root / 'ray'}",
             "--disable-usage-stats", *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def status(self) -> str:
        r = subprocess.run([RAY, "status", f"--address={self.address}"], env=self.env,
                           capture_output=True, text=True, timeout=60)
        return r.stdout if r.returncode == 0 else ""

    def alive(self) -> int:
        """How many nodes the head counts active."""
        text = self.status()
        active = text.split("Active:", 1)[-1].split("Pending:", 1)[0] if text else ""
        return sum(1 for ln in active.splitlines() if ln.strip().startswith("1 node_"))

    def _wait(self, ready, what: str, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        while not ready():
            if any(p.poll() is not None for p in self.nodes) or time.time() > deadline:
                logs = "\n".join(f.read_text()[-1500:] for f in sorted(self.root.glob("*.log")))
                self.stop()
                raise RuntimeError(f"the Ray cluster did not come up ({what}):\n{logs}")
            time.sleep(0.2)

    def start(self) -> "RayCluster":
        port = self.address.rsplit(":", 1)[1]
        session = self.root / "ray" / "session_latest"
        self._node("node_a", "--head", f"--port={port}", "--include-dashboard=false")
        self._wait(lambda: (self.root / "ray" / "ray_current_cluster").exists(), "the head")
        self._node("node_b", f"--address={self.address}")
        self._wait(lambda: (session / "sockets" / "raylet.1").exists(), "the second raylet")
        self._wait(lambda: self.alive() == 2, "two active nodes")
        return self

    def stop(self) -> None:
        for p in self.nodes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.time() + 3
        for p in self.nodes:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            try:               # the node's processes that outlived the SIGTERM
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.nodes = []
        shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    c = RayCluster().start()
    print(c.status())
    print(f"address {c.address}\nexport RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="
          f"{c.env['RAY_AUTH_TOKEN_PATH']}")
    try:
        input("Enter stops the cluster ")
    finally:
        c.stop()
