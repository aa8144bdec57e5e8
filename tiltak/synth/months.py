"""Month arithmetic on numpy ``datetime64`` values.

Month indices count from the first simulated month (index 0). Dates are ``datetime64[D]``.
"""

from __future__ import annotations

import numpy as np


def month_start(start: np.datetime64, index: np.ndarray | int) -> np.ndarray:
    """First day of month ``start + index`` (``start`` is a ``datetime64[M]``)."""
    return (start + np.asarray(index, dtype="int64")).astype("datetime64[D]")


def days_in_month(start: np.datetime64, index: np.ndarray | int) -> np.ndarray:
    """Number of days in month ``start + index``."""
    first = month_start(start, index)
    following = month_start(start, np.asarray(index, dtype="int64") + 1)
    return (following - first).astype("int64")


def day_in_month(
    start: np.datetime64, index: np.ndarray, lowest: np.ndarray, uniform: np.ndarray
) -> np.ndarray:
    """A date in month ``index`` on a day >= ``lowest`` (1-based), chosen by ``uniform``.

    ``lowest`` is clipped so that at least the last day of the month is available.
    """
    length = days_in_month(start, index)
    low = np.minimum(np.maximum(lowest, 1), length)
    day = low + np.floor(uniform * (length - low + 1)).astype("int64")
    day = np.minimum(day, length)
    return month_start(start, index) + (day - 1).astype("timedelta64[D]")


def period_labels(start: np.datetime64, index: np.ndarray) -> np.ndarray:
    """``YYYY-MM`` labels of month indices."""
    return np.datetime_as_string(start + np.asarray(index, dtype="int64"), unit="M")
