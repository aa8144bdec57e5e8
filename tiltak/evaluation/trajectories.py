"""Expected versus observed over time: monitored indicator values against the model.

An indicator's observed series (published values, suppressed cells kept as gaps) is set
against what the model expects of it: the trajectory of an expected change on that
indicator and the targets of the model's monitoring section (baseline, target values and
the tolerance band for "on track"). Periods may be months (``2013-06``), quarters
(``2013-Q2``) or years (``2013``); they are placed on one time axis by their midpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from logicmodel.model import LogicModel

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def period_position(period: str) -> float:
    """The midpoint of a period in decimal years (2013-01 -> 2013.04)."""
    text = str(period)
    if m := _MONTH.match(text):
        return int(m.group(1)) + (int(m.group(2)) - 0.5) / 12
    if m := _QUARTER.match(text):
        return int(m.group(1)) + (int(m.group(2)) - 0.5) / 4
    if m := _YEAR.match(text):
        return int(m.group(1)) + 0.5
    raise ValueError(f"period {period!r}: expected YYYY-MM, YYYY-Qn or YYYY")


@dataclass(frozen=True)
class TrajectoryPoint:
    """An expected value of an indicator in a period (of a trajectory, a target or a baseline)."""

    period: str
    value: float


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    value: float | None
    suppressed: bool = False
    provisional: bool = False  # at the edge of the data (monitoring.provisional): may still change


@dataclass(frozen=True)
class IndicatorSeries:
    """Published values of one indicator (national level) over the periods of a run."""

    indicator: str
    title: dict[str, str]
    unit: str
    decimals: int
    direction: str
    points: tuple[SeriesPoint, ...]
    status: str | None = None  # latest target status: on_track | off_track | None


@dataclass(frozen=True)
class ExpectedSeries:
    """What a model expects of an indicator: a trajectory and/or targets with tolerance."""

    indicator: str
    trajectory: tuple[TrajectoryPoint, ...] = ()
    targets: tuple[TrajectoryPoint, ...] = ()
    baseline: TrajectoryPoint | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class Comparison:
    """Observed against expected at the periods where both exist."""

    indicator: str
    period: str
    observed: float
    expected: float
    gap: float  # observed - expected
    within_tolerance: bool | None


def _points(points: Sequence[Any]) -> tuple[TrajectoryPoint, ...]:
    """The model's period values as points, in time order."""
    return tuple(sorted((TrajectoryPoint(p.period, float(p.value)) for p in points),
                        key=lambda p: period_position(p.period)))


def expected_for(model: LogicModel, indicator: str) -> ExpectedSeries:
    """Collect the trajectories and targets a model states for one indicator."""
    trajectory = _points([p for c in model.expected_changes if c.indicator == indicator for p in c.trajectory])
    target = next((t for t in model.monitoring.targets if t.indicator == indicator), None)
    if target is None:
        return ExpectedSeries(indicator, trajectory)
    baseline = None
    if target.baseline is not None:
        baseline = TrajectoryPoint(target.baseline.period, float(target.baseline.value))
    return ExpectedSeries(indicator, trajectory, _points(target.values), baseline, float(target.tolerance))


def _published(observed: IndicatorSeries) -> list[SeriesPoint]:
    return [p for p in observed.points if p.value is not None and not p.suppressed]


def _expected_points(expected: ExpectedSeries) -> list[tuple[TrajectoryPoint, float | None]]:
    """Trajectory points (no tolerance) and targets (the target tolerance), in that order."""
    return [(p, None) for p in expected.trajectory] + [(p, expected.tolerance) for p in expected.targets]


def compare(observed: IndicatorSeries, expected: ExpectedSeries) -> list[Comparison]:
    """Observed minus expected wherever a settled published value meets an expected value.

    An expected period matches an observed period that contains it (a monthly trajectory
    point matches the quarter or year it falls in). Provisional periods (at the edge of the
    data, :mod:`monitoring.provisional`) are left out: their values may still change, so a
    gap there says nothing yet (:func:`provisional_left_out` names them).
    """
    points = [p for p in _published(observed) if not p.provisional]
    out: list[Comparison] = []
    for exp, tolerance in _expected_points(expected):
        match = next((p for p in points if _contains(p.period, exp.period)), None)
        if match is None:
            continue
        gap = float(match.value) - exp.value
        within = None if tolerance is None else abs(gap) <= abs(exp.value) * tolerance
        out.append(Comparison(observed.indicator, match.period, float(match.value), exp.value, gap, within))
    return out


def provisional_left_out(observed: IndicatorSeries, expected: ExpectedSeries) -> list[str]:
    """Provisional periods with a published value that meets an expected value: the periods
    :func:`compare` leaves out, in the order of the series."""
    wanted = [exp.period for exp, _ in _expected_points(expected)]
    return [p.period for p in _published(observed)
            if p.provisional and any(_contains(p.period, period) for period in wanted)]


def _contains(observed: str, expected: str) -> bool:
    if observed == expected:
        return True
    try:
        x = period_position(expected)
        lo, hi = _bounds(observed)
    except ValueError:
        return False
    return lo <= x < hi


def _bounds(period: str) -> tuple[float, float]:
    if m := _MONTH.match(period):
        start = int(m.group(1)) + (int(m.group(2)) - 1) / 12
        return start, start + 1 / 12
    if m := _QUARTER.match(period):
        start = int(m.group(1)) + (int(m.group(2)) - 1) / 4
        return start, start + 0.25
    if m := _YEAR.match(period):
        return float(m.group(1)), float(m.group(1)) + 1
    raise ValueError(period)


def sorted_points(points: Sequence[SeriesPoint]) -> list[SeriesPoint]:
    return sorted(points, key=lambda p: period_position(p.period))
