"""The DuckDB engine: the store itself (the default), or another DuckDB file read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitoring.engines.base import Engine, EngineError


class DuckDBEngine(Engine):
    """Runs screened trees on a DuckDB connection (the store's, locked down for analysis)."""

    dialect = "duckdb"

    def __init__(self, con: Any, name: str = "duckdb", owned: bool = False) -> None:
        self.con = con
        self.name = name
        self._owned = owned

    def tables(self) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def _materialise(self, table: str, sql: str) -> int:
        if table in self.tables() and not self._owned:
            self.con.execute(f"DELETE FROM {table}")  # the store's own table (inside the caller's transaction)
            self.con.execute(f"INSERT INTO {table} {sql}")
        else:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def close(self) -> None:
        if self._owned:
            self.con.close()


def open_duckdb_file(path: str) -> DuckDBEngine:
    """Another DuckDB file holding the contract tables, opened read-only, external access off."""
    import duckdb

    from monitoring.expressions import lock_down

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
    return DuckDBEngine(con, f"duckdb:{path}", owned=True)
