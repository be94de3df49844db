"""The progress of a suite: runs done / total, and how long is left.

- On a terminal: a bar of the runs, and one bar per group in flight with its steps.
- In a log (stderr is no terminal): lines, no bars (a bar's carriage returns are noise
  in a file). One line per finished group, with the runs done, the time elapsed and
  the time left. While groups train, a line at most every HEARTBEAT seconds says which
  step each group in flight has reached, so a log never sits silent while the first
  groups train.
- With ``enabled=False`` (``--no-progress``): the line per finished group only.

Time left is the work not done yet at the pace so far. Work is counted in the groups'
predicted seconds (:attr:`ganbench.runs.groups.Group.cost`, a measured cost model), and
a group in flight counts with the share of its predicted time that the steps it has
reported (at each of its evaluations) stand for; the pace so far scales the prediction
to this machine. Counting
finished runs instead, as a plain progress bar does, misleads twice: it shows nothing
until the first group ends, and with groups training side by side (worker processes)
the first to finish makes the rest look like they have not started: a suite of two
workers reads about twice its real time left. Before any group has reported a step
the time left is unknown, and said so.
"""
from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

#: seconds between two lines in a log while groups train
HEARTBEAT = 60.0


def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """Runs done / total and the time left (see the module). ``total``: the suite's runs,
    ``todo``: those still to train, ``groups``: the groups they train in (for the time
    left; without them it is not estimated); ``tty``: whether stderr is a terminal
    (default: ask it)."""

    def __init__(self, total: int, todo: int, enabled: bool = True, groups=(),
                 tty: bool | None = None):
        self.enabled = enabled
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.total, self.done = total, total - todo
        self.t0 = self.said = time.monotonic()
        self.cost = {id(g): float(g.cost) for g in groups}
        self.share: dict[int, float] = {}           # group -> share of its steps done
        self.flight: dict[int, tuple] = {}          # slot -> (group, its last step)
        self.bar = tqdm(total=total, initial=total - todo, desc="runs", unit="run",
                        disable=not (enabled and self.tty), position=0, dynamic_ncols=True,
                        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]")
        self.inner: dict[int, tqdm] = {}

    # --- the time left -----------------------------------------------------------------
    def left(self) -> float | None:
        """Seconds left at the pace so far (None: no group has reported a step yet, or
        the groups are unknown)."""
        if not self.cost:
            return None
        done = sum(c * self.share.get(g, 0.0) for g, c in self.cost.items())
        if done <= 0:
            return None
        return (time.monotonic() - self.t0) * (sum(self.cost.values()) - done) / done

    def status(self) -> str:
        """'12/90 runs, 3 min 05 s elapsed, about 9 min 40 s left'."""
        left = self.left()
        return (f"{self.done}/{self.total} runs, {duration(time.monotonic() - self.t0)} elapsed, "
                + (f"about {duration(left)} left" if left is not None else
                   "time left unknown until a group reports its first evaluation"))

    def _say(self, line: str) -> None:
        self.bar.write(line, file=sys.stderr)
        self.said = time.monotonic()

    def _postfix(self) -> None:
        left = self.left()
        if left is not None:
            self.bar.set_postfix_str(f"about {duration(left)} left")

    # --- what the executors call --------------------------------------------------------
    def note(self, line: str) -> None:
        """A line of the executor's own (e.g. which cluster jobs it waits for)."""
        self._say(line)

    def start(self, slot: int, group) -> None:
        self.flight[slot] = (group, 0)
        self.share[id(group)] = 0.0                  # a group run again starts over
        self.inner[slot] = tqdm(total=group.steps, desc=f"{group.label} ×{len(group.specs)} runs",
                                unit="step", leave=False, disable=not (self.enabled and self.tty),
                                position=slot + 1, dynamic_ncols=True)

    def steps(self, slot: int, n: int) -> None:
        if slot not in self.flight:
            return
        group, _ = self.flight[slot]
        self.flight[slot] = (group, n)
        self.share[id(group)] = group.share_after(n)
        self.inner[slot].update(n - self.inner[slot].n)
        self._postfix()
        if self.enabled and not self.tty and time.monotonic() - self.said >= HEARTBEAT:
            training = "; ".join(f"{g.label} step {k}/{g.steps}" for g, k in self.flight.values())
            self._say(f"... {self.status()}; training {training}")

    def finish(self, slot: int, group, records: list[dict]) -> None:
        self.flight.pop(slot, None)
        if slot in self.inner:
            self.inner.pop(slot).close()
        self.share[id(group)] = 1.0
        self.done += len(group.specs)
        statuses = [r["status"] for r in records]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        self._say(f"{group.label}: {counts} ({records[0]['group_wall_s']:.1f} s); {self.status()}")
        for r in records:
            if r.get("error"):
                done = r.get("steps") or 0
                at = f" at step {done + 1} (the {done} before it in its history.csv)" if done else ""
                self._say(f"  {r['run_id']} failed{at}: {r['error']}")
        self.bar.update(len(group.specs))
        self._postfix()

    def close(self) -> None:
        for b in self.inner.values():
            b.close()
        self.bar.close()
