"""Compile indicator specs to set-based DuckDB SQL.

Two stages, both plain SQL:

* **Aggregates** (stage A): every aggregate that reads the same source at the same grain
  is computed in *one* query over the source, for all periods and all requested
  disaggregations at once (``GROUP BY GROUPING SETS``). Aggregates scoped to a measure are
  computed for all the measures asked for in one further query, with the measure as a
  grouping key. The result is a small temporary table ``agg_N`` with one row per (period,
  dimension, group, scope).
* **Indicators** (stage B): each indicator reads its numerator and denominator columns from
  those tables on a dense grid of periods x groups (a missing row is a zero), applies the
  rolling window or the cumulative sum with window functions, and divides.

Distinct counts over a rolling window or cumulatively are not additive; they get their own
stage-A query that first spreads each (person, period) row over the periods whose window
contains it and then counts distinct persons.

Values the caller supplies (measure codes, period bounds) are bound as parameters
(``$measures``, ``$measure``, ``$end_date``, ``$start``, ``$last``); only validated filter expressions and identifiers from the
catalogue schema are spliced into the text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field as dc_field

from monitoring.indicators import GRAIN_MONTHS, PERSON_DIMENSIONS, SOURCES, Aggregate, IndicatorSpec

COMPILER_VERSION = "5"
TOP_CONTRIBUTIONS = 10  # largest contributions kept per cell (the dominance rule uses the first n)
CONTRIBUTOR = "coalesce(b.o_centre, '(central)')"  # cost contributors: the centres, and the central budget  # bump when the generated SQL changes meaning: stored values are recomputed
MISSING_GROUP = "(missing)"
TOTAL = "total"


@dataclass(frozen=True)
class GroupKey:
    """Aggregates sharing one stage-A query."""

    source: str
    grain: str
    scoped: bool  # restricted to measures: the measure is then a grouping key (column ``scope``)
    expand: tuple | None = None  # (aggregate, "rolling"|"cumulative", periods, start) for windowed distinct counts


@dataclass
class AggregateQuery:
    """One stage-A query: its key, the aggregates it computes and their column names."""

    key: GroupKey
    table: str
    columns: dict[Aggregate, str] = dc_field(default_factory=dict)
    dimensions: set[str] = dc_field(default_factory=set)
    measures: set[str] = dc_field(default_factory=set)
    indicators: dict[str, None] = dc_field(default_factory=dict)  # ids of the indicators it serves, in order


@dataclass(frozen=True)
class PartRef:
    """Where stage B finds one part (numerator or denominator) of an indicator."""

    table: str
    column: str
    prewindowed: bool
    scoped: bool = False

    @property
    def top_column(self) -> str:
        return f"t{self.column[1:]}"


@dataclass(frozen=True)
class IndicatorQuery:
    """Stage-B SQL of one indicator for one measure scope, from period ``start`` to ``last``."""

    spec: IndicatorSpec
    measure: str | None
    start: int
    last: int
    sql: str

    def parameters(self) -> dict:
        """Named parameters of the stage-B query."""
        params = {"start": self.start, "last": self.last}
        if self.measure is not None:
            params["measure"] = self.measure
        return params


@dataclass(frozen=True)
class QueryPlan:
    """Everything to run: stage-A statements (creating temp tables) then stage-B queries."""

    aggregate_sql: tuple[tuple[str, str, GroupKey], ...]  # (table, CREATE statement, key)
    indicators: tuple[IndicatorQuery, ...]
    end_dates: dict[str, dt.date]  # grain -> exclusive end date of complete periods
    measures: dict[GroupKey, tuple[str, ...]] = dc_field(default_factory=dict)
    users: dict[str, tuple[str, ...]] = dc_field(default_factory=dict)  # stage-A table -> indicator ids

    def parameters(self, key: GroupKey) -> dict:
        """Named parameters of the stage-A query of ``key``."""
        params = {"end_date": self.end_dates[key.grain]}
        if key.scoped:
            params["measures"] = list(self.measures[key])
        return params


# ---- periods -------------------------------------------------------------------------


def period_index_sql(date_sql: str, grain: str) -> str:
    """SQL giving the integer index of the period containing ``date_sql``."""
    if grain == "month":
        return f"(year({date_sql}) * 12 + month({date_sql}) - 1)"
    if grain == "quarter":
        return f"(year({date_sql}) * 4 + (month({date_sql}) - 1) // 3)"
    return f"year({date_sql})"


def period_label(index: int, grain: str) -> str:
    """The label of a period index: ``2013-06``, ``2013-Q2`` or ``2013``."""
    if grain == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if grain == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index:04d}"


def period_start(index: int, grain: str) -> dt.date:
    """First day of a period."""
    months = index * GRAIN_MONTHS[grain] if grain != "year" else index * 12
    return dt.date(months // 12, months % 12 + 1, 1)


def index_of_date(day: dt.date, grain: str) -> int:
    """Index of the period containing ``day``."""
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def parse_period(label: str, grain: str = "month") -> int:
    """Index of a period label; ``2013-06`` is accepted for any grain (its containing period)."""
    import re

    text = label.strip()
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return index_of_date(dt.date(int(text[:4]), int(text[5:]), 1), grain)
    if re.fullmatch(r"\d{4}-Q[1-4]", text) and grain in ("quarter", "year"):
        return index_of_date(dt.date(int(text[:4]), 3 * int(text[6]) - 2, 1), grain)
    if re.fullmatch(r"\d{4}", text) and grain == "year":
        return int(text)
    raise ValueError(f"expected a period like 2013-06{', 2013-Q2' if grain != 'month' else ''}"
                     f"{' or 2013' if grain == 'year' else ''}; got {label!r}")


# ---- stage A -------------------------------------------------------------------------


def group_key(spec: IndicatorSpec, agg: Aggregate, start: int = 0) -> GroupKey:
    """The stage-A query an aggregate of an indicator belongs to."""
    scope = bool(spec.measure_scoped)
    windowed = spec.cumulative or spec.window_periods
    if agg.kind == "count_distinct" and windowed:
        mode = ("cumulative", 0) if spec.cumulative else ("rolling", spec.window_periods)
        return GroupKey(agg.source, spec.grain, scope, (agg, *mode, start))
    return GroupKey(agg.source, spec.grain, scope)


def _aggregate_expr(agg: Aggregate, n: int, grain: str) -> str:
    cond = " AND ".join(f"_f{n}{s}" for s, part in (("a", agg.filter), ("b", agg.condition)) if part)
    where = f" FILTER (WHERE {cond})" if cond else ""
    if agg.kind == "count" or (agg.kind == "count_distinct" and _unique_per_month(agg, grain)):
        return f"count(*){where}"
    if agg.kind == "count_distinct":
        return f"count(DISTINCT _v{n}){where}"
    if agg.kind in ("sum", "top"):
        return f"coalesce(sum(_v{n}){where}, 0)"
    return f"count(_v{n}){where}"


def _unique_per_month(agg: Aggregate, grain: str) -> bool:
    """The panel has one row per person and month: a distinct count of persons in a month is a row count."""
    return agg.source == "person_month" and agg.column == "person_id" and grain == "month"


def _base_columns(aggs: list[Aggregate]) -> list[str]:
    from monitoring.expressions import render

    cols = []
    for n, agg in enumerate(aggs):
        # rendered from the screened tree (bound when the model was loaded): never the text as written
        if agg.filter:
            cols.append(f"({render(agg.filter, agg.source)}) AS _f{n}a")
        if agg.condition:
            cols.append(f"({render(agg.condition, agg.source)}) AS _f{n}b")
        if agg.column and agg.kind == "count_distinct":
            cols.append(f"{_ident(agg.column)} AS _v{n}")
        elif agg.column:
            cols.append(f"CAST({_ident(agg.column)} AS DOUBLE) AS _v{n}")
    return cols


def _ident(name: str) -> str:
    from monitoring.expressions import quote_identifier

    return quote_identifier(name)


def _measure_scope(key: GroupKey) -> tuple[str, str, str]:
    """(scope column, extra join, extra where) restricting the source to the measures of ``key``.

    Sources with a measure column are scoped by it. Other person-level sources (surveys,
    applications, exits) count a row for a measure once the person has started it (by the
    end of the row's month); a person who started several measures counts for each.
    """
    if not key.scoped:
        return "", "", ""
    source = SOURCES[key.source]
    if source.measure_column is not None:
        column = f"s.{_ident(source.measure_column)}"
        return f"{column} AS _scope", "", f" AND list_contains($measures, {column})"
    join = (
        "\n  JOIN (SELECT person_id AS _mp, measure AS _ms_measure, min(start_date) AS _first_start FROM participation"
        " WHERE list_contains($measures, measure) GROUP BY person_id, measure) _ms"
        f" ON _ms._mp = s.{_ident(source.person_column)}"
    )
    return "_ms._ms_measure AS _scope", join, f" AND _ms._first_start < date_trunc('month', {source.date_sql}) + INTERVAL 1 MONTH"


def _dimension_select(key: GroupKey, dims: list[str]) -> tuple[str, str]:
    """(columns giving d_<dim>, the join they need)."""
    source = SOURCES[key.source]
    cols, joins = [], []
    for dim in dims:
        if dim in source.own_dimensions:
            cols.append(f"b.o_{dim} AS d_{dim}")
        elif key.source == "costs":  # region via the centre
            cols.append(f"c.region AS d_{dim}")
            joins.append("\n  LEFT JOIN centres c ON c.centre_id = b.o_centre")
        else:
            cols.append(f"pm.{_ident(PERSON_DIMENSIONS[dim])} AS d_{dim}")
            joins.append("\n  LEFT JOIN person_month pm ON pm.person_id = b._pid AND pm.month = b._month")
    return ", ".join(cols), "".join(dict.fromkeys(joins))


def _base_sql(key: GroupKey, aggs: list[Aggregate]) -> str:
    """The source rows in range and scope, with the flags and values of every aggregate."""
    source = SOURCES[key.source]
    cols = [f"date_trunc('month', {source.date_sql})::DATE AS _month"]
    if source.person_column:
        cols.append(f"s.{_ident(source.person_column)} AS _pid")
    cols += [f"s.{_ident(col)} AS o_{dim}" for dim, col in source.own_dimensions.items()]
    scope, join, where = _measure_scope(key)
    cols += [scope] if scope else []
    cols += _base_columns(aggs)
    return (
        f"base AS (\n  SELECT {', '.join(cols)}\n  FROM {_ident(source.name)} s{join}\n"
        f"  WHERE {source.date_sql} < $end_date{where}\n)"
    )


def _grouping_select(dims: list[str], scoped: bool) -> tuple[str, str, str]:
    """(dimension CASE, group_value CASE, GROUPING SETS list)."""
    head = "_p, _scope" if scoped else "_p"
    if not dims:
        return f"'{TOTAL}'", "''", f"({head})"
    dim_case = " ".join(f"WHEN grouping(d_{d}) = 0 THEN '{d}'" for d in dims)
    val_case = " ".join(f"WHEN grouping(d_{d}) = 0 THEN coalesce(CAST(d_{d} AS VARCHAR), '{MISSING_GROUP}')" for d in dims)
    sets = ", ".join([f"({head})"] + [f"({head}, d_{d})" for d in dims])
    return f"CASE {dim_case} ELSE '{TOTAL}' END", f"CASE {val_case} ELSE '' END", sets


def aggregate_sql(query: AggregateQuery) -> str:
    """The CREATE TEMP TABLE statement of one stage-A query."""
    key = query.key
    aggs = list(query.columns)
    dims = sorted(query.dimensions, key=list(PERSON_DIMENSIONS).index)
    dim_cols, dim_join = _dimension_select(key, dims)
    period = period_index_sql("b._month", key.grain)
    dim_case, val_case, sets = _grouping_select(dims, key.scoped)
    src_cols = ", ".join(filter(None, [f"{period} AS _p", "b.*", dim_cols]))
    ctes = [_base_sql(key, aggs), f"src AS (\n  SELECT {src_cols}\n  FROM base b{dim_join}\n)"]
    if key.expand is not None:
        ctes.append(_expand_sql(key, dims))
        outs, table_from = f"count(DISTINCT _v0) AS {query.columns[aggs[0]]}", "spread"
    elif any(a.kind == "top" for a in aggs) and not any(a.kind == "count_distinct" for a in aggs):
        ctes.append(_contributions_sql(query, aggs, dims))
        outs, table_from = _rollup_outputs(query, aggs), "contributions"
    else:  # (a distinct count next to cost contributions: no contributions, so no dominance check)
        outs = ", ".join(f"{_aggregate_expr(a, n, key.grain)} AS {query.columns[a]}" if a.kind != "top"
                         else f"NULL::DOUBLE[] AS t{query.columns[a][1:]}" for n, a in enumerate(aggs))
        table_from = "src"
    return (
        f"CREATE OR REPLACE TEMP TABLE {query.table} AS\nWITH " + ",\n".join(ctes) + "\n"
        f"SELECT _p AS period_index, {dim_case} AS dimension, {val_case} AS group_value, "
        f"{'_scope' if key.scoped else 'NULL::VARCHAR'} AS scope, {outs}\n"
        f"FROM {table_from}\nGROUP BY GROUPING SETS ({sets})"
    )


def _contributions_sql(query: AggregateQuery, aggs: list[Aggregate], dims: list[str]) -> str:
    """Cost aggregates per contributor first, so that each cell knows its largest contributions."""
    keys = ", ".join(["_p", *(["_scope"] if query.key.scoped else []), *[f"d_{d}" for d in dims], "_contrib"])
    outs = ", ".join(f"{_aggregate_expr(a, n, query.key.grain)} AS {query.columns[a]}" for n, a in enumerate(aggs))
    return (f"contributions AS (\n  SELECT {keys.replace('_contrib', CONTRIBUTOR.replace('b.', '') + ' AS _contrib')}, {outs}\n"
            f"  FROM src GROUP BY ALL\n)")


def _rollup_outputs(query: AggregateQuery, aggs: list[Aggregate]) -> str:
    outs = []
    for a in aggs:
        col = query.columns[a]
        if a.kind == "top":
            outs.append(f"max({col}, {TOP_CONTRIBUTIONS}) FILTER (WHERE {col} > 0) AS t{col[1:]}")
        else:
            outs.append(f"sum({col}) AS {col}")
    return ", ".join(outs)


def _expand_sql(key: GroupKey, dims: list[str]) -> str:
    """Spread each qualifying (person, period) over the periods whose window contains it."""
    agg, mode, periods, start = key.expand
    flags = " AND ".join(f"_f0{s}" for s, part in (("a", agg.filter), ("b", agg.condition)) if part) or "TRUE"
    last = period_index_sql("($end_date - INTERVAL 1 DAY)", key.grain)
    dcols = "".join(f", d_{d}" for d in dims) + (", _scope" if key.scoped else "")
    if mode == "rolling":
        reach, since = f"range(0, {int(periods)})", ""
    else:
        reach, since = f"range(0, {last} - q._p + 1)", f" AND _p >= {int(start)}"
    return (
        f"qualifying AS (SELECT DISTINCT _p, _v0{dcols} FROM src WHERE {flags}{since}),\n"
        f"spread AS (\n  SELECT q._p + r.k AS _p, q._v0{dcols.replace(', d_', ', q.d_').replace(', _scope', ', q._scope')}\n"
        f"  FROM qualifying q, LATERAL (SELECT * FROM {reach} t(k)) r\n  WHERE q._p + r.k <= {last}\n)"
    )


# ---- stage B -------------------------------------------------------------------------


def _part_cte(name: str, ref: PartRef, dims: tuple[str, ...]) -> str:
    wanted = ", ".join(f"'{d}'" for d in (TOTAL, *dims))
    scope = " AND scope = $measure" if ref.scoped else ""
    return (
        f"{name} AS (SELECT period_index, dimension, group_value, CAST({ref.column} AS DOUBLE) AS x "
        f"FROM {ref.table} WHERE dimension IN ({wanted}){scope})"
    )


def _window_expr(spec: IndicatorSpec, column: str, prewindowed: bool) -> str:
    over = "OVER (PARTITION BY dimension, group_value ORDER BY period_index"
    if prewindowed:
        return column
    if spec.window_periods:
        return f"sum({column}) {over} ROWS BETWEEN {spec.window_periods - 1} PRECEDING AND CURRENT ROW)"
    if spec.cumulative:
        return f"sum(CASE WHEN period_index >= $start THEN {column} ELSE 0 END) {over} ROWS UNBOUNDED PRECEDING)"
    return column


def indicator_sql(spec: IndicatorSpec, num: PartRef, den: PartRef | None, top: PartRef | None = None) -> str:
    """Stage-B query of one indicator: numerator, denominator, value and (for cost totals) the
    largest contributions, per period and group."""
    dims = spec.disaggregations
    ctes = [_part_cte("num", num, dims)]
    parts = ["num"]
    if den is not None:
        ctes.append(_part_cte("den", den, dims))
        parts.append("den")
    groups = " UNION ".join(f"SELECT DISTINCT dimension, group_value FROM {p}" for p in parts)
    bounds = " UNION ALL ".join(f"SELECT period_index FROM {p} WHERE dimension = '{TOTAL}'" for p in parts)
    ctes.append(f"bounds AS (SELECT min(period_index) AS lo FROM ({bounds}))")
    ctes.append(
        f"grid AS (SELECT g.dimension, g.group_value, p.period_index FROM ({groups}) g, bounds,\n"
        f"  LATERAL (SELECT * FROM range(bounds.lo, $last + 1) t(period_index)) p)"
    )
    joins = "".join(f"\n  LEFT JOIN {p} USING (dimension, group_value, period_index)" for p in parts)
    n_col = "coalesce(num.x, 0) AS n"
    d_col = ", coalesce(den.x, 0) AS d" if den is not None else ""
    ctes.append(f"joined AS (SELECT grid.*, {n_col}{d_col} FROM grid{joins})")
    n_win = _window_expr(spec, "n", num.prewindowed)
    d_win = _window_expr(spec, "d", den.prewindowed) if den is not None else "NULL"
    series = bool(spec.window_periods or spec.cumulative)
    n_part = "n" if series and not num.prewindowed else "NULL::DOUBLE"
    d_part = "d" if series and den is not None and not den.prewindowed else "NULL::DOUBLE"
    ctes.append(f"windowed AS (SELECT dimension, group_value, period_index, {n_win} AS numerator, {d_win} AS denominator, "
                f"{n_part} AS numerator_part, {d_part} AS denominator_part FROM joined)")
    top_col, top_join = "NULL::DOUBLE[]", ""
    if top is not None:
        scope = " AND scope = $measure" if top.scoped else ""
        ctes.append(f"top AS (SELECT period_index, dimension, group_value, {top.top_column} AS t FROM {top.table} "
                    f"WHERE TRUE{scope})")
        top_col, top_join = "top.t", "\nLEFT JOIN top USING (dimension, group_value, period_index)"
    value = f"{spec.scale!r} * numerator / nullif(denominator, 0)" if spec.divides else f"{spec.scale!r} * numerator"
    full = f" AND period_index - {spec.window_periods - 1} >= (SELECT lo FROM bounds)" if spec.window_periods else ""
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT period_index, dimension, group_value, numerator, denominator, {value} AS value, "
        f"{top_col} AS top_contributions, numerator_part, denominator_part\nFROM windowed{top_join}\nWHERE period_index BETWEEN greatest($start, (SELECT lo FROM bounds)) AND $last{full}\n"
        "ORDER BY period_index, dimension, group_value"
    )


# ---- the plan ------------------------------------------------------------------------


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
            parts.append(PartRef(query.table, column, key.expand is not None, key.scoped))
        last = last_index(end_dates[spec.grain], spec.grain)
        refs.append(IndicatorQuery(spec, measure if spec.measure_scoped else None, start, last,
                                   indicator_sql(spec, *parts)))
    statements = tuple((q.table, aggregate_sql(q), q.key) for q in queries.values())
    measures = {q.key: tuple(sorted(q.measures)) for q in queries.values() if q.key.scoped}
    users = {q.table: tuple(q.indicators) for q in queries.values()}
    return QueryPlan(statements, tuple(refs), dict(end_dates), measures, users)


def execute_plan(con, plan: QueryPlan, progress=None) -> list[tuple[IndicatorQuery, list[tuple]]]:
    """Run a plan on a DuckDB connection.

    Rows are (period_index, dimension, group, numerator, denominator, value, top_contributions,
    numerator_part, denominator_part): top_contributions is the list of the largest
    contributions to a cost total (None otherwise); the parts are, for rolling and cumulative
    series, the period's own numerator and denominator before the window sums them (None
    otherwise), so that disclosure control knows the monthly parts of a series.

    ``progress(done, total)`` is called after each statement.
    """
    from monitoring.errors import database_boundary

    total = len(plan.aggregate_sql) + len(plan.indicators)
    for n, (table, sql, key) in enumerate(plan.aggregate_sql, 1):
        users = ", ".join(repr(i) for i in plan.users.get(table, ()))
        with database_boundary(f"computing source '{key.source}' ({key.grain}) for indicator(s) {users}"):
            con.execute(sql, plan.parameters(key))
        if progress:
            progress(n, total)
    results, done = [], {}
    for n, query in enumerate(plan.indicators, len(plan.aggregate_sql) + 1):
        key = (query.sql, tuple(sorted(query.parameters().items())))
        if key not in done:  # an indicator shared by several models is computed once
            with database_boundary(f"computing indicator '{query.spec.id}'"):
                done[key] = con.execute(query.sql, query.parameters()).fetchall()
        results.append((query, done[key]))
        if progress:
            progress(n, total)
    for table, _sql, _key in plan.aggregate_sql:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return results
