"""The PostgreSQL engine: the contract tables in a schema of a PostgreSQL server.

The session is least-privilege by construction: the role needs only ``SELECT`` on the
contract tables and ``TEMP`` on the database. The panel is built into a *temporary* table
``person_month`` (it shadows any table of that name for this session only and disappears
with it); then every transaction of the session is made read-only
(``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``), so the monitoring queries
cannot write anything even if a tree slipped past the allow-list. The password, if any,
comes from ``PGPASSWORD`` or ``~/.pgpass`` (libpq), never from the URL text.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from monitoring.engines.base import Engine, EngineError, EngineUnavailable, redacted

_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresEngine(Engine):
    dialect = "postgres"

    def __init__(self, connection: Any, name: str, schema: str) -> None:
        self.con = connection
        self.name = name
        self.schema = schema
        self._read_only = False
        self.options: dict[str, str] = {}
        self.conninfo: dict[str, object] = {}

    @classmethod
    def from_url(cls, url: str) -> "PostgresEngine":
        try:
            import psycopg
        except ImportError:
            raise EngineUnavailable("--engine postgresql://...: the PostgreSQL client library is not installed; "
                                    "install it with: pip install 'psycopg[binary]'") from None
        parts = urlsplit(url)
        if parts.password:
            raise EngineError(f"--engine {redacted(url)}: do not put the password in the URL (it would show in the "
                              "process list); use PGPASSWORD or ~/.pgpass")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        schema = options.pop("schema", "public")
        if not _SCHEMA.fullmatch(schema):
            raise EngineError(f"--engine {redacted(url)}: schema {schema!r}: expected a lower-case name")
        database = unquote(parts.path.lstrip("/")) or None
        if not database:
            raise EngineError(f"--engine {redacted(url)}: expected postgresql://[user@]host[:port]/DATABASE")
        conninfo = {"dbname": database, "host": options.get("host") or parts.hostname, "port": parts.port,
                    "user": unquote(parts.username) if parts.username else None, "application_name": "tiltak"}
        try:
            con = psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}, autocommit=True)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"--engine {redacted(url)}: cannot connect ({first})") from None
        engine = cls(con, redacted(url), schema)
        engine.options = options  # results_user, results_schema: where --results engine writes
        engine.conninfo = {k: v for k, v in conninfo.items() if v is not None and k != "user"}
        engine._prepare()
        return engine

    def _prepare(self) -> None:
        from sqlglot import exp

        with self.con.cursor() as cur:
            # the schema of the contract tables, then nothing else (temporary tables come first)
            cur.execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(
                this=exp.var("search_path"), expression=exp.to_identifier(self.schema, quoted=True)))])
                .sql(dialect="postgres"))

    def tables(self) -> set[str]:
        rows = self._fetch("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = current_schema() OR table_type = 'LOCAL TEMPORARY'")
        return {r[0] for r in rows}

    def columns(self, table: str) -> set[str]:
        with self.con.cursor() as cur:
            cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                        "AND table_schema = current_schema()", [table])
            return {r[0] for r in cur.fetchall()}

    def _fetch(self, sql: str) -> list[tuple]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def _materialise(self, table: str, tree: Any) -> int:
        from sqlglot import exp

        if self._read_only:
            raise EngineError(f"{self.name}: the panel is built once per session, before the read-only queries")
        target = exp.to_table(table, quoted=True)
        create = exp.Create(this=target, kind="TABLE", expression=tree,
                            properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        with self.con.cursor() as cur:
            name = target.sql(dialect="postgres", identify=True)
            cur.execute("DROP TABLE IF EXISTS pg_temp." + name)  # the engine's own statements, fixed text
            cur.execute(create.sql(dialect="postgres", identify=True, comments=False))
            cur.execute("ANALYZE " + name)
            cur.execute(exp.select(exp.Count(this=exp.Star())).from_(target).sql(dialect="postgres", identify=True))
            rows = int(cur.fetchone()[0])
            cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        self._read_only = True
        return rows

    def close(self) -> None:
        self.con.close()
