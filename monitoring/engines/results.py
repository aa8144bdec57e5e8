"""A run's published results written back into the engine (``monitor run --results engine``).

Only what is *published* leaves tiltak: the latest release of each model's indicators after
disclosure control (the value, NULL where suppressed, and the suppression flag per period
and group) and the run records. Numerators, denominators, histograms and contributions,
which the release is decided from, stay in the local store (``--db``), as they always have.

Four tables, with the store's column names and types (:data:`TABLES`):

* ``monitoring_releases``: one row per published cell of the latest release of every
  indicator of the run's models (``value`` NULL where ``suppressed``);
* ``monitoring_runs``: the run records behind those releases (and the latest run, whose
  last complete month marks the provisional periods);
* ``monitoring_quality``: the data-quality findings (QC001-QC005) of those runs that may be
  published (:mod:`monitoring.engines.findings`: none on or next to a suppressed cell, no
  count below the threshold, no identifier); read back by ``monitor quality --results engine``;
* ``tiltak_results_schema``: (component, version): ``engine_results`` (this layout,
  :data:`RESULTS_VERSION`) and ``monitoring`` (the local store's schema version).

Versions of the layout: 1 (issue 15b) had no ``monitoring_quality``; version 2 adds it.
Results written by version 1 are read as they are (no findings: ``monitor quality`` says
so) and migrated by the next write, in its transaction: the table is created and filled
with the findings of the runs written. Results of a later version are refused (written by
a newer tiltak), before anything is changed.

Writing is idempotent and atomic: the rows of the run's models are *replaced* (a re-run of
the same periods leaves the same rows, never a second copy) in one transaction of the
engine, so a failure leaves the previous results whole. Where they go:

* **PostgreSQL**: schema ``results_schema`` (default ``tiltak_results``) by a second
  connection as the role ``results_user`` of the URL. That role needs USAGE and CREATE on
  the results schema only, and is refused if it can write to the registers' schema; the
  reading session stays as it was (SELECT on the registers, TEMP, read-only).
* **Spark**: Parquet folders under ``results=DIR`` of the URL, as a new snapshot folder per
  write; the file ``DIR/CURRENT`` names the snapshot and is replaced atomically (a rename)
  once every table is written, so a reader sees the old results or the new ones, never a
  mixture.
* **DuckDB file**: schema ``tiltak_results`` of the same file, in one transaction. DuckDB
  has no roles: the file is opened for writing only for this transaction (the computation
  ran on a read-only connection) and with external access off.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from monitoring.contract import TABLE_NAMES
from monitoring.engines.base import EngineError
from monitoring.engines.findings import FINDING_COLUMNS, publishable
from monitoring.expressions import lock_down
from monitoring.migrations import latest_version
from monitoring.release import DEFINITION_TABLE, RELEASE_TABLE

RESULTS_VERSION = 2
RESULTS_COMPONENT = "engine_results"
SCHEMA_TABLE = "tiltak_results_schema"
RUNS, RELEASES, QUALITY = "monitoring_runs", "monitoring_releases", "monitoring_quality"
_FINDING_TYPES = {"run_id": "INTEGER", "value": "DOUBLE"}
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    RUNS: (("run_id", "INTEGER"), ("started_at", "TIMESTAMP"), ("finished_at", "TIMESTAMP"), ("models", "VARCHAR"),
           ("load_id", "INTEGER"), ("last_month", "VARCHAR"), ("computed_cells", "INTEGER"), ("status", "VARCHAR")),
    RELEASES: (("release_id", "INTEGER"), ("model_id", "VARCHAR"), ("indicator_id", "VARCHAR"), ("grain", "VARCHAR"),
               ("period", "VARCHAR"), ("period_index", "INTEGER"), ("dimension", "VARCHAR"),
               ("group_value", "VARCHAR"), ("value", "DOUBLE"), ("suppressed", "BOOLEAN")),
    QUALITY: tuple((c, _FINDING_TYPES.get(c, "VARCHAR")) for c in FINDING_COLUMNS),
    SCHEMA_TABLE: (("component", "VARCHAR"), ("version", "INTEGER")),
}
WRITTEN = (RELEASES, RUNS, QUALITY, SCHEMA_TABLE)  # the order of a write
DEFAULT_SCHEMA = "tiltak_results"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Published:
    """What a run publishes: rows of :data:`TABLES` for the models ``model_ids``."""

    model_ids: tuple[str, ...]
    runs: list[tuple]
    releases: list[tuple]
    versions: list[tuple]
    quality: list[tuple] = ()

    def rows(self, table: str) -> list[tuple]:
        """The rows to write into ``table``."""
        return list({RELEASES: self.releases, RUNS: self.runs, QUALITY: self.quality,
                     SCHEMA_TABLE: self.versions}[table])


def published(con, model_ids: Sequence[str]) -> Published:
    """The latest release of every indicator of ``model_ids`` in the local store ``con``
    (published values only) and the run records behind it."""

    ids = sorted(set(model_ids))
    columns = ", ".join(f"r.{c}" for c, _t in TABLES[RELEASES])
    releases = con.execute(
        f"SELECT {columns} FROM {RELEASE_TABLE} r JOIN (SELECT model_id, indicator_id, max(release_id) AS release_id "
        f"FROM {DEFINITION_TABLE} GROUP BY model_id, indicator_id) l ON l.model_id = r.model_id "
        "AND l.indicator_id = r.indicator_id AND l.release_id = r.release_id WHERE list_contains(?, r.model_id) "
        "ORDER BY r.model_id, r.indicator_id, r.period_index, r.dimension, r.group_value", [ids]).fetchall()
    wanted = sorted({r[0] for r in releases})
    runs = con.execute(
        f"SELECT {', '.join(c for c, _t in TABLES[RUNS])} FROM monitoring_runs WHERE list_contains(?, run_id) "
        "OR run_id = (SELECT max(run_id) FROM monitoring_runs) ORDER BY run_id", [wanted]).fetchall()
    versions = [(RESULTS_COMPONENT, RESULTS_VERSION), ("monitoring", latest_version("monitoring"))]
    return Published(tuple(ids), runs, releases, versions, _findings(con, ids, [r[0] for r in runs], releases))


def _findings(con, model_ids: list[str], run_ids: list[int], releases: list[tuple]) -> list[tuple]:
    """The publishable quality findings of ``run_ids`` on ``model_ids`` (or on no model: the
    register checks), in a fixed order."""
    rows = con.execute(
        f"SELECT {', '.join(FINDING_COLUMNS)} FROM monitoring_quality WHERE list_contains(?, run_id) "
        "AND (model_id IS NULL OR list_contains(?, model_id)) ORDER BY ALL", [run_ids, model_ids]).fetchall()
    return publishable(rows, releases)


class ResultsTarget:
    """Where the published results of runs go in an engine, and where ``monitor show`` reads them."""

    name = "engine"

    def write(self, results: Published) -> int:
        """Replace the results of ``results.model_ids`` in one transaction; returns the rows written."""
        raise NotImplementedError

    def read(self, table: str) -> list[tuple]:
        """Every row of a results table (columns as in :data:`TABLES`); [] when it does not exist yet."""
        raise NotImplementedError

    def version(self) -> int | None:
        """The layout version of the results held (None: none written yet); refuses a later one."""
        held = dict(self.read(SCHEMA_TABLE)).get(RESULTS_COMPONENT)
        if held is not None and int(held) > RESULTS_VERSION:
            raise EngineError(f"{self.name}: the results there were written by a newer tiltak (layout version "
                              f"{held}; this one writes version {RESULTS_VERSION}); upgrade tiltak to write or read them")
        return None if held is None else int(held)

    def close(self) -> None:
        pass


def export(con, model_ids: Sequence[str], target: ResultsTarget) -> int | None:
    """Write the store's latest release of ``model_ids`` into ``target`` unless it already holds
    exactly those rows (idempotent); returns the number of published cells written, or None."""
    results = published(con, model_ids)
    wanted = set(results.model_ids)
    if target.version() == RESULTS_VERSION and _holds(target, results, wanted):
        return None
    return target.write(results)


def _holds(target: ResultsTarget, results: Published, wanted: set) -> bool:
    """Whether ``target`` holds exactly the release of ``results``'s models and the findings
    of its runs."""
    held = [r for r in target.read(RELEASES) if r[1] in wanted]
    if ordered(held) != ordered(results.releases):
        return False
    runs = {r[0] for r in results.runs}
    return ordered(r for r in target.read(QUALITY) if r[0] in runs) == ordered(results.quality)


def ordered(rows: Iterable[tuple]) -> list[tuple]:
    """``rows`` in one order, NULLs first in every column (a NULL and a text never compared)."""
    return sorted((tuple(r) for r in rows), key=lambda r: tuple((v is not None, v) if v is not None else (False, 0)
                                                                 for v in r))


def merged(old: list[tuple], new: list[tuple], key: int, replaced: set) -> list[tuple]:
    """``old`` rows whose ``key`` column is not in ``replaced``, then ``new``."""
    return [r for r in old if r[key] not in replaced] + list(new)


# ---- PostgreSQL ---------------------------------------------------------------------------


class PostgresResults(ResultsTarget):
    """Results in a schema of the PostgreSQL server, written by their own least-privilege role."""

    PG_TYPES = {"INTEGER": "integer", "TIMESTAMP": "timestamp", "VARCHAR": "text", "DOUBLE": "double precision",
                "BOOLEAN": "boolean"}

    def __init__(self, connection: Any, name: str, schema: str, registers_schema: str) -> None:
        self.con = connection
        self.name = name
        self.schema = schema
        self.registers_schema = registers_schema

    @classmethod
    def for_engine(cls, engine) -> "PostgresResults":
        import psycopg

        options = engine.options
        user = options.get("results_user")
        schema = options.get("results_schema", DEFAULT_SCHEMA)
        where = f"--results engine on {engine.name}"
        if not user:
            raise EngineError(f"{where}: add results_user=ROLE to the URL: a role with USAGE and CREATE on the results "
                              f"schema ({schema}) only; the reading role stays read-only")
        if not _NAME.fullmatch(schema):
            raise EngineError(f"{where}: results_schema {schema!r}: expected a lower-case name")
        if schema == engine.schema:
            raise EngineError(f"{where}: results_schema {schema!r} is the registers' schema; expected a schema of its own")
        try:
            con = psycopg.connect(**{**engine.conninfo, "user": user}, autocommit=True)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"{where}: cannot connect as {user!r} ({first})") from None
        target = cls(con, f"{engine.name} (results: {schema} as {user})", schema, engine.schema)
        target._check_privileges(user)
        return target

    def _check_privileges(self, user: str) -> None:

        with self.con.cursor() as cur:
            cur.execute("SELECT has_schema_privilege(current_user, %s, 'USAGE') "  # a list would mean "any of"
                        "AND has_schema_privilege(current_user, %s, 'CREATE') FROM pg_namespace WHERE nspname = %s",
                        [self.schema, self.schema, self.schema])
            row = cur.fetchone()
            if row is None:
                raise EngineError(f"{self.name}: no schema {self.schema!r}; create it and grant {user!r} USAGE and "
                                  "CREATE on it")
            if not row[0]:
                raise EngineError(f"{self.name}: role {user!r} lacks USAGE and CREATE on schema {self.schema!r}")
            cur.execute("SELECT has_schema_privilege(current_user, %s, 'CREATE') FROM pg_namespace WHERE nspname = %s",
                        [self.registers_schema, self.registers_schema])
            row = cur.fetchone()
            writes = bool(row and row[0])
            cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname = ANY(%s) AND "
                        "has_table_privilege(current_user, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')",
                        [self.registers_schema, list(TABLE_NAMES)])
            writable = [r[0] for r in cur.fetchall()]
        if writes or writable:
            what = f"tables {', '.join(writable)}" if writable else "new tables"
            raise EngineError(f"{self.name}: role {user!r} can write to the registers' schema "
                              f"{self.registers_schema!r} ({what}); refused: the results role may write to "
                              f"{self.schema!r} only")

    def _table(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'

    def _exists(self, cur, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{self.schema}"."{name}"'])
        return bool(cur.fetchone()[0])

    def write(self, results: Published) -> int:
        self.version()
        runs = [r[0] for r in results.runs]
        with self.con.transaction(), self.con.cursor() as cur:
            for name, columns in TABLES.items():  # version 1 had no monitoring_quality: created here
                spec = ", ".join(f'"{c}" {self.PG_TYPES[t]}' for c, t in columns)
                cur.execute(f"CREATE TABLE IF NOT EXISTS {self._table(name)} ({spec})")
            cur.execute(f"LOCK TABLE {self._table(RELEASES)}, {self._table(RUNS)}, {self._table(QUALITY)} "
                        "IN EXCLUSIVE MODE")
            cur.execute(f"DELETE FROM {self._table(RELEASES)} WHERE model_id = ANY(%s)", [list(results.model_ids)])
            cur.execute(f"DELETE FROM {self._table(RUNS)} WHERE run_id = ANY(%s)", [runs])
            cur.execute(f"DELETE FROM {self._table(QUALITY)} WHERE run_id = ANY(%s)", [runs])
            cur.execute(f"DELETE FROM {self._table(SCHEMA_TABLE)}")
            for name in WRITTEN:
                names = ", ".join(f'"{c}"' for c, _t in TABLES[name])
                with cur.copy(f"COPY {self._table(name)} ({names}) FROM STDIN") as copy:
                    for row in results.rows(name):
                        copy.write_row(row)
        return len(results.releases)

    def read(self, table: str) -> list[tuple]:
        with self.con.cursor() as cur:
            if not self._exists(cur, table):
                return []
            names = ", ".join(f'"{c}"' for c, _t in TABLES[table])
            cur.execute(f"SELECT {names} FROM {self._table(table)}")
            return [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


# ---- Spark --------------------------------------------------------------------------------


class SparkResults(ResultsTarget):
    """Results as Parquet folders under ``folder``, one snapshot per write, switched atomically."""

    SPARK_TYPES = {"INTEGER": "INT", "TIMESTAMP": "TIMESTAMP", "VARCHAR": "STRING", "DOUBLE": "DOUBLE",
                   "BOOLEAN": "BOOLEAN"}

    def __init__(self, spark: Any, folder: Path, name: str) -> None:
        self.spark = spark
        self.folder = folder
        self.name = name

    @classmethod
    def for_engine(cls, engine) -> "SparkResults":
        folder = engine.options.get("results")
        if not folder:
            raise EngineError(f"--results engine on {engine.name}: add results=DIR to the URL (a folder for the "
                              "results' Parquet tables, apart from the registers' folder)")
        path = Path(folder).resolve()
        if engine.tables_folder is not None and path == Path(engine.tables_folder).resolve():
            raise EngineError(f"--results engine on {engine.name}: results={folder} is the registers' folder; "
                              "expected a folder of its own")
        path.mkdir(parents=True, exist_ok=True)
        return cls(engine.spark, path, f"{engine.name} (results: {path})")

    def _current(self) -> Path | None:
        pointer = self.folder / "CURRENT"
        if not pointer.is_file():
            return None
        name = pointer.read_text().strip()
        return self.folder / name if name else None

    def read(self, table: str) -> list[tuple]:
        current = self._current()
        if current is None or not (current / table).exists():
            return []
        names = [c for c, _t in TABLES[table]]
        return [tuple(r) for r in self.spark.read.parquet(str(current / table)).select(*names).collect()]

    def write(self, results: Published) -> int:
        schema = {name: ", ".join(f"`{c}` {self.SPARK_TYPES[t]}" for c, t in columns) for name, columns in TABLES.items()}
        self.version()
        runs = {r[0] for r in results.runs}
        tables = {  # a snapshot of version 1 has no monitoring_quality: read as empty, written now
            RELEASES: merged(self.read(RELEASES), results.releases, 1, set(results.model_ids)),
            RUNS: sorted(merged(self.read(RUNS), results.runs, 0, runs), key=lambda r: r[0]),
            QUALITY: ordered(merged(self.read(QUALITY), results.quality, 0, runs)),
            SCHEMA_TABLE: results.versions,
        }
        previous = self._current()
        snapshot = self.folder / f"snapshot-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        try:
            for name, rows in tables.items():
                self.spark.createDataFrame(rows, schema=schema[name]).coalesce(1).write.parquet(str(snapshot / name))
            pointer = self.folder / f".CURRENT-{uuid.uuid4().hex[:8]}"
            pointer.write_text(snapshot.name + "\n")
            os.replace(pointer, self.folder / "CURRENT")  # the switch: atomic on a POSIX file system
        except BaseException:
            _remove(snapshot)
            raise
        if previous is not None and previous != snapshot:
            _remove(previous)
        return len(results.releases)


def _remove(folder: Path) -> None:

    shutil.rmtree(folder, ignore_errors=True)


# ---- DuckDB file --------------------------------------------------------------------------


class DuckDBResults(ResultsTarget):
    """Results in schema ``tiltak_results`` of the DuckDB file holding the registers."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.path = engine.path
        self.name = f"{engine.name} (results: {DEFAULT_SCHEMA})"

    def _connect(self, read_only: bool):
        import duckdb


        self.engine.close()  # DuckDB opens a file once per process: the read-only engine goes first
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise EngineError(f"{self.name}: cannot open it {'read-only' if read_only else 'for writing'} "
                              f"({type(exc).__name__}); is another process using it?") from None
        con.execute("SET enable_progress_bar = false")
        lock_down(con)
        return con

    def read(self, table: str) -> list[tuple]:
        con = self._connect(read_only=True)
        try:
            exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                                 "AND table_name = ?", [DEFAULT_SCHEMA, table]).fetchall()[0][0]
            if not exists:
                return []
            names = ", ".join(f'"{c}"' for c, _t in TABLES[table])
            return con.execute(f'SELECT {names} FROM "{DEFAULT_SCHEMA}"."{table}"').fetchall()
        finally:
            con.close()

    def write(self, results: Published) -> int:
        self.version()
        con = self._connect(read_only=False)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{DEFAULT_SCHEMA}"')
                for name, columns in TABLES.items():
                    spec = ", ".join(f'"{c}" {t}' for c, t in columns)
                    con.execute(f'CREATE TABLE IF NOT EXISTS "{DEFAULT_SCHEMA}"."{name}" ({spec})')
                con.execute(f'DELETE FROM "{DEFAULT_SCHEMA}"."{RELEASES}" WHERE list_contains(?, model_id)',
                            [list(results.model_ids)])
                for name in (RUNS, QUALITY):
                    con.execute(f'DELETE FROM "{DEFAULT_SCHEMA}"."{name}" WHERE list_contains(?, run_id)',
                                [[r[0] for r in results.runs]])
                con.execute(f'DELETE FROM "{DEFAULT_SCHEMA}"."{SCHEMA_TABLE}"')
                import pandas as pd

                for name in WRITTEN:
                    columns = [c for c, _t in TABLES[name]]
                    con.register("_results_frame", pd.DataFrame(results.rows(name), columns=columns))
                    select = ", ".join(f'CAST("{c}" AS {t})' for c, t in TABLES[name])
                    con.execute(f'INSERT INTO "{DEFAULT_SCHEMA}"."{name}" SELECT {select} FROM _results_frame')
                    con.unregister("_results_frame")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()
        return len(results.releases)


def results_target(engine) -> ResultsTarget:
    """The results target of an engine (see the module docstring for what each needs)."""
    kind = type(engine).__name__
    if kind == "PostgresEngine":
        return PostgresResults.for_engine(engine)
    if kind == "SparkEngine":
        return SparkResults.for_engine(engine)
    if kind == "DuckDBEngine" and getattr(engine, "path", None) is not None:
        return DuckDBResults(engine)
    raise EngineError("--results engine: needs --engine (duckdb:FILE, postgresql://... or spark://...); "
                      "without it the results are the local store's")
