"""Compile indicator specs to a plan: set-based queries as sqlglot trees, values in one place.

Two stages:

* **Aggregates** (stage A, in the engine): every aggregate that reads the same source at
  the same grain is computed in *one* query over the source, for all periods and all
  requested disaggregations at once (``GROUP BY GROUPING SETS``). Aggregates scoped to a
  measure are computed for all the measures asked for in one further query, with the
  measure as a grouping key. Histograms (for quantiles and durations) and the
  contributions to cost totals (for the dominance rule) are *keyed* queries: one row per
  cell and value (or contributor). Distinct counts over a rolling window or cumulatively
  are not additive; they get their own query that first spreads each (person, period)
  row over the periods whose window contains it and then counts distinct persons.
  Each query is a sqlglot tree built here by a :class:`Compiler` (one method per
  aggregate kind, ``visit_<kind>``, as ibis compiles operations) and rendered for the
  engine's dialect; a dialect overrides only what differs. Sums are exact (DECIMAL), so
  their value does not depend on the order in which an engine adds the rows.
* **Indicators** (stage B, in Python, :func:`indicator_rows`): each indicator reads its
  parts from those results on a dense grid of periods x groups (a missing cell is a zero),
  applies the rolling window or the running total, and computes its value with its kind
  (:mod:`monitoring.kinds`). Doing this once, outside the engine, is what makes every
  engine publish the same numbers, rounded in one place.

Nothing a user wrote reaches an engine as text: filters and conditions are the screened
trees of :mod:`monitoring.expressions`; identifiers and literals are quoted by sqlglot.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from monitoring.aggregate_query import (  # noqa: F401 (re-exported)
    CENTRAL,
    MISSING_GROUP,
    SUM_TYPE,
    TOTAL,
    AggregateQuery,
    GroupKey,
)
from monitoring.compiler import Compiler, compiler_for
from monitoring.engines import as_engine
from monitoring.errors import database_boundary
from monitoring.indicators import PERSON_DIMENSIONS, SOURCES, Aggregate, IndicatorSpec
from monitoring.periods import index_of_date, parse_period, period_label, period_start  # noqa: F401 (re-exported)

COMPILER_VERSION = "6"  # bump when the generated SQL changes meaning: stored values are recomputed
TOP_CONTRIBUTIONS = 10  # largest contributions kept per cell (the dominance rule uses the first n)
KEYED_KINDS = ("histogram", "top")


# ---- the plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class PartRef:
    """Where stage B finds one part (numerator, denominator or contributions) of an indicator."""

    table: str
    column: str
    prewindowed: bool
    scoped: bool = False
    keyed: bool = False


@dataclass(frozen=True)
class IndicatorQuery:
    """Stage B of one indicator for one measure scope, from period ``start`` to ``last``."""

    spec: IndicatorSpec
    measure: str | None
    start: int
    last: int
    numerator: PartRef
    denominator: PartRef | None
    top: PartRef | None = None

    def describe(self) -> str:
        """Stage B in words (``tiltak monitor explain``)."""
        spec = self.spec
        parts = f"numerator {self.numerator.table}.{self.numerator.column}"
        if self.denominator is not None:
            parts += f", denominator {self.denominator.table}.{self.denominator.column}"
        series = (f"summed over a rolling window of {spec.window_periods} {spec.grain}s" if spec.window_periods
                  else f"running totals from period {self.start}" if spec.cumulative else "per period")
        return (f"{parts}{' (measure ' + repr(self.measure) + ')' if self.measure else ''}; {series}; "
                f"value: {spec.kind.summary} (scale {spec.scale:g})")


@dataclass(frozen=True)
class QueryPlan:
    """Everything to run: stage-A queries, then stage B per indicator."""

    queries: tuple[AggregateQuery, ...]
    indicators: tuple[IndicatorQuery, ...]
    end_dates: dict[str, dt.date]  # grain -> exclusive end date of complete periods

    @property
    def users(self) -> dict[str, tuple[str, ...]]:
        return {q.table: tuple(q.indicators) for q in self.queries}

    def tree(self, query: AggregateQuery, compiler: "Compiler | None" = None) -> Any:
        """The sqlglot tree of a stage-A query."""
        return (compiler or Compiler()).aggregate_query(query, self.end_dates[query.key.grain])

    def sql(self, query: AggregateQuery, dialect: str = "duckdb") -> str:
        return self.tree(query, compiler_for(dialect)).sql(dialect=dialect, identify=True, pretty=True)


def group_key(spec: IndicatorSpec, agg: Aggregate, start: int = 0) -> GroupKey:
    """The stage-A query an aggregate of an indicator belongs to."""
    scope = bool(spec.measure_scoped)
    windowed = spec.cumulative or spec.window_periods
    if agg.kind in KEYED_KINDS:
        return GroupKey(agg.source, spec.grain, scope, keyed=agg)
    if agg.kind == "count_distinct" and windowed:
        mode = ("cumulative", 0) if spec.cumulative else ("rolling", spec.window_periods)
        return GroupKey(agg.source, spec.grain, scope, (agg, *mode, start))
    return GroupKey(agg.source, spec.grain, scope)


def last_index(end_date: dt.date, grain: str) -> int:
    """Index of the last complete period before the exclusive ``end_date``."""
    return index_of_date(end_date - dt.timedelta(days=1), grain)


def compile_plan(items: list[tuple[IndicatorSpec, str | None, int]], end_dates: dict[str, dt.date]) -> QueryPlan:
    """Plan the queries for (indicator, measure code, first period index) triples.

    ``end_dates`` maps each grain to the exclusive end of its complete periods. Aggregates
    shared by several indicators (or models) are computed once.
    """
    queries: dict[GroupKey, AggregateQuery] = {}
    refs = []
    for spec, measure, start in items:
        parts = []
        for agg in (spec.numerator, spec.denominator, spec.top):
            if agg is None:
                parts.append(None)
                continue
            key = group_key(spec, agg, start)
            query = queries.setdefault(key, AggregateQuery(key, f"agg_{len(queries)}"))
            column = query.columns.setdefault(agg, f"a{len(query.columns)}")
            query.dimensions.update(spec.disaggregations)
            query.indicators.setdefault(spec.id)
            if key.scoped:
                query.measures.add(measure)
            parts.append(PartRef(query.table, column, key.expand is not None, key.scoped, key.keyed is not None))
        last = last_index(end_dates[spec.grain], spec.grain)
        refs.append(IndicatorQuery(spec, measure if spec.measure_scoped else None, start, last, *parts))
    return QueryPlan(tuple(queries.values()), tuple(refs), dict(end_dates))


# ---- running a plan ----------------------------------------------------------------------


def execute_plan(engine, plan: QueryPlan, progress=None) -> list[tuple[IndicatorQuery, list[tuple]]]:
    """Run a plan on an engine (:mod:`monitoring.engines`; a DuckDB connection is wrapped).

    Rows are (period_index, dimension, group, numerator, denominator, value, top_contributions,
    numerator_part, denominator_part): top_contributions is the list of the largest
    contributions to a cost total (None otherwise); the parts are, for rolling and cumulative
    series, the period's own numerator and denominator before the window sums them (None
    otherwise), so that disclosure control knows the monthly parts of a series.

    ``progress(done, total)`` is called after each query and each indicator.
    """
    engine = as_engine(engine)
    total = len(plan.queries) + len(plan.indicators)
    results: dict[str, dict] = {}
    for n, query in enumerate(plan.queries, 1):
        users = ", ".join(repr(i) for i in query.indicators)
        with database_boundary(f"computing source '{query.key.source}' ({query.key.grain}) for indicator(s) {users}"):
            rows = engine.fetch(plan.tree(query, engine.compiler))
        results[query.table] = _cells(query, rows)
        if progress:
            progress(n, total)
    out, done = [], {}
    for n, iq in enumerate(plan.indicators, len(plan.queries) + 1):
        key = (iq.spec, iq.measure, iq.start, iq.last, iq.numerator, iq.denominator, iq.top)
        if key not in done:  # an indicator shared by several models is computed once
            done[key] = indicator_rows(iq, results)
        out.append((iq, done[key]))
        if progress:
            progress(n, total)
    return out


def _cells(query: AggregateQuery, rows: list[tuple]) -> dict:
    """Stage-A rows as {column: {(period, dimension, group, scope): value}} (keyed: {key: value})."""
    columns = list(query.columns.values())
    out: dict[str, dict] = {c: {} for c in columns}
    if query.key.keyed is not None:
        column = columns[0]
        for p, dim, group, scope, key, value in rows:
            cell = out[column].setdefault((int(p), dim, group, scope), {})
            if key is not None and value:
                cell[key] = cell.get(key, 0) + value
        return out
    for row in rows:
        cell = (int(row[0]), row[1], row[2], row[3])
        for column, value in zip(columns, row[4:]):
            out[column][cell] = value
    return out


def _part(results: dict, ref: PartRef, measure: str | None, dims: tuple[str, ...]) -> dict:
    wanted = set(dims)
    scope = measure if ref.scoped else None
    return {(p, d, g): v for (p, d, g, s), v in results[ref.table][ref.column].items() if d in wanted and s == scope}


def indicator_rows(query: IndicatorQuery, results: dict) -> list[tuple]:
    """Stage B of one indicator: its parts on the dense grid, windowed, and its values."""
    spec, kind = query.spec, query.spec.kind
    dims = (TOTAL, *spec.disaggregations)
    num = _part(results, query.numerator, query.measure, dims)
    den = _part(results, query.denominator, query.measure, dims) if query.denominator else None
    top = _part(results, query.top, query.measure, dims) if query.top else None
    parts = [num] + ([den] if den is not None else [])
    starts = [p for part in parts for (p, d, _g) in part if d == TOTAL]
    if not starts:
        return []
    lo = min(starts)
    first = max(query.start, lo, lo + spec.window_periods - 1 if spec.window_periods else lo)  # a full window only
    groups = sorted({(d, g) for part in parts for (_p, d, g) in part})
    zero = Counter() if kind.histogram else 0
    rows = []
    for dim, group in groups:
        n_series = _series(query, num, dim, group, lo, zero, query.numerator.prewindowed)
        d_series = _series(query, den, dim, group, lo, zero, query.denominator.prewindowed) if den is not None else None
        for p in range(first, query.last + 1):
            rows.append(_row(query, p, dim, group, n_series, d_series, num, den, top, lo))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


def _series(query: IndicatorQuery, part: dict, dim: str, group: str, lo: int, zero: Any, prewindowed: bool) -> dict:
    """Period -> the part as published (summed over the window or from the start)."""
    spec = query.spec
    own = {p: _exact(part.get((p, dim, group), zero)) for p in range(lo, query.last + 1)}
    if prewindowed or not (spec.window_periods or spec.cumulative):
        return own
    out, running = {}, zero.copy() if isinstance(zero, Counter) else zero
    for p in range(lo, query.last + 1):
        if spec.window_periods:
            window = [own[k] for k in range(max(lo, p - spec.window_periods + 1), p + 1)]
            out[p] = sum(window, zero.copy() if isinstance(zero, Counter) else zero)
        else:
            if p >= query.start:
                running = running + own[p]
            out[p] = running
    return out


def _exact(value: Any) -> Any:
    """Histograms as Counters; engine numbers are exact already (ints, Decimal sums)."""
    if isinstance(value, dict):
        return Counter({k: int(v) for k, v in value.items()})
    return value


def _row(query, p, dim, group, n_series, d_series, num, den, top, lo) -> tuple:
    spec, kind = query.spec, query.spec.kind
    n = n_series[p]
    d = d_series[p] if d_series is not None else None
    series = bool(spec.window_periods or spec.cumulative)
    n_part = kind.stored(_exact(num.get((p, dim, group), 0))) if series and not query.numerator.prewindowed \
        and not kind.histogram else None
    d_part = kind.stored(_exact(den.get((p, dim, group), 0))) if series and den is not None \
        and not query.denominator.prewindowed and not kind.histogram else None
    contributions = None
    if top is not None:
        got = sorted((float(v) for v in (top.get((p, dim, group)) or {}).values() if v > 0), reverse=True)
        contributions = got[:TOP_CONTRIBUTIONS] or None
    return (p, dim, group, kind.stored(n), kind.stored(d) if d_series is not None else None,
            kind.value(spec, n, d), contributions, n_part, d_part)
