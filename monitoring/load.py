"""Loading extracts into the store: all checks first, then one all-or-nothing transaction.

``load_directory`` reads one file per table (``persons.csv``, ``residence.parquet``,
``centres.xlsx``, ...); ``load_tables`` takes in-memory data frames. Both

1. read every table and pseudonymise raw person numbers (the key never reaches the store);
2. skip tables whose content is identical to what the store holds (a repeated load is a
   no-op and leaves the store untouched);
3. check the changed tables against the contract in DuckDB, together with the stored
   tables they refer to, collecting every problem; refuse the load if there is one;
4. in one transaction: replace the changed tables, record the load in ``loads``, rebuild
   ``person_month``. An error or interruption anywhere rolls everything back.

A load may hold any subset of the tables: the tables it holds replace the stored ones, the
others stay. The store must hold every required table after the load.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from monitoring import load_checks, load_csv, load_repeat
from monitoring.contract import CONTRACT, INSTRUMENT_SCALES, REQUIRED_TABLES, InstrumentScale, Table, contract_for
from monitoring.errors import database_boundary
from monitoring.load_held import check_key, current_hashes
from monitoring.load_prepare import prepare_extract
from monitoring.load_problems import ExtractError, LoadRefused, Problem, ProblemList
from monitoring.load_read import ROW, CsvFile, Extract, read_file, read_frame
from monitoring.load_report import LoadReport, TableLoad
from monitoring.load_scan import scan_directory, unknown_table
from monitoring.panel import build_panel
from monitoring.pseudonym import PseudonymKey, resolve_key
from monitoring.store import Store, writer_lock
from monitoring.store_state import close_and_snapshot, forget_state, write_state

PAUSE_ENV = "TILTAK_TEST_PAUSE_BEFORE_COMMIT"
"""Fault injection for tests: a marker path; the load creates it inside its transaction,
just before COMMIT, and then waits so that a test can kill the process there."""


def load_directory(db_path: str | Path, directory: str | Path, *,
                   pseudonym_key: "PseudonymKey | str | bytes | None" = None,
                   key_file: str | Path | None = None, raw_ids: bool = False,
                   today: dt.date | None = None, rekey: bool = False,
                   instruments: Mapping[str, InstrumentScale] | None = None) -> LoadReport:
    """Load the extract files in ``directory`` (one file per table) into the store.

    ``raw_ids``: the ``person_id`` columns hold raw person numbers, to be pseudonymised like
    ``person_number``/``fnr``/``duf_number`` columns. ``today``: the day the future-date
    checks compare with (default: today). ``rekey``: the delivery's pseudonym key differs from
    the store's on purpose; every person table must then be in the delivery (see
    :func:`check_key`). ``instruments``: the survey instruments the delivery may hold, with
    their scales (default: the built-in ones; ``Catalogue.instrument_scales()`` adds those
    a catalogue declares)."""
    directory = Path(directory)
    paths, problems, notices = scan_directory(directory)
    key = resolve_key(pseudonym_key, key_file)
    if not problems and not instruments:  # the same files again: decided from their bytes
        # and headers (a load that declares its own instruments is checked in full)
        report = load_repeat.unchanged_report(Path(db_path), paths, str(directory), notices, key, raw_ids, rekey)
        if report is not None:
            return report
    extracts = [read_file(paths[table], table) for table in CONTRACT if table in paths]
    return _load(db_path, extracts, str(directory), key, today, problems, notices, raw_ids, rekey,
                 instruments)


def load_tables(db_path: str | Path, frames: Mapping[str, Any], *, source: str,
                pseudonym_key: "PseudonymKey | str | bytes | None" = None, raw_ids: bool = False,
                today: dt.date | None = None, rekey: bool = False,
                instruments: Mapping[str, InstrumentScale] | None = None) -> LoadReport:
    """Load in-memory pandas data frames (table name -> frame) with the same checks."""
    if not frames:
        raise ExtractError(f"{source}: no tables given; expected frames for {', '.join(CONTRACT)}")
    problems = ProblemList()
    extracts = []
    for table, frame in frames.items():
        if table not in CONTRACT:
            problems.add(Problem(f"{source}/{table}", "unknown_table", unknown_table(table)))
        else:
            extracts.append(read_frame(table, frame, source))
    return _load(db_path, extracts, source, resolve_key(pseudonym_key), today, problems, [], raw_ids, rekey,
                 instruments)


def _load(db_path: str | Path, extracts: list[Extract], source: str, key: PseudonymKey | None,
          today: dt.date | None, problems: ProblemList, notices: list[str],
          raw_ids: bool = False, rekey: bool = False,
          instruments: Mapping[str, InstrumentScale] | None = None) -> LoadReport:
    today = today or dt.date.today()
    checks = LoadChecks(today, contract_for(instruments), instruments or INSTRUMENT_SCALES)
    for extract in extracts:
        prepare_extract(extract, CONTRACT[extract.table], key, raw_ids)
        notices.extend(extract.notices)
    db_path = Path(db_path)
    if not db_path.parent.is_dir():
        raise ExtractError(f"{db_path}: cannot create the store; folder '{db_path.parent}' does not exist")

    with writer_lock(db_path, 0.0, "load"):  # one writer at a time, also for a store not made yet
        with database_boundary(f"load of {source} into {db_path}", "the store was not changed"):
            return _load_locked(db_path, extracts, source, key, checks, problems, notices, rekey)


@dataclass(frozen=True)
class LoadChecks:
    """What a load checks against: the day, the contract and the survey instruments."""

    today: dt.date
    contract: Mapping[str, Table]
    scales: Mapping[str, InstrumentScale]


def _load_locked(db_path: Path, extracts: list[Extract], source: str, key: PseudonymKey | None,
                 checks: LoadChecks, problems: ProblemList, notices: list[str], rekey: bool) -> LoadReport:
    if db_path.exists():
        with Store.open(db_path) as store:
            check_key(store.connect(), extracts, source, key, rekey)
            report = _check_and_write(store, extracts, source, key, checks, problems, notices)
            write_state(db_path, close_and_snapshot(store))
            return report
    if not db_path.parent.is_dir():
        raise ExtractError(f"{db_path}: cannot create the store; folder '{db_path.parent}' does not exist")
    # A new store is built under a temporary name and renamed when complete, so that no
    # failure, not even a killed process, leaves a half-made store under the real name.
    work = db_path.with_name(f".{db_path.name}.loading-{os.getpid()}")
    try:
        with Store.open(work) as store:
            report = _check_and_write(store, extracts, source, key, checks, problems, notices)
            snapshot = close_and_snapshot(store)
        os.replace(work, db_path)
        write_state(db_path, snapshot, renamed=True)
    finally:
        _remove_store(work)
    return dataclasses.replace(report, db_path=str(db_path))


def _remove_store(db_path: Path) -> None:
    for path in (db_path, db_path.with_name(db_path.name + ".wal")):
        if path.exists():
            path.unlink()


def _check_and_write(store: Store, extracts: list[Extract], source: str, key: PseudonymKey | None,
                     checks: LoadChecks, problems: ProblemList, notices: list[str]) -> LoadReport:
    con = store.connect()
    current = current_hashes(con)
    changed = [e for e in extracts if e.problems or current.get(e.table, (None,))[0] != e.content_hash]
    for table in REQUIRED_TABLES:
        if table not in current and table not in {e.table for e in extracts}:
            problems.add(Problem(source, "missing_table", f"missing table '{table}'; expected a "
                                 f"file {table}.csv (or .parquet, .xlsx) in the first load"))
    if not changed and not problems:
        return LoadReport(str(store.path), source, None, (), tuple(notices))
    _check(con, changed, problems, checks)
    if problems:
        raise LoadRefused(source, problems)
    return _write(store, extracts, changed, current, source, key, notices)


def _check(con: Any, changed: list[Extract], problems: ProblemList, checks: LoadChecks) -> None:
    """Problems found while reading, then the SQL checks of every readable table."""
    load_csv.read_csv_files(con, [e for e in changed if not e.problems])
    for extract in changed:
        for problem in extract.problems:
            problems.add(problem)
    usable = [e for e in changed if not e.problems]
    broken = {e.table for e in changed if e.problems}
    labels = {e.table: e.label for e in usable}
    for extract in usable:
        if not isinstance(extract.data, CsvFile):  # a CsvFile is in the connection already
            con.register(f"raw_{extract.table}", extract.data)
        load_checks.stage_table(con, extract, checks.contract[extract.table], problems)
    load_checks.effective_views(con, set(labels))
    for extract in usable:
        load_checks.value_checks(con, checks.contract[extract.table], extract.label, problems, checks.today,
                                 checks.scales)
    load_checks.reference_checks(con, set(labels), labels, problems, skip=broken)
    load_checks.emptiness_checks(con, labels, problems)


def _write(store: Store, extracts: list[Extract], changed: list[Extract],
           current: dict[str, tuple[str, int, int]], source: str, key: PseudonymKey | None,
           notices: list[str]) -> LoadReport:
    con = store.connect()
    forget_state(store.path)
    with store.transaction():
        load_id = int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchone()[0])
        results = []
        for extract in extracts:
            result = _replace_table(con, extract, extract in changed, current.get(extract.table))
            _record(con, load_id, source, extract, result, key)
            results.append(result)
        panel_rows = build_panel(con)
        _pause_for_fault_injection()
    return LoadReport(str(store.path), source, load_id, tuple(results), tuple(notices), panel_rows)


def _replace_table(con: Any, extract: Extract, changed: bool,
                   previous: tuple[str, int, int] | None) -> TableLoad:
    rows = extract.data.num_rows
    if not changed:
        return TableLoad(extract.table, extract.label, rows, "unchanged")
    columns = ", ".join(CONTRACT[extract.table].column_names)
    con.execute(f"DELETE FROM main.{extract.table}")
    con.execute(f"INSERT INTO main.{extract.table} ({columns}) "
                f"SELECT {columns} FROM {load_checks.stage_name(extract.table)} ORDER BY {ROW}")
    if previous is None:
        return TableLoad(extract.table, extract.label, rows, "added")
    return TableLoad(extract.table, extract.label, rows, "replaced", previous[1], previous[2])


def _record(con: Any, load_id: int, source: str, extract: Extract, result: TableLoad,
            key: PseudonymKey | None) -> None:
    own = list(extract.notices)
    con.execute(
        "INSERT INTO loads (load_id, loaded_at, source, table_name, source_file, row_count, "
        "content_hash, action, replaced_load_id, replaced_row_count, key_fingerprint, notices) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), source, extract.table,
         extract.label, result.rows, extract.content_hash, result.action, result.replaced_load_id,
         result.replaced_rows, key.fingerprint if extract.pseudonymised and key else None,
         "\n".join(own) or None],
    )


def _pause_for_fault_injection() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text("in transaction\n")
        time.sleep(600)
