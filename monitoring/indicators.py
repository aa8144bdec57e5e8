"""Indicator definitions as monitoring sees them: sources, aggregates and indicator specs.

The catalogue schema belongs to :mod:`logicmodel.catalogue`; this module reads its typed,
frozen ``Indicator`` objects (never a plain mapping) into small frozen values that the
compiler works on. What an indicator of each type is made of, and how its value follows
from its parts, is its kind's business (:mod:`monitoring.kinds`, one class per kind); the
vocabularies (kinds, grains, directions, sources, disaggregations) are those of
:mod:`logicmodel.vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from logicmodel import vocabulary
from logicmodel.catalogue import Indicator
from logicmodel.fields import text_in
from monitoring.errors import MonitoringError
from monitoring.kinds import KINDS, kind_of

GRAINS = vocabulary.GRAINS
GRAIN_MONTHS = vocabulary.GRAIN_MONTHS
DIRECTIONS = vocabulary.DIRECTIONS
MESSAGE_LANGUAGE = "en"
"""The language of the indicator titles in monitoring's messages (which are in English)."""


@dataclass(frozen=True)
class Source:
    """A table indicators can read, with its date column and the dimensions it offers."""

    name: str
    date_column: str  # the column placing a row in a month (a DATE, or a YYYY-MM text for costs)
    person_column: str | None  # joins to person_month for person dimensions
    own_dimensions: Mapping[str, str]  # dimension -> column of the table itself
    measure_column: str | None  # column holding the measure code, if any


PERSON_DIMENSIONS = {
    "centre": "centre_id",
    "region": "region",
    "nationality": "nationality",
    "sex": "sex",
    "age_band": "age_band",
    "household": "household",
    "measure": "measure",
}

SOURCES: dict[str, Source] = {
    "person_month": Source("person_month", "month", None, PERSON_DIMENSIONS, "measure"),
    "participation": Source("participation", "start_date", "person_id", {"measure": "measure"}, "measure"),
    "surveys": Source("surveys", "survey_date", "person_id", {}, None),
    "applications": Source("applications", "application_date", "person_id", {}, None),
    "exits": Source("exits", "exit_date", "person_id", {}, None),
    "costs": Source("costs", "period", None, {"centre": "centre_id", "measure": "measure"}, "measure"),
}
DIMENSIONS = vocabulary.DISAGGREGATIONS


def dimensions_of(source: Source) -> tuple[str, ...]:
    """The disaggregations a source supports (its own columns, or the panel's via the person)."""
    if source.person_column is not None:
        return DIMENSIONS
    if source.name == "costs":
        return ("centre", "region", "measure")
    return tuple(source.own_dimensions)


@dataclass(frozen=True)
class Aggregate:
    """One aggregation over one source: ``kind`` is count, count_distinct, sum (exact), n
    (non-null count), histogram (rows per value of the column) or top (the contributions to a
    sum by contributor, for the dominance rule of cost totals)."""

    source: str
    kind: str
    column: str | None = None
    filter: str | None = None
    condition: str | None = None  # an extra filter (the condition of a share)


@dataclass(frozen=True)
class IndicatorSpec:
    """A catalogue indicator, normalised: value = scale * numerator / denominator."""

    id: str
    type: str
    source: str
    numerator: Aggregate
    denominator: Aggregate | None
    scale: float
    unit: str
    decimals: int
    direction: str
    grain: str
    window_months: int | None
    cumulative: bool
    measure_scoped: bool
    disaggregations: tuple[str, ...]
    title: str = ""
    quantile: float | None = None

    @property
    def kind(self):
        """The indicator's kind class (:mod:`monitoring.kinds`)."""

        return kind_of(self.type)

    @property
    def top(self) -> Aggregate | None:
        """The contributions behind a cost total, for the dominance rule (not over windows)."""
        num = self.numerator
        if num.kind != "sum" or num.source != "costs" or self.window_months or self.cumulative:
            return None
        return Aggregate(num.source, "top", num.column, num.filter, num.condition)

    @property
    def window_periods(self) -> int | None:
        """The rolling window in periods of the indicator's grain."""
        if not self.window_months:
            return None
        return self.window_months // GRAIN_MONTHS[self.grain]

    @property
    def divides(self) -> bool:
        """True when value = scale * numerator / denominator (mean, share, ratio)."""
        return self.kind.divides

    @property
    def disclosure_kind(self) -> str:
        """'count', 'sum' (a total over contributors), 'rate' (anything divided) or 'quantile'."""
        return self.kind.disclosure


class IndicatorDefinitionError(MonitoringError):
    """An indicator definition monitoring cannot compile."""

    def __init__(self, indicator: str, key: str, message: str):
        self.indicator, self.key = indicator, key
        super().__init__(f"indicator '{indicator}': {key}: {message}")


