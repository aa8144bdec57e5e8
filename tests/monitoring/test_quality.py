"""Data-quality checks: robust z-scores, centre gaps, missing extracts, collapsing denominators."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from monitoring.indicators import Aggregate, IndicatorSpec
from monitoring.quality import (centre_gaps, collapsing_denominators, missing_extracts, outliers, robust_z,
                                stale_load)
from monitoring.store import Store

M = lambda y, m: y * 12 + m - 1  # noqa: E731


def test_robust_z_matches_scipy_mad():
    rng = np.random.default_rng(5)
    history = list(rng.normal(50, 5, 20))
    mad = stats.median_abs_deviation(history)
    assert robust_z(80.0, history) == pytest.approx(0.6745 * (80 - np.median(history)) / mad)
    assert robust_z(80.0, history[:5]) is None          # too short a history
    assert robust_z(3.0, [2.0] * 10) is None             # MAD 0: no scale


def test_outlier_flags_only_values_far_outside_their_history():
    series = {p: 10.0 + (p % 3) for p in range(30)}
    series[30] = 11.0
    series[31] = 40.0
    found = outliers("m", "ind", "month", series, [30, 31])
    assert [f.period for f in found] == ["0002-08"]
    assert found[0].check_id == "QC004" and "robust z" in found[0].message


def test_collapsing_denominator_is_flagged_without_echoing_a_small_count():
    series = {("total", p): 200.0 for p in range(10)} | {("c1", p): 40.0 for p in range(10)}
    series[("c1", 10)] = 3.0
    series[("total", 10)] = 190.0
    found = collapsing_denominators("m", "ind", "month", series, [10])
    assert [(f.subject, f.check_id) for f in found] == [("c1", "QC005")]
    assert "3" not in found[0].message.split("median")[0] and found[0].value is None


@pytest.fixture()
def store(tmp_path):
    with Store.open(tmp_path / "q.duckdb") as s:
        yield s.connect()


def test_centre_gap_and_missing_extract(store):
    store.execute("""INSERT INTO person_month (person_id, month, period, centre_id)
        SELECT 'p' || i, DATE '2012-01-01' + INTERVAL (m) MONTH, '', CASE WHEN m = 5 AND i % 2 = 0 THEN 'c2' ELSE 'c' || (i % 2) END
        FROM range(4) a(i), range(8) b(m)""")
    store.execute("INSERT INTO exits SELECT 'p' || m, DATE '2012-01-15' + INTERVAL (m) MONTH, 'permit' FROM range(8) t(m) WHERE m <> 6")
    gaps = centre_gaps(store, [M(2012, 6), M(2012, 7)])
    assert [(f.subject, f.period) for f in gaps] == [("c0", "2012-06"), ("c2", "2012-07")]
    missing = missing_extracts(store, [M(2012, 7), M(2012, 8)])
    assert [(f.subject, f.period) for f in missing] == [("exits", "2012-07")]
    assert "late or missing" in missing[0].message


def test_stale_load(store):
    assert stale_load(store, dt.date(2030, 1, 1)) == []  # no loads recorded
    store.execute("INSERT INTO loads (load_id, loaded_at, source, table_name, source_file, row_count, content_hash, action) "
                  "VALUES (1, TIMESTAMP '2013-01-03 10:00', 'x', 'persons', 'p.csv', 1, 'h', 'loaded')")
    assert stale_load(store, dt.date(2013, 2, 1)) == []
    (finding,) = stale_load(store, dt.date(2013, 3, 1))
    assert finding.check_id == "QC003" and "57 days old" in finding.message


RESIDENTS = IndicatorSpec("residents", "count", "person_month", Aggregate("person_month", "count"), None, 1.0,
                          "persons", 0, "higher_better", "month", None, False, False, ("centre",))
ATTENDED = IndicatorSpec("sessions", "count", "participation", Aggregate("participation", "sum", "sessions_attended"),
                         None, 1.0, "sessions", 0, "higher_better", "month", None, False, False, ())
GAPS = """INSERT INTO person_month (person_id, month, period, centre_id)
    SELECT 'p' || i, DATE '2012-01-01' + INTERVAL (m) MONTH, '', CASE WHEN i = 0 THEN 'c0' WHEN i = 1 THEN 'c1' ELSE 'c2' END
    FROM range(3) a(i), range(8) b(m) WHERE NOT (i = 1 AND m >= 3) AND NOT (i = 2 AND m >= 6)"""


@pytest.mark.parametrize("lag", [0, 1, 2, 3])
def test_a_centre_gap_is_held_back_exactly_when_a_count_of_its_residents_is_provisional(store, monkeypatch, lag):
    """QC001 reads the panel; a count of a centre's residents reads it too. One rule
    (monitoring.provisional.month_provisional) decides both, whatever lag the contract
    declares for the panel: the test fails when the hold-back and the marking disagree."""
    from monitoring import provisional
    from monitoring.contract import REPORTING_LAGS
    from monitoring.provisional import is_provisional
    from monitoring.runs import register_findings

    monkeypatch.setattr(provisional, "REPORTING_LAGS", {**REPORTING_LAGS, "person_month": lag})
    store.execute(GAPS)  # centre c1 has residents through 2012-03, c2 through 2012-06
    months = set(range(M(2012, 2), M(2012, 9)))
    for last in range(M(2012, 3), M(2012, 10)):
        loud, none_held = register_findings(store, months, last, include_provisional=True)
        quiet, held = register_findings(store, months, last)
        assert [(f.subject, f.period) for f in loud] == [("c1", "2012-04"), ("c2", "2012-07")] and none_held == 0
        marked = [f for f in loud if is_provisional(RESIDENTS, int(f.period[:4]) * 12 + int(f.period[5:]) - 1, last)]
        assert [f for f in loud if f not in quiet] == marked and held == len(marked), (lag, last)
    quiet, held = register_findings(store, months, M(2012, 8))
    assert [f.period for f in quiet] == (["2012-04", "2012-07"] if lag < 2 else ["2012-04"] if lag < 5 else [])


@pytest.mark.parametrize("table, spec", [("participation", ATTENDED), ("person_month", RESIDENTS)])
def test_a_late_extract_is_held_back_exactly_when_an_indicator_on_its_table_is_provisional(table, spec):
    from monitoring.provisional import is_provisional
    from monitoring.quality import QualityFinding
    from monitoring.runs import _held_back

    last = M(2013, 12)
    for month in range(last - 5, last + 3):
        label = f"{month // 12}-{month % 12 + 1:02d}"
        finding = QualityFinding("QC002", "warning", "late", period=label, subject=table)
        assert _held_back(finding, last) == is_provisional(spec, month, last), (table, label)
    assert _held_back(QualityFinding("QC002", "warning", "late", period="2013-11", subject="participation"), last)