"""Indicator definitions as monitoring sees them: sources, aggregates and indicator specs.

The catalogue schema belongs to :mod:`logicmodel.catalogue`; this module reads an entry of
it (a pydantic object or a plain mapping) into small frozen values that the SQL compiler
works on. An indicator is one or two *aggregates* (numerator and denominator), each an
aggregation over one source table with its own filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from monitoring.errors import MonitoringError

GRAINS = ("month", "quarter", "year")
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
TYPES = ("count", "sum", "mean", "share", "ratio")
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")


@dataclass(frozen=True)
class Source:
    """A table indicators can read, with its date column and the dimensions it offers."""

    name: str
    date_sql: str  # SQL expression giving a DATE in the month the row belongs to
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
    "costs": Source("costs", "strptime(period, '%Y-%m')::DATE", None, {"centre": "centre_id", "measure": "measure"}, "measure"),
}
DIMENSIONS = tuple(PERSON_DIMENSIONS)


def dimensions_of(source: Source) -> tuple[str, ...]:
    """The disaggregations a source supports (its own columns, or the panel's via the person)."""
    if source.person_column is not None:
        return DIMENSIONS
    if source.name == "costs":
        return ("centre", "region", "measure")
    return tuple(source.own_dimensions)


@dataclass(frozen=True)
class Aggregate:
    """One aggregation over one source: ``kind`` is count, count_distinct, sum, n (non-null count)
    or top (the largest contributions to a sum, for the dominance rule of cost totals)."""

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
        return self.type in ("mean", "share", "ratio")

    @property
    def disclosure_kind(self) -> str:
        """'count', 'sum' (a total over contributors) or 'rate' (anything divided)."""
        return self.type if self.type in ("count", "sum") else "rate"


class IndicatorDefinitionError(MonitoringError):
    """An indicator definition monitoring cannot compile."""

    def __init__(self, indicator: str, key: str, message: str):
        self.indicator, self.key = indicator, key
        super().__init__(f"indicator '{indicator}': {key}: {message}")


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a pydantic object or a mapping."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        value = obj.get(name, default)
    else:
        value = getattr(obj, name, default)
    return default if value is None else value


def _text(value: Any) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    for lang in ("en", "nb"):
        text = field(value, lang)
        if text:
            return str(text)
    return str(value)


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


def _aggregate(ind_id: str, key: str, part: Any, default_source: str, kind: str | None = None) -> Aggregate:
    """Read a numerator/denominator (or the indicator itself) into an Aggregate."""
    source = _enum(field(part, "source", default_source))
    ptype = kind or _enum(field(part, "type", "count"))
    column = field(part, "column")
    distinct = field(part, "distinct")
    filt = field(part, "filter")
    if ptype == "count":
        if distinct:
            return Aggregate(source, "count_distinct", str(distinct), filt)
        return Aggregate(source, "count", None, filt)
    if ptype in ("sum", "mean"):
        if not column:
            raise IndicatorDefinitionError(ind_id, f"{key}.column", f"a {ptype} needs a column; got none")
        return Aggregate(source, "sum", str(column), filt)
    raise IndicatorDefinitionError(
        ind_id, f"{key}.type", f"expected one of 'count', 'sum', 'mean'; got {ptype!r}"
    )


def _parts(ind: Any, ind_id: str, itype: str, source: str) -> tuple[Aggregate, Aggregate | None]:
    if itype == "count":
        return _aggregate(ind_id, "type", ind, source, "count"), None
    if itype == "sum":  # the denominator counts contributors (for disclosure control), it does not divide
        total = _aggregate(ind_id, "type", ind, source, "sum")
        return total, Aggregate(source, "n", total.column, total.filter)
    if itype == "mean":
        total = _aggregate(ind_id, "type", ind, source, "sum")
        return total, Aggregate(source, "n", total.column, total.filter)
    if itype == "share":
        condition = field(ind, "condition")
        if not condition:
            raise IndicatorDefinitionError(ind_id, "condition", "a share needs a condition; got none")
        population = _aggregate(ind_id, "type", ind, source, "count")
        numerator = Aggregate(source, population.kind, population.column, population.filter, str(condition))
        return numerator, population
    numerator, denominator = field(ind, "numerator"), field(ind, "denominator")
    if numerator is None or denominator is None:
        raise IndicatorDefinitionError(ind_id, "numerator", "a ratio needs a numerator and a denominator")
    return (
        _aggregate(ind_id, "numerator", numerator, source),
        _aggregate(ind_id, "denominator", denominator, source),
    )


def indicator_spec(ind: Any) -> IndicatorSpec:
    """Normalise one catalogue entry; raises IndicatorDefinitionError for what cannot compile."""
    ind_id = str(field(ind, "id", "?"))
    itype = _enum(field(ind, "type"))
    if itype not in TYPES:
        raise IndicatorDefinitionError(ind_id, "type", f"expected one of {', '.join(map(repr, TYPES))}; got {itype!r}")
    source = _enum(field(ind, "source", "person_month"))
    grain = _enum(field(ind, "grain", "month"))
    if grain not in GRAINS:
        raise IndicatorDefinitionError(ind_id, "grain", f"expected one of {', '.join(map(repr, GRAINS))}; got {grain!r}")
    numerator, denominator = _parts(ind, ind_id, itype, source)
    default_scale = 100.0 if itype == "share" else 1.0
    spec = IndicatorSpec(
        id=ind_id, type=itype, source=source, numerator=numerator, denominator=denominator,
        scale=float(field(ind, "scale", default_scale)), unit=str(field(ind, "unit", "")),
        decimals=int(field(ind, "decimals", 1)), direction=_enum(field(ind, "direction", "neutral")),
        grain=grain, window_months=field(ind, "window_months"), cumulative=bool(field(ind, "cumulative", False)),
        measure_scoped=bool(field(ind, "measure_scoped", False)),
        disaggregations=tuple(_enum(d) for d in field(ind, "disaggregations", ())), title=_text(field(ind, "title")),
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
