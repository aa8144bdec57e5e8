"""Monitoring runs: compute indicator values for complete periods and store them, safely.

A run

1. takes an exclusive lock file next to the store (``FILE.lock``) so that two runs never
   write at once (the second waits up to ``wait`` seconds, then refuses);
2. works out which (model, indicator, period) cells are missing or stale: the period is
   complete but was never computed, the definition changed (hash of the compiled SQL and
   the spec), or the data the indicator reads changed (content hashes of the loads);
3. computes the affected indicators for all their periods in one set-based pass each;
4. runs the data-quality checks;
5. writes everything in *one* transaction: the run record, the replaced values, the reason
   for every recomputation, the quality findings. A crash or ``kill -9`` before the commit
   leaves the previous values untouched; the next run redoes the work.

Unchanged inputs make a run a no-op: nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from logicmodel.fields import month_index
from monitoring import quality
from monitoring.compiler import alias, cast
from monitoring.contract import CONTRACT, LOADER_TABLES, PANEL_COLUMNS, TABLE_NAMES
from monitoring.engines.results import export, results_target
from monitoring.errors import MonitoringError, database_boundary
from monitoring.indicators import GRAIN_MONTHS, IndicatorSpec
from monitoring.migrations import Migration, register_migration
from monitoring.monitored import MonitoredModel
from monitoring.panel import build_panel
from monitoring.provisional import is_provisional, month_provisional
from monitoring.release import MIGRATION_STATEMENTS as RELEASE_MIGRATION
from monitoring.release import needs_release, publish
from monitoring.sqlcompile import compile_plan, execute_plan, index_of_date, last_index, period_label
from monitoring.store import Store, StoreError, writer_lock

MIGRATIONS = (
    Migration("monitoring", 1, "monitoring runs, values, computations and quality findings", (
        "CREATE TABLE monitoring_runs (run_id INTEGER NOT NULL, started_at TIMESTAMP NOT NULL, "
        "finished_at TIMESTAMP NOT NULL, models VARCHAR NOT NULL, load_id INTEGER, last_month VARCHAR, "
        "computed_cells INTEGER NOT NULL, status VARCHAR NOT NULL)",
        "CREATE TABLE monitoring_values (model_id VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL, "
        "grain VARCHAR NOT NULL, period VARCHAR NOT NULL, period_index INTEGER NOT NULL, "
        "dimension VARCHAR NOT NULL, group_value VARCHAR NOT NULL, numerator DOUBLE, denominator DOUBLE, "
        "value DOUBLE, run_id INTEGER NOT NULL, definition_hash VARCHAR NOT NULL, input_hash VARCHAR NOT NULL, "
        "load_id INTEGER)",
        "CREATE TABLE monitoring_periods (model_id VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL, "
        "period VARCHAR NOT NULL, period_index INTEGER NOT NULL, grain VARCHAR NOT NULL, cells INTEGER NOT NULL, "
        "run_id INTEGER NOT NULL, definition_hash VARCHAR NOT NULL, input_hash VARCHAR NOT NULL)",
        "CREATE TABLE monitoring_computations (run_id INTEGER NOT NULL, model_id VARCHAR NOT NULL, "
        "indicator_id VARCHAR NOT NULL, period VARCHAR NOT NULL, reason VARCHAR NOT NULL, "
        "definition_hash VARCHAR NOT NULL, input_hash VARCHAR NOT NULL)",
        "CREATE TABLE monitoring_quality (run_id INTEGER NOT NULL, model_id VARCHAR, check_id VARCHAR NOT NULL, "
        "severity VARCHAR NOT NULL, indicator_id VARCHAR, period VARCHAR, subject VARCHAR, value DOUBLE, "
        "message VARCHAR NOT NULL)",
    )),
)
MIGRATIONS += (
    Migration("monitoring", 2, "largest contributions to cost totals (dominance rule)", (
        "ALTER TABLE monitoring_values ADD COLUMN top_contributions DOUBLE[]",
    )),
)
MIGRATIONS += (
    Migration("monitoring", 3, "releases: what each run published and suppressed; monthly parts of series",
              RELEASE_MIGRATION),
)
for _migration in MIGRATIONS:
    register_migration(_migration)

PANEL_INPUTS = ("nationalities", "persons", "centres", "residence", "decisions", "participation", "applications", "exits")
SOURCE_INPUTS = {
    "person_month": PANEL_INPUTS,
    "participation": PANEL_INPUTS,
    "surveys": PANEL_INPUTS + ("surveys",),
    "applications": PANEL_INPUTS,
    "exits": PANEL_INPUTS,
    "costs": ("centres", "costs"),
}
REASON_NEW, REASON_DEFINITION, REASON_DATA = "new period", "definition changed", "new data"
PAUSE_ENV = "TILTAK_MONITOR_TEST_PAUSE"  # tests only: a marker file; the run pauses before COMMIT


class RunInProgressError(MonitoringError):
    """Another run holds the lock."""


class RunInputError(MonitoringError):
    """Bad run arguments (periods, store contents)."""


@dataclass(frozen=True)
class PeriodRange:
    """The months a run may compute (inclusive month indices; None = open)."""

    first: int | None = None
    last: int | None = None

    def covers(self, period_index: int, grain: str) -> bool:
        months = GRAIN_MONTHS[grain]
        lo = period_index * months if grain != "year" else period_index * 12
        hi = lo + months - 1
        return (self.first is None or hi >= self.first) and (self.last is None or lo <= self.last)


@dataclass
class RunResult:
    """What a run did."""

    run_id: int | None
    last_month: str | None
    computed: list[tuple[str, str, str, str]] = dc_field(default_factory=list)  # model, indicator, period, reason
    findings: list = dc_field(default_factory=list)
    removed: list[tuple[str, str, str]] = dc_field(default_factory=list)  # model, indicator, period
    held_back: int = 0  # quality findings on provisional periods not raised (monitoring.provisional)
    exported: int | None = None  # --results engine: published cells written into the engine (0: it held them)

    @property
    def noop(self) -> bool:
        return self.run_id is None


# ---- locking ------------------------------------------------------------------------


@contextmanager
def run_lock(db_path: Path, wait: float) -> Iterator[None]:
    """Hold ``DB.lock`` exclusively (advisory, released by the OS if the process dies).

    The same lock is taken by every command that writes the store (``load``, ``synth``,
    ``estimate``), so no two writers ever overlap."""

    with writer_lock(db_path, wait, "monitor run", _refused):
        yield


def _refused(lock_path: Path, holder: str, wait: float) -> MonitoringError:
    waited = f" after waiting {wait:g} s" if wait > 0 else ""
    if "monitor run" not in holder:
        return RunInProgressError(f"{lock_path}: another process is writing to the store ({holder}); "
                                  f"refused{waited}. Try again when it has finished, or pass --wait SECONDS")
    return RunInProgressError(f"{lock_path}: another monitoring run is in progress ({holder}); refused{waited}. "
                              "Try again when it has finished, or pass --wait SECONDS")


# ---- what the data is ---------------------------------------------------------------


def table_fingerprints(con) -> dict[str, str]:
    """Per contract table: the content hash of its latest load, else its row count."""

    hashes = dict(con.execute(
        "SELECT table_name, arg_max(content_hash, load_id) FROM loads GROUP BY table_name").fetchall())
    out = {}
    for table in TABLE_NAMES:
        out[table] = hashes.get(table) or f"rows:{con.execute(f'SELECT count(*) FROM {table}').fetchall()[0][0]}"
    return out


def input_hash(spec: IndicatorSpec, fingerprints: dict[str, str]) -> str:
    """Hash of the data an indicator reads."""
    return tables_hash({t for agg in (spec.numerator, spec.denominator) if agg for t in SOURCE_INPUTS[agg.source]},
                       fingerprints)


def tables_hash(tables, fingerprints: dict[str, str]) -> str:
    """Hash of the fingerprints of ``tables``."""
    text = json.dumps([(t, fingerprints.get(t, "")) for t in sorted(tables)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def last_complete_month(con, as_of: dt.date | None) -> int | None:
    """Month index of the last complete month: before the as-of month and not after the panel's end.

    ``as_of`` defaults to the day of the latest load (an extract is taken when it is loaded).
    """
    last_panel = con.execute("SELECT max(month) FROM person_month").fetchall()[0][0]
    if last_panel is None:
        return None
    if as_of is None:
        loaded = con.execute("SELECT max(loaded_at) FROM loads").fetchall()[0][0]
        as_of = loaded.date() if loaded is not None else dt.date.today()
    before_as_of = as_of.year * 12 + as_of.month - 2
    return min(before_as_of, last_panel.year * 12 + last_panel.month - 1)


def end_dates(last_month: int) -> dict[str, dt.date]:
    """Exclusive end date of the complete periods per grain."""
    out = {}
    for grain, months in GRAIN_MONTHS.items():
        complete = (last_month + 1) // months * months  # first month after the last complete period
        out[grain] = dt.date(complete // 12, complete % 12 + 1, 1)
    return out


def wanted_periods(model: MonitoredModel, spec: IndicatorSpec, last_month: int, span: PeriodRange) -> list[int]:
    """Complete periods of an indicator from the model's start, within the requested range."""

    first_day = dt.date(model.start_month // 12, model.start_month % 12 + 1, 1)
    first = index_of_date(first_day, spec.grain)
    last = last_index(end_dates(min(last_month, model.end_month or last_month))[spec.grain], spec.grain)
    return [p for p in range(first, last + 1) if span.covers(p, spec.grain)]


@dataclass(frozen=True)
class Work:
    """One (model, indicator) to compute and the periods to store, each with its reason."""

    model: MonitoredModel
    spec: IndicatorSpec
    definition_hash: str
    input_hash: str
    periods: dict[int, str]


def plan_work(con, models: Sequence[MonitoredModel], last_month: int, span: PeriodRange,
              fingerprints: dict[str, str] | None = None) -> list[Work]:
    """What is missing or stale, and why (``fingerprints``: of the registers on another engine)."""
    fingerprints = fingerprints if fingerprints is not None else table_fingerprints(con)
    stored = {(m, i, p): (d, h) for m, i, p, d, h in con.execute(
        "SELECT model_id, indicator_id, period_index, definition_hash, input_hash FROM monitoring_periods").fetchall()}
    work = []
    for model in models:
        for spec in model.specs:
            dhash, ihash = model.definition_hash(spec), input_hash(spec, fingerprints)
            periods = {}
            for p in wanted_periods(model, spec, last_month, span):
                old = stored.get((model.id, spec.id, p))
                reason = REASON_NEW if old is None else REASON_DEFINITION if old[0] != dhash else REASON_DATA if old[1] != ihash else None
                if reason:
                    periods[p] = reason
            if periods:
                work.append(Work(model, spec, dhash, ihash, periods))
    return work


def stale_periods(con, models: Sequence[MonitoredModel], last_month: int,
                  fingerprints: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Stored (model, indicator, period) after the last complete month whose input data has changed.

    The data behind them is gone (e.g. a new extract covers fewer months), so they are removed
    rather than shown as if current.
    """

    fingerprints = fingerprints if fingerprints is not None else table_fingerprints(con)
    specs = {(m.id, spec.id): spec for m in models for spec in m.specs}
    ends = end_dates(last_month)
    stale = []
    for model_id, indicator_id, period, index, grain, ihash in con.execute(
            "SELECT model_id, indicator_id, period, period_index, grain, input_hash FROM monitoring_periods "
            "ORDER BY model_id, indicator_id, period_index").fetchall():
        spec = specs.get((model_id, indicator_id))
        if spec is not None and index > last_index(ends[grain], grain) and ihash != input_hash(spec, fingerprints):
            stale.append((model_id, indicator_id, period))
    return stale


def compute(engine, work: list[Work], last_month: int, progress: Callable[[int, int], None] | None = None):
    """Run the plan of the planned work on an engine (or a DuckDB connection); returns
    [(work, rows)] with rows for all periods."""

    ends = end_dates(last_month)
    items = []
    for w in work:
        start_day = dt.date(w.model.start_month // 12, w.model.start_month % 12 + 1, 1)
        items.append((w.spec, w.model.measure, index_of_date(start_day, w.spec.grain)))
    plan = compile_plan(items, ends)
    results = execute_plan(engine, plan, progress)
    return [(w, rows) for w, (_query, rows) in zip(work, results)]


def quality_findings(registers, done: list, today: dt.date, last_month: int | None = None,
                     include_provisional: bool = False, freshness: Sequence = ()) -> tuple[list, int]:
    """All data-quality checks for the periods this run computed.

    ``registers``: where the registers are (the store's connection, or an engine); the
    register checks QC001 and QC002 run there as aggregate queries in its dialect (None:
    only the checks on the computed values, QC004 and QC005). ``freshness``: the QC003
    findings, decided by the caller (the store's loads, or an engine's unchanged content).

    Returns (findings, held back): without ``include_provisional`` the checks on values
    (QC004, QC005) leave out provisional periods, QC002 leaves out months within a table's
    declared reporting lag and QC001 months within the largest lag of the tables the panel
    is built from (``last_month``: the last complete month); the number of findings so
    held back is returned with them."""

    months = set()
    findings, held = [], []
    for w, rows in done:
        step = GRAIN_MONTHS[w.spec.grain]
        for p in w.periods:
            first = p * step if w.spec.grain != "year" else p * 12
            months.update(range(first, first + step))
        totals = {r[0]: r[5] for r in rows if r[1] == "total"}
        shown = w.model.thresholds.min_count if w.spec.disclosure_kind == "count" else 0.0
        own = quality.outliers(w.model.id, w.spec.id, w.spec.grain, totals, w.periods, min_shown=shown)
        if w.spec.divides:
            residents = w.spec.denominator.source == "person_month" and not w.spec.measure_scoped
            dims = ("total", "centre") if residents else ("total",)
            dens = {(r[2] or "total", r[0]): r[4] for r in rows if r[1] in dims}
            own += quality.collapsing_denominators(w.model.id, w.spec.id, w.spec.grain, dens, w.periods,
                                                   min_shown=w.model.thresholds.min_count)
        index = {period_label(p, w.spec.grain): p for p in w.periods}
        for f in own:
            provisional = is_provisional(w.spec, index[f.period], last_month)
            (held if provisional and not include_provisional else findings).append(f)
    findings, n_held = quality.deduplicate(findings), len(quality.deduplicate(held))
    if registers is None:
        return findings + list(freshness), n_held
    kept, late = register_findings(registers, months, last_month, include_provisional)
    return kept + findings + list(freshness), n_held + late


def register_findings(registers, months: set[int], last_month: int | None,
                      include_provisional: bool = False) -> tuple[list, int]:
    """QC001 and QC002 on ``registers`` (the store's connection or an engine) for ``months``:
    (findings, held back). Without ``include_provisional``, a finding on a month that is
    provisional for the table it was read from is held back (the one rule of
    :func:`monitoring.provisional.month_provisional`: QC001 reads the panel, QC002 the table it
    names; e.g. ``participation``'s 2 months): those months may still change."""

    kept, late = [], 0
    for f in quality.centre_gaps(registers, months) + quality.missing_extracts(registers, months):
        if not include_provisional and _held_back(f, last_month):
            late += 1
        else:
            kept.append(f)
    return kept, late


def _held_back(finding, last_month: int | None) -> bool:
    """Whether a register finding's month is provisional for the table it was read from."""
    if finding.period is None:
        return False
    return month_provisional(month_index(finding.period), quality.tables_checked(finding), last_month)


def _frames(done: list, run_id: int, load_id: int | None):
    import pandas as pd


    values, periods, reasons = [], [], []
    for w, rows in done:
        grain = w.spec.grain
        cells: dict[int, int] = {}
        for p, dim, group, num, den, value, top, num_part, den_part in rows:
            if p in w.periods:
                cells[p] = cells.get(p, 0) + 1
                values.append((w.model.id, w.spec.id, grain, period_label(p, grain), p, dim, group, num, den, value,
                               run_id, w.definition_hash, w.input_hash, load_id, top, num_part, den_part))
        for p, reason in sorted(w.periods.items()):
            label = period_label(p, grain)
            periods.append((w.model.id, w.spec.id, label, p, grain, cells.get(p, 0), run_id, w.definition_hash, w.input_hash))
            reasons.append((run_id, w.model.id, w.spec.id, label, reason, w.definition_hash, w.input_hash))
    cols_v = ["model_id", "indicator_id", "grain", "period", "period_index", "dimension", "group_value", "numerator",
              "denominator", "value", "run_id", "definition_hash", "input_hash", "load_id", "top_contributions",
              "numerator_part", "denominator_part"]
    cols_p = ["model_id", "indicator_id", "period", "period_index", "grain", "cells", "run_id", "definition_hash", "input_hash"]
    cols_r = ["run_id", "model_id", "indicator_id", "period", "reason", "definition_hash", "input_hash"]
    return pd.DataFrame(values, columns=cols_v), pd.DataFrame(periods, columns=cols_p), pd.DataFrame(reasons, columns=cols_r)


def write_run(store, done: list, findings: list, models: Sequence[MonitoredModel], last_month: int,
              started: dt.datetime, stale: Sequence[tuple[str, str, str]] = ()) -> int:
    """Store a run in one transaction, removing ``stale`` periods; returns its id."""

    con = store.connect()
    with store.transaction():
        run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM monitoring_runs").fetchall()[0][0]
        load_id = con.execute("SELECT max(load_id) FROM loads").fetchall()[0][0]
        values, periods, reasons = _frames(done, run_id, load_id)
        con.register("_run_periods", periods)
        con.execute("DELETE FROM monitoring_values v USING _run_periods p WHERE v.model_id = p.model_id "
                    "AND v.indicator_id = p.indicator_id AND v.period = p.period")
        con.execute("DELETE FROM monitoring_periods v USING _run_periods p WHERE v.model_id = p.model_id "
                    "AND v.indicator_id = p.indicator_id AND v.period = p.period")
        for table, frame in (("monitoring_values", values), ("monitoring_periods", periods), ("monitoring_computations", reasons)):
            con.register("_run_frame", frame)
            cols = ", ".join(frame.columns)
            select = cols.replace("top_contributions", "CAST(top_contributions AS DOUBLE[]) AS top_contributions")
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM _run_frame")
            con.unregister("_run_frame")
        con.unregister("_run_periods")
        for table in ("monitoring_values", "monitoring_periods") if stale else ():
            con.executemany(f"DELETE FROM {table} WHERE model_id = ? AND indicator_id = ? AND period = ?",
                            [list(key) for key in stale])
        for f in findings:
            con.execute("INSERT INTO monitoring_quality VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, f.model_id, f.check_id, f.severity, f.indicator_id, f.period, f.subject, f.value, f.message])
        con.execute("INSERT INTO monitoring_runs VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?, ?, 'completed')",
                    [run_id, started, ",".join(m.id for m in models), load_id, period_label(last_month, "month"), len(periods)])

        publish(con, models, run_id)  # the release: disclosure control over everything now stored
        _pause_for_fault_injection()
    return run_id


def _pause_for_fault_injection() -> None:
    """Tests of interrupted runs: write the marker file, then wait inside the open transaction."""
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text("in transaction\n")
        time.sleep(600)


def open_store(db_path: Path, wait: float, read_only: bool = False, migrate: bool | None = None):
    """Open the store, waiting up to ``wait`` seconds while another process holds DuckDB's lock.

    A writable store is migrated unless ``migrate`` is False.
    """

    deadline = time.monotonic() + max(wait, 0)
    while True:
        try:
            return Store.open(db_path, read_only=read_only, migrate=(not read_only) if migrate is None else migrate,
                              analysis=True)
        except StoreError as exc:
            if "in use" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def require_registers(con, db_path: Path) -> None:
    """Refuse, before anything is written, a store that holds no loaded registers or a damaged panel."""

    columns: dict[str, set[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'main'").fetchall():
        columns.setdefault(table, set()).add(column)
    fix = f"load register extracts first with 'tiltak load --db {db_path} DIR' (or 'tiltak synth --db {db_path}')"
    if not columns:
        raise RunInputError(f"{db_path}: the store holds no registers; {fix}")
    missing = [t for t in (*LOADER_TABLES, *CONTRACT, "person_month") if t not in columns]
    if missing:
        raise RunInputError(f"{db_path}: the store has no table {', '.join(map(repr, missing))}; "
                            f"expected a store made by tiltak; {fix}")
    lacking = [c for c, _, _ in PANEL_COLUMNS if c not in columns["person_month"]]
    if lacking:
        raise RunInputError(f"{db_path}: table 'person_month' lacks column(s) {', '.join(map(repr, lacking))}; "
                            f"expected the panel built by tiltak; {fix}")


def run_models(db_path: str | Path, models: Sequence[MonitoredModel], span: PeriodRange = PeriodRange(),
               as_of: dt.date | None = None, wait: float = 0.0,
               progress: Callable[[int, int], None] | None = None, engine=None, build_panel: bool = True,
               include_provisional: bool = False, results: str = "local") -> RunResult:
    """Compute and store what is missing or stale for ``models``; see the module docstring.

    ``engine`` (:mod:`monitoring.engines`): the contract tables live there, the panel is
    built there and the plan runs there; the store at ``db_path`` (created when missing)
    receives the run's aggregates and release. Without it the store is the engine.
    ``build_panel`` False: the engine holds a panel made elsewhere (benchmarks).
    ``include_provisional``: run the quality checks on provisional periods too (by default
    they are held back and counted in ``RunResult.held_back``). ``results`` "engine": after
    the local store's transaction, its published release of ``models`` is written back into
    the engine (:mod:`monitoring.engines.results`; ``RunResult.exported``: the cells written,
    0 when the engine already held that release)."""
    if results not in ("local", "engine"):
        raise RunInputError(f"--results {results!r}: expected local or engine")
    db_path = Path(db_path)
    if engine is not None:
        return _run_on_engine(db_path, models, span, as_of, wait, progress, engine, build_panel, include_provisional,
                              results)
    if results != "local":
        raise RunInputError("--results engine: needs --engine (duckdb:FILE, postgresql://... or spark://...); "
                            "without it the results are the local store's")
    if not db_path.is_file():
        raise RunInputError(f"{db_path}: no such store; create it with 'tiltak load --db {db_path} DIR' or 'tiltak synth --db {db_path}'")
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise RunInputError(f"the same model was given twice: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
    started = dt.datetime.now()

    with run_lock(db_path, wait):
        store = open_store(db_path, wait, migrate=False)
        try:
            require_registers(store.connect(), db_path)
            with database_boundary(f"monitor run on {db_path}", "the store was not changed"):
                with store.transaction():  # the migration, the reads and the write: all or nothing
                    store.migrate()
                    return _run(store, models, span, as_of, started, progress,
                                include_provisional=include_provisional)
        finally:
            store.close()


def _run_on_engine(db_path: Path, models, span, as_of, wait, progress, engine, build=True,
                   include_provisional: bool = False, results: str = "local") -> RunResult:
    """A run whose registers are on another engine; the results go into the local store, and
    with ``results`` "engine" the published release also back into the engine."""

    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise RunInputError(f"the same model was given twice: {', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
    started = dt.datetime.now()
    if build:
        with database_boundary(f"building the person-month panel on {engine.name}"):
            build_panel(engine)
    with database_boundary(f"reading the registers on {engine.name}"):
        registers = EngineRegisters(engine)
    with run_lock(db_path, wait):
        store = open_store(db_path, wait, migrate=False) if db_path.is_file() else _new_store(db_path)
        try:
            with database_boundary(f"monitor run on {engine.name} into {db_path}", "the store was not changed"):
                with store.transaction():
                    store.migrate()
                    result = _run(store, models, span, as_of, started, progress, engine, registers, include_provisional)
            if results == "engine":
                result.exported = export_results(store.connect(), ids, engine)
            return result
        finally:
            store.close()


def export_results(con, model_ids: Sequence[str], engine) -> int:
    """Write the store's published release of ``model_ids`` back into ``engine`` (see
    :mod:`monitoring.engines.results`); returns the cells written (0: it already held them)."""

    with database_boundary(f"writing the results into {engine.name}", "the engine's results were not changed"):
        target = results_target(engine)
        try:
            written = export(con, model_ids, target)
        finally:
            target.close()
    return written or 0


def _new_store(db_path: Path):

    return Store.open(db_path, analysis=True)


class EngineRegisters:
    """What a run needs to know about registers on another engine: a content fingerprint per
    table (there is no load bookkeeping there) and the panel's last month.

    The fingerprint is computed in the engine, in one query: the row count and the sum of a
    hash of every row's contract columns (:meth:`monitoring.compiler.Compiler.row_hash`).
    A sum does not depend on the order in which the engine reads the rows, and a changed
    value, a row replaced by another or a row moved between tables changes it though the
    count stays the same."""

    def __init__(self, engine) -> None:
        from sqlglot import exp


        present = engine.tables()
        names = [t for t in TABLE_NAMES if t in present]

        def scalar(table: str, value: exp.Expression) -> exp.Expression:
            return exp.Subquery(this=exp.select(value).from_(exp.to_table(table, quoted=True)))

        parts = []
        for t in names:
            held = engine.columns(t)  # the contract's columns the table has (optional ones may be missing)
            columns = [exp.column(c.name, quoted=True) for c in CONTRACT[t].columns if c.name in held]
            zero = cast(exp.Literal.number(0), "DECIMAL(38, 0)")
            hashed = exp.Coalesce(this=exp.Sum(this=cast(engine.compiler.row_hash(columns), "DECIMAL(38, 0)")),
                                  expressions=[zero]) if columns else zero
            parts += [alias(scalar(t, exp.Count(this=exp.Star())), f"n_{t}"), alias(scalar(t, hashed), f"h_{t}")]
        tree = exp.select(*parts, alias(exp.Subquery(this=exp.select(exp.Max(this=exp.column("month", quoted=True)))
                                                     .from_(exp.to_table("person_month", quoted=True))), "last_month"))
        (row,) = engine.fetch(tree)
        self.fingerprints = {t: f"rows:{row[2 * k]};hash:{int(row[2 * k + 1])}" for k, t in enumerate(names)}
        self.last_panel_month = row[-1]
        self.name = engine.name

    def first_seen(self, con) -> dt.date | None:
        """The day of the first run (in the local store ``con``) that computed from the panel
        tables with their present content (None: no run has seen it yet)."""
        digest = tables_hash(PANEL_INPUTS, self.fingerprints)
        row = con.execute("SELECT min(r.started_at) FROM monitoring_computations c JOIN monitoring_runs r "
                          "ON r.run_id = c.run_id WHERE c.input_hash = ?", [digest]).fetchall()
        return row[0][0].date() if row and row[0][0] is not None else None

    def last_complete_month(self, as_of: dt.date | None) -> int | None:
        last = self.last_panel_month
        if last is None:
            return None
        as_of = as_of or dt.date.today()
        return min(as_of.year * 12 + as_of.month - 2, last.year * 12 + last.month - 1)


def _run(store, models, span, as_of, started, progress, engine=None, registers=None,
         include_provisional: bool = False) -> RunResult:

    con = store.connect()
    last = last_complete_month(con, as_of) if registers is None else registers.last_complete_month(as_of)
    if last is None:
        raise RunInputError(f"{store.path if registers is None else engine.name}: the person_month panel is empty; "
                            "load register extracts first")

    fingerprints = None if registers is None else registers.fingerprints
    work = plan_work(con, models, last, span, fingerprints)
    stale = stale_periods(con, models, last, fingerprints)
    if not work and not stale and not needs_release(con, models):
        return RunResult(None, period_label(last, "month"))
    done = compute(engine or con, work, last, progress) if work else []

    if registers is None:
        freshness = quality.stale_load(con, started.date())
    else:
        freshness = quality.unchanged_registers(registers.first_seen(con), started.date(), engine.name)
    findings, held = quality_findings(con if registers is None else engine, done, started.date(), last,
                                      include_provisional, freshness)
    run_id = write_run(store, done, findings, models, last, started, stale)
    computed = [(w.model.id, w.spec.id, period_label(p, w.spec.grain), r) for w, _ in done for p, r in sorted(w.periods.items())]
    return RunResult(run_id, period_label(last, "month"), computed, findings, stale, held)
