"""Sizes a suite may ask for, checked before any work: counts with a hard bound (a
run that would take years or overflow is bad input, not a failed run), and the memory
a stacked group's history and evaluation would need, against this machine's memory.
"""
from __future__ import annotations

import os

from ..errors import at

#: upper bounds of run settings that are counts (all are checked >= 1 by the schema)
BOUNDS = {
    "steps": (10**8, "a hundred million generator steps"),
    "batch_size": (2**20, "a million samples per batch"),
    "eval_every": (10**8, "the largest steps value"),
    "n_eval": (10**7, "ten million evaluation samples"),
    "n_critic": (1000, "a thousand D steps per G step"),
    "min_hq": (10**7, "the largest n_eval"),
    "log_every": (10**8, "the largest steps value"),
    "checkpoint_every": (10**8, "the largest steps value"),
}
MAX_SEEDS = 10_000
MAX_RUNS = 1_000_000
#: a suite may plan to use at most this share of the machine's memory for one group
MEMORY_SHARE = 0.5
#: history.csv columns a run logs per step, at most (steps, losses, traces, evaluations)
HISTORY_COLUMNS = 32


def machine_memory() -> int:
    """Bytes of physical memory of this machine."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


def check_counts(cfg, path: str) -> None:
    """Every bounded count of a resolved run config (a RunConfig) is within its bound."""
    for key, (bound, what) in BOUNDS.items():
        value = getattr(cfg, key)
        if value is not None and value > bound:
            raise at(f"{path}{key}", f"{value} is more than {bound} ({what}); use a smaller value.")


def history_rows(cfg) -> int:
    """Rows of history a run keeps: every ``log_every``-th step, every evaluation's step
    and the last step (at most)."""
    steps = int(cfg.steps)
    eval_every = min(int(cfg.eval_every), steps)
    return steps // int(cfg.log_every) + steps // eval_every + 1


def check_memory(cfg, data_dim: int, slices: int, path: str) -> None:
    """The history (the rows kept, on the device and as a table per run, and the steps
    since the last evaluation on the device) and one evaluation (noise, samples, data, D
    outputs) of a group of ``slices`` runs fit in half of this machine's memory."""
    limit = MEMORY_SHARE * machine_memory()
    n_eval = int(cfg.n_eval or 0)
    recent = min(int(cfg.eval_every), int(cfg.steps))
    history = (history_rows(cfg) * (4 + 8) + recent * 4) * HISTORY_COLUMNS * slices  # float32 + float64
    if history > limit:
        raise at(f"{path}steps", f"the history of {slices} runs trained together needs "
                 f"{fmt_bytes(history)}, more than half of this machine's {fmt_bytes(machine_memory())}; "
                 "lower steps, or raise log_every (history rows kept) and eval_every (or use "
                 "fewer seeds and settings in this variant).")
    evaluation = n_eval * (data_dim * 3 + 64) * 4 * slices
    if evaluation > limit:
        raise at(f"{path}n_eval", f"an evaluation of {slices} runs trained together needs "
                 f"{fmt_bytes(evaluation)}, more than half of this machine's "
                 f"{fmt_bytes(machine_memory())}; lower n_eval.")
