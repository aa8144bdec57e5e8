"""The person-month panel ``person_month``, built inside DuckDB from the contract tables.

One row per person per calendar month in which the person

- is obliged to leave: a final decision on or before the month's last day;
- is resident in a centre on the month's first day or enters one during the month
  (a residence spell ``[date_from, date_to)`` overlaps the month);
- has not exited before the month (an exit in the month gives the month's ``exit_type``).

The panel runs to the month of the latest date in the registers (the extract's observation
end) unless ``last_month`` is given. The SQL is in ``panel.sql`` next to this module;
docs/data-contract.md defines every column.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

from monitoring.contract import PANEL_COLUMNS


def panel_sql() -> str:
    """The INSERT statement that fills ``person_month``."""
    return resources.files("monitoring").joinpath("panel.sql").read_text(encoding="utf-8")


def build_panel(con: Any, *, last_month: dt.date | None = None) -> int:
    """Rebuild ``person_month`` from the contract tables; returns its number of rows.

    Runs inside the caller's transaction when there is one (the loader rebuilds the panel
    in the same transaction as the load, so the two never disagree).
    """
    if last_month is not None:
        last_month = last_month.replace(day=1)
    con.execute("DELETE FROM person_month")
    con.execute(panel_sql(), {"last_month": last_month})
    return int(con.execute("SELECT count(*) FROM person_month").fetchone()[0])


def panel_columns() -> tuple[str, ...]:
    """The panel's column names, in order."""
    return tuple(name for name, _, _ in PANEL_COLUMNS)
