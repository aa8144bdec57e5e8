"""The DuckDB engine: the store itself (the default), or another DuckDB file read-only."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from monitoring.contract import PANEL_COLUMNS
from monitoring.engines.base import Engine, EngineError
from monitoring.expressions import lock_down


class DuckDBEngine(Engine):
    """Runs screened trees on a DuckDB connection (the store's, locked down for analysis)."""

    dialect = "duckdb"

    def __init__(self, con: Any, name: str = "duckdb", owned: bool = False) -> None:
        self.con = con
        self.name = name
        self._owned = owned
        self.path: Path | None = None  # the file, for an engine opened on another DuckDB file
        self._closed = False

    def tables(self) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}

    def columns(self, table: str) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema IN (current_schema(), 'main', 'temp')", [table]).fetchall()}

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def _materialise(self, table: str, tree: Any) -> int:
        from sqlglot import exp


        target = exp.to_table(table, quoted=True)
        if table in self.tables() and not self._owned:  # the store's own table, in the caller's transaction
            columns = [c for c, _t, _d in _panel_columns()]
            self.con.execute(exp.delete(target).sql(dialect="duckdb"))
            statement = exp.insert(tree, target, columns=[exp.to_identifier(c, quoted=True) for c in columns])
        else:
            statement = exp.Create(this=target, kind="TABLE", expression=tree, replace=True,
                                   properties=exp.Properties(expressions=[exp.TemporaryProperty()]))
        with _joins_as_written(self.con):
            self.con.execute(statement.sql(dialect="duckdb", identify=True))
        count = exp.select(exp.Count(this=exp.Star())).from_(target)
        return int(self.con.execute(count.sql(dialect="duckdb", identify=True)).fetchall()[0][0])

    def close(self) -> None:
        if self._owned and not self._closed:
            self.con.close()
            self._closed = True


@contextmanager
def _joins_as_written(con: Any) -> Iterator[None]:
    """Build each hash join of the statement on the side the query puts on the right.

    The panel query is written with the small relation on the right of every join (the
    participation and application months joined to the person-months, the persons to
    their spells). DuckDB's optimizer may swap the sides on its cardinality estimates,
    which inside the load's own transaction (tables not yet committed, no statistics) put
    the ten million person-months on the build side at 2.5 million rows. Switching that
    one optimizer pass off changes the plan, never the rows (the query orders them in
    full). The connection's setting is restored afterwards; on a connection whose
    configuration is locked nothing is changed."""
    import duckdb

    try:
        locked, previous = con.execute(
            "SELECT current_setting('lock_configuration'), current_setting('disabled_optimizers')").fetchone()
    except duckdb.Error:
        locked, previous = True, ""
    names = [n.strip() for n in str(previous or "").split(",") if n.strip()]
    if locked or "build_side_probe_side" in names or not all(re.fullmatch(r"[a-z_]+", n) for n in names):
        yield
        return
    con.execute(f"SET disabled_optimizers = '{','.join([*names, 'build_side_probe_side'])}'")
    try:
        yield
    finally:
        try:
            con.execute(f"SET disabled_optimizers = '{','.join(names)}'")
        except duckdb.Error:  # pragma: no cover - a connection that can no longer run anything
            pass


def _panel_columns():

    return PANEL_COLUMNS


def open_duckdb_file(path: str) -> DuckDBEngine:
    """Another DuckDB file holding the contract tables, opened read-only, external access off."""
    import duckdb


    file = Path(path)
    if not file.is_file():
        raise EngineError(f"--engine duckdb:{path}: no such DuckDB file")
    try:
        con = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as exc:
        raise EngineError(f"--engine duckdb:{path}: cannot open it read-only ({type(exc).__name__}); "
                          "is it a DuckDB file, and not in use by a writer?") from None
    con.execute("SET enable_progress_bar = false")
    lock_down(con)
    engine = DuckDBEngine(con, f"duckdb:{path}", owned=True)
    engine.path = file
    return engine
