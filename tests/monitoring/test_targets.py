"""Targets in force, status with tolerance and direction, and trends."""

from __future__ import annotations

import numpy as np
import pytest

from logicmodel.model import Target
from monitoring.sqlcompile import parse_period
from monitoring.targets import NO_TARGET, NO_VALUE, OFF_TRACK, ON_TRACK, TargetLine, status, target_line, trend


def line_of(target: dict, grain: str) -> TargetLine:
    """The line of a target written as model data (validated into the typed object)."""
    return target_line(Target.model_validate(target), grain)


M = lambda label: parse_period(label, "month")  # noqa: E731


def test_target_is_interpolated_from_the_baseline_and_held_after_the_last_target():
    line = line_of({"indicator": "x", "baseline": {"period": "2012-01", "value": 40},
                        "values": [{"period": "2013-01", "value": 64}, {"period": "2013-07", "value": 70}]}, "month")
    assert line.target(M("2011-12")) is None
    assert line.target(M("2012-01")) == 40
    assert line.target(M("2012-07")) == pytest.approx(52)
    assert line.target(M("2013-01")) == 64
    assert line.target(M("2013-04")) == pytest.approx(67)
    assert line.target(M("2015-01")) == 70


def test_a_baseline_alone_sets_no_target_and_targets_alone_start_at_the_first():
    assert line_of({"indicator": "x", "baseline": {"period": "2012-01", "value": 4}}, "month").target(M("2013-01")) is None
    line = line_of({"indicator": "x", "values": [{"period": "2013-01", "value": 2.0}]}, "month")
    assert line.target(M("2012-12")) is None and line.target(M("2013-05")) == 2.0


def test_periods_are_read_in_the_indicators_grain():
    line = line_of({"indicator": "x", "baseline": {"period": "2012-Q1", "value": 2.0},
                        "values": [{"period": "2012-09", "value": 1.8}]}, "quarter")
    assert line.anchors == ((parse_period("2012-Q1", "quarter"), 2.0), (parse_period("2012-Q3", "quarter"), 1.8))


@pytest.mark.parametrize("value, target, direction, expected", [
    (52, 60, "higher_is_better", ON_TRACK),     # 52 >= 60 - 9
    (50, 60, "higher_is_better", OFF_TRACK),
    (90, 60, "higher_is_better", ON_TRACK),
    (2.0, 1.8, "lower_is_better", ON_TRACK),    # 2.0 <= 1.8 + 0.27 (HSCL-10: lower is better)
    (2.1, 1.8, "lower_is_better", OFF_TRACK),
    (1.0, 1.8, "lower_is_better", ON_TRACK),
    (68, 60, "neutral", ON_TRACK),
    (70, 60, "neutral", OFF_TRACK),
    (52, 60, "neutral", ON_TRACK),
    (-1.2, -1.0, "higher_is_better", OFF_TRACK),  # band is relative to |target|
    (None, 60, "higher_is_better", NO_VALUE),
    (50, None, "higher_is_better", NO_TARGET),
])
def test_status_respects_direction_and_tolerance(value, target, direction, expected):
    assert status(value, target, direction, 0.15) == expected


def test_tolerance_zero_means_meeting_the_target():
    assert status(59.99, 60, "higher_is_better", 0.0) == OFF_TRACK
    assert status(60, 60, "higher_is_better", 0.0) == ON_TRACK


def test_trend_change_and_slope_match_numpy():
    rng = np.random.default_rng(3)
    values = list(rng.normal(10, 2, 20))
    series = list(enumerate(values))
    result = trend(series, 19, 12)
    assert result.change == pytest.approx(values[19] - values[18])
    assert result.slope == pytest.approx(np.polyfit(np.arange(8, 20), values[8:20], 1)[0])


def test_trend_skips_missing_values_and_needs_three_points():
    assert trend([(1, 1.0), (2, None), (3, 3.0)], 3, 12).change is None
    assert trend([(1, 1.0), (3, 3.0)], 3, 12).slope is None
    assert trend([(1, 1.0), (2, None), (3, 3.0), (4, 4.0)], 4, 12).slope == pytest.approx(np.polyfit([1, 3, 4], [1, 3, 4], 1)[0])
    assert trend([(1, 1.0), (2, 2.0), (3, None)], 3, 12) == trend([(1, 1.0), (2, 2.0), (3, None)], 3, 12)
    assert trend([(1, 1.0), (2, 2.0), (3, None)], 3, 12).slope is None
