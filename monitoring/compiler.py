"""Stage-A queries as sqlglot trees, one compiler per SQL dialect.

:class:`Compiler` builds the query of one :class:`monitoring.sqlcompile.AggregateQuery`
from parts: the source rows in range and scope (``base``), the disaggregations joined to
them (``src``) and the grouping. Each aggregate kind is compiled by its own method
``visit_<kind>`` (ibis' ``visit_<Operation>`` pattern; an unknown kind is a clear error);
a dialect subclass overrides only what differs. User expressions (filters, conditions)
enter as the screened trees of :mod:`monitoring.expressions`, never as text; identifiers
and literals are quoted by sqlglot when the tree is rendered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlglot import exp

from monitoring.aggregate_query import CENTRAL, MISSING_GROUP, SUM_TYPE, TOTAL, AggregateQuery
from monitoring.errors import MonitoringError
from monitoring.expressions import tree_of
from monitoring.indicators import PERSON_DIMENSIONS, SOURCES, Aggregate
from monitoring.periods import index_of_date


class CompileError(MonitoringError):
    """An aggregate no compiler rule exists for (a bug, not a user error)."""


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def lit(value: Any) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, ident(name))


def cast(expression: exp.Expression, to: str) -> exp.Cast:
    return exp.cast(expression, exp.DataType.build(to))


def and_all(conditions: list[exp.Expression]) -> exp.Expression | None:
    conditions = [c for c in conditions if c is not None]
    return exp.and_(*conditions) if conditions else None


class Compiler:
    """The dialect-neutral compiler (rendered as DuckDB SQL by default)."""

    dialect = "duckdb"

    def adapt(self, tree: exp.Expression) -> exp.Expression:
        """A tree with the nodes this dialect renders wrongly replaced (none by default)."""
        return tree

    # ---- months and periods ----------------------------------------------------------

    def month_index(self, date: exp.Expression) -> exp.Expression:
        """year * 12 + month - 1 of a DATE, as an integer."""
        year = cast(exp.Extract(this=exp.var("YEAR"), expression=date), "INT")
        month = cast(exp.Extract(this=exp.var("MONTH"), expression=date), "INT")
        return exp.Sub(this=exp.Add(this=exp.Mul(this=year, expression=lit(12)), expression=month), expression=lit(1))

    def text_month_index(self, text: exp.Expression) -> exp.Expression:
        """The month index of a 'YYYY-MM' text (cost periods)."""
        year = cast(exp.Substring(this=text, start=lit(1), length=lit(4)), "INT")
        month = cast(exp.Substring(this=text, start=lit(6), length=lit(2)), "INT")
        return exp.Sub(this=exp.Add(this=exp.Mul(this=year, expression=lit(12)), expression=month), expression=lit(1))

    def month_start(self, date: exp.Expression) -> exp.Expression:
        return cast(exp.DateTrunc(this=date, unit=exp.var("MONTH")), "DATE")

    def period_index(self, month_index: exp.Expression, grain: str) -> exp.Expression:
        if grain == "month":
            return month_index
        return exp.IntDiv(this=month_index, expression=lit(3 if grain == "quarter" else 12))

    def offsets(self, count: int, name: str) -> exp.Expression:
        """A table of the integers 0..count-1 in column ``k``."""
        return exp.values([(k,) for k in range(max(count, 1))], alias=name, columns=["k"])

    # ---- fingerprints of the registers ------------------------------------------------

    def row_hash(self, columns: list[exp.Expression]) -> exp.Expression:
        """A 64-bit hash of one row's ``columns`` (NULL distinct from every value), for the
        order-independent content fingerprint of a table (a sum of these over its rows).
        DuckDB: ``hash(c1, ..., cn)``."""
        return exp.Anonymous(this="hash", expressions=columns)

    # ---- aggregates: one rule per kind -------------------------------------------------

    def visit(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        method = getattr(self, f"visit_{agg.kind}", None)
        if method is None:
            raise CompileError(f"no rule compiles an aggregate of kind {agg.kind!r} for {self.dialect}")
        return method(agg, n, grain)

    def flags(self, agg: Aggregate, n: int) -> exp.Expression | None:
        return and_all([col(f"_f{n}{s}") if part else None for s, part in (("a", agg.filter), ("b", agg.condition))])

    def filtered(self, aggregate: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
        return aggregate if condition is None else exp.Filter(this=aggregate, expression=exp.Where(this=condition))

    def visit_count(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        return self.filtered(exp.Count(this=exp.Star()), self.flags(agg, n))

    def visit_count_distinct(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        if unique_per_month(agg, grain):
            return self.visit_count(agg, n, grain)
        return self.filtered(exp.Count(this=exp.Distinct(expressions=[col(f"_v{n}")])), self.flags(agg, n))

    def visit_sum(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        total = self.filtered(exp.Sum(this=col(f"_v{n}")), self.flags(agg, n))
        return exp.Coalesce(this=total, expressions=[cast(lit(0), SUM_TYPE)])

    def visit_n(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        return self.filtered(exp.Count(this=col(f"_v{n}")), self.flags(agg, n))

    def visit_histogram(self, agg: Aggregate, n: int, grain: str) -> exp.Expression:
        present = exp.Not(this=exp.Is(this=col(f"_v{n}"), expression=exp.null()))
        return self.filtered(exp.Count(this=exp.Star()), and_all([self.flags(agg, n), present]))

    visit_top = visit_sum

    def value_of(self, agg: Aggregate, source_alias: str) -> exp.Expression:
        """The value column an aggregate reads (exact decimals for sums, doubles for histograms)."""
        column = col(agg.column, source_alias)
        if agg.kind in ("sum", "top"):
            return cast(column, SUM_TYPE)
        if agg.kind == "histogram":
            return cast(column, "DOUBLE")
        return column

    # ---- the query ---------------------------------------------------------------------

    def aggregate_query(self, query: AggregateQuery, end_date: dt.date) -> exp.Select:
        """The stage-A query of ``query`` for complete periods before ``end_date``."""
        key = query.key
        aggs = list(query.columns)
        dims = sorted(query.dimensions, key=list(PERSON_DIMENSIONS).index)
        end_month = index_of_date(end_date, "month")
        ctes = [("base", self.base(query, aggs, dims, end_month)), ("src", self.src(query, dims))]
        head = [col("_p"), *([col("_scope")] if key.scoped else [])]
        if key.expand is not None:
            ctes += self.spread(query, dims, end_date)
            outputs, table = [alias(exp.Count(this=exp.Distinct(expressions=[col("_v0")])), query.columns[aggs[0]])], "spread"
        elif key.keyed is not None:
            outputs = [alias(col("_k"), "k"), alias(self.visit(aggs[0], 0, key.grain), query.columns[aggs[0]])]
            head.append(col("_k"))
            table = "src"
        else:
            outputs = [alias(self.visit(a, n, key.grain), query.columns[a]) for n, a in enumerate(aggs)]
            table = "src"
        select = exp.select(
            alias(col("_p"), "period_index"), alias(self.dimension_case(dims), "dimension"),
            alias(self.group_case(dims), "group_value"),
            alias(col("_scope") if key.scoped else cast(exp.null(), "VARCHAR"), "scope"), *outputs,
        ).from_(exp.to_table(table, quoted=True))
        select = select.group_by(self.grouping_sets(head, dims))
        for name, body in ctes:
            select = select.with_(ident(name), as_=body)
        return select

    def base(self, query: AggregateQuery, aggs: list[Aggregate], dims: list[str], end_month: int) -> exp.Select:
        """The source rows in range and scope, with the flags and values of every aggregate."""

        key = query.key
        source = SOURCES[key.source]
        date = col(source.date_column, "s")
        month = self.text_month_index(date) if key.source == "costs" else self.month_index(date)
        columns = [alias(month, "_m")]
        if source.person_column:
            columns += [alias(self.month_start(date), "_month"), alias(col(source.person_column, "s"), "_pid")]
        columns += [alias(col(c, "s"), f"o_{d}") for d, c in source.own_dimensions.items()]
        if key.keyed is not None and key.keyed.kind == "top":
            centre = col("centre_id", "s")
            columns.append(alias(exp.Coalesce(this=centre, expressions=[lit(CENTRAL)]), "_k"))
        for n, agg in enumerate(aggs):
            if agg.filter:
                columns.append(alias(exp.paren(tree_of(agg.filter, agg.source, "s")), f"_f{n}a"))
            if agg.condition:
                columns.append(alias(exp.paren(tree_of(agg.condition, agg.source, "s")), f"_f{n}b"))
            if agg.column:
                columns.append(alias(self.value_of(agg, "s"), f"_v{n}"))
        if key.keyed is not None and key.keyed.kind == "histogram":
            columns.append(alias(self.value_of(aggs[0], "s"), "_k"))
        where = [exp.LT(this=month.copy(), expression=lit(end_month))]
        select = exp.select(*columns).from_(exp.alias_(exp.to_table(source.name, quoted=True), ident("s")))
        if key.scoped:
            scope, join, condition = self.measure_scope(query, month)
            select = select.select(alias(scope, "_scope"))
            if join is not None:
                select = select.join(join[0], on=join[1])
            where.append(condition)
        return select.where(and_all(where))

    def measures(self, query: AggregateQuery) -> list[exp.Expression]:
        return [lit(m) for m in sorted(query.measures)]

    def measure_scope(self, query: AggregateQuery, month: exp.Expression):
        """(scope column, (join table, on) or None, condition) restricting to the measures.

        Sources with a measure column are scoped by it. Other person-level sources (surveys,
        applications, exits) count a row for a measure once the person has started it (by
        the end of the row's month); a person who started several measures counts for each."""
        source = SOURCES[query.key.source]
        if source.measure_column is not None:
            column = col(source.measure_column, "s")
            return column, None, exp.In(this=column.copy(), expressions=self.measures(query))
        first = (exp.select(alias(col("person_id"), "_mp"), alias(col("measure"), "_ms_measure"),
                            alias(exp.Min(this=col("start_date")), "_first_start"))
                 .from_(exp.to_table("participation", quoted=True))
                 .where(exp.In(this=col("measure"), expressions=self.measures(query)))
                 .group_by(col("person_id"), col("measure")))
        join = exp.Subquery(this=first, alias=exp.TableAlias(this=ident("_ms")))
        on = exp.EQ(this=col("_mp", "_ms"), expression=col(source.person_column, "s"))
        started = exp.LTE(this=self.month_index(col("_first_start", "_ms")), expression=month.copy())
        return col("_ms_measure", "_ms"), (join, on), started

    def src(self, query: AggregateQuery, dims: list[str]) -> exp.Select:
        """Base rows with their period and the disaggregations they are grouped by."""
        key = query.key
        source = SOURCES[key.source]
        columns = [alias(self.period_index(col("_m", "b"), key.grain), "_p"), exp.Column(this=exp.Star(), table=ident("b"))]
        select = exp.select(*columns).from_(exp.alias_(exp.to_table("base", quoted=True), ident("b")))
        joined = set()
        for dim in dims:
            if dim in source.own_dimensions:
                select = select.select(alias(col(f"o_{dim}", "b"), f"d_{dim}"))
            elif key.source == "costs":  # region via the centre
                select = select.select(alias(col("region", "c"), f"d_{dim}"))
                if "c" not in joined:
                    joined.add("c")
                    select = select.join(exp.alias_(exp.to_table("centres", quoted=True), ident("c")),
                                         on=exp.EQ(this=col("centre_id", "c"), expression=col("o_centre", "b")),
                                         join_type="left")
            else:
                select = select.select(alias(col(PERSON_DIMENSIONS[dim], "pm"), f"d_{dim}"))
                if "pm" not in joined:
                    joined.add("pm")
                    on = exp.and_(exp.EQ(this=col("person_id", "pm"), expression=col("_pid", "b")),
                                  exp.EQ(this=col("month", "pm"), expression=col("_month", "b")))
                    select = select.join(exp.alias_(exp.to_table("person_month", quoted=True), ident("pm")),
                                         on=on, join_type="left")
        return select

    def spread(self, query: AggregateQuery, dims: list[str], end_date: dt.date) -> list[tuple[str, exp.Select]]:
        """Each qualifying (person, period) spread over the periods whose window contains it."""
        key = query.key
        agg, mode, periods, start = key.expand
        last = index_of_date(end_date - dt.timedelta(days=1), key.grain)
        carried = [f"d_{d}" for d in dims] + (["_scope"] if key.scoped else [])
        condition = and_all([self.flags(agg, 0), exp.GTE(this=col("_p"), expression=lit(int(start)))
                             if mode == "cumulative" else None])
        qualifying = exp.select(col("_p"), col("_v0"), *[col(c) for c in carried]).distinct() \
            .from_(exp.to_table("src", quoted=True))
        if condition is not None:
            qualifying = qualifying.where(condition)
        reach = int(periods) if mode == "rolling" else last - int(start) + 1
        shifted = exp.Add(this=col("_p", "q"), expression=col("k", "r"))
        spread = exp.select(alias(shifted, "_p"), col("_v0", "q"), *[col(c, "q") for c in carried]) \
            .from_(exp.alias_(exp.to_table("qualifying", quoted=True), ident("q"))) \
            .join(self.offsets(reach, "r"), join_type="cross") \
            .where(exp.LTE(this=shifted.copy(), expression=lit(last)))
        return [("qualifying", qualifying), ("spread", spread)]

    def dimension_case(self, dims: list[str]) -> exp.Expression:
        if not dims:
            return lit(TOTAL)
        case = exp.Case()
        for d in dims:
            case = case.when(exp.EQ(this=exp.Grouping(expressions=[col(f"d_{d}")]), expression=lit(0)), lit(d))
        return case.else_(lit(TOTAL))

    def group_case(self, dims: list[str]) -> exp.Expression:
        if not dims:
            return lit("")
        case = exp.Case()
        for d in dims:
            value = exp.Coalesce(this=col(f"d_{d}"), expressions=[lit(MISSING_GROUP)])
            case = case.when(exp.EQ(this=exp.Grouping(expressions=[col(f"d_{d}")]), expression=lit(0)), value)
        return case.else_(lit(""))

    def grouping_sets(self, head: list[exp.Expression], dims: list[str]) -> exp.Expression:
        sets = [exp.Tuple(expressions=[h.copy() for h in head])]
        sets += [exp.Tuple(expressions=[*(h.copy() for h in head), col(f"d_{d}")]) for d in dims]
        return exp.GroupingSets(expressions=sets)


def unique_per_month(agg: Aggregate, grain: str) -> bool:
    """The panel has one row per person and month: a distinct count of persons in a month is a row count."""
    return agg.source == "person_month" and agg.column == "person_id" and grain == "month"


class DuckDBCompiler(Compiler):
    dialect = "duckdb"


class PostgresCompiler(Compiler):
    dialect = "postgres"

    def adapt(self, tree: exp.Expression) -> exp.Expression:
        """sqlglot renders a date from its parts as DATE_FROM_PARTS, which PostgreSQL lacks."""
        def make_date(node):
            if isinstance(node, exp.DateFromParts):
                parts = [node.args.get("year"), node.args.get("month"), node.args.get("day")]
                return exp.Anonymous(this="MAKE_DATE", expressions=[p.copy() for p in parts])
            return node

        return tree.transform(make_date)

    def row_hash(self, columns: list[exp.Expression]) -> exp.Expression:
        """``hashtextextended`` of the row's text (a row constructor cast to text: NULL is
        empty, an empty text is ``""``)."""
        row = cast(exp.Tuple(expressions=columns), "TEXT")
        return exp.Anonymous(this="hashtextextended", expressions=[row, lit(0)])


class SparkCompiler(Compiler):
    dialect = "spark"

    def row_hash(self, columns: list[exp.Expression]) -> exp.Expression:
        """``xxhash64`` over (is NULL, value) per column: xxhash64 skips NULL arguments, so the
        flag keeps (a, NULL) and (NULL, a) apart."""
        args: list[exp.Expression] = []
        for column in columns:
            args += [exp.Is(this=column.copy(), expression=exp.null()), column]
        return exp.Anonymous(this="xxhash64", expressions=args)


COMPILERS = {"duckdb": DuckDBCompiler, "postgres": PostgresCompiler, "spark": SparkCompiler}


def compiler_for(dialect: str) -> Compiler:
    return COMPILERS[dialect]()
