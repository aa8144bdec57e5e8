"""The vocabularies of the indicator catalogue, defined once, in plain Python.

Indicator kinds (with the keys each needs), grains (with their length in months),
directions, sources and disaggregations. :mod:`logicmodel.catalogue` (the schema) and the
catalogue rules derive their allowed values from here; :mod:`monitoring.kinds` gives
every kind one class and extends :data:`INDICATOR_KINDS` when a new kind class is
registered, so a new kind is written in one place. Nothing here imports anything heavy:
``tiltak validate`` reads this without pandas, numpy, DuckDB or sqlglot.
"""

from __future__ import annotations

from dataclasses import dataclass

GRAIN_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
GRAINS: tuple[str, ...] = tuple(GRAIN_MONTHS)
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better", "neutral")
SOURCES: tuple[str, ...] = ("person_month", "participation", "surveys", "costs", "applications", "exits")
DISAGGREGATIONS: tuple[str, ...] = ("centre", "region", "nationality", "sex", "age_band", "household", "measure")
PART_TYPES: tuple[str, ...] = ("count", "sum")  # the numerator or denominator of a ratio

#: Every key of an indicator that some kind needs; a kind lists the ones it uses.
KIND_KEYS: tuple[str, ...] = ("filter", "condition", "column", "distinct", "numerator", "denominator",
                              "quantile", "event")
KEY_HINTS: dict[str, str] = {
    "column": "the column to add up, average, count or take a quantile of",
    "condition": "the SQL condition counted in the share",
    "numerator": "{type: count|sum, filter?, column?}",
    "denominator": "{type: count|sum, filter?, column?}",
    "quantile": "a number between 0 and 1, e.g. 0.25",
    "event": "the SQL condition that marks the event ending the duration",
}


@dataclass(frozen=True)
class KindKeys:
    """The catalogue keys one indicator kind needs (``required``) and may have (``optional``)."""

    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    summary: str = ""

    @property
    def not_applicable(self) -> tuple[str, ...]:
        """Keys of other kinds that make no sense for this one."""
        return tuple(k for k in KIND_KEYS if k not in self.required and k not in self.optional)


INDICATOR_KINDS: dict[str, KindKeys] = {}


def register_kind(name: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = (),
                  summary: str = "") -> KindKeys:
    """Add (or confirm) an indicator kind; a second registration must say the same.

    >>> register_kind("count", (), ("filter", "distinct")).optional
    ('filter', 'distinct')
    """
    keys = KindKeys(name, tuple(required), tuple(optional), summary)
    unknown = [k for k in (*keys.required, *keys.optional) if k not in KIND_KEYS]
    if unknown:
        raise ValueError(f"indicator kind {name!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
                         f"expected some of {', '.join(KIND_KEYS)}")
    known = INDICATOR_KINDS.get(name)
    if known is not None and (known.required, known.optional) != (keys.required, keys.optional):
        raise ValueError(f"indicator kind {name!r} is already registered with other keys")
    INDICATOR_KINDS.setdefault(name, keys)
    return INDICATOR_KINDS[name]


def indicator_kinds() -> tuple[str, ...]:
    """The names of the registered indicator kinds, in registration order.

    >>> indicator_kinds()[:3]
    ('count', 'sum', 'mean')
    """
    return tuple(INDICATOR_KINDS)


register_kind("count", (), ("filter", "distinct"), "rows (or distinct values of `distinct`) passing the filter")
register_kind("sum", ("column",), ("filter",), "sum of the column over rows passing the filter")
register_kind("mean", ("column",), ("filter",), "sum / number of non-null values")
register_kind("share", ("condition",), ("filter",), "scale x rows meeting the condition / rows in the population")
register_kind("ratio", ("numerator", "denominator"), (), "scale x numerator / denominator")
register_kind("median", ("column",), ("filter",), "the median of the column over rows passing the filter")
register_kind("quantile", ("column", "quantile"), ("filter",), "the q-quantile of the column")
register_kind("duration", ("column", "event"), ("filter", "quantile"),
              "median (or q-quantile) time until the event, from a period life table (censoring allowed for)")
register_kind("distinct_count", ("column",), ("filter",), "number of distinct values of the column (not additive)")
