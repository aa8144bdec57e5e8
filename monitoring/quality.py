"""Data-quality checks run with every monitoring run.

Each check is a small function returning :class:`QualityFinding` values:

* ``centre_gap`` (QC001): a centre that had residents in the panel last month has none
  this month: a missing centre extract, or a closure to confirm.
* ``missing_extract`` (QC002): a register table with records in most recent months has no
  record dated in a month: its extract is late or missing.
* ``stale_load`` (QC003): the latest load is older than ``max_load_age_days``; on another
  engine (no load bookkeeping there) ``unchanged_registers``: the registers' content
  fingerprint has not changed for that long.

QC001 and QC002 read the registers through aggregate queries built as sqlglot trees and
rendered in the engine's dialect (the store's DuckDB, PostgreSQL, Spark): the same
findings on every engine.
* ``outlier`` (QC004): an indicator's total is far outside its own history: robust
  z-score ``0.6745 * (x - median) / MAD`` over up to 24 earlier periods (at least 6), beyond
  ``z_limit`` (3.5, Iglewicz and Hoaglin), *and* at least 25 % away from the median (so a
  very steady series does not flag changes too small to matter).
* ``denominator_collapse`` (QC005): the denominator of a rate (total, or a centre's count
  of residents) fell below half of its median over the previous 6 periods, that median
  being at least 20.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence

from monitoring.engines import as_engine
from monitoring.errors import MonitoringError
from monitoring.sqlcompile import period_label

EVENT_DATES = {
    "residence": "date_from", "decisions": "decision_date", "participation": "start_date",
    "applications": "application_date", "exits": "exit_date", "surveys": "survey_date",
}
Z_LIMIT = 3.5
MIN_RELATIVE_DEVIATION = 0.25
MIN_DENOMINATOR_LEVEL = 20.0
HISTORY = 24
MIN_HISTORY = 6


@dataclass(frozen=True)
class QualityFinding:
    """One data-quality finding."""

    check_id: str
    severity: str  # warning | error
    message: str
    model_id: str | None = None
    indicator_id: str | None = None
    period: str | None = None
    subject: str | None = None  # a centre, a table, a group
    value: float | None = None

    def render(self) -> str:
        where = " ".join(filter(None, [self.model_id, self.indicator_id, self.period, self.subject]))
        return f"{self.severity} {self.check_id} {where}: {self.message}"


def deduplicate(findings: list[QualityFinding]) -> list[QualityFinding]:
    """Drop findings repeated for another model (an indicator shared by models gives the same finding)."""
    seen, out = set(), []
    for f in findings:
        key = (f.check_id, f.indicator_id, f.period, f.subject, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _engine(registers):
    """An engine for the registers: an Engine as is, a DuckDB connection (the store) wrapped."""

    return as_engine(registers)


CHECKED_TABLES = {"QC001": ("person_month",)}  # QC002: the table it names


def tables_checked(finding: QualityFinding) -> tuple[str, ...]:
    """The tables a register finding (QC001, QC002) was read from: where it may be provisional
    (:func:`monitoring.provisional.month_provisional`)."""
    if finding.check_id == "QC002":
        return (finding.subject,) if finding.subject else ()
    return CHECKED_TABLES.get(finding.check_id, ())


def centre_months(registers) -> set[tuple[str, int]]:
    """(centre, month index) of every centre with residents in the panel: one aggregate query,
    rendered in the engine's dialect."""
    from sqlglot import exp

    engine = _engine(registers)
    month = engine.compiler.month_index(exp.column("month", quoted=True))
    centre = exp.column("centre_id", quoted=True)
    tree = (exp.select(centre, month.as_("mi")).from_(exp.to_table("person_month", quoted=True))
            .where(exp.Not(this=exp.Is(this=centre.copy(), expression=exp.null()))).group_by(centre.copy(), month.copy()))
    return {(str(c), int(m)) for c, m in engine.fetch(tree)}


def centre_gaps(registers, months: Iterable[int]) -> list[QualityFinding]:
    """Centres with panel rows in the month before but none in the month (``registers``: the
    store's connection or an engine; the same query on every engine)."""
    wanted = set(months)
    if not wanted:
        return []
    present = centre_months(registers)
    gaps = sorted((m + 1, c) for c, m in present if m + 1 in wanted and (c, m + 1) not in present)
    return [QualityFinding("QC001", "warning",
                           f"centre {c!r} had residents obliged to leave in {period_label(m - 1, 'month')} but none in "
                           f"{period_label(m, 'month')}; check that its data were extracted", period=period_label(m, "month"),
                           subject=str(c)) for m, c in gaps]


def event_month_counts(registers, table: str, column: str) -> dict[int, int]:
    """Records of ``table`` per month of ``column`` (a date): one aggregate query in the engine."""
    from sqlglot import exp

    engine = _engine(registers)
    date = exp.column(column, quoted=True)
    month = engine.compiler.month_index(date)
    tree = (exp.select(month.as_("mi"), exp.Count(this=exp.Star()).as_("n")).from_(exp.to_table(table, quoted=True))
            .where(exp.Not(this=exp.Is(this=date.copy(), expression=exp.null()))).group_by(month.copy()))
    return {int(m): int(n) for m, n in engine.fetch(tree)}


