"""The store: one DuckDB file with a versioned schema.

``Store`` is the only place that opens the database file. It applies the registered schema
migrations (see :mod:`monitoring.migrations`) when it opens a store, offers transactions
and a way to write auxiliary tables (tables outside the contract, e.g. ground truth).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from monitoring import migrations
from monitoring.contract import DERIVED_TABLES, LOADER_TABLES, RAW_PERSON_ID_COLUMNS, TABLE_NAMES
from monitoring.errors import DatabaseFailure, MonitoringError
from monitoring.expressions import lock_down

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas

_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class StoreError(MonitoringError):
    """The store cannot be opened or used as asked."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class Store:
    """A DuckDB store file.

    Example::

        with Store.open("registers.duckdb") as store:
            con = store.connect()
            with store.transaction():
                con.execute("INSERT INTO ...")
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, analysis: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.analysis = analysis
        self._con: Any = None
        self._depth = 0

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False, migrate: bool = True,
             analysis: bool = False) -> "Store":
        """Open (or create) the store and bring its schema up to date.

        ``analysis``: the connection will evaluate user expressions or run analysis, so
        external access is switched off and the configuration locked right after opening
        (:func:`monitoring.expressions.lock_down`): no file outside the store can be read
        or written through it.
        """
        store = cls(path, read_only=read_only, analysis=analysis)
        store.connect()
        try:
            if migrate:
                store.migrate()
            else:
                store.check_versions()
        except BaseException:
            store.close()
            raise
        return store

    def connect(self) -> "duckdb.DuckDBPyConnection":
        """The open DuckDB connection (opened on first use)."""
        if self._con is None:
            self._con = _connect(self.path, self.read_only)
            self._con.execute("SET enable_progress_bar = false")
            if self.analysis:

                lock_down(self._con)
        return self._con

    def close(self) -> None:
        """Close the connection (a store can be reopened with ``connect``)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> "Store":
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator["duckdb.DuckDBPyConnection"]:
        """All or nothing: commit when the block ends, roll back on any exception,
        including ``KeyboardInterrupt``. A nested block joins the enclosing transaction."""
        con = self.connect()
        if self._depth:
            self._depth += 1
            try:
                yield con
            finally:
                self._depth -= 1
            return
        con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield con
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a failed (e.g. full-disk) commit leaves nothing to roll back
                pass
            raise
        else:
            con.execute("COMMIT")
        finally:
            self._depth = 0

    def schema_versions(self) -> dict[str, int]:
        """Applied schema version per component."""
        con = self.connect()
        if not _has_table(con, "schema_version"):
            return {}
        rows = con.execute(
            "SELECT component, max(version) FROM schema_version GROUP BY component ORDER BY 1"
        ).fetchall()
        return {component: int(version) for component, version in rows}

    def check_versions(self) -> list[str]:
        """Components whose migrations are pending; refuses a store newer than this code."""
        applied = self.schema_versions()
        for component, version, known in migrations.newer_than_known(applied):
            raise StoreError(
                f"{self.path}: schema of '{component}' is version {version}, but this "
                f"tiltak knows only up to version {known}; upgrade tiltak",
                path=str(self.path),
            )
        return migrations.pending_components(applied)

    def migrate(self, *, upto: dict[str, int] | None = None) -> list[migrations.Migration]:
        """Apply the pending migrations (each component in one transaction)."""
        pending = self.check_versions()
        if pending and self.read_only:
            raise StoreError(
                f"{self.path}: the schema is out of date ({', '.join(pending)}); open the store "
                "once for writing (e.g. run 'tiltak load') to migrate it",
                path=str(self.path),
            )
        applied: list[migrations.Migration] = []
        for component in pending:
            applied.extend(self._migrate_component(component, (upto or {}).get(component)))
        return applied

    def _migrate_component(self, component: str, upto: int | None) -> list[migrations.Migration]:
        con = self.connect()
        con.execute(migrations.SCHEMA_VERSION_DDL)
        current = self.schema_versions().get(component, 0)
        steps = [
            m for m in migrations.registered()[component]
            if m.version > current and (upto is None or m.version <= upto)
        ]
        with self.transaction():
            for step in steps:
                step.run(con)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?, now()::TIMESTAMP)",
                    [step.component, step.version, step.description],
                )
        return steps

    def tables(self) -> list[str]:
        """Names of the tables in the store's main schema."""
        rows = self.connect().execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def loads(self) -> "pandas.DataFrame":
        """The record of loads, oldest first."""
        return self.connect().execute(
            "SELECT * FROM loads ORDER BY load_id, table_name"
        ).df()

    def write_auxiliary_table(self, name: str, frame: "pandas.DataFrame") -> int:
        """Create or replace a table outside the contract (e.g. ``truth_effects``).

        The table is replaced as a whole in one transaction. Returns the number of rows.
        """
        import duckdb

        _check_auxiliary(name, frame)
        con = self.connect()
        try:
            with self.transaction():
                con.register("_auxiliary_frame", frame)
                try:
                    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _auxiliary_frame')
                finally:
                    con.unregister("_auxiliary_frame")
        except (duckdb.Error, ValueError, TypeError, OSError) as exc:

            raise DatabaseFailure(f"auxiliary table '{name}': cannot store the frame", exc,
                                  "the store was not changed") from None
        return len(frame)


