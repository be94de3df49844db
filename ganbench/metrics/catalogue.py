"""The metric catalogue: every metric ganbench reports, declared once.

Each module of :mod:`ganbench.metrics` declares the metrics it computes with
:func:`declare`, next to the functions that compute them: the column name, a one-line
doc (the README's column table is generated from it, and a test keeps the two in
sync), the better direction, the column order, the default ``ganbench check`` rule,
and whether the report draws it as a training curve or in its summary figure.
Tables, statistics, ``ganbench check``, the report and ``ganbench list`` read this
catalogue; none keeps a list of its own. Importing it imports no torch.

A name may hold a ``{c}`` placeholder (``sat_decay_step{c}``): one column per value,
e.g. per checkpoint step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

DIRECTIONS = {"higher": +1, "lower": -1, None: 0}
#: the report's tables, in order: a metric belongs to one (``Metric.group``)
GROUPS = ("diagnosis", "coverage", "quality", "dynamics", "theory")


@dataclass(frozen=True)
class Metric:
    name: str
    doc: str
    #: "higher" or "lower" is better; None: no better direction (shown, not ranked)
    better: str | None = None
    #: position among the metric columns of summary.csv and the tables (lower first)
    order: int = 1000
    #: the default ``ganbench check`` rule for this metric (None: not gated by default)
    rule: dict | None = None
    #: title of its training curve in the report (None: no curve); ``log``: log scale
    curve: str | None = None
    log: bool = False
    #: drawn in the report's summary figure
    summary: bool = False
    #: a column of summary.csv (False: a per-step series of history.csv only)
    column: bool = True
    #: a column of the aggregated table (False: per-run text, e.g. the diagnosis's evidence)
    table: bool = True
    #: the report's table it is shown in (one of GROUPS); set once per module by declare()
    group: str | None = None

    @property
    def direction(self) -> int:
        return DIRECTIONS[self.better]

    def matches(self, column: str) -> bool:
        if "{" not in self.name:
            return column == self.name
        pattern = re.escape(self.name).replace(r"\{c\}", r"(\d+)")
        return re.fullmatch(pattern, column) is not None


_DECLARED: dict[str, Metric] = {}


def declare(*metrics: Metric, group: str | None = None) -> None:
    """Add metrics to the catalogue (each name once); ``group``: the report table of those
    that name none."""
    for m in metrics:
        if m.group is None and group is not None:
            m = replace(m, group=group)
        if m.group not in GROUPS:
            raise ValueError(f"metric {m.name!r}: group must be one of {', '.join(GROUPS)}")
        if m.name in _DECLARED and _DECLARED[m.name] != m:
            raise ValueError(f"metric {m.name!r} is declared twice")
        if m.better not in DIRECTIONS:
            raise ValueError(f"metric {m.name!r}: better must be 'higher', 'lower' or None")
        _DECLARED[m.name] = m


def metrics() -> list[Metric]:
    """Every declared metric, in column order."""
    return sorted(_DECLARED.values(), key=lambda m: (m.order, m.name))


def columns() -> list[str]:
    """Names of the summary columns with a fixed name, in order."""
    return [m.name for m in metrics() if m.column and "{" not in m.name]


def lookup(column: str) -> Metric | None:
    """The declaration a column comes from (placeholders matched), or None."""
    for m in metrics():
        if m.matches(column):
            return m
    return None


def direction(column: str) -> int:
    """+1 higher is better, -1 lower is better, 0 no better direction (or undeclared)."""
    m = lookup(column)
    return m.direction if m else 0


def order_key(column: str) -> tuple:
    """Sort key of a metric column: declared order, then numbers inside names by value."""
    m = lookup(column)
    return (m.order if m else 10_000, natural_key(column))


def natural_key(name: str) -> list:
    """Sort key that orders numbers inside names by value (step500 before step2500)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def default_rules() -> dict:
    """``ganbench check``'s rules for a new baseline: every metric that declares one."""
    return {m.name: {"better": m.better, **m.rule} for m in metrics() if m.rule}


def group_of(column: str) -> str:
    """The report table a column belongs to (undeclared columns: dynamics)."""
    m = lookup(column)
    return m.group if m and m.group else "dynamics"


def in_table(column: str) -> bool:
    """Whether a summary column goes into the aggregated table (not per-run text)."""
    m = lookup(column)
    return m.table if m else True


def curves() -> list[Metric]:
    return [m for m in metrics() if m.curve]


def summary_metrics() -> list[str]:
    return [m.name for m in metrics() if m.summary]


def markdown_table() -> str:
    """The README's column table rows, one per summary column, from the declarations."""
    rows = [f"| `{m.name.replace('{c}', '<c>')}` | {m.doc.replace('|', chr(92) + '|')} |"
            for m in metrics() if m.column]
    return "\n".join(rows) + "\n"
