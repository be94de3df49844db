"""The progress display of a suite: runs done / total, and one bar per group in flight
with its steps (only on a terminal: in a log file, one line per finished group)."""
from __future__ import annotations

import sys

from tqdm.auto import tqdm


class Progress:
    """Runs done / total, and one bar per group in flight with its steps. ``total``: the
    suite's runs, ``todo``: those still to train."""

    def __init__(self, total: int, todo: int, enabled: bool = True):
        self.enabled = enabled
        self.bar = tqdm(total=total, initial=total - todo, desc="runs", unit="run",
                        disable=not self.enabled, position=0, dynamic_ncols=True)
        self.inner: dict[int, tqdm] = {}

    def start(self, slot: int, group) -> None:
        # bars below the first move the cursor: only on a terminal, not in a log file
        nested_ok = self.enabled and sys.stderr.isatty()
        self.inner[slot] = tqdm(total=group.steps, desc=f"{group.label} ×{len(group.specs)} runs",
                                unit="step", leave=False, disable=not nested_ok,
                                position=slot + 1, dynamic_ncols=True)

    def steps(self, slot: int, n: int) -> None:
        if slot in self.inner:
            self.inner[slot].update(n - self.inner[slot].n)

    def finish(self, slot: int, group, records: list[dict], retried: bool = False) -> None:
        if slot in self.inner:
            self.inner.pop(slot).close()
        if retried:
            self.bar.write(f"{group.label}: cut short when another worker died; queued again",
                           file=sys.stderr)
            return
        statuses = [r["status"] for r in records]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        self.bar.write(f"{group.label}: {counts} ({records[0]['group_wall_s']:.1f} s)", file=sys.stderr)
        for r in records:
            if r.get("error"):
                self.bar.write(f"  {r['run_id']} failed: {r['error']}", file=sys.stderr)
        self.bar.update(len(group.specs))

    def close(self) -> None:
        for b in self.inner.values():
            b.close()
        self.bar.close()
