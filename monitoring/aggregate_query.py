"""One stage-A query of a plan (:class:`AggregateQuery`, keyed by :class:`GroupKey`) and
the names and types its generated SQL uses. Built by :mod:`monitoring.sqlcompile`, compiled to
a tree by :mod:`monitoring.compiler`; re-exported by :mod:`monitoring.sqlcompile`."""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

from monitoring.indicators import Aggregate

CENTRAL = "(central)"  # the contributor of central costs (no centre)
MISSING_GROUP = "(missing)"
TOTAL = "total"
SUM_TYPE = "DECIMAL(38, 9)"  # exact sums: the same result in any order, on every engine


@dataclass(frozen=True)
class GroupKey:
    """Aggregates sharing one stage-A query."""

    source: str
    grain: str
    scoped: bool  # restricted to measures: the measure is then a grouping key (column ``scope``)
    expand: tuple | None = None  # (aggregate, "rolling"|"cumulative", periods, start) for windowed distinct counts
    keyed: Aggregate | None = None  # a histogram or the contributions to a sum: one row per cell and key


@dataclass
class AggregateQuery:
    """One stage-A query: its key, the aggregates it computes and their column names."""

    key: GroupKey
    table: str
    columns: dict[Aggregate, str] = dc_field(default_factory=dict)
    dimensions: set[str] = dc_field(default_factory=set)
    measures: set[str] = dc_field(default_factory=set)
    indicators: dict[str, None] = dc_field(default_factory=dict)  # ids of the indicators it serves, in order
