"""The person-month panel ``person_month``, built by the engine from the contract tables.

One row per person per calendar month in which the person

- is obliged to leave: a final decision on or before the month's last day;
- is resident in a centre on the month's first day or enters one during the month
  (a residence spell ``[date_from, date_to)`` overlaps the month);
- has not exited before the month (an exit in the month gives the month's ``exit_type``).

The panel runs to the month of the latest date in the registers (the extract's observation
end) unless ``last_month`` is given. The query is in ``panel.sql`` next to this module,
written once in the SQL that DuckDB, PostgreSQL and Spark share; it is parsed into a
sqlglot tree and rendered in each engine's dialect, so every engine builds the same panel.
docs/data-contract.md defines every column.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlglot import exp

from monitoring.compiler import alias, col, ident, lit
from monitoring.contract import PANEL_COLUMNS
from monitoring.engines import as_engine

#: (table, column) of every date that can be the observation end of the registers.
OBSERVATION_DATES = (("residence", "date_from"), ("residence", "date_to"), ("decisions", "decision_date"),
                     ("participation", "start_date"), ("participation", "end_date"),
                     ("applications", "application_date"), ("exits", "exit_date"), ("surveys", "survey_date"))
#: The dates the first month of the panel's calendar can come from.
FIRST_DATES = (("residence", "date_from"), ("participation", "start_date"))


def panel_sql() -> str:
    """The panel query as written (before the calendar and the last month are set)."""
    return resources.files("monitoring").joinpath("panel.sql").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _parsed() -> Any:
    import sqlglot

    return sqlglot.parse_one(panel_sql(), read="duckdb")


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def bounds_tree() -> exp.Select:
    """One row: the latest and earliest dates the panel's bounds come from (scalar subqueries)."""

    def scalar(func, table: str, column: str, name: str) -> exp.Expression:
        inner = exp.select(func(this=col(column))).from_(exp.to_table(table, quoted=True))
        return alias(exp.Subquery(this=inner), name)

    latest = [scalar(exp.Max, t, c, f"max_{n}") for n, (t, c) in enumerate(OBSERVATION_DATES)]
    earliest = [scalar(exp.Min, t, c, f"min_{n}") for n, (t, c) in enumerate(FIRST_DATES)]
    return exp.select(*latest, *earliest)


def panel_bounds(row: tuple, last_month: dt.date | None) -> tuple[int, int] | None:
    """(first, last) month index of the panel from the bounds row; None when the registers are empty."""
    latest = [d for d in row[:len(OBSERVATION_DATES)] if d is not None]
    earliest = [d for d in row[len(OBSERVATION_DATES):] if d is not None]
    if not latest or not earliest:
        return None
    ends = [d - dt.timedelta(days=1) if (t, c) == ("residence", "date_to") else d
            for (t, c), d in zip(OBSERVATION_DATES, row) if d is not None]
    last = _month(last_month) if last_month is not None else max(_month(d) for d in ends)
    return min(_month(d) for d in earliest), last


def panel_tree(first_month: int, last_month: int, query: exp.Select | None = None) -> exp.Select:
    """The panel's SELECT for the months ``first_month``..``last_month`` (month indices).

    ``query``: another parsed formulation of the panel (the tests compare earlier ones)."""

    tree = exp.replace_placeholders((_parsed() if query is None else query).copy(), last_m=lit(int(last_month)))
    months = exp.values([(m,) for m in range(first_month, max(first_month, last_month) + 1)], alias="v", columns=["m"])
    calendar = exp.select(col("m")).from_(months)
    numbers = exp.select(col("person_id"), alias(exp.Window(this=exp.RowNumber(), order=exp.Order(
        expressions=[exp.Ordered(this=col("person_id"))])), "pid")).from_(exp.to_table("persons", quoted=True))
    return tree.with_(ident("person_number"), as_=numbers).with_(ident("calendar"), as_=calendar)


def build_panel(con: Any, *, last_month: dt.date | None = None) -> int:
    """Rebuild ``person_month`` from the contract tables; returns its number of rows.

    ``con`` is an engine (:mod:`monitoring.engines`) or a DuckDB connection (the store).
    Runs inside the caller's transaction when there is one (the loader rebuilds the panel
    in the same transaction as the load, so the two never disagree).
    """

    engine = as_engine(con)
    if last_month is not None:
        last_month = last_month.replace(day=1)
    (row,) = engine.fetch(bounds_tree())
    bounds = panel_bounds(row, last_month)
    return engine.build_panel(panel_tree(*bounds) if bounds else None)


def panel_columns() -> tuple[str, ...]:
    """The panel's column names, in order."""
    return tuple(name for name, _, _ in PANEL_COLUMNS)