@dataclass(frozen=True)
class PartBuilder:
    """What a kind class uses to make its aggregates from a catalogue ``Indicator``."""

    indicator_id: str
    source: str

    def count(self, ind: Any, distinct: str | None) -> Aggregate:
        if distinct:
            return Aggregate(self.source, "count_distinct", str(distinct), ind.filter)
        return Aggregate(self.source, "count", None, ind.filter)

    def sum(self, ind: Any, column: str | None, key: str = "column") -> Aggregate:
        if not column:
            raise IndicatorDefinitionError(self.indicator_id, key, "a sum needs a column; got none")
        return Aggregate(self.source, "sum", str(column), ind.filter)

    def nonnull(self, total: Aggregate) -> Aggregate:
        return Aggregate(total.source, "n", total.column, total.filter)

    def histogram(self, ind: Any, column: str | None) -> Aggregate:
        if not column:
            raise IndicatorDefinitionError(self.indicator_id, "column", f"a {ind.type} needs a column; got none")
        return Aggregate(self.source, "histogram", str(column), ind.filter)

    def with_condition(self, agg: Aggregate, condition: str | None) -> Aggregate:
        if not condition:
            key = "event" if agg.kind == "histogram" else "condition"
            raise IndicatorDefinitionError(self.indicator_id, key, f"a {'duration' if key == 'event' else 'share'} "
                                           f"needs {'an event' if key == 'event' else 'a condition'}; got none")
        return replace(agg, condition=str(condition))

    def part(self, ind: Any, key: str) -> Aggregate:
        """The numerator or denominator of a ratio (each may name its own source)."""
        part = getattr(ind, key)
        if ind.numerator is None or ind.denominator is None:
            raise IndicatorDefinitionError(self.indicator_id, "numerator", "a ratio needs a numerator and a denominator")
        builder = PartBuilder(self.indicator_id, part.source or self.source)
        if part.type == "count":
            return builder.count(part, part.distinct)
        return builder.sum(part, part.column, f"{key}.column")


def indicator_spec(ind: Indicator) -> IndicatorSpec:
    """Normalise one catalogue ``Indicator`` (the typed, frozen object of
    :mod:`logicmodel.catalogue`); raises IndicatorDefinitionError for what cannot compile."""

    if ind.type not in KINDS:
        raise IndicatorDefinitionError(ind.id, "type", f"expected one of {', '.join(map(repr, KINDS))}; got {ind.type!r}")
    kind = KINDS[ind.type]
    numerator, denominator = kind.parts(ind, PartBuilder(ind.id, ind.source))
    spec = IndicatorSpec(
        id=ind.id, type=ind.type, source=ind.source, numerator=numerator, denominator=denominator,
        scale=float(ind.scale), unit=str(ind.unit), decimals=int(ind.decimals), direction=ind.direction,
        grain=ind.grain, window_months=ind.window_months, cumulative=bool(ind.cumulative),
        measure_scoped=bool(ind.measure_scoped), disaggregations=tuple(ind.disaggregations),
        title=text_in(ind.title, MESSAGE_LANGUAGE) or "",
        quantile=None if ind.quantile is None else float(ind.quantile),
    )
    _check_spec(spec)
    return spec


def _check_spec(spec: IndicatorSpec) -> None:
    for agg, key in ((spec.numerator, "numerator"), (spec.denominator, "denominator")):
        if agg is not None and agg.source not in SOURCES:
            raise IndicatorDefinitionError(
                spec.id, f"{key}.source" if spec.type == "ratio" else "source",
                f"unknown source {agg.source!r}; expected one of {', '.join(map(repr, SOURCES))}",
            )
    if spec.direction not in DIRECTIONS:
        raise IndicatorDefinitionError(spec.id, "direction", f"expected one of {', '.join(map(repr, DIRECTIONS))}; got {spec.direction!r}")
    if spec.window_months is not None:
        _check_window(spec)
    if spec.window_months and spec.cumulative:
        raise IndicatorDefinitionError(spec.id, "window_months", "an indicator is either rolling (window_months) or cumulative, not both")
    for dim in spec.disaggregations:
        _check_dimension(spec, dim)


def _check_window(spec: IndicatorSpec) -> None:
    months = spec.window_months
    step = GRAIN_MONTHS[spec.grain]
    if not isinstance(months, int) or isinstance(months, bool) or months < 1 or months % step:
        raise IndicatorDefinitionError(
            spec.id, "window_months",
            f"expected a whole number of {spec.grain}s in months (a positive multiple of {step}); got {months!r}",
        )


def _check_dimension(spec: IndicatorSpec, dim: str) -> None:
    if dim not in DIMENSIONS:
        raise IndicatorDefinitionError(spec.id, "disaggregations", f"unknown disaggregation {dim!r}; expected one of {', '.join(map(repr, DIMENSIONS))}")
    for agg in (spec.numerator, spec.denominator):
        if agg is not None and dim not in dimensions_of(SOURCES[agg.source]):
            allowed = ", ".join(map(repr, dimensions_of(SOURCES[agg.source])))
            raise IndicatorDefinitionError(
                spec.id, "disaggregations", f"source {agg.source!r} cannot be broken down by {dim!r}; it offers {allowed}"
            )
