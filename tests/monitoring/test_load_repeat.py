"""A repeated load is decided from the files' bytes and headers (monitoring/load_repeat.py):
it gives what the full load gives, notices and refusals included, and never parses a file."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring import load, load_repeat, store_state
from monitoring.load_problems import ExtractError, LoadRefused

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"
TODAY = dt.date(2013, 1, 1)
KEY = "test-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def _both(monkeypatch, db, folder, **options):
    """The outcome of a load with the repeated-load path and without it (then the store is
    loaded again by the full path only); each an outcome: report lines or the error lines."""
    def outcome():
        try:
            return ("report", load.load_directory(db, folder, today=TODAY, **options).lines())
        except (ExtractError, LoadRefused) as exc:
            return ("refused", exc.lines())

    decided = []
    real = load_repeat.unchanged_report
    with monkeypatch.context() as m:
        m.setattr(load_repeat, "unchanged_report", lambda *a, **k: decided.append(real(*a, **k)) or decided[-1])
        fast = outcome()
    fast = (*fast, not decided or decided[-1] is not None)  # the repeated-load path decided (or refused)
    with monkeypatch.context() as m:
        m.setattr(load_repeat, "unchanged_report", lambda *a, **k: None)
        full = (*outcome(), fast[2])
    return fast, full


def _extract(tmp_path, name="extract") -> Path:
    folder = tmp_path / name
    shutil.copytree(GOOD, folder)
    return folder


def test_same_files_give_the_full_loads_report(tmp_path, monkeypatch):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    calls = []
    real = load_repeat.planned_extract
    monkeypatch.setattr(load_repeat, "planned_extract", lambda *a: calls.append(a[1]) or real(*a))
    fast, full = _both(monkeypatch, db, folder)
    assert fast == full and fast[1][-1].startswith("Nothing changed") and fast[2]
    assert len(calls) == 10  # decided here, not by the full load


def test_notices_of_free_text_and_unrelated_files_are_the_same(tmp_path, monkeypatch):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    (folder / "README.txt").write_text("notes")
    text = (folder / "exits.csv").read_text().splitlines()
    (folder / "exits.csv").write_text("\n".join([text[0] + ",comment"] + [r + ",private" for r in text[1:]]) + "\n")
    load.load_directory(db, folder, today=TODAY)
    fast, full = _both(monkeypatch, db, folder)
    assert fast == full and fast[2]
    assert "exits.csv: dropped free-text column 'comment' (free text is never stored)" in fast[1]


def _raw(folder: Path, column: str) -> None:
    """The good extract with raw person numbers in ``column`` instead of person_id."""
    shutil.copytree(GOOD, folder)
    for table in ("persons", "residence", "decisions", "participation", "applications", "exits", "surveys"):
        path = folder / f"{table}.csv"
        text = path.read_text().replace("person_id", column, 1)
        for i in range(1, 6):
            text = text.replace(f"\nP00{i},", f"\n{10108012340 + i:011d},")
        path.write_text(text)


@pytest.mark.parametrize("column", ["fnr", "person_number"])
def test_raw_numbers_and_keys(tmp_path, monkeypatch, column):
    db, folder = tmp_path / "s.duckdb", tmp_path / "raw"
    _raw(folder, column)
    load.load_directory(db, folder, today=TODAY, pseudonym_key=KEY)
    same, full = _both(monkeypatch, db, folder, pseudonym_key=KEY)
    assert same == full and f"persons.csv: '{column}' replaced by keyed pseudonyms in person_id" in same[1]
    assert same[2]  # decided without parsing
    other, full = _both(monkeypatch, db, folder, pseudonym_key="another-key-0123456789")
    assert other == full and other[0] == "refused" and "is not the key" in other[1][0]
    none, full = _both(monkeypatch, db, folder)
    assert none == full and none[0] == "refused"


def test_a_changed_table_or_a_new_store_take_the_full_load(tmp_path, monkeypatch):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    assert load_repeat.unchanged_report(db, {"persons": folder / "persons.csv"}, str(folder), [],
                                        None, False, False) is None  # no store yet
    load.load_directory(db, folder, today=TODAY)
    with (folder / "exits.csv").open("a") as handle:
        handle.write("P005,2012-04-10,unknown_address\n")
    paths = {p.stem: p for p in folder.glob("*.csv")}
    assert load_repeat.unchanged_report(db, paths, str(folder), [], None, False, False) is None
    report = load.load_directory(db, folder, today=TODAY)
    assert report.changed and {t.table for t in report.tables if t.action == "replaced"} == {"exits"}


@pytest.mark.parametrize("header", ['person_id , birth_year', '"person_id",birth_year', "person_id,_row"])
def test_unusual_headers_are_left_to_the_full_load(tmp_path, header):
    path = tmp_path / "persons.csv"
    path.write_text(header + "\nP1,1980\n")
    assert load_repeat.planned_extract(path, "persons", None, False) is None


def test_a_repeated_load_imports_no_parser(tmp_path):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    code = ("import sys; from tiltak.cli import main\n"
            "try:\n    main(['load', '--db', sys.argv[1], sys.argv[2]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'monitoring.load', 'monitoring.panel',\n"
            "                          'monitoring.compiler', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(db), str(folder)], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert "Nothing changed" in out and out.strip().splitlines()[-1] == "[]"


def test_the_command_lines_no_op_is_the_full_loads(tmp_path):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    assert load_repeat.repeated_load(db, folder) is None  # no store yet: the full load
    load.load_directory(db, folder, today=TODAY)
    (folder / "notes.txt").write_text("x")
    assert load_repeat.repeated_load(db, folder).lines() == load.load_directory(db, folder, today=TODAY).lines()
    (folder / "costs.csv").write_text("measure,centre_id,period,amount_nok\nVV,C02,2012-03,5000\n")
    assert load_repeat.repeated_load(db, folder) is None  # a changed table
    with pytest.raises(ExtractError, match="no such folder"):
        load_repeat.repeated_load(db, tmp_path / "missing")


# ---------------------------------------------------------------- the store's recorded state


def test_a_repeated_load_is_answered_by_the_recorded_state_without_duckdb(tmp_path):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    assert store_state.recorded_state(db) is not None
    code = ("import sys; from tiltak.cli import main\n"
            "try:\n    main(['load', '--db', sys.argv[1], sys.argv[2]])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('duckdb', 'sqlglot', 'pandas', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(db), str(folder)], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert "Nothing changed" in out and out.strip().splitlines()[-1] == "[]"


def _write_to_store(db: Path, sql: str) -> None:
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(sql)
    con.close()


def test_a_store_written_since_its_state_is_asked_again(tmp_path):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    first = load.load_directory(db, folder, today=TODAY).lines()
    _write_to_store(db, "CREATE TABLE other (x INTEGER)")  # e.g. tiltak monitor run writing its tables
    assert store_state.recorded_state(db) is None
    again = load_repeat.repeated_load(db, folder)
    assert again is not None and again.lines()[-1].startswith("Nothing changed") and first
    assert store_state.recorded_state(db) is not None  # asked once, recorded again


def test_a_store_whose_loads_changed_since_its_state_loads_the_files(tmp_path):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    _write_to_store(db, "UPDATE loads SET content_hash = 'other' WHERE table_name = 'exits'")
    assert load_repeat.repeated_load(db, folder) is None
    report = load.load_directory(db, folder, today=TODAY)
    assert report.changed and {t.table for t in report.tables if t.action == "replaced"} == {"exits"}


@pytest.mark.parametrize("damage", ["garbage", "format", "wal", "times", "copy", "missing"])
def test_a_state_that_cannot_be_proved_is_not_trusted(tmp_path, damage):
    import json
    import os

    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    state = store_state.state_path(db)
    if damage == "garbage":
        state.write_text("{not json")
    elif damage == "format":
        data = json.loads(state.read_text())
        state.write_text(json.dumps({**data, "format": 99}))
    elif damage == "wal":
        Path(str(db) + ".wal").write_bytes(b"")
    elif damage == "times":  # the same size, its times set back: the change time still differs
        before = os.stat(db)
        with db.open("r+b") as handle:
            handle.write(handle.read(1))
        os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif damage == "copy":  # a store restored from a copy, times kept
        copy = tmp_path / "copy.duckdb"
        shutil.copy2(db, copy)
        db.unlink()
        copy.rename(db)
    else:
        state.unlink()
    assert store_state.recorded_state(db) is None


def test_no_state_is_recorded_when_the_clock_cannot_be_seen_to_move(tmp_path, monkeypatch):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    monkeypatch.setattr(store_state, "_clock_past", lambda *a: False)
    load.load_directory(db, folder, today=TODAY)
    assert not store_state.state_path(db).exists()
    assert load_repeat.repeated_load(db, folder).lines()[-1].startswith("Nothing changed")


def test_a_refused_load_keeps_the_state_and_a_new_load_removes_it_first(tmp_path, monkeypatch):
    db, folder = tmp_path / "s.duckdb", _extract(tmp_path)
    load.load_directory(db, folder, today=TODAY)
    (folder / "exits.csv").write_text("person_id,exit_date,exit_type\nP999,2012-04-10,nowhere\n")
    with pytest.raises(LoadRefused):
        load.load_directory(db, folder, today=TODAY)
    assert store_state.recorded_state(db) is not None  # the store was not changed
    seen = []
    real = load.build_panel
    monkeypatch.setattr(load, "build_panel", lambda con: seen.append(store_state.state_path(db).exists()) or real(con))
    shutil.copy(GOOD / "exits.csv", folder / "exits.csv")
    (folder / "costs.csv").write_text("measure,centre_id,period,amount_nok\nVV,C02,2012-03,5000\n")
    assert load.load_directory(db, folder, today=TODAY).changed
    assert seen == [False] and store_state.recorded_state(db) is not None