class StoreBusyError(StoreError):
    """Another process is writing to the store."""


@contextmanager
def writer_lock(db_path: str | Path, wait: float = 0.0, what: str = "load",
                refused: Callable[[Path, str, float], Exception] | None = None) -> Iterator[None]:
    """Hold ``DB.lock`` exclusively while writing the store, also before the store exists.

    Advisory (``flock``): released by the operating system when the process dies, so a
    killed writer never blocks the next one. A second writer waits up to ``wait`` seconds,
    then is refused with a message naming the holder (``refused`` builds the error).
    """

    lock_path = Path(str(db_path) + ".lock")
    try:
        handle = open(lock_path, "a+")
    except OSError as exc:
        raise StoreError(f"{lock_path}: cannot create the lock next to the store: {exc.strerror or exc}; "
                         "the folder of the store must be writable", path=str(db_path)) from None
    deadline = time.monotonic() + max(wait, 0)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(lock_path)
                    if refused is not None:
                        raise refused(lock_path, holder, wait) from None
                    raise StoreBusyError(f"{lock_path}: the store is being written by another process ({holder}); "
                                         f"{what} refused. Try again when it has finished", path=str(db_path)) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}, {what}\n")
            handle.flush()
        except OSError:  # a full disk: the lock holds all the same
            pass
        yield
    finally:
        handle.close()


def _holder(lock_path: Path) -> str:
    try:
        return lock_path.read_text().strip() or "another process"
    except OSError:
        return "another process"


def _check_auxiliary(name: str, frame: Any) -> None:
    reserved = set(TABLE_NAMES) | set(LOADER_TABLES) | set(DERIVED_TABLES)
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise StoreError(
            f"auxiliary table name {name!r}: expected lower-case letters, digits and '_', "
            "starting with a letter"
        )
    if name in reserved:
        raise StoreError(
            f"auxiliary table name '{name}' is a contract or store table; expected another "
            "name (contract tables are written only by loading an extract)"
        )
    raw = sorted(set(map(str, getattr(frame, "columns", ()))) & set(RAW_PERSON_ID_COLUMNS))
    if raw:
        raise StoreError(
            f"auxiliary table '{name}': column(s) {', '.join(raw)} hold raw person numbers; "
            "expected pseudonymous person_id only"
        )


def _has_table(con: Any, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = ?",
            [name],
        ).fetchone()[0]
    )


def _connect(path: Path, read_only: bool) -> Any:
    import duckdb

    if read_only and not path.exists():
        raise StoreError(f"{path}: no such store", path=str(path))
    if not path.parent.exists():
        raise StoreError(
            f"{path}: cannot create the store; folder '{path.parent}' does not exist",
            path=str(path),
        )
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(_open_failure(path, exc), path=str(path)) from None


def _open_failure(path: Path, exc: Exception) -> str:
    text = str(exc)
    if "not a valid DuckDB database" in text:
        return f"{path}: not a DuckDB store (the file exists but is something else)"
    if "lock" in text.lower():
        return f"{path}: the store is in use by another process; try again when it has finished"
    return f"{path}: cannot open the store: {text}"
