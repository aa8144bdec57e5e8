"""A repeated load told from the files alone: nothing is parsed when nothing changed.

Loading an extract the store already holds is a no-op. Whether a table is unchanged is a
comparison of content hashes: the SHA-256 of the file (and, when the file holds raw person
numbers, of the pseudonym key's fingerprint with it). What a load checks before that
comparison depends only on the bytes and the header: the encoding, blank files, the column
names, free text, direct and raw identifiers, the pseudonym key. :func:`unchanged_report`
makes exactly those checks, with the functions the full load uses, on CSV files; when every
file passes them and is what the store holds it returns the no-op report (with the same
notices), so that a repeated load needs no CSV parser, no pandas and no Arrow. In every
other case (a changed table, a problem to report, Parquet or Excel files) it returns None
and the full load runs as before. :func:`repeated_load` is the whole no-op path from a folder,
for the command line, which imports the full loader only when it returns None.

What the store holds is read from its state file (:mod:`monitoring.store_state`) when that
provably describes the store file as it is, so that a repeated load imports no DuckDB
either; otherwise the store is opened and asked, and the state written again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from monitoring.contract import CONTRACT, PERSON_ID, REQUIRED_TABLES
from monitoring.errors import database_boundary
from monitoring.load_checks import column_name_problems
from monitoring.load_held import check_key, key_agrees
from monitoring.load_prepare import HeaderPlan, keyed_hash, pseudonym_notice
from monitoring.load_read import CSV_SUFFIXES, ROW, Extract, csv_text, header_problems, plain_header
from monitoring.load_report import LoadReport
from monitoring.load_scan import scan_directory
from monitoring.pseudonym import PseudonymKey, resolve_key
from monitoring.store import Store, writer_lock
from monitoring.store_state import HeldState, close_and_snapshot, read_held, recorded_state, write_state


def planned_extract(path: Path, table: str, key: PseudonymKey | None,
                    raw_ids: bool) -> tuple[Extract, list[str]] | None:
    """The extract's hash, pseudonymisation and notices, decided from the file's bytes and
    header; None when a full read is needed (anything to report, an unusual header)."""
    data = path.read_bytes()
    extract = Extract(table, path.name, hashlib.sha256(data).hexdigest())
    if not data:
        return None
    decoded = csv_text(extract, data)
    names = None if decoded is None else plain_header(decoded[1])
    if names is None:
        return None
    names = [*names, ROW]
    plan = HeaderPlan.of(names, CONTRACT[table], key, raw_ids)
    if header_problems(names) or plan.problems:
        return None
    notices = plan.free_text_notices(path.name)
    kept = [PERSON_ID if n == plan.raw else n for n in names if n not in plan.free_text]
    if column_name_problems(kept, CONTRACT[table]):
        return None
    if plan.raw is not None:
        extract.content_hash = keyed_hash(extract.content_hash, key)
        extract.pseudonymised = True
        notices.append(pseudonym_notice(path.name, plan.raw))
    return extract, notices


def unchanged_report(db_path: Path, paths: dict[str, Path], source: str, notices: list[str],
                     key: PseudonymKey | None, raw_ids: bool, rekey: bool):
    """The no-op :class:`~monitoring.load.LoadReport` when every file is a CSV file that
    passes the checks above and is what the store holds; else None."""
    if not db_path.is_file() or not paths or \
            any(p.suffix.lower() not in CSV_SUFFIXES for p in paths.values()):
        return None
    extracts, found = [], list(notices)
    for table in (t for t in CONTRACT if t in paths):
        planned = planned_extract(paths[table], table, key, raw_ids)
        if planned is None:
            return None
        extracts.append(planned[0])
        found.extend(planned[1])

    keyed = any(e.pseudonymised for e in extracts)
    with writer_lock(db_path, 0.0, "load"):
        held = recorded_state(db_path)
        if held is not None and key_agrees(keyed, key, held.key):  # the store unchanged since its last load
            return _no_op(db_path, extracts, held, source, found)
        with database_boundary(f"load of {source} into {db_path}", "the store was not changed"):
            with Store.open(db_path) as store:
                con = store.connect()
                check_key(con, extracts, source, key, rekey)
                report = _no_op(db_path, extracts, read_held(con), source, found)
                if report is not None:
                    write_state(db_path, close_and_snapshot(store))
                return report


def _no_op(db_path: Path, extracts: list[Extract], held: HeldState, source: str,
           notices: list[str]) -> LoadReport | None:
    """The no-op report when the store holds every extract as it is and every required table."""
    current, given = held.tables, {e.table for e in extracts}
    if any(current.get(e.table, (None,))[0] != e.content_hash for e in extracts) or \
            any(t not in current and t not in given for t in REQUIRED_TABLES):
        return None
    return LoadReport(str(db_path), source, None, (), tuple(notices))


def repeated_load(db_path: str | Path, directory: str | Path, *, key_file: str | Path | None = None,
                  raw_ids: bool = False, rekey: bool = False) -> LoadReport | None:
    """What :func:`monitoring.load.load_directory` returns for files the store already holds,
    decided without importing the full loader and the panel; None when a full load is needed.
    Raises the errors ``load_directory`` raises first (no such folder, no extract files, an
    unusable key, a key other than the store's)."""
    directory = Path(directory)
    paths, problems, notices = scan_directory(directory)
    key = resolve_key(None, key_file)
    if problems:
        return None
    return unchanged_report(Path(db_path), paths, str(directory), notices, key, raw_ids, rekey)
