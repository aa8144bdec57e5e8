"""The store: migrations, versions, transactions, auxiliary tables, opening errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from monitoring import migrations
from monitoring.load import load_directory
from monitoring.migrations import Migration, register_migration
from monitoring.store import Store, StoreError

GOOD = Path(__file__).parent / "data_contract_fixtures" / "good"


def test_new_store_has_the_latest_core_schema(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        assert store.schema_versions()["core"] == migrations.latest_version("core") == 2
        assert {"schema_version", "loads", "persons", "person_month"} <= set(store.tables())
        assert store.loads().empty


def test_opening_an_older_store_migrates_it_and_keeps_its_data(tmp_path):
    db = tmp_path / "old.duckdb"
    store = Store(db)
    store.connect()
    store.migrate(upto={"core": 1})
    con = store.connect()
    assert store.schema_versions()["core"] == 1
    con.execute("INSERT INTO centres VALUES ('C1', 'Hvalstad', 'ordinary', 'east', 'Asker')")
    assert "person_month" not in store.tables()
    store.close()
    with Store.open(db) as reopened:
        assert reopened.schema_versions()["core"] == 2
        assert "person_month" in reopened.tables()
        assert reopened.connect().execute("SELECT name FROM centres").fetchall() == [("Hvalstad",)]
        columns = [r[0] for r in reopened.connect().execute("DESCRIBE loads").fetchall()]
        assert columns[-2:] == ["key_fingerprint", "notices"]


def test_read_only_open_of_an_outdated_store_is_refused(tmp_path):
    db = tmp_path / "old.duckdb"
    store = Store(db)
    store.migrate(upto={"core": 1})
    store.close()
    with pytest.raises(StoreError, match="the schema is out of date"):
        Store.open(db, read_only=True)


def test_a_store_newer_than_the_code_is_refused(tmp_path):
    db = tmp_path / "new.duckdb"
    Store.open(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_version VALUES ('core', 99, 'from the future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(StoreError, match="schema of 'core' is version 99, but this tiltak knows only up to version 2"):
        Store.open(db)


def test_other_components_register_their_own_migrations(tmp_path):
    component = "test_runs_component"
    register_migration(Migration(component, 1, "runs", ("CREATE TABLE test_runs (run_id INTEGER)",)))
    register_migration(Migration(component, 1, "runs", ("CREATE TABLE test_runs (run_id INTEGER)",)))  # again: no-op
    with pytest.raises(ValueError, match="expected version 2; got 3"):
        register_migration(Migration(component, 3, "gap"))
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        assert store.schema_versions()[component] == 1
        register_migration(Migration(component, 2, "runs: note", apply=lambda con: con.execute(
            "ALTER TABLE test_runs ADD COLUMN note VARCHAR")))
        assert [m.version for m in store.migrate()] == [2]
        assert [r[0] for r in store.connect().execute("DESCRIBE test_runs").fetchall()] == ["run_id", "note"]
        assert store.migrate() == []
    migrations._REGISTRY.pop(component)


def test_transaction_rolls_back_on_keyboard_interrupt(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        con = store.connect()
        with pytest.raises(KeyboardInterrupt):
            with store.transaction():
                con.execute("INSERT INTO centres VALUES ('C1', 'x', 'ordinary', 'east', 'Asker')")
                raise KeyboardInterrupt
        assert con.execute("SELECT count(*) FROM centres").fetchone() == (0,)
        with store.transaction():
            con.execute("INSERT INTO centres VALUES ('C1', 'x', 'ordinary', 'east', 'Asker')")
        assert con.execute("SELECT count(*) FROM centres").fetchone() == (1,)


def test_auxiliary_tables_are_written_and_replaced(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        assert store.write_auxiliary_table("truth_effects", pd.DataFrame({"measure": ["VV"], "odds_ratio": [1.0]})) == 1
        store.write_auxiliary_table("truth_effects", pd.DataFrame({"measure": ["VV", "KVL"], "odds_ratio": [1.0, 1.2]}))
        rows = store.connect().execute("SELECT * FROM truth_effects ORDER BY measure").fetchall()
    assert rows == [("KVL", 1.2), ("VV", 1.0)]


@pytest.mark.parametrize("name, frame, message", [
    ("persons", pd.DataFrame({"a": [1]}), "is a contract or store table"),
    ("loads", pd.DataFrame({"a": [1]}), "is a contract or store table"),
    ("Truth Effects", pd.DataFrame({"a": [1]}), "expected lower-case letters"),
    ("truth_outcomes", pd.DataFrame({"fnr": ["01019012345"]}), "hold raw person numbers"),
])
def test_auxiliary_table_refusals(tmp_path, name, frame, message):
    with Store.open(tmp_path / "s.duckdb") as store:
        with pytest.raises(StoreError, match=message):
            store.write_auxiliary_table(name, frame)


def test_auxiliary_tables_survive_loads(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store.open(db) as store:
        store.write_auxiliary_table("truth_effects", pd.DataFrame({"measure": ["VV"]}))
    load_directory(db, GOOD, today=dt.date(2013, 1, 1))
    with Store.open(db, read_only=True) as store:
        assert store.connect().execute("SELECT count(*) FROM truth_effects").fetchone() == (1,)


def test_opening_errors_are_clear(tmp_path):
    not_db = tmp_path / "notes.duckdb"
    not_db.write_text("hello")
    with pytest.raises(StoreError, match="not a DuckDB store"):
        Store.open(not_db)
    with pytest.raises(StoreError, match="folder '.*nowhere' does not exist"):
        Store.open(tmp_path / "nowhere" / "s.duckdb")
    with pytest.raises(StoreError, match="no such store"):
        Store.open(tmp_path / "missing.duckdb", read_only=True)


def test_a_store_in_use_is_reported(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store.open(db):
        code = ("import sys; from monitoring.store import Store, StoreError\n"
                f"try:\n    Store.open({str(db)!r})\nexcept StoreError as e:\n    print(e)\n")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parents[2])
    assert "is in use by another process" in result.stdout, result.stderr


def test_nested_transactions_join_the_outer_one(tmp_path):
    with Store.open(tmp_path / "s.duckdb") as store:
        con = store.connect()
        with pytest.raises(RuntimeError):
            with store.transaction():
                with store.transaction():
                    con.execute("INSERT INTO centres VALUES ('C1', 'x', 'ordinary', 'east', 'Asker')")
                raise RuntimeError("outer fails")
        assert con.execute("SELECT count(*) FROM centres").fetchone() == (0,)
        with store.transaction():
            with store.transaction():
                con.execute("INSERT INTO centres VALUES ('C1', 'x', 'ordinary', 'east', 'Asker')")
        assert con.execute("SELECT count(*) FROM centres").fetchone() == (1,)
