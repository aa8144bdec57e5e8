"""Errors of the ``monitoring`` package (register data, the store and monitoring)."""

from __future__ import annotations

import errno
import sys

from tiltak_base.errors import UserError


class MonitoringError(UserError):
    """Base class of every error this package raises on bad input.

    The command line prints ``lines()`` without a traceback and exits with
    ``exit_code`` (1 findings, 2 usage or input error). Subclasses carry
    structured fields (file, line, column, key, value) next to the message.
    """


class DatabaseFailure(MonitoringError):
    """The database failed while doing ``what``; its own message is withheld.

    DuckDB's messages can quote the values a statement was working on (a pseudonym, a
    health flag, an amount), so they never reach the terminal or a log: the message names
    what failed (indicator, filter, table, file) and the class of the database error, which
    is kept in ``error_class``. A full disk is said in plain words.
    """

    exit_code = 2

    def __init__(self, what: str, exc: BaseException, unchanged: str = "") -> None:
        self.what = what
        self.error_class = getattr(exc, "error_class", type(exc).__name__)
        self.disk_full = getattr(exc, "disk_full", None) or _is_disk_full(exc)
        self.unchanged = unchanged
        after = f"; {unchanged}" if unchanged else ""
        if self.disk_full:
            message = f"{what}: no space left on the device (the disk is full){after}"
        else:
            message = (f"{what}: the database failed ({self.error_class}); its message is not shown because "
                       f"it may quote register values{after}")
        super().__init__(message)


def _is_disk_full(exc: BaseException) -> bool:

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of the database drivers of the engines (DuckDB, PostgreSQL's
    psycopg, Spark's pyspark and py4j) that were imported; none is imported here."""

    found = []
    for module, name in (("duckdb", "Error"), ("psycopg", "Error"), ("pyspark.errors", "PySparkException"),
                         ("py4j.protocol", "Py4JError")):
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, name):
            found.append(getattr(loaded, name))
    return tuple(found)


class database_boundary:  # noqa: N801 - used as a context manager, like contextlib's
    """``with database_boundary("monitor run: indicator 'x'"):`` turns a database error (or a
    full disk) into :class:`DatabaseFailure`; other exceptions pass unchanged."""

    def __init__(self, what: str, unchanged: str = "") -> None:
        self.what, self.unchanged = what, unchanged

    def __enter__(self) -> "database_boundary":
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, DatabaseFailure) and self.unchanged and not exc.unchanged:
            raise DatabaseFailure(exc.what, exc, self.unchanged) from None
        if exc is None or isinstance(exc, MonitoringError):
            return False
        if isinstance(exc, database_errors()) or _is_disk_full(exc):
            raise DatabaseFailure(self.what, exc, self.unchanged) from None
        return False
