"""Results written back into the engine (``monitor run --results engine``): only the published
release and the publishable quality findings, replaced per model and run (a re-run never
duplicates a row), in one transaction (a failure leaves the previous results whole), by a
writer that can write only there; ``monitor show`` and ``monitor quality --results engine``
read them back; results of layout version 1 (no findings) are migrated by the next write, a
later version is refused. The PostgreSQL and Spark runs of test_engines.py write their
results back too and are compared there; the migration is tested here on all three."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys

import pytest

from monitoring.engines import EngineError, open_engine
from monitoring.migrations import latest_version
from monitoring.engines.results import (QUALITY, RELEASES, RUNS, SCHEMA_TABLE, Published, export, ordered, published,
                                       results_target)
from monitoring.engines.shown import engine_findings
from monitoring.quality import stored_findings
from monitoring.show import ShowError
from monitoring.runs import run_models
from monitoring.store import Store

from registers import AS_OF, MODELS, ROOT, monitored_models, shown_json

AS_OF_DATE = dt.date.fromisoformat(AS_OF)
IDS = [m.id for m in monitored_models()]


def _local(store) -> Published:
    with Store.open(store, read_only=True, migrate=False) as opened:
        return published(opened.connect(), IDS)


def _broken(results: Published) -> Published:
    """The same results with a bad run record: the write fails after the releases were replaced."""
    bad = (*results.runs[-1][:6], "not a number", results.runs[-1][7])
    return Published(results.model_ids, [*results.runs[:-1], bad], results.releases, results.versions, results.quality)


@pytest.fixture()
def duckdb_registers(golden_store, tmp_path):
    registers = tmp_path / "registers.duckdb"
    shutil.copy(golden_store, registers)
    return registers


def _run(registers, results, **kw):
    engine = open_engine(f"duckdb:{registers}")
    try:
        return run_models(results, monitored_models(), as_of=AS_OF_DATE, engine=engine, results="engine", **kw)
    finally:
        engine.close()


def test_a_duckdb_file_holds_the_published_release_and_a_rerun_changes_nothing(duckdb_registers, golden_store, tmp_path):
    from monitoring.engines.shown import engine_value_table
    from monitoring.show import render_json

    from registers import BY

    results = tmp_path / "work.duckdb"
    first = _run(duckdb_registers, results)
    local = _local(results)
    assert first.exported == len(local.releases) > 10000
    target = results_target(open_engine(f"duckdb:{duckdb_registers}"))
    assert sorted(target.read(RELEASES)) == sorted(local.releases)
    assert [r[0] for r in target.read(RUNS)] == [first.run_id]
    assert sorted(target.read(SCHEMA_TABLE)) == [("engine_results", 2), ("monitoring", latest_version("monitoring"))]
    assert ordered(target.read(QUALITY)) == ordered(local.quality) and local.quality
    for model in monitored_models():
        assert render_json(engine_value_table(target, model, by=BY)[0]) == shown_json(golden_store, model)
    again = _run(duckdb_registers, results)
    assert again.noop and again.exported == 0
    target.write(local)  # written once more: replaced, never duplicated
    assert sorted(target.read(RELEASES)) == sorted(local.releases)
    assert len(target.read(RUNS)) == 1 and len(target.read(QUALITY)) == len(local.quality)


def test_a_failed_write_leaves_the_duckdb_files_results_whole(duckdb_registers, tmp_path):
    results = tmp_path / "work.duckdb"
    _run(duckdb_registers, results)
    target = results_target(open_engine(f"duckdb:{duckdb_registers}"))
    before = sorted(target.read(RELEASES)), ordered(target.read(QUALITY))
    with pytest.raises(Exception):
        target.write(_broken(_local(results)))
    assert (sorted(target.read(RELEASES)), ordered(target.read(QUALITY))) == before


def test_a_failed_write_leaves_the_postgresql_results_whole(postgres_cluster, golden_store):
    import psycopg

    from engine_servers import WRITER

    engine = open_engine(postgres_cluster.url(results_user=WRITER))
    target = results_target(engine)
    try:
        results = _local(golden_store)
        target.write(results)
        before = sorted(target.read(RELEASES))
        with pytest.raises(psycopg.Error):
            target.write(_broken(results))
        assert sorted(target.read(RELEASES)) == before == sorted(results.releases)
    finally:
        _drop_postgres_results(target, engine)


def test_a_failed_write_leaves_the_spark_results_whole(spark_session, spark_tables, golden_store, tmp_path):
    from monitoring.engines.spark import SparkEngine

    out = tmp_path / "out"
    engine = SparkEngine.open("local[2]", spark_tables, spark=spark_session, options={"results": str(out)})
    target = results_target(engine)
    results = _local(golden_store)
    target.write(results)
    current = (out / "CURRENT").read_text()
    with pytest.raises(Exception):
        target.write(_broken(results))
    assert (out / "CURRENT").read_text() == current
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("snapshot-")) == [current.strip()]
    assert sorted(target.read(RELEASES)) == sorted(results.releases)
    target.write(results)  # again: replaced, not duplicated; the old snapshot removed
    assert len(target.read(RELEASES)) == len(results.releases)
    assert len([p for p in out.iterdir() if p.name.startswith("snapshot-")]) == 1


def test_the_duckdb_files_findings_are_the_publishable_ones_of_the_store(duckdb_registers, tmp_path):
    results = tmp_path / "work.duckdb"
    first = _run(duckdb_registers, results)
    with Store.open(results, read_only=True, migrate=False) as opened:
        run, stored = stored_findings(opened.connect())
    target = results_target(open_engine(f"duckdb:{duckdb_registers}"))
    shown_run, shown = engine_findings(target)
    assert run == shown_run == first.run_id
    assert {f.check_id for f in shown} == {"QC004", "QC005"}  # the golden registers' run has no QC001-QC003
    assert [f.render() for f in shown] == [f.render() for f in stored if f in shown]  # the store's order
    left_out = [f for f in stored if f not in shown]
    assert left_out and {f.check_id for f in left_out} == {"QC004"}  # outliers on or beside a suppressed total
    with pytest.raises(ShowError, match=f"--run 99: no such run .*holds run\\(s\\) {run}"):
        engine_findings(target, 99)


def _duckdb_layout(target, version: int, drop_quality: bool) -> None:
    con = target._connect(read_only=False)
    try:
        _layout(con.execute, version, drop_quality, "?")
    finally:
        con.close()


def _postgres_layout(target, version: int, drop_quality: bool) -> None:
    with target.con.cursor() as cur:
        _layout(cur.execute, version, drop_quality, "%s")


def _layout(execute, version: int, drop_quality: bool, mark: str) -> None:
    """Make the results look as written by layout ``version`` (1: without monitoring_quality)."""
    if drop_quality:
        execute(f'DROP TABLE "tiltak_results"."{QUALITY}"')
    execute(f'UPDATE "tiltak_results"."{SCHEMA_TABLE}" SET version = {mark} WHERE component = {mark}',
            [version, "engine_results"])


def _spark_layout(target, version: int, drop_quality: bool) -> None:
    current = target._current()
    if drop_quality:
        shutil.rmtree(current / QUALITY)
    rows = [(c, version if c == "engine_results" else v) for c, v in target.read(SCHEMA_TABLE)]
    frame = target.spark.createDataFrame(rows, schema="`component` STRING, `version` INT")
    frame.coalesce(1).write.mode("overwrite").parquet(str(current / SCHEMA_TABLE))


def _migrates(target, store, layout) -> None:
    """Results of layout version 1 are read (no findings), migrated by the next write and then
    left alone; a later version is refused and left as it is."""
    local = _local(store)
    target.write(local)
    layout(target, 1, True)
    assert target.version() == 1 and target.read(QUALITY) == []
    assert sorted(target.read(RELEASES)) == sorted(local.releases)
    with pytest.raises(ShowError, match="written by an earlier tiltak .*without quality findings"):
        engine_findings(target)
    with Store.open(store, read_only=True, migrate=False) as opened:
        assert export(opened.connect(), IDS, target) == len(local.releases)  # the same release: migrated
        assert target.version() == 2 and ordered(target.read(QUALITY)) == ordered(local.quality) != []
        assert export(opened.connect(), IDS, target) is None
        layout(target, 3, False)
        with pytest.raises(EngineError, match="written by a newer tiltak"):
            export(opened.connect(), IDS, target)
    with pytest.raises(EngineError, match="written by a newer tiltak"):
        engine_findings(target)
    assert sorted(target.read(RELEASES)) == sorted(local.releases)


def test_results_of_layout_version_1_in_a_duckdb_file_are_migrated(duckdb_registers, golden_store):
    _migrates(results_target(open_engine(f"duckdb:{duckdb_registers}")), golden_store, _duckdb_layout)


def test_results_of_layout_version_1_on_postgresql_are_migrated(postgres_cluster, golden_store):
    from engine_servers import WRITER

    engine = open_engine(postgres_cluster.url(results_user=WRITER))
    target = results_target(engine)
    try:
        _migrates(target, golden_store, _postgres_layout)
    finally:
        _drop_postgres_results(target, engine)


def test_results_of_layout_version_1_in_a_spark_folder_are_migrated(spark_session, spark_tables, golden_store,
                                                                      tmp_path):
    from monitoring.engines.spark import SparkEngine

    engine = SparkEngine.open("local[2]", spark_tables, spark=spark_session, options={"results": str(tmp_path / "out")})
    _migrates(results_target(engine), golden_store, _spark_layout)


def test_postgresql_refuses_a_results_role_that_can_write_the_registers(postgres_cluster):
    with pytest.raises(EngineError, match="add results_user=ROLE"):
        results_target(open_engine(postgres_cluster.url()))
    engine = open_engine(postgres_cluster.url(results_user=postgres_cluster.user))  # the superuser
    try:
        with pytest.raises(EngineError, match="can write to the registers' schema 'registers'.*refused"):
            results_target(engine)
    finally:
        engine.close()
    reader = open_engine(postgres_cluster.url(results_user="tiltak_reader"))
    try:
        with pytest.raises(EngineError, match="lacks USAGE and CREATE on schema 'tiltak_results'"):
            results_target(reader)
    finally:
        reader.close()


def test_results_engine_needs_an_engine(golden_store, tmp_path):
    from monitoring.runs import RunInputError

    with pytest.raises(RunInputError, match="--results engine: needs --engine"):
        run_models(golden_store, monitored_models(), as_of=AS_OF_DATE, results="engine")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tiltak", "monitor", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_monitor_run_and_show_with_results_in_the_engine(duckdb_registers, golden_store, tmp_path):
    model = MODELS[0]
    work = tmp_path / "work.duckdb"
    engine = f"duckdb:{duckdb_registers}"
    ran = _cli("run", model, "--db", work, "--engine", engine, "--results", "engine", "--as-of", AS_OF)
    assert ran.returncode == 0, ran.stderr
    assert "Results in the engine:" in ran.stdout and "published cells written" in ran.stdout
    again = _cli("run", model, "--db", work, "--engine", engine, "--results", "engine", "--as-of", AS_OF)
    assert "Results in the engine: already up to date (nothing written)." in again.stdout
    there = _cli("show", model, "--engine", engine, "--results", "engine", "--format", "json", "--by", "centre")
    here = _cli("show", model, "--db", work, "--format", "json", "--by", "centre")
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout and json.loads(there.stdout)
    found_there = _cli("quality", "--engine", engine, "--results", "engine")
    found_here = _cli("quality", "--db", work)
    assert found_there.returncode == 0, found_there.stderr
    assert found_there.stdout.splitlines()[0].startswith("Run 1: ") and "QC005" in found_there.stdout
    assert set(found_there.stdout.splitlines()[1:]) <= set(found_here.stdout.splitlines()[1:])
    usage = _cli("quality", "--results", "engine")
    assert usage.returncode == 2 and "--results engine needs --engine URL" in usage.stderr
    usage = _cli("show", model, "--results", "engine")
    assert usage.returncode == 2 and "--results engine needs --engine URL" in usage.stderr
    usage = _cli("run", model, "--db", work, "--results", "engine")
    assert usage.returncode == 2 and "--results engine needs --engine URL" in usage.stderr
    empty = tmp_path / "empty.duckdb"
    shutil.copy(golden_store, empty)
    nothing = _cli("show", model, "--engine", f"duckdb:{empty}", "--results", "engine")
    assert nothing.returncode == 2 and "holds no results of model" in nothing.stderr and "Traceback" not in nothing.stderr


def _drop_postgres_results(target, engine) -> None:
    """The session's cluster is shared: leave no results behind."""
    with target.con.cursor() as cur:
        for name in (RELEASES, RUNS, QUALITY, SCHEMA_TABLE):
            cur.execute(f'DROP TABLE IF EXISTS "tiltak_results"."{name}"')
    target.close()
    engine.close()
