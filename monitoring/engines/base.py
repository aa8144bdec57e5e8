"""The engine protocol (:func:`monitoring.engines.opening.open_engine` opens one).

An engine holds the contract tables and the person-month panel and runs SELECT trees:

* ``fetch(tree)`` screens the tree (:func:`monitoring.engines.screen.screen_plan`),
  renders it in the engine's dialect and returns the rows as Python values (ints,
  ``Decimal`` sums, floats, text, dates);
* ``build_panel(tree)`` materialises the person-month panel from a SELECT tree (in DuckDB
  the store's own table; a temporary table in PostgreSQL; a cached view in Spark);
* ``tables()`` names the tables it can read; ``close()``.

Engines other than the store are opened read-only where the engine can: PostgreSQL in a
session whose transactions are read-only after the panel (a temporary table) is built,
with a role that needs no more than SELECT on the contract tables and TEMP on the
database; Spark with the contract tables registered as views by the engine itself (never
a path in SQL); another DuckDB file opened read-only with external access off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from monitoring.compiler import alias, cast, compiler_for
from monitoring.contract import PANEL_COLUMNS
from monitoring.engines.screen import screen_plan
from monitoring.errors import MonitoringError


class EngineError(MonitoringError):
    """An engine that cannot be opened or used as asked (exit code 2)."""


class EngineUnavailable(EngineError):
    """The engine's client library or runtime is not installed here."""


class Engine:
    """Base class: subclasses set ``dialect`` and implement ``_fetch`` and ``_materialise``."""

    dialect = "duckdb"
    name = "engine"

    @property
    def compiler(self):

        return compiler_for(self.dialect)

    def render(self, tree: Any) -> str:
        """The SQL of a screened tree in this engine's dialect."""

        tree = self.compiler.adapt(tree)
        screen_plan(tree, self.dialect)
        return tree.sql(dialect=self.dialect, identify=True, comments=False)

    def fetch(self, tree: Any) -> list[tuple]:
        return self._fetch(self.render(tree))

    def build_panel(self, tree: Any) -> int:
        """Materialise ``person_month`` from the panel's SELECT tree (None: empty registers,
        an empty panel); returns its number of rows."""

        tree = self.compiler.adapt(empty_panel() if tree is None else tree)
        screen_plan(tree, self.dialect)
        return self._materialise("person_month", tree)

    def tables(self) -> set[str]:
        raise NotImplementedError

    def columns(self, table: str) -> set[str]:
        """The column names of ``table`` as the engine holds it (a contract table may lack its
        optional columns)."""
        raise NotImplementedError

    def _fetch(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def _materialise(self, table: str, tree: Any) -> int:
        """Make ``table`` (a temporary table or cached view) from a screened SELECT tree."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def empty_panel() -> Any:
    """A SELECT of no rows with the panel's columns and types."""
    from sqlglot import exp


    columns = [alias(cast(exp.null(), typ), name) for name, typ, _ in PANEL_COLUMNS]
    return exp.select(*columns).where(exp.false())


def redacted(url: str) -> str:
    """A URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
