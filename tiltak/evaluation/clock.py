"""The evaluation's clock: time since the index date in calendar months.

Every outcome counts from the index date ``d`` (a participant's start date, which the
matched comparison persons take as theirs). "Within ``k`` months" means the half-open
window ``[d, d + k calendar months)``, where ``d + k months`` keeps the day of the month
and is clipped to the month's last day (31 January + 1 month = 28 or 29 February), as
DuckDB and pandas compute it.

``months_since(d, e)`` maps a date ``e`` to the number of whole months ``w`` with
``d + w months <= e`` plus the elapsed share of the next month: it is increasing in ``e``
and ``e < d + k months`` exactly when ``months_since(d, e) < k``, for every whole ``k``.
The curves are estimated on this scale, so a horizon of ``k`` months is the same
calendar window for everybody.
"""

from __future__ import annotations

import numpy as np

NAT = np.datetime64("NaT", "D")
TABLE_DAYS = 1 << 16
"""Dates spanning at most this many days are converted through a table of the span's days
(one calendar conversion per distinct day instead of per value); wider spans convert each value."""


def _month_and_day(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(calendar month as ``datetime64[M]``, days since the month's first day) of each day (not NaT)."""
    days = day.view(np.int64)
    lo, hi = (int(days.min()), int(days.max())) if days.size else (0, 0)
    if hi - lo >= TABLE_DAYS:
        month = day.astype("datetime64[M]")
        return month, (day - month.astype("datetime64[D]")).astype(np.int64)
    span = np.arange(lo, hi + 1).astype("datetime64[D]")
    month = span.astype("datetime64[M]")
    offset = (span - month.astype("datetime64[D]")).astype(np.int64)
    return month[days - lo], offset[days - lo]


def _first_days(month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first day, number of days) of each calendar month (``datetime64[M]``, not NaT)."""
    months = month.view(np.int64)
    lo, hi = (int(months.min()), int(months.max())) if months.size else (0, 0)
    if hi - lo >= TABLE_DAYS // 28:
        first = month.astype("datetime64[D]")
        return first, ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    starts = np.arange(lo, hi + 2).astype("datetime64[M]").astype("datetime64[D]")
    at = months - lo
    return starts[at], (starts[at + 1] - starts[at]).astype(np.int64)


def add_months(day: np.ndarray, k: np.ndarray | int) -> np.ndarray:
    """``day + k`` calendar months (``datetime64[D]``), clipped to the month's last day."""
    day = np.asarray(day, dtype="datetime64[D]")
    known = ~np.isnat(day)
    month, offset = _month_and_day(np.where(known, day, np.datetime64(0, "D")))
    first, length = _first_days(month + np.asarray(k, dtype=np.int64))
    return np.where(known, first + np.minimum(offset, length - 1).astype("timedelta64[D]"), NAT)


def months_since(index: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Calendar months from ``index`` to ``when`` (fractional; NaN where ``when`` is NaT).

    >>> import numpy as np
    >>> d = np.array(["2013-01-31"] * 3, dtype="datetime64[D]")
    >>> e = np.array(["2013-02-28", "2013-03-30", "2013-03-31"], dtype="datetime64[D]")
    >>> months_since(d, e).round(3).tolist()
    [1.0, 1.968, 2.0]
    """
    index = np.asarray(index, dtype="datetime64[D]")
    when = np.asarray(when, dtype="datetime64[D]")
    known = ~np.isnat(when) & ~np.isnat(index)
    safe_when = np.where(known, when, index)
    safe_index = np.where(known, index, safe_when)
    whole = (_month_and_day(safe_when)[0] - _month_and_day(safe_index)[0]).astype(np.int64)
    whole = np.where(add_months(safe_index, whole) > safe_when, whole - 1, whole)
    low, high = add_months(safe_index, whole), add_months(safe_index, whole + 1)
    share = (safe_when - low).astype(np.int64) / (high - low).astype(np.int64)
    return np.where(known, whole + share, np.nan)