def missing_extracts(registers, months: Iterable[int]) -> list[QualityFinding]:
    """Register tables with no record dated in a month though they had records in most recent months."""
    wanted = sorted(set(months))
    findings = []
    present = _engine(registers).tables()
    for table, column in EVENT_DATES.items():
        if table not in present:
            continue
        counts = event_month_counts(registers, table, column)
        for m in wanted:
            recent = sum(counts.get(m - k, 0) > 0 for k in range(1, 7))
            if counts.get(m, 0) == 0 and recent >= 4:
                findings.append(QualityFinding(
                    "QC002", "warning",
                    f"table '{table}' has no record dated in {period_label(m, 'month')} though it has records in "
                    f"{recent} of the 6 months before; its extract may be late or missing",
                    period=period_label(m, "month"), subject=table))
    return findings


def stale_load(con, today: dt.date, max_age_days: int = 45) -> list[QualityFinding]:
    """The latest load is old: the monthly extract did not arrive (the store's load bookkeeping)."""
    loaded = con.execute("SELECT max(loaded_at) FROM loads").fetchall()[0][0]
    if loaded is None:
        return []
    age = (today - loaded.date()).days
    if age <= max_age_days:
        return []
    return [QualityFinding("QC003", "warning", f"the latest load is {age} days old (loaded {loaded.date()}); "
                           f"expected a new extract at least every {max_age_days} days", subject="loads", value=float(age))]


def unchanged_registers(since: dt.date | None, today: dt.date, engine: str,
                        max_age_days: int = 45) -> list[QualityFinding]:
    """QC003 on another engine, which keeps no loads: the registers' content (their fingerprint)
    has not changed since ``since``, the first run that saw it (None: this run is the first)."""
    if since is None:
        return []
    age = (today - since).days
    if age <= max_age_days:
        return []
    return [QualityFinding("QC003", "warning", f"the registers on {engine} have not changed for {age} days (first seen "
                           f"unchanged on {since}); expected a new extract at least every {max_age_days} days",
                           subject="registers", value=float(age))]


def robust_z(value: float, history: Sequence[float]) -> float | None:
    """Robust z-score of ``value`` against ``history`` (None when MAD is 0 or history short)."""
    if len(history) < MIN_HISTORY:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(h - median) for h in history)
    if mad == 0:
        return None
    return 0.6745 * (value - median) / mad


def outliers(model_id: str, indicator_id: str, grain: str, series: dict[int, float | None],
             periods: Iterable[int], z_limit: float = Z_LIMIT, min_shown: float = 0.0) -> list[QualityFinding]:
    """Totals of an indicator far outside their own history.

    Values and medians below ``min_shown`` (the disclosure threshold, for counts) are not echoed.
    """
    findings = []
    for p in sorted(periods):
        value = series.get(p)
        history = [v for q, v in sorted(series.items()) if p - HISTORY <= q < p and v is not None]
        z = robust_z(value, history) if value is not None else None
        material = z is not None and abs(value - statistics.median(history)) >= MIN_RELATIVE_DEVIATION * abs(statistics.median(history))
        if z is not None and abs(z) > z_limit and material:
            median = statistics.median(history)
            shown = min(abs(value), abs(median)) >= min_shown
            numbers = f"value {value:.4g} is" if shown else "the value is"
            middle = f"median {median:.4g} over" if shown else "over"
            findings.append(QualityFinding(
                "QC004", "warning", f"{numbers} far outside its history (robust z = {z:.1f}; {middle} {len(history)} periods)",
                model_id, indicator_id, period_label(p, grain), "total", value if shown else None))
    return findings


def collapsing_denominators(model_id: str, indicator_id: str, grain: str,
                            series: dict[tuple[str, int], float | None], periods: Iterable[int],
                            min_level: float = MIN_DENOMINATOR_LEVEL, min_shown: float = 0.0) -> list[QualityFinding]:
    """Denominators (per subject: 'total' or a centre) that fell below half their recent median.

    The median, a count of cases, is echoed only when it reaches ``min_shown`` (the model's
    count threshold); the collapsed value never is."""
    findings = []
    wanted = set(periods)
    for (subject, p), value in sorted(series.items()):
        if p not in wanted or value is None:
            continue
        recent = [series.get((subject, p - k)) for k in range(1, 7)]
        recent = [v for v in recent if v is not None]
        if len(recent) < 3:
            continue
        median = statistics.median(recent)
        if median >= min_level and value < 0.5 * median:
            shown = f" ({median:.0f})" if median >= min_shown else ""
            findings.append(QualityFinding(  # the value itself may be a small count: not echoed
                "QC005", "warning", f"denominator fell to less than half of its median{shown} over the "
                f"previous {len(recent)} periods", model_id, indicator_id, period_label(p, grain), subject))
    return findings


def stored_findings(con, run_id: int | None = None) -> tuple[int, list[QualityFinding]]:
    """(run id, findings) of a run; the latest run by default."""

    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    latest = con.execute("SELECT max(run_id) FROM monitoring_runs").fetchall()[0][0] if "monitoring_runs" in tables else None
    if latest is None:
        raise MonitoringError("the store holds no monitoring runs yet; run 'tiltak monitor run MODEL --db FILE' first")
    run = latest if run_id is None else run_id
    if run > latest:
        raise MonitoringError(f"--run {run}: no such run; the latest run is {latest}")
    rows = con.execute("SELECT check_id, severity, message, model_id, indicator_id, period, subject, value FROM monitoring_quality "
                       "WHERE run_id = ? ORDER BY check_id, model_id, indicator_id, period, subject", [run]).fetchall()
    return run, [QualityFinding(*r) for r in rows]
