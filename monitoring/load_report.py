"""What a load reports: per table what it did (:class:`TableLoad`) and the whole outcome
(:class:`LoadReport`). Re-exported by :mod:`monitoring.load`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableLoad:
    """What a load did to one table."""

    table: str
    source_file: str
    rows: int
    action: str  # added | replaced | unchanged
    replaced_load_id: int | None = None
    replaced_rows: int | None = None

    def line(self) -> str:
        what = self.action
        if self.action == "replaced":
            what = f"replaced load {self.replaced_load_id} ({self.replaced_rows:,} rows)"
        return f"  {self.table:<14} {self.rows:>12,} rows  {what}  ({self.source_file})"


@dataclass(frozen=True)
class LoadReport:
    """The outcome of a successful (or no-op) load."""

    db_path: str
    source: str
    load_id: int | None
    tables: tuple[TableLoad, ...]
    notices: tuple[str, ...] = ()
    panel_rows: int | None = None

    @property
    def changed(self) -> bool:
        return self.load_id is not None

    def rows(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}

    def lines(self) -> list[str]:
        if not self.changed:
            return [*self.notices, f"Nothing changed: every table in {self.source} is identical "
                    f"to what {self.db_path} holds."]
        head = f"Loaded {self.source} into {self.db_path} as load {self.load_id}:"
        panel = f"person_month rebuilt: {self.panel_rows:,} person-months."
        return [head, *(t.line() for t in self.tables), *self.notices, panel]

    def __str__(self) -> str:
        return "\n".join(self.lines())
