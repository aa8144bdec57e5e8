"""The register checks and the new-data detection on every engine.

QC001 (centre gaps) and QC002 (late extracts) are aggregate queries rendered per dialect:
the same registers give the same findings on the DuckDB store, a DuckDB file, PostgreSQL
and Spark. New data on an engine is detected by content (a sum of row hashes computed in
the engine): a change that keeps every row count is seen, the order of the rows is not.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from monitoring.engines import open_engine
from monitoring.panel import build_panel
from monitoring.runs import EngineRegisters, register_findings, run_models
from monitoring.store import Store

from registers import AS_OF, monitored_models

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
LAST = 2013 * 12 + 11  # the last complete month of the golden registers at AS_OF
MONTHS = set(range(LAST - 8, LAST + 3))  # ends after the data: every centre and table has a gap there
QUALITY = "SELECT check_id, severity, model_id, indicator_id, period, subject, value, message FROM monitoring_quality ORDER BY ALL"


def _findings(registers, include_provisional=True):
    found, held = register_findings(registers, MONTHS, LAST, include_provisional)
    return [(f.check_id, f.period, f.subject, f.message) for f in found], held


@pytest.fixture(scope="module")
def store_findings(golden_store):
    with Store.open(golden_store, read_only=True, migrate=False) as store:
        return _findings(store.connect()), _findings(store.connect(), include_provisional=False)


def _engine_findings(engine):
    try:
        build_panel(engine)
        return _findings(engine), _findings(engine, include_provisional=False)
    finally:
        engine.close()


def _check(expected, got):
    (found, held), (quiet, quiet_held) = expected
    assert got == expected
    checks = {c for c, *_ in found}
    assert checks == {"QC001", "QC002"} and len(found) > 10 and held == 0
    assert len(quiet) + quiet_held == len(found) and quiet_held > 0  # the lag holds some back


def test_register_checks_give_the_same_findings_on_a_duckdb_file(golden_store, store_findings):
    _check(store_findings, _engine_findings(open_engine(f"duckdb:{golden_store}")))


def test_register_checks_give_the_same_findings_on_postgresql(postgres_cluster, store_findings):
    _check(store_findings, _engine_findings(open_engine(postgres_cluster.url())))


def test_register_checks_give_the_same_findings_on_spark(spark_session, spark_tables, store_findings):
    from monitoring.engines.spark import SparkEngine

    _check(store_findings, _engine_findings(SparkEngine.open("local[2]", spark_tables, spark=spark_session)))


def test_a_run_on_an_engine_stores_the_quality_findings_of_the_store_run(golden_store, tmp_path):
    results = tmp_path / "results.duckdb"
    engine = open_engine(f"duckdb:{golden_store}")
    try:
        run_models(results, monitored_models(), as_of=AS_OF_DATE, engine=engine)
    finally:
        engine.close()
    with Store.open(golden_store, read_only=True, migrate=False) as a, Store.open(results, read_only=True,
                                                                                   migrate=False) as b:
        expected = [r for r in a.connect().execute(QUALITY).fetchall() if r[0] != "QC003"]
        assert b.connect().execute(QUALITY).fetchall() == expected and expected


# ---- new data by content -----------------------------------------------------------------


def _fingerprints(engine) -> dict[str, str]:
    build_panel(engine)
    return EngineRegisters(engine).fingerprints


def _changed(before: dict, after: dict) -> set[str]:
    return {t for t in before if before[t] != after[t]}


def _same_counts(before: dict, after: dict) -> bool:
    return all(before[t].split(";")[0] == after[t].split(";")[0] for t in before)


def test_postgresql_sees_a_change_that_keeps_the_row_count_and_not_the_row_order(postgres_cluster):
    engine = open_engine(postgres_cluster.url())
    try:
        before = _fingerprints(engine)
    finally:
        engine.close()
    admin = postgres_cluster.connect()
    try:
        (person, kind), = admin.execute("SELECT person_id, exit_type FROM registers.exits ORDER BY person_id LIMIT 1").fetchall()
        other = "permit" if kind != "permit" else "assisted_return"
        admin.execute("UPDATE registers.exits SET exit_type = %s WHERE person_id = %s", [other, person])
        engine = open_engine(postgres_cluster.url())
        try:
            after = _fingerprints(engine)
        finally:
            engine.close()
        assert _changed(before, after) == {"exits"} and _same_counts(before, after)
    finally:
        admin.execute("UPDATE registers.exits SET exit_type = %s WHERE person_id = %s", [kind, person])
    # back to the old content: the old fingerprint, though the updated row now sits elsewhere in the heap
    engine = open_engine(postgres_cluster.url())
    try:
        assert _fingerprints(engine) == before
    finally:
        engine.close()
        admin.close()


def test_spark_sees_a_change_that_keeps_the_row_count_and_not_the_row_order(spark_session, golden_store, tmp_path):
    from engine_servers import write_parquet

    from monitoring.engines.spark import SparkEngine

    original = write_parquet(golden_store, tmp_path / "original")
    changed = tmp_path / "changed"
    shutil.copytree(original, changed)
    source = duckdb.connect(str(golden_store), read_only=True)
    for table in ("persons", "exits"):
        (changed / table / "part.parquet").unlink()
    # persons: the same rows in the opposite order, in two files; exits: one value changed
    source.execute(f"COPY (SELECT * FROM persons ORDER BY person_id DESC LIMIT 50) TO '{changed / 'persons' / 'a.parquet'}' (FORMAT parquet)")
    source.execute(f"COPY (SELECT * FROM persons ORDER BY person_id DESC OFFSET 50) TO '{changed / 'persons' / 'b.parquet'}' (FORMAT parquet)")
    source.execute(f"""COPY (SELECT person_id, exit_date, CASE WHEN row_number() OVER (ORDER BY person_id) = 1
                       THEN CASE WHEN exit_type = 'permit' THEN 'assisted_return' ELSE 'permit' END ELSE exit_type END AS exit_type
                       FROM exits) TO '{changed / 'exits' / 'part.parquet'}' (FORMAT parquet)""")
    source.close()
    before = _fingerprints(SparkEngine.open("local[2]", original, spark=spark_session))
    after = _fingerprints(SparkEngine.open("local[2]", changed, spark=spark_session))
    assert _changed(before, after) == {"exits"} and _same_counts(before, after)


def test_a_same_count_change_on_an_engine_recomputes_as_new_data(golden_store, tmp_path):
    registers = tmp_path / "registers.duckdb"
    shutil.copy(golden_store, registers)
    with duckdb.connect(str(registers)) as con:  # an engine's table may lack the contract's optional columns
        con.execute("ALTER TABLE surveys DROP COLUMN item_25")
    results = tmp_path / "results.duckdb"

    def run():
        engine = open_engine(f"duckdb:{registers}")
        try:
            return run_models(results, monitored_models(), as_of=AS_OF_DATE, engine=engine)
        finally:
            engine.close()

    assert not run().noop
    assert run().noop
    con = duckdb.connect(str(registers))
    (n_before,), = con.execute("SELECT count(*) FROM exits").fetchall()
    con.execute("UPDATE exits SET exit_type = CASE WHEN exit_type = 'permit' THEN 'assisted_return' ELSE 'permit' END "
                "WHERE person_id = (SELECT min(person_id) FROM exits)")
    assert con.execute("SELECT count(*) FROM exits").fetchall() == [(n_before,)]
    con.close()
    again = run()
    assert not again.noop and {reason for *_k, reason in again.computed} == {"new data"}
