"""The metric catalogue: every metric ganbench reports, declared once.

Each module of :mod:`ganbench.metrics` declares the metrics it computes with
:func:`declare`, next to the functions that compute them: the column name, a one-line
doc (docs/guide.md's column table is generated from it, and a test keeps the two in
sync), the better direction, the column order, the default ``ganbench check`` rule,
and whether the report draws it as a training curve or in its summary figure.
It also says what the statistics need (docs/statistics.md): on which kinds of dataset
the metric is a *key* metric (the focused family ``ganbench compare`` tests by default),
whether it is in a loss's own units (shown, never ranked or tested across different
objectives), and the *worst* value of its range (what a failed seed counts as).
Tables, statistics, ``ganbench check``, the report and ``ganbench list`` read this
catalogue; none keeps a list of its own. Importing it imports no torch.

A name may hold a ``{c}`` placeholder (``sat_decay_step{c}``): one column per value,
e.g. per checkpoint step.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

DIRECTIONS = {"higher": +1, "lower": -1, None: 0}
#: the report's tables, in order: a metric belongs to one (``Metric.group``)
GROUPS = ("diagnosis", "coverage", "quality", "dynamics", "theory")
#: kinds of dataset: 2D point sets (mixtures, spiral, moons), image sets, Dirac-GAN
KINDS = ("2d", "images", "dirac")


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
    #: the kinds of dataset (KINDS) on which ``ganbench compare`` tests it by default
    key: tuple = ()
    #: left out of that key family on a dataset where this other metric has values
    #: (``fd`` where ``jsd``, the divergence itself, is known)
    key_unless: str | None = None
    #: the only kinds of dataset that have it (empty: any); tells a dataset's kind
    kinds: tuple = ()
    #: in the units of each objective's own loss or D output (a critic's raw score, the D
    #: loss's spread): shown, but never ranked or tested across different objectives
    loss_units: bool = False
    #: the worst value of its range, which a seed without a value counts as (a number,
    #: ``math.inf``, or ``"log(<column>)"``: the log of another column, e.g. log K);
    #: None: no worst (no better direction), such seeds are left out and counted
    worst: float | str | None = None
    #: defined for some variants only, by what their D outputs or how it is built
    #: (``nash_gap``, ``d_saturation``: a probability D; ``d_star_gap``: an unpacked one;
    #: ``eig_max_real``, ``dist_eq_final``: players with a known equilibrium): a
    #: variant none of whose ok runs has a value does not have it (left empty), where any
    #: other metric counts such seeds at its worst value
    variant_specific: bool = False

    @property
    def direction(self) -> int:
        return DIRECTIONS[self.better]

    def matches(self, column: str) -> bool:
        if "{" not in self.name:
            return column == self.name
        pattern = re.escape(self.name).replace(r"\{c\}", r"(\d+)")
        return re.fullmatch(pattern, column) is not None


_DECLARED: dict[str, Metric] = {}
_LOG_OF = re.compile(r"log\((\w+)\)")


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
        if not set(m.key) | set(m.kinds) <= set(KINDS):
            raise ValueError(f"metric {m.name!r}: key and kinds must be among {', '.join(KINDS)}")
        if m.worst is not None and (m.better is None or not (
                isinstance(m.worst, (int, float)) or _LOG_OF.fullmatch(str(m.worst)))):
            raise ValueError(f"metric {m.name!r}: worst needs a better direction and must be a "
                             "number or 'log(<column>)'")
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


def is_variant_specific(column: str) -> bool:
    """Whether only some variants have the metric at all (``Metric.variant_specific``)."""
    m = lookup(column)
    return bool(m and m.variant_specific)


def in_table(column: str) -> bool:
    """Whether a summary column goes into the aggregated table (not per-run text)."""
    m = lookup(column)
    return m.table if m else True


def curves() -> list[Metric]:
    return [m for m in metrics() if m.curve]


def summary_metrics() -> list[str]:
    return [m.name for m in metrics() if m.summary]


def markdown_table() -> str:
    """docs/guide.md's column table rows, one per summary column, from the declarations."""
    rows = [f"| `{m.name.replace('{c}', '<c>')}` | {m.doc.replace('|', chr(92) + '|')} |"
            for m in metrics() if m.column]
    return "\n".join(rows) + "\n"


def statistics_table() -> str:
    """docs/statistics.md's table of what the statistics read from each declaration: the
    better direction, where it is a key metric, loss units, its worst value, and whether
    only some variants have it."""
    def worst(m):
        if m.worst is None:
            return "none (left out)"
        if isinstance(m.worst, str):
            return m.worst
        return {math.inf: "+inf", math.log(2): "log 2"}.get(m.worst, f"{m.worst:g}")
    rows = ["| metric | better | key metric on | loss units | worst (a seed without a value) "
            "| only some variants |", "|---|---|---|---|---|---|"]
    rows += [f"| `{m.name.replace('{c}', '<c>')}` | {m.better or '-'} | "
             f"{', '.join(m.key) + (f' (unless {m.key_unless})' if m.key_unless else '') or '-'}"
             f" | {'yes' if m.loss_units else ''} | {worst(m)} | "
             f"{'yes' if m.variant_specific else ''} |"
             for m in metrics() if m.column and m.table]
    return "\n".join(rows) + "\n"


def dataset_kind(columns) -> str:
    """The kind of dataset (KINDS) whose runs have values in ``columns``: the kind of a
    metric only that kind has (``fid`` images, ``dist_eq_final`` Dirac-GAN), else 2d."""
    found = {k for c in columns if (m := lookup(c)) and len(m.kinds) == 1 for k in m.kinds}
    for kind in KINDS[1:]:
        if kind in found:
            return kind
    return KINDS[0]


def key_metrics(columns) -> list[str]:
    """The key metrics among ``columns`` (those with values on one dataset), in column
    order: the focused family ``ganbench compare`` tests by default."""
    columns = list(columns)
    kind = dataset_kind(columns)
    keys = [c for c in columns if (m := lookup(c)) and kind in m.key
            and not (m.key_unless and m.key_unless in columns)]
    return sorted(keys, key=order_key)


def is_loss_units(column: str) -> bool:
    m = lookup(column)
    return bool(m and m.loss_units)


def worst_value(column: str, others: dict | None = None) -> float | None:
    """The worst value of a metric's range (None: it declares none). ``others``: the
    run's (or its dataset's) values of other columns, for a worst such as log(modes_total);
    NaN when that column has no value there."""
    m = lookup(column)
    if m is None or m.worst is None:
        return None
    if isinstance(m.worst, (int, float)):
        return float(m.worst)
    ref = (others or {}).get(_LOG_OF.fullmatch(m.worst).group(1))
    try:
        ref = float(ref)
    except (TypeError, ValueError):
        return math.nan
    return math.log(ref) if ref > 0 else math.nan
