"""The same registers on DuckDB, PostgreSQL and Spark publish the same tables, byte for byte.

The golden registers are loaded into a DuckDB store and monitored there; the same contract
tables are copied into a private PostgreSQL cluster (read by a role with SELECT only) and
written as Parquet for a local Spark session. Each engine builds the panel and computes
the plan in its own dialect; the results go into a fresh local store each, and
``monitor show --format json`` of every model must be identical, as must every stored
aggregate and every disclosure decision. The engines' allow-lists and least-privilege
sessions are tested here too.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlglot import exp, parse_one

from monitoring.engines import EngineError, open_engine
from monitoring.engines.screen import KNOWN_DANGEROUS, PlanRefused, screen_plan
from monitoring.runs import run_models
from monitoring.store import Store

from registers import AS_OF, MODELS, ROOT, monitored_models, shown_json

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
STORED = ("SELECT model_id, indicator_id, period, dimension, group_value, numerator, denominator, value, "
          "numerator_part, denominator_part, top_contributions FROM monitoring_values ORDER BY ALL")
RELEASED = ("SELECT model_id, indicator_id, period, dimension, group_value, value, suppressed FROM monitoring_releases "
            "ORDER BY ALL")


def _rows(store, query: str) -> list[tuple]:
    with Store.open(store, read_only=True, migrate=False) as opened:
        return opened.connect().execute(query).fetchall()


def _same_as_duckdb(golden_store, other_store) -> None:
    for model in monitored_models():
        assert shown_json(other_store, model) == shown_json(golden_store, model), model.id
    assert _rows(other_store, STORED) == _rows(golden_store, STORED)  # every aggregate, exactly
    assert _rows(other_store, RELEASED) == _rows(golden_store, RELEASED)  # every disclosure decision
    suppressed = sum(1 for *_k, s in _rows(other_store, RELEASED) if s)
    assert suppressed > 1000


@pytest.fixture(scope="module")
def postgres_run(postgres_cluster, tmp_path_factory):
    """The run on PostgreSQL, its published results also written back (--results engine)."""
    from engine_servers import WRITER

    store = tmp_path_factory.mktemp("pg") / "results.duckdb"
    engine = open_engine(postgres_cluster.url(results_user=WRITER))
    try:
        result = run_models(store, monitored_models(), as_of=AS_OF_DATE, engine=engine, results="engine")
    finally:
        engine.close()
    return store, result


@pytest.fixture(scope="module")
def spark_run(spark_session, spark_tables, tmp_path_factory):
    """The run on Spark, its published results also written back into a results folder."""
    from monitoring.engines.spark import SparkEngine

    folder = tmp_path_factory.mktemp("spark")
    store = folder / "results.duckdb"
    engine = SparkEngine.open("local[2]", spark_tables, spark=spark_session, options={"results": str(folder / "out")})
    try:
        result = run_models(store, monitored_models(), as_of=AS_OF_DATE, engine=engine, results="engine")
    finally:
        engine.close()
    return store, result, folder / "out"


def test_postgresql_publishes_byte_for_byte_what_duckdb_publishes(golden_store, postgres_run):
    store, result = postgres_run
    assert len(result.computed) == 971
    _same_as_duckdb(golden_store, store)


def test_spark_publishes_byte_for_byte_what_duckdb_publishes(golden_store, spark_run):
    store, result, _out = spark_run
    assert len(result.computed) == 971
    _same_as_duckdb(golden_store, store)


def test_a_second_run_on_the_engine_does_nothing(postgres_cluster, postgres_run):
    store, _result = postgres_run
    engine = open_engine(postgres_cluster.url())
    try:
        again = run_models(store, monitored_models(), as_of=AS_OF_DATE, engine=engine)
    finally:
        engine.close()
    assert again.noop


def test_the_panel_is_the_same_on_every_engine(golden_store, postgres_cluster, spark_session, spark_tables):
    from monitoring.engines.spark import SparkEngine
    from monitoring.panel import build_panel

    order = "SELECT * FROM person_month ORDER BY person_id, month"
    expected = _rows(golden_store, order)
    pg = open_engine(postgres_cluster.url())
    spark = SparkEngine.open("local[2]", spark_tables, spark=spark_session)
    try:
        assert build_panel(pg) == build_panel(spark) == len(expected)
        assert [tuple(r) for r in pg._fetch(order)] == expected
        assert spark._fetch(order.replace("*", ", ".join(f"`{c}`" for c in _columns()))) == expected
    finally:
        pg.close()
        spark.close()


def _columns() -> list[str]:
    from monitoring.contract import PANEL_COLUMNS

    return [name for name, _t, _d in PANEL_COLUMNS]


def test_monitor_run_engine_on_the_command_line(postgres_cluster, golden_store, tmp_path):
    store = tmp_path / "cli.duckdb"
    command = [sys.executable, "-m", "tiltak", "monitor", "run", *map(str, MODELS), "--db", str(store),
               "--engine", postgres_cluster.url(), "--as-of", AS_OF]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "Run 1: computed 971 indicator periods of 41 indicators" in result.stdout
    model = monitored_models()[0]
    assert shown_json(store, model) == shown_json(golden_store, model)


# ---- the allow-lists -------------------------------------------------------------------

DANGEROUS_SQL = {
    "postgres": ["SELECT pg_read_file('/etc/passwd')", "SELECT lo_import('/etc/passwd')",
                 "SELECT * FROM dblink('host=x', 'SELECT 1') AS t(a INT)", "COPY persons TO PROGRAM 'id'",
                 "SELECT current_setting('data_directory')", "SELECT * FROM pg_catalog.pg_authid"],
    "spark": ["SELECT reflect('java.lang.Runtime', 'getRuntime')", "SELECT java_method('java.lang.System', 'exit', 0)",
              "SELECT * FROM parquet.`/etc`", "SELECT * FROM csv.`/etc/passwd`", "SELECT input_file_name() FROM persons"],
    "duckdb": ["SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM '/etc/passwd'", "SELECT getenv('HOME')",
               "SELECT * FROM glob('/*')", "COPY persons TO '/tmp/x.csv'", "SET enable_external_access = true"],
}


@pytest.mark.parametrize("dialect, sql", [(d, q) for d, queries in DANGEROUS_SQL.items() for q in queries])
def test_every_dialect_refuses_what_reads_files_runs_programs_or_leaves_the_query(dialect, sql):
    tree = parse_one(sql, read=dialect)
    with pytest.raises(PlanRefused):
        screen_plan(tree, dialect)


def test_the_known_dangerous_functions_are_named_in_the_refusal():
    for dialect, names in KNOWN_DANGEROUS.items():
        for name in names:
            tree = exp.select(exp.Anonymous(this=name, expressions=[exp.Literal.string("x")]))
            with pytest.raises(PlanRefused, match="never allowed"):
                screen_plan(tree, dialect)


def test_every_plan_and_the_panel_pass_the_allow_list_of_every_dialect():
    from monitoring.compiler import compiler_for
    from monitoring.panel import panel_tree
    from monitoring.sqlcompile import compile_plan, index_of_date

    models = monitored_models()
    items = [(s, m.measure, index_of_date(dt.date(2012, 1, 1), s.grain)) for m in models for s in m.specs]
    plan = compile_plan(items, {g: dt.date(2014, 1, 1) for g in ("month", "quarter", "year")})
    for dialect in ("duckdb", "postgres", "spark"):
        compiler = compiler_for(dialect)
        for query in plan.queries:
            screen_plan(compiler.adapt(plan.tree(query, compiler)), dialect)
        screen_plan(compiler.adapt(panel_tree(24144, 24170)), dialect)


def test_the_postgresql_session_is_read_only_and_the_role_reads_only_the_registers(postgres_cluster):
    import psycopg

    from monitoring.panel import build_panel

    engine = open_engine(postgres_cluster.url())
    try:
        build_panel(engine)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            engine.con.execute("CREATE TABLE registers.leak (a int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            engine.con.execute("SELECT pg_read_file('/etc/passwd')")
        with pytest.raises(EngineError, match="built once per session"):
            build_panel(engine)
    finally:
        engine.close()
    writer = postgres_cluster.connect()
    writer.execute("SET ROLE tiltak_reader")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        writer.execute("INSERT INTO registers.centres VALUES ('x', 'x', 'ordinary', 'x', 'x')")
    writer.close()


def test_spark_reads_no_file_through_sql(spark_session, spark_tables):
    from monitoring.engines.spark import SparkEngine

    engine = SparkEngine.open("local[2]", spark_tables, spark=spark_session)
    with pytest.raises(Exception) as err:
        spark_session.sql(f"SELECT * FROM parquet.`{spark_tables / 'persons'}`").collect()
    assert "runSQLOnFiles" in str(err.value) or "TABLE_OR_VIEW_NOT_FOUND" in str(err.value) \
        or "UNSUPPORTED" in str(err.value).upper()
    engine.close()


@pytest.mark.parametrize("url, fragment", [
    ("postgresql://u:secret@localhost/db", "do not put the password in the URL"),
    ("postgresql://localhost/", "expected postgresql://[user@]host[:port]/DATABASE"),
    ("postgresql://localhost/db?schema=Bad-Name", "expected a lower-case name"),
    ("spark://local[2]", "expected spark://MASTER?tables=DIR"),
    ("oracle://x/y", "expected duckdb:PATH, postgresql://HOST/DATABASE or spark://MASTER?tables=DIR"),
    ("duckdb:/nowhere/x.duckdb", "no such DuckDB file"),
])
def test_engine_urls_that_cannot_be_used_say_why(url, fragment):
    with pytest.raises(EngineError) as err:
        open_engine(url)
    assert fragment in str(err.value) and "secret" not in str(err.value)


# ---- results written back into the engine ------------------------------------------------


def _same_results_as_the_local_store(target, store) -> None:
    """The engine's results: the local store's published release and publishable quality
    findings, row for row, and the same ``monitor show --format json`` read back from the engine."""
    from monitoring.engines.results import QUALITY, RELEASES, ordered, published
    from monitoring.engines.shown import engine_findings, engine_value_table
    from monitoring.show import render_json

    from registers import BY

    with Store.open(store, read_only=True, migrate=False) as opened:
        local = published(opened.connect(), [m.id for m in monitored_models()])
    assert sorted(target.read(RELEASES)) == sorted(local.releases) and len(local.releases) > 10000
    assert any(r[9] and r[8] is None for r in local.releases)  # suppressed cells carry no value
    assert ordered(target.read(QUALITY)) == ordered(local.quality) and local.quality
    _run, findings = engine_findings(target)
    assert sorted(f.check_id for f in findings) == sorted(r[2] for r in local.quality)
    for model in monitored_models():
        rows, _note = engine_value_table(target, model, by=BY)
        assert render_json(rows) == shown_json(store, model), model.id


def test_postgresql_holds_the_published_release_written_by_its_own_role(postgres_cluster, postgres_run):
    import psycopg

    from engine_servers import READER, WRITER
    from monitoring.engines.results import results_target

    store, result = postgres_run
    assert result.exported > 10000
    engine = open_engine(postgres_cluster.url(results_user=WRITER))
    target = results_target(engine)
    try:
        _same_results_as_the_local_store(target, store)
    finally:
        target.close()
        engine.close()
    admin = postgres_cluster.connect()
    try:
        (owner,), = admin.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'tiltak_results' "
                                  "AND tablename = 'monitoring_releases'").fetchall()
        assert owner == WRITER
        admin.execute(f"SET ROLE {READER}")  # the reading role cannot write the results
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            admin.execute("DELETE FROM tiltak_results.monitoring_releases")
    finally:
        admin.close()


def test_spark_holds_the_published_release_in_its_results_folder(spark_session, spark_tables, spark_run):
    from monitoring.engines.results import results_target
    from monitoring.engines.spark import SparkEngine

    store, result, out = spark_run
    assert result.exported > 10000 and (out / "CURRENT").is_file()
    engine = SparkEngine.open("local[2]", spark_tables, spark=spark_session, options={"results": str(out)})
    try:
        _same_results_as_the_local_store(results_target(engine), store)
    finally:
        engine.close()
