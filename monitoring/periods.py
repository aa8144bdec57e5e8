"""Periods of the indicators as whole numbers: a month, quarter or year index, its label
(``2013-06``, ``2013-Q2``, ``2013``), its first day, and the index of a date or a label.
Re-exported by :mod:`monitoring.sqlcompile`."""

from __future__ import annotations

import datetime as dt
import re

from monitoring.indicators import GRAIN_MONTHS



def period_label(index: int, grain: str) -> str:
    """The label of a period index: ``2013-06``, ``2013-Q2`` or ``2013``."""
    if grain == "month":
        return f"{index // 12:04d}-{index % 12 + 1:02d}"
    if grain == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index:04d}"


def period_start(index: int, grain: str) -> dt.date:
    """First day of a period."""
    months = index * GRAIN_MONTHS[grain] if grain != "year" else index * 12
    return dt.date(months // 12, months % 12 + 1, 1)


def index_of_date(day: dt.date, grain: str) -> int:
    """Index of the period containing ``day``."""
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def parse_period(label: str, grain: str = "month") -> int:
    """Index of a period label; ``2013-06`` is accepted for any grain (its containing period)."""
    text = label.strip()
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        return index_of_date(dt.date(int(text[:4]), int(text[5:]), 1), grain)
    if re.fullmatch(r"\d{4}-Q[1-4]", text) and grain in ("quarter", "year"):
        return index_of_date(dt.date(int(text[:4]), 3 * int(text[6]) - 2, 1), grain)
    if re.fullmatch(r"\d{4}", text) and grain == "year":
        return int(text)
    raise ValueError(f"expected a period like 2013-06{', 2013-Q2' if grain != 'month' else ''}"
                     f"{' or 2013' if grain == 'year' else ''}; got {label!r}")
