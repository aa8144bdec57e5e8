"""Versioned schema migrations of the store.

Each *component* (``core`` for the contract tables, or any other module that keeps tables in
the store, e.g. monitoring runs) has a numbered sequence of migrations. The table
``schema_version`` records which versions were applied; opening a store applies the missing
ones in order, each component inside the caller's transaction.

Another module adds its tables by registering migrations when it is imported::

    from monitoring.migrations import Migration, register_migration

    register_migration(Migration(
        component="runs", version=1, description="monitoring runs",
        statements=("CREATE TABLE runs (run_id INTEGER, started_at TIMESTAMP)",),
    ))

and then calls ``store.migrate()`` (or opens the store after importing the module).
Never edit a released migration: add the next version.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable

SCHEMA_VERSION_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "component VARCHAR NOT NULL, version INTEGER NOT NULL, "
    "description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
)


@dataclass(frozen=True)
class Migration:
    """One step of a component's schema: SQL statements and/or a function of the connection."""

    component: str
    version: int
    description: str
    statements: tuple[str, ...] = ()
    apply: Callable[[Any], None] | None = None

    def run(self, con: Any) -> None:
        """Execute the statements, then the function, on a DuckDB connection."""
        for statement in self.statements:
            con.execute(statement)
        if self.apply is not None:
            self.apply(con)


_REGISTRY: dict[str, list[Migration]] = {}


def register_migration(migration: Migration) -> None:
    """Append a migration to its component's sequence (versions must be 1, 2, 3, ...).

    Registering an equal migration again (a module imported twice) is a no-op.
    """
    sequence = _REGISTRY.setdefault(migration.component, [])
    if migration.version <= len(sequence):
        existing = sequence[migration.version - 1]
        if existing.description == migration.description and existing.statements == migration.statements:
            return
        raise ValueError(
            f"migration {migration.component!r} version {migration.version} is already "
            f"registered as {existing.description!r}"
        )
    if migration.version != len(sequence) + 1:
        raise ValueError(
            f"migration {migration.component!r}: expected version {len(sequence) + 1}; "
            f"got {migration.version}"
        )
    sequence.append(migration)


def registered() -> dict[str, tuple[Migration, ...]]:
    """The registered migrations by component (``core`` first)."""
    order = sorted(_REGISTRY, key=lambda c: (c != "core", c))
    return {c: tuple(_REGISTRY[c]) for c in order}


def latest_version(component: str) -> int:
    """The newest version this code knows for ``component`` (0 if none)."""
    return len(_REGISTRY.get(component, ()))


def newer_than_known(applied: dict[str, int]) -> list[tuple[str, int, int]]:
    """(component, applied version, newest known version) of every component the store holds
    in a newer version than this code knows."""
    return [(c, v, latest_version(c)) for c, v in applied.items() if latest_version(c) and v > latest_version(c)]


def pending_components(applied: dict[str, int]) -> list[str]:
    """The registered components whose migrations are pending for these applied versions, or
    every newer one (see :func:`newer_than_known`): empty when the schema is exactly current."""
    newer = [c for c, _v, _k in newer_than_known(applied)]
    return newer or [c for c in registered() if applied.get(c, 0) < latest_version(c)]


def _statements(sql: str) -> tuple[str, ...]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return tuple(s.strip() for s in "\n".join(lines).split(";") if s.strip())


def _core(version: int, file_name: str, description: str) -> Migration:
    sql = resources.files(__name__).joinpath(file_name).read_text(encoding="utf-8")
    return Migration("core", version, description, _statements(sql))


register_migration(_core(1, "core_0001_contract.sql", "contract tables and loads"))
register_migration(_core(2, "core_0002_panel.sql", "person_month table; key fingerprint, notices"))
