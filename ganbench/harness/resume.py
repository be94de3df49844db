"""Mid-run resume: a stacked group's training checkpoint, written every
``checkpoint_every`` steps (a run setting) and read back when the same group trains
again after a kill, so it continues from its last checkpoint instead of step 0.

A checkpoint holds the loop's state (:class:`LoopState`, its ``state_dict``): everything
the rest of training depends on, so that on the CPU a resumed run equals an
uninterrupted one bit for bit (tests/harness/test_resume.py):

- both players' weights and buffers (batch norm's statistics), both optimizers' state,
  the lr schedules' positions and the averaged G (``ema``);
- every random stream training draws from: each seed's training generator together
  with the blocks of numbers :class:`~ganbench.streams.SeedStreams` has drawn ahead (and
  the next draw of each), torch's global CPU generator and, on a GPU, that device's.
  The streams of initialisation, evaluation and the checkpoint probes are not kept:
  they are made anew from the seeds and drawn the same way after a resume;
- the record so far (:meth:`~ganbench.harness.recorder.Recorder.state`: the kept steps,
  every evaluation's numbers and tracks, the probes' tables, which seeds diverged where),
  the logged steps since the last evaluation (not yet checked for divergence) and the
  numbers measured on the initial players for the end of the run (``eig_max_real``).
  The evaluator keeps nothing between evaluations (its fixed noise and data sample are
  drawn anew from the seeds; its last samples are made again by the final evaluation).

It is written with ``torch.save`` to a temporary file renamed into place
(:func:`ganbench.layout.atomic_write`): a kill leaves the previous checkpoint or the new
one, never half of one. Reading checks a format version and a key (the caller's: the
group's runs, their settings and the device kind); a checkpoint that cannot be read or
does not match is ignored with one line on stderr, and training starts from step 0.
A checkpoint is a pickle: read only the ones ganbench wrote into a results folder.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..layout import atomic_write

#: the checkpoint's format; a checkpoint of another format is ignored
FORMAT = 1


@dataclass(frozen=True)
class ResumePoint:
    """Where a stacked group's checkpoint lives and the key it must carry (what the group
    trains: its runs, their settings, the device kind)."""

    path: Path
    key: str
    #: start from step 0 even if a checkpoint is there (it is overwritten by the next one)
    fresh: bool = False


class ResumeFailed(Exception):
    """A checkpoint that was read could not be put back (the loop is half restored and
    must be built anew)."""


@dataclass
class LoopState:
    """The training loop's state, as one object: the players (weights, optimizers, random
    streams), the lr schedulers, the averaged G, the record so far, and where the loop
    is: ``done`` steps trained, the last ``checked`` (handed to the recorder, checked for
    divergence), the logged steps since in ``recent`` (on the device), the numbers
    measured on the initial players for the end (``theory``), and the wall seconds of the
    training before a resume (``earlier_wall``; the loop started at ``started``,
    ``time.perf_counter``). :meth:`state_dict` is what a checkpoint holds."""

    players: object
    schedulers: list
    average: object
    recorder: object
    recent: torch.Tensor
    done: int = 0
    checked: int = 0
    theory: dict = field(default_factory=dict)
    earlier_wall: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    @property
    def wall_s(self) -> float:
        """Wall seconds of training so far, those before a resume included."""
        return self.earlier_wall + time.perf_counter() - self.started

    def state_dict(self) -> dict:
        """Everything the rest of training depends on, on the host."""
        pl = self.players
        cuda = pl.device.type == "cuda"
        return {
            "step": int(self.done), "checked": int(self.checked),
            "recent": self.recent[:self.done - self.checked].cpu(), "theory": self.theory,
            "wall_s": float(self.wall_s),
            "G": pl.G.state_dict(), "D": pl.D.state_dict(),
            "opt_g": pl.opt_g.state_dict(), "opt_d": pl.opt_d.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "average": self.average.avg.state_dict() if self.average is not None else None,
            "streams": pl.streams.state(),
            "torch_cpu": torch.get_rng_state(),
            "torch_cuda": torch.cuda.get_rng_state(pl.device) if cuda else None,
            "recorder": self.recorder.state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Put the loop back where :meth:`state_dict` found it (a ValueError, or any error
        of torch's, when it does not fit)."""
        pl = self.players
        pl.G.load_state_dict(state["G"])
        pl.D.load_state_dict(state["D"])
        pl.opt_g.load_state_dict(state["opt_g"])
        pl.opt_d.load_state_dict(state["opt_d"])
        if len(state["schedulers"]) != len(self.schedulers):
            raise ValueError("the checkpoint has another number of lr schedules")
        for sched, st in zip(self.schedulers, state["schedulers"]):
            sched.load_state_dict(st)
        if (state["average"] is None) != (self.average is None):
            raise ValueError("the checkpoint and the run differ in ema")
        if self.average is not None:
            self.average.avg.load_state_dict(state["average"])
        pl.streams.load_state(state["streams"])
        torch.set_rng_state(state["torch_cpu"])
        if state["torch_cuda"] is not None and pl.device.type == "cuda":
            torch.cuda.set_rng_state(state["torch_cuda"], pl.device)
        self.recorder.load_state(state["recorder"], pl.device)
        since = state["recent"].to(pl.device)
        self.recent[:len(since)] = since
        self.done, self.checked = int(state["step"]), int(state["checked"])
        self.theory, self.earlier_wall = state["theory"], float(state["wall_s"])


def restore(loop_state: LoopState, state: dict) -> None:
    """Put the loop back where the checkpoint ``state`` found it. Raises
    :class:`ResumeFailed` (one line on stderr said why) when it does not fit."""
    try:
        loop_state.load_state_dict(state)
    except Exception as e:  # noqa: BLE001 - a checkpoint that does not fit is never fatal
        _ignored(Path(state.get("path", "")), f"does not fit this run ({type(e).__name__}: "
                 f"{str(e).splitlines()[0][:120] if str(e) else ''})")
        raise ResumeFailed(str(e)) from e


def save(point: ResumePoint, state: dict) -> None:
    """Write the loop's ``state`` (:meth:`LoopState.state_dict`) to ``point.path`` with
    the format and the point's key, atomically (the old checkpoint stays until the new
    one is whole)."""
    whole = {"format": FORMAT, "key": point.key, **state}
    atomic_write(point.path, lambda p: torch.save(whole, p))


def load(point: ResumePoint) -> dict | None:
    """The checkpoint at ``point``, or None: none there, or one that cannot be read or
    was made for other runs, settings, device or format (one line on stderr says which;
    training then starts from step 0)."""
    path = Path(point.path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is ignored, never fatal
        return _ignored(path, f"cannot be read ({type(e).__name__}: {str(e).splitlines()[0][:120]})"
                        if str(e) else f"cannot be read ({type(e).__name__})")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        got = state.get("format") if isinstance(state, dict) else None
        return _ignored(path, f"has format {got!r}, not {FORMAT}")
    if state.get("key") != point.key:
        return _ignored(path, "was made for other runs, settings or device")
    state["path"] = str(path)
    return state


def _ignored(path: Path, why: str) -> None:
    print(f"ganbench: warning: training checkpoint {path} {why}; ignored, this group "
          "trains from step 0", file=sys.stderr)
    return None


def remove(path: Path) -> None:
    """Delete a checkpoint (its group finished), and its folder when that is empty."""
    path = Path(path)
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    except OSError:
        pass            # other checkpoints remain, or the folder is gone already
