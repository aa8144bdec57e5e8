"""Aggregate reads from the store that the evaluation needs besides the risk sets.

Every query here returns aggregates (sums and distinct counts by measure or centre); none
returns a person-level row.
"""

from __future__ import annotations

from typing import Any


def data_period(con: Any) -> tuple[str | None, str | None]:
    """First and last period with participation in any measure, else of the panel."""
    row = con.execute(
        "SELECT strftime(min(start_date), '%Y-%m'), strftime(max(start_date), '%Y-%m') FROM participation"
    ).fetchone()
    if row and row[0]:
        last = con.execute("SELECT max(period) FROM person_month").fetchone()[0]
        return row[0], last or row[1]
    row = con.execute("SELECT min(period), max(period) FROM person_month").fetchone()
    return (row[0], row[1]) if row else (None, None)


def participants_total(con: Any, measure: str) -> int:
    """Distinct participants of a measure over the whole register."""
    return int(con.execute(
        "SELECT count(DISTINCT person_id) FROM participation WHERE measure = ?", [measure]
    ).fetchone()[0])


def participants_by_centre(con: Any, measure: str) -> dict[str | None, int]:
    """Distinct participants by the centre they lived in when they started (None: unknown)."""
    rows = con.execute(
        """
        SELECT r.centre_id, count(DISTINCT p.person_id)
        FROM participation p
        LEFT JOIN residence r ON r.person_id = p.person_id AND r.date_from <= p.start_date
             AND (r.date_to IS NULL OR r.date_to > p.start_date)
        WHERE p.measure = ?
        GROUP BY 1 ORDER BY 1 NULLS LAST
        """,
        [measure],
    ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


def cost_by_centre(con: Any, measure: str) -> dict[str | None, float]:
    """Total cost of a measure by centre (None: central costs)."""
    rows = con.execute(
        "SELECT centre_id, sum(amount_nok) FROM costs WHERE measure = ? GROUP BY 1 ORDER BY 1 NULLS LAST",
        [measure],
    ).fetchall()
    return {r[0]: float(r[1] or 0.0) for r in rows}


def centre_names(con: Any) -> dict[str, str]:
    """Centre id -> name (centres are organisations, not persons)."""
    return {str(r[0]): str(r[1]) for r in con.execute("SELECT centre_id, name FROM centres ORDER BY 1").fetchall()}

