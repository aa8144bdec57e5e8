"""Which quality findings are published into the engine (monitoring.engines.findings): the
rule on its own, without an engine. The round trips on DuckDB, PostgreSQL and Spark are in
test_engine_results.py and test_engines.py."""

from __future__ import annotations

from monitoring.engines.findings import publishable, totals
from monitoring.quality import HISTORY, collapsing_denominators


def _total(period_index: int, suppressed: bool = False, value: float | None = 40.0) -> tuple:
    year, month = divmod(period_index, 12)
    return (1, "m", "count", "month", f"{year}-{month + 1:02d}", period_index, "total", "",
            None if suppressed else value, suppressed)


def _finding(check: str, period: str, model="m", indicator="count", subject="total", value=None) -> tuple:
    return (3, model, check, "warning", indicator, period, subject, value, "a message")


P = 2013 * 12 + 5  # 2013-06


def test_an_outlier_is_published_only_when_its_total_and_history_are():
    everything = [_total(p) for p in range(P - HISTORY - 3, P + 1)]
    found = [_finding("QC004", "2013-06", value=40.0)]
    assert publishable(found, everything) == found
    assert publishable(found, everything[:-1]) == []  # no published total of the period at all
    on_it = [*everything[:-1], _total(P, suppressed=True)]
    assert publishable(found, on_it) == []
    for earlier in (P - 1, P - HISTORY):  # a suppressed total within its history: the median may echo it
        beside = [_total(p, suppressed=p == earlier) for p in range(P - HISTORY - 3, P + 1)]
        assert publishable(found, beside) == [], earlier
    before = [_total(p, suppressed=p == P - HISTORY - 1) for p in range(P - HISTORY - 3, P + 1)]
    assert publishable(found, before) == found  # outside its history: no matter
    other = [(*r[:2], "other", *r[3:]) for r in on_it] + everything
    assert publishable(found, other) == found  # another indicator's suppressed totals: no matter


def test_register_and_denominator_findings_are_published_as_they_are():
    found = [_finding("QC001", "2013-06", None, None, "c1"), _finding("QC002", "2013-06", None, None, "exits"),
             (3, None, "QC003", "warning", None, None, "registers", 50.0, "old"),
             _finding("QC005", "2013-06", subject="c2")]
    assert publishable(found, [_total(P, suppressed=True)]) == found


def test_totals_index_the_release_by_indicator_and_period():
    cells = totals([_total(P), _total(P + 1, suppressed=True), (*_total(P)[:6], "centre", "c1", None, True)])
    assert cells == {("m", "count"): {P: ("2013-06", False), P + 1: ("2013-07", True)}}


def test_a_collapsed_denominator_echoes_its_median_only_from_the_count_threshold():
    series = {("total", p): 30.0 for p in range(6)} | {("total", 6): 4.0}
    (shown,) = collapsing_denominators("m", "rate", "month", series, [6], min_shown=5)
    (hidden,) = collapsing_denominators("m", "rate", "month", series, [6], min_shown=50)
    assert "median (30)" in shown.message and "30" not in hidden.message and "4" not in hidden.message
    assert shown.value is None and hidden.value is None
