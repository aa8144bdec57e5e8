"""The SQL a run would execute, as text for people (``tiltak monitor explain``).

Every query gets a short header in words before its SQL: for each indicator it serves,
the indicator's title, whose rows it counts, the grain, what each result column computes
from which table, and what stage B then does with those columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Sequence

from monitoring.aggregate_query import AggregateQuery
from monitoring.indicators import Aggregate, IndicatorSpec
from monitoring.monitored import MonitoredModel
from monitoring.periods import period_label
from monitoring.show import ShowError
from monitoring.sqlcompile import IndicatorQuery, PartRef, QueryPlan, compile_plan, index_of_date

GRAIN_WORDS = {"month": "per month", "quarter": "per quarter", "year": "per year"}


def aggregate_words(agg: Aggregate, shared_filter: str | None = None) -> str:
    """What one aggregate computes, in words: ``sum of total where total >= 1.85``
    (its filter left out when ``shared_filter`` says it already)."""
    words = {
        "count": "number of rows",
        "count_distinct": f"number of distinct {agg.column}",
        "sum": f"sum of {agg.column}",
        "n": f"number of non-null {agg.column}",
        "histogram": f"number of rows per value of {agg.column}",
        "top": f"the largest contributions to the sum of {agg.column}, by contributor",
    }[agg.kind]
    conditions = [c for c in (agg.filter, agg.condition) if c and c != shared_filter]
    return words + (f" where {' AND '.join(f'({c})' if len(conditions) > 1 else c for c in conditions)}"
                    if conditions else "")


def _rows(source: str, aggregates: list[Aggregate]) -> tuple[str, str | None]:
    """``surveys rows where <filter>`` when all the aggregates share one filter, else ``surveys rows``."""
    filters = {agg.filter for agg in aggregates}
    shared = filters.pop() if len(filters) == 1 else None
    return (f"{source} rows where {shared}" if shared else f"{source} rows"), shared


def _population(spec: IndicatorSpec, measure: str, source: str | None = None) -> str:
    """Whose rows are read: the measure's participants (or costs), or everyone."""
    source = source or spec.source
    if not spec.measure_scoped:
        return "everyone in the data" if source == "person_month" else f"all {source} rows"
    return f"costs of measure {measure}" if source == "costs" else f"participants in {measure}"


def _series_words(spec: IndicatorSpec) -> str:
    grain = GRAIN_WORDS[spec.grain]
    if spec.window_months:
        return f"{grain}, over a rolling window of {spec.window_months} months"
    return f"{grain}, running total from the model's start" if spec.cumulative else grain


def _part(part: PartRef | None, table: str | None) -> str:
    """A part's column, named bare inside its own query and with its query elsewhere."""
    if part is None:
        return ""
    return part.column if part.table == table else f"{part.table}.{part.column}"


def stage_b_words(ref: IndicatorQuery, table: str | None = None) -> str:
    """What stage B does with an indicator's columns: ``stage B: value = 100 x a2 / a3 (a share)``."""
    spec = ref.spec
    scale = f"{spec.scale:g} x " if spec.scale != 1 else ""
    numerator, denominator = _part(ref.numerator, table), _part(ref.denominator, table)
    if spec.kind.divides and denominator:
        value = f"{scale}{numerator} / {denominator}"
    else:
        value = f"{scale}{numerator}" + (f" ({denominator} counts the rows, for disclosure control)" if denominator else "")
    if ref.top is not None:
        value += f"; {_part(ref.top, table)} feeds the dominance rule of disclosure control"
    window = (f", each summed over the last {spec.window_periods} {spec.grain}s first" if spec.window_periods
              else ", each a running total from the start first" if spec.cumulative else "")
    return f"stage B: value = {value}{window} ({spec.type}: {spec.kind.summary})"


def query_header(query: AggregateQuery, plan: QueryPlan, measure: str) -> list[str]:
    """Header lines of one stage-A query: one per indicator it serves."""
    refs = {ref.spec.id: ref for ref in plan.indicators}
    lines = []
    for indicator in query.indicators:
        ref = refs[indicator]
        spec = ref.spec
        own = [(agg, column) for agg, column in query.columns.items() if agg in (spec.numerator, spec.denominator, spec.top)]
        rows, shared = _rows(query.key.source, [agg for agg, _ in own])
        columns = ", ".join(f"{column} = {aggregate_words(agg, shared)}" for agg, column in own)
        lines.append(f"-- {spec.id} ({_title(spec)}{_population(spec, measure, query.key.source)}, {_series_words(spec)}): "
                     f"from {rows}, {columns}; {stage_b_words(ref, query.table)}.")
    return lines


def _title(spec: IndicatorSpec) -> str:
    return f"{spec.title}, " if spec.title and spec.title != spec.id else ""


def _preamble(model: MonitoredModel, start: dt.date, dialect: str) -> list[str]:
    return [f"-- model {model.id} (measure {model.measure}), period from {start:%Y-%m}, {dialect} dialect",
            "-- month index 119987 (9999-01): stands for the first month after the last complete period (set by each run)",
            f"-- measures: the measure codes of the models in a run (here ['{model.measure}'])", ""]


def explain_text(model: MonitoredModel, indicators: Sequence[str] = (), dialect: str = "duckdb") -> str:
    """Stage-A SQL (in ``dialect``), each query under a header in words, and stage B in words."""

    specs = [s for s in model.specs if not indicators or s.id in indicators]
    unknown = sorted(set(indicators) - {s.id for s in model.specs})
    if unknown:
        raise ShowError(f"--indicator {unknown[0]!r}: not monitored by model '{model.id}'; expected one of "
                        + ", ".join(repr(s.id) for s in model.specs))
    start = dt.date(model.start_month // 12, model.start_month % 12 + 1, 1)
    placeholder = {g: dt.date(9999, 1, 1) for g in ("month", "quarter", "year")}
    plan = compile_plan([(s, model.measure, index_of_date(start, s.grain)) for s in specs], placeholder)
    out = _preamble(model, start, dialect)
    for query in plan.queries:
        key = query.key
        scope = f", measures {sorted(query.measures)}" if key.scoped else ""
        out += [f"-- stage A: {query.table}: source {key.source}, grain {key.grain}{scope}",
                *query_header(query, plan, model.measure), plan.sql(query, dialect) + ";", ""]
    for query in plan.indicators:
        spec = query.spec
        label = period_label(query.start, spec.grain)
        out += [f"-- stage B: indicator {spec.id} ({spec.type}, {spec.grain}); start {query.start}"
                + (f" ({label})" if label != str(query.start) else ""),
                f"--   {spec.id} ({_title(spec)}{_population(spec, model.measure)}, {_series_words(spec)}): "
                + stage_b_words(query).removeprefix("stage B: "), ""]
    return "\n".join(out)
