"""Baselines, targets, tolerance, status and trend of indicator values.

A model's ``monitoring.targets`` gives, per indicator, an optional baseline (a period and a
value) and target values for later periods. The target *in force* in a period is read off
the line through these anchor points: linear interpolation between the baseline and the
next target (and between consecutive targets), the last target held after it, nothing
before the first anchor. A value is on track when it is no worse than the target by more
than the tolerance (relative to the target, default 15 %): for higher-is-better indicators
``value >= target * (1 - tol)``, for lower-is-better ones (HSCL-10) ``value <= target *
(1 + tol)``, for neutral ones ``|value - target| <= tol * |target|``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from logicmodel.model import Target
from monitoring.periods import parse_period

ON_TRACK, OFF_TRACK, NO_TARGET, NO_VALUE = "on_track", "off_track", "no_target", "no_value"
DEFAULT_TOLERANCE = 0.15


@dataclass(frozen=True)
class TargetLine:
    """Anchor points (period index, value) of one indicator, in the indicator's grain."""

    indicator: str
    baseline: tuple[int, float] | None
    anchors: tuple[tuple[int, float], ...]  # baseline first (if any), then targets by period
    tolerance: float = DEFAULT_TOLERANCE

    def target(self, period_index: int) -> float | None:
        """The target in force in a period (None before the first anchor or without targets)."""
        if len(self.anchors) == (1 if self.baseline else 0):  # a baseline alone sets no target
            return None
        if period_index >= self.anchors[-1][0]:
            return self.anchors[-1][1]
        for (p0, v0), (p1, v1) in zip(self.anchors, self.anchors[1:]):
            if p0 <= period_index <= p1:
                return v0 + (v1 - v0) * (period_index - p0) / (p1 - p0) if p1 != p0 else v1
        return None


def target_line(target: Target, grain: str) -> TargetLine:
    """Read one ``monitoring.targets`` entry (a ``logicmodel.model.Target``); periods are
    converted to the indicator's grain."""

    base = None
    if target.baseline is not None:
        base = (parse_period(str(target.baseline.period), grain), float(target.baseline.value))
    values = sorted((parse_period(str(v.period), grain), float(v.value)) for v in target.values)
    anchors = tuple(([base] if base else []) + values)
    return TargetLine(str(target.indicator), base, anchors, float(target.tolerance))


def status(value: float | None, target: float | None, direction: str, tolerance: float) -> str:
    """on_track, off_track, no_target (no target in force) or no_value (missing or suppressed)."""
    if target is None:
        return NO_TARGET
    if value is None:
        return NO_VALUE
    band = tolerance * abs(target)
    if direction == "higher_is_better":
        ok = value >= target - band
    elif direction == "lower_is_better":
        ok = value <= target + band
    else:
        ok = abs(value - target) <= band
    return ON_TRACK if ok else OFF_TRACK


@dataclass(frozen=True)
class Trend:
    """Change against the previous period and the least-squares slope over the last year."""

    change: float | None
    slope: float | None  # per period of the indicator's grain


def trend(series: Sequence[tuple[int, float | None]], period_index: int, periods_per_year: int) -> Trend:
    """Trend at ``period_index`` of a series of (period index, value); missing values are skipped.

    ``change`` needs the previous period's value; ``slope`` is the OLS slope over the last
    ``periods_per_year`` periods (at least three values; 12 months, 4 quarters, 3 years).
    """
    values = dict(series)
    now, before = values.get(period_index), values.get(period_index - 1)
    change = now - before if now is not None and before is not None else None
    span = max(periods_per_year, 3)
    points = [(p, v) for p, v in sorted(values.items()) if period_index - span < p <= period_index and v is not None]
    return Trend(change, _slope(points) if len(points) >= 3 and now is not None else None)


def _slope(points: list[tuple[int, float]]) -> float:
    n = len(points)
    mx = sum(p for p, _ in points) / n
    my = sum(v for _, v in points) / n
    sxx = sum((p - mx) ** 2 for p, _ in points)
    return sum((p - mx) * (v - my) for p, v in points) / sxx
