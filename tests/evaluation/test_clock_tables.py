"""The evaluation clock's table of a span's days gives the same dates and months, bit for bit,
as converting every value (the conversion used for wide spans, and before issue 14's round 6)."""

from __future__ import annotations

import numpy as np
import pytest

from tiltak.evaluation import clock


def _both(monkeypatch, function, *args):
    tabled = function(*args)
    with monkeypatch.context() as patch:
        patch.setattr(clock, "TABLE_DAYS", 0)  # every span converts value by value
        converted = function(*args)
    return tabled, converted


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("k", [-25, -1, 0, 1, 11, 12, 13, 40])
def test_add_months_over_every_day_of_two_centuries(monkeypatch, k):
    days = np.arange(np.datetime64("1900-01-01"), np.datetime64("2101-01-01"))
    assert _same(*_both(monkeypatch, clock.add_months, days, k))


@pytest.mark.parametrize("seed", range(6))
def test_months_since_and_add_months_with_missing_dates(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    n = 2000
    start = (int(rng.integers(-20000, 20000)) + rng.integers(0, 4000, n)).astype("datetime64[D]")
    later = start + rng.integers(-40, 900, n).astype("timedelta64[D]")
    start[rng.random(n) < 0.05] = np.datetime64("NaT")
    later[rng.random(n) < 0.05] = np.datetime64("NaT")
    assert _same(*_both(monkeypatch, clock.add_months, start, rng.integers(-30, 30, n)))
    assert _same(*_both(monkeypatch, clock.months_since, start, later))
    grid = np.repeat(start[:, None], 4, axis=1)
    assert _same(*_both(monkeypatch, clock.months_since, grid, clock.add_months(grid, np.arange(1, 5))))


def test_empty_and_all_missing(monkeypatch):
    for days in (np.array([], dtype="datetime64[D]"), np.array(["NaT"] * 3, dtype="datetime64[D]")):
        assert _same(*_both(monkeypatch, clock.add_months, days, 2))
        assert _same(*_both(monkeypatch, clock.months_since, days, days))
