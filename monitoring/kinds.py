"""Indicator kinds: one small class each.

A kind says, for an indicator of its type,

* its **parts**: the aggregates the engine computes (:class:`monitoring.indicators.Aggregate`:
  a count, a distinct count, an exact sum, a count of non-null values, a histogram);
* its **value**: how the published value follows from the parts of one cell (after the
  rolling window or the running total has summed the parts over periods, when the parts
  are additive), computed in one place in Python so that every engine publishes the same
  numbers;
* whether it is **additive** (groups add up to the total and monthly parts to a window);
* how it is **suppressed**: which disclosure kind it has (``count``, ``sum``, ``rate`` or
  ``quantile``), i.e. which implied counts it hands to the disclosure system
  (:mod:`monitoring.release`), and for quantiles the rule that decides a cell is sensitive.

Kinds are found by name (the catalogue's ``type``) in :data:`KINDS`, the way ibis finds
``visit_<Operation>``. A new kind is one class decorated with :func:`indicator_kind`: the
decorator registers its keys in the catalogue vocabulary (:mod:`logicmodel.vocabulary`), so
catalogues may use it, and monitoring compiles, runs and protects it with nothing else to
change.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, ClassVar

from logicmodel import vocabulary
from monitoring.errors import MonitoringError

KINDS: dict[str, "IndicatorKind"] = {}


class KindError(MonitoringError):
    """An indicator kind that cannot be registered."""


def indicator_kind(cls: type) -> type:
    """Register a kind class (under ``cls.name``) and its keys in the catalogue vocabulary."""
    try:
        vocabulary.register_kind(cls.name, cls.required, cls.optional, cls.summary)
    except ValueError as exc:
        raise KindError(str(exc)) from None
    KINDS[cls.name] = cls()
    return cls


def kind_of(name: str) -> "IndicatorKind":
    """The kind class registered under ``name`` (KeyError when there is none)."""
    return KINDS[name]


class IndicatorKind:
    """The base of every kind: a count-like value ``scale x numerator`` with no denominator."""

    name: ClassVar[str] = ""
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""
    divides: ClassVar[bool] = False  # value = scale x numerator / denominator
    additive: ClassVar[bool] = True  # groups add up to the total; windows add up the periods
    disclosure: ClassVar[str] = "count"  # count | sum | rate | quantile
    histogram: ClassVar[bool] = False  # the parts are histograms (value -> count), not numbers

    def parts(self, ind: Any, build: Any) -> tuple[Any, Any]:
        """(numerator, denominator) aggregates; ``build`` makes an Aggregate from the catalogue."""
        raise NotImplementedError

    def value(self, spec: Any, numerator: Any, denominator: Any) -> float | None:
        """The value of one cell from its (windowed) parts."""
        if numerator is None:
            return None
        return spec.scale * float(numerator)

    def stored(self, part: Any) -> float | None:
        """The number stored for a part (a histogram is stored as its number of observations)."""
        return None if part is None else float(part)

    def sensitive(self, spec: Any, numerator: float | None, denominator: float | None, thresholds: Any) -> bool:
        """For quantile-like kinds: the cell may not be published (primary suppression)."""
        return False


@indicator_kind
class Count(IndicatorKind):
    name = "count"
    optional = ("filter", "distinct")
    summary = "rows (or distinct values of `distinct`) passing the filter"

    def parts(self, ind, build):
        return build.count(ind, ind.distinct), None


@indicator_kind
class Sum(IndicatorKind):
    """A total; its denominator counts the contributing rows (for disclosure), it does not divide."""

    name = "sum"
    required = ("column",)
    optional = ("filter",)
    summary = "sum of the column over rows passing the filter"
    disclosure = "sum"

    def parts(self, ind, build):
        total = build.sum(ind, ind.column)
        return total, build.nonnull(total)


@indicator_kind
class Mean(IndicatorKind):
    name = "mean"
    required = ("column",)
    optional = ("filter",)
    summary = "sum / number of non-null values"
    divides = True
    disclosure = "rate"

    def parts(self, ind, build):
        total = build.sum(ind, ind.column)
        return total, build.nonnull(total)

    def value(self, spec, numerator, denominator):
        return _divide(spec.scale, numerator, denominator)


@indicator_kind
class Share(IndicatorKind):
    name = "share"
    required = ("condition",)
    optional = ("filter",)
    summary = "scale x rows meeting the condition / rows in the population"
    divides = True
    disclosure = "rate"

    def parts(self, ind, build):
        population = build.count(ind, ind.distinct)
        return build.with_condition(population, ind.condition), population

    def value(self, spec, numerator, denominator):
        return _divide(spec.scale, numerator, denominator)


@indicator_kind
class Ratio(IndicatorKind):
    name = "ratio"
    required = ("numerator", "denominator")
    summary = "scale x numerator / denominator"
    divides = True
    disclosure = "rate"

    def parts(self, ind, build):
        return build.part(ind, "numerator"), build.part(ind, "denominator")

    def value(self, spec, numerator, denominator):
        return _divide(spec.scale, numerator, denominator)


@indicator_kind
class DistinctCount(IndicatorKind):
    """Distinct values of a column (centres with participants, persons with a survey).

    Not additive: a person counted in two centres counts once in the total, and once in a
    window, so no group or monthly part is derived from it; small counts are suppressed
    like any count."""

    name = "distinct_count"
    required = ("column",)
    optional = ("filter",)
    summary = "number of distinct values of the column (not additive)"
    additive = False

    def parts(self, ind, build):
        return build.count(ind, ind.column), None


class _QuantileKind(IndicatorKind):
    """Quantiles are computed from exact histograms (value -> number of rows) that the engine
    returns, so that windows merge histograms (a 12-month median is the median of the 12
    months' rows) and every engine gives the same value. Not additive.

    Disclosure: a quantile is published only when at least ``min_count`` observations lie
    on each side of it (n x min(q, 1 - q) >= min_count; for the median, n >= 2 x
    min_count): otherwise a single person's value could be read off. It implies no count
    that is published elsewhere, so it hands no relation to the disclosure system."""

    additive = False
    disclosure = "quantile"
    histogram = True

    def q(self, spec) -> float:
        return 0.5 if spec.quantile is None else float(spec.quantile)

    def parts(self, ind, build):
        return build.histogram(ind, ind.column), None

    def value(self, spec, numerator, denominator):
        return None if not numerator else spec.scale * quantile(numerator, self.q(spec))

    def stored(self, part):
        return None if part is None else float(sum(part.values()))

    def sensitive(self, spec, numerator, denominator, thresholds):
        n = numerator or 0
        tail = round(min(self.q(spec), 1 - self.q(spec)), 12)  # 1 - 0.9 is 0.0999... in floating point
        return 0 < n and n * tail < thresholds.min_count


@indicator_kind
class Median(_QuantileKind):
    name = "median"
    required = ("column",)
    optional = ("filter",)
    summary = "the median of the column over rows passing the filter"


@indicator_kind
class Quantile(_QuantileKind):
    name = "quantile"
    required = ("column", "quantile")
    optional = ("filter",)
    summary = "the q-quantile of the column"


@indicator_kind
class Duration(_QuantileKind):
    """Time until an event, from a period life table, so that censoring is allowed for.

    ``column`` is the clock on each row (``months_since_decision`` on the panel), ``event``
    marks the rows where the event happens (``exit_type IS NOT NULL``). Over the rows of a
    period (or window), the hazard at duration d is events(d) / rows at risk(d) and the
    survival S(d) the product of (1 - hazard) up to d; the value is the first duration at
    which S falls to 1 - q or below (the median for q = 0.5). People whose event is not
    seen are *censored*: they count as at risk for the durations they are observed and
    never as events. When S does not fall that far within the durations observed, the
    value is missing (the median is not reached; shown as no value, never as a number).

    Disclosure: suppressed when fewer than ``min_count`` events or fewer than
    ``min_denominator`` rows at risk are behind it."""

    name = "duration"
    required = ("column", "event")
    optional = ("filter", "quantile")
    summary = "median (or q-quantile) time until the event, from a period life table (censoring allowed for)"

    def parts(self, ind, build):
        at_risk = build.histogram(ind, ind.column)
        return build.with_condition(at_risk, ind.event), at_risk

    def value(self, spec, numerator, denominator):
        if not denominator:
            return None
        survival, target = 1.0, 1.0 - self.q(spec)
        for d in sorted(denominator):
            survival *= 1.0 - numerator.get(d, 0) / denominator[d]
            if survival <= target:
                return spec.scale * float(d)
        return None

    def sensitive(self, spec, numerator, denominator, thresholds):
        events, rows = numerator or 0, denominator or 0
        return rows > 0 and (events < thresholds.min_count or rows < thresholds.min_denominator)


def _divide(scale: float, numerator: Any, denominator: Any) -> float | None:
    if numerator is None or not denominator:
        return None
    return scale * float(numerator) / float(denominator)


def quantile(histogram: Counter | dict, q: float) -> float:
    """The q-quantile of the values a histogram (value -> count) describes, interpolated
    linearly between order statistics (R's type 7, numpy's default, DuckDB's quantile_cont)."""
    values = sorted(histogram)
    n = sum(histogram[v] for v in values)
    position = (n - 1) * q
    low = math.floor(position)
    x_low = _order_statistic(values, histogram, low)
    x_high = _order_statistic(values, histogram, min(low + 1, n - 1))
    return float(x_low) + (position - low) * (float(x_high) - float(x_low))


def _order_statistic(values: list, histogram: Counter | dict, k: int) -> Any:
    """The k-th smallest value (from 0)."""
    seen = 0
    for v in values:
        seen += histogram[v]
        if seen > k:
            return v
    return values[-1]
