"""Provisional periods: values at the edge of the data that may still change.

A period of an indicator is *provisional* when

* any month it needs (the period itself, or for a rolling window or a cumulative series the
  months up to the period's end) lies after the last complete month of the data, or
* it ends within the reporting lag the data contract declares for a table the indicator
  reads (``Table.reporting_lag_months``; e.g. ``participation``: 2 months, so with data
  complete through 2014-12 the periods ending in 2014-11 and 2014-12 are provisional).

The last complete month is the one of the latest monitoring run (``monitoring_runs``), so
the marking is decided from what is stored and is the same in every output. Provisional
values are shown (marked), but alerts and the quality checks on values hold them back
unless asked.

One rule for everything at the edge of the data: :func:`month_provisional` (a month lies
after the last complete month less the largest declared lag of the tables read). It marks
the periods of indicators (through the last month of a period) and decides which register
findings a run holds back (QC001 reads the panel, ``person_month``; QC002 the table it names:
:func:`monitoring.quality.tables_checked`), so a centre without residents in a month is held
back exactly when a count of that centre's residents in that month is marked provisional.
The panel has no declared lag of its own: its rows and centres come from the residence,
persons, decisions, exits and centres tables (participation only adds the measure columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from monitoring.contract import REPORTING_LAGS
from monitoring.indicators import GRAIN_MONTHS, IndicatorSpec
from monitoring.sqlcompile import period_label


@dataclass(frozen=True)
class Edge:
    """Where the data ends for one indicator: periods ending after ``settled`` are provisional."""

    last_complete: int  # month index of the last complete month
    lag: int  # the largest declared lag of the tables the indicator reads
    tables: tuple[str, ...]  # the tables with that lag

    @property
    def settled(self) -> int:
        """Month index of the last month no longer provisional."""
        return self.last_complete - self.lag


def tables_read(spec: IndicatorSpec) -> tuple[str, ...]:
    """The contract tables an indicator's numerator and denominator read directly."""
    return tuple(sorted({agg.source for agg in (spec.numerator, spec.denominator) if agg is not None}))


def lag_of(tables: Iterable[str]) -> int:
    """The largest reporting lag the data contract declares for ``tables`` (months; 0: none)."""
    return max((REPORTING_LAGS.get(t, 0) for t in tables), default=0)


def month_provisional(month: int, tables: Iterable[str], last_complete: int | None) -> bool:
    """Whether a month (an index) of what is read from ``tables`` may still change: it lies
    after the last complete month less the tables' largest declared lag (never, when the
    last complete month is unknown). The one rule behind every provisional marking."""
    if last_complete is None:
        return False
    return month > last_complete - lag_of(tables)


def edge(spec: IndicatorSpec, last_complete: int) -> Edge:
    """The edge of the data for ``spec`` given the last complete month (a month index)."""
    tables = tables_read(spec)
    lag = lag_of(tables)
    return Edge(last_complete, lag, tuple(t for t in tables if lag and REPORTING_LAGS.get(t, 0) == lag))


def period_end(period_index: int, grain: str) -> int:
    """Month index of the last month of a period."""
    if grain == "year":
        return period_index * 12 + 11
    months = GRAIN_MONTHS[grain]
    return period_index * months + months - 1


def is_provisional(spec: IndicatorSpec, period_index: int, last_complete: int | None) -> bool:
    """Whether a period of ``spec`` is provisional (never, when the last complete month is unknown).

    Windows and cumulative series end with their period, so a period needing a month after
    the last complete month is one that ends after it."""
    return month_provisional(period_end(period_index, spec.grain), tables_read(spec), last_complete)


def latest_last_month(con) -> int | None:
    """Month index of the last complete month of the latest monitoring run (None: no run)."""
    names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "monitoring_runs" not in names:
        return None
    row = con.execute("SELECT last_month FROM monitoring_runs WHERE last_month IS NOT NULL "
                      "ORDER BY run_id DESC LIMIT 1").fetchall()
    if not row:
        return None
    year, month = row[0][0].split("-")
    return int(year) * 12 + int(month) - 1


def footnote(specs: list[IndicatorSpec], last_complete: int | None) -> str:
    """The sentence explaining the marker, naming the lags behind it."""

    if last_complete is None:
        return ""
    lags = sorted({(t, REPORTING_LAGS[t]) for s in specs for t in edge(s, last_complete).tables})
    why = "; ".join(f"{t}: {n}-month reporting lag" for t, n in lags)
    return (f"provisional: the data are complete through {period_label(last_complete, 'month')}, and this period "
            "ends within a reporting lag the data contract declares" + (f" ({why})" if why else "")
            + " or needs a later month; the value may still change")
