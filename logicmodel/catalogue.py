"""The indicator catalogue: indicators computed from register data and person-level outcomes.

The YAML shape is documented in ``docs/architecture.md`` and ``docs/logic-models.md``.
Filters and conditions are SQL boolean expressions kept here as opaque strings; the
``monitoring`` package compiles and binds them against the data contract.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from logicmodel import vocabulary
from logicmodel.fields import Bool, Frozen, Int, Number, SnakeId, Str, Text
from logicmodel.instruments import BUILTIN_INSTRUMENTS, MAX_ITEMS, InstrumentScale, instrument_scales
from logicmodel.partial import complete

# The vocabularies come from one definition (logicmodel.vocabulary), shared with monitoring.
Source = Literal[vocabulary.SOURCES]
Direction = Literal[vocabulary.DIRECTIONS]
Grain = Literal[vocabulary.GRAINS]
Disaggregation = Literal[vocabulary.DISAGGREGATIONS]
PartType = Literal[vocabulary.PART_TYPES]


def _known_kind(value: str) -> str:
    """An indicator kind registered in the vocabulary (monitoring may register more)."""
    kinds = vocabulary.indicator_kinds()
    if value not in kinds:
        raise PydanticCustomError("literal_error", "Input should be {expected}",
                                  {"expected": ", ".join(repr(k) for k in kinds)})
    return value


IndicatorType = Annotated[str, AfterValidator(_known_kind),
                          WithJsonSchema({"enum": list(vocabulary.indicator_kinds()), "type": "string"})]
ExitType = Literal["assisted_return", "independent_return", "forced_return", "unknown_address", "permit", "other"]

SOURCES: tuple[str, ...] = Source.__args__
DISAGGREGATIONS: tuple[str, ...] = Disaggregation.__args__


class Aggregate(Frozen):
    """The numerator or denominator of a ratio: a count or a sum, with its own filter.

    ``source`` overrides the indicator's source (e.g. costs per participant: a sum over
    ``costs`` divided by a count over ``participation``).
    """

    type: PartType
    filter: Str | None = None
    column: SnakeId | None = None
    distinct: SnakeId | None = None
    source: Source | None = None


class Indicator(Frozen):
    """One monitored indicator.

    Which keys apply depends on ``type`` (:data:`logicmodel.vocabulary.INDICATOR_KINDS`):
    count (``filter``, ``distinct``), sum and mean (``column``, ``filter``), share
    (``filter`` for the population, ``condition``), ratio (``numerator``,
    ``denominator``), median and quantile (``column``, ``quantile``), duration
    (``column``: the clock, ``event``), distinct_count (``column``). The value is
    multiplied by ``scale``.
    """

    id: SnakeId
    title: Text
    description: Text | None = None
    source: Source
    type: IndicatorType
    filter: Str | None = None
    condition: Str | None = None
    column: SnakeId | None = None
    distinct: SnakeId | None = None
    numerator: Aggregate | None = None
    denominator: Aggregate | None = None
    quantile: Annotated[Number, Field(gt=0, lt=1)] | None = None
    event: Str | None = None
    scale: Annotated[Number, Field(gt=0)] = 1.0
    unit: Str
    decimals: Annotated[Int, Field(ge=0, le=6)] = 1
    direction: Direction
    grain: Grain = "month"
    window_months: Annotated[Int, Field(ge=1, le=120)] | None = None
    cumulative: Bool = False
    measure_scoped: Bool = False
    disaggregations: tuple[Disaggregation, ...] = ()


class _OutcomeBase(Frozen):
    id: SnakeId
    title: Text
    description: Text | None = None
    months: Annotated[Int, Field(ge=1, le=120)]
    unit: Str = "share"
    direction: Direction


class ExitWithinOutcome(_OutcomeBase):
    """1 if the person exits by one of ``exit_types`` within ``months`` of the index date."""

    kind: Literal["exit_within"]
    exit_types: Annotated[tuple[ExitType, ...], Field(min_length=1)]


class ApplicationWithinOutcome(_OutcomeBase):
    """1 if the person applies to ``programme`` within ``months`` of the index date."""

    kind: Literal["application_within"]
    programme: Str = "assisted_return"


class SurveyChangeOutcome(_OutcomeBase):
    """Score at ``months`` after the index date (window +-1 month) minus the baseline score."""

    kind: Literal["survey_change"]
    instrument: SnakeId  # a built-in instrument or one the catalogue declares (rule LM064)


Outcome = Annotated[
    Union[ExitWithinOutcome, ApplicationWithinOutcome, SurveyChangeOutcome],
    Field(discriminator="kind"),
]
OUTCOME_KINDS = ("exit_within", "application_within", "survey_change")


class ScoreRange(Frozen):
    """The lowest and highest value a score can take."""

    min: Number
    max: Number


class InstrumentDefinition(Frozen):
    """A survey instrument the catalogue declares, beyond the built-in ones
    (``logicmodel.instruments.BUILTIN_INSTRUMENTS``): what its total is and its range,
    and the range of its item scores (``items`` 0: the register holds only the total)."""

    id: SnakeId
    title: Text
    description: Text | None = None
    total: ScoreRange
    meaning: Str
    items: Annotated[Int, Field(ge=0, le=MAX_ITEMS)] = 0
    item: ScoreRange | None = None

    def scale(self) -> InstrumentScale:
        """The instrument's scale, as the data contract checks it."""
        item = self.item or ScoreRange(min=0.0, max=0.0)
        return InstrumentScale(self.total.min, self.total.max, self.items, item.min, item.max, self.meaning)


class Catalogue(Frozen):
    """A versioned set of indicator and outcome definitions shared by several models."""

    version: Str
    instruments: tuple[InstrumentDefinition, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    outcomes: tuple[Outcome, ...] = ()

    def instrument_scales(self) -> dict[str, InstrumentScale]:
        """Every instrument the catalogue's data may hold: the built-in ones and those it
        declares (a declaration with schema errors, or whose id repeats a built-in one, is
        left out; rule LM064)."""
        declared = {d.id: d.scale() for _, d in complete(self.instruments) if d.id not in BUILTIN_INSTRUMENTS}
        return dict(instrument_scales(declared))

    def indicator(self, indicator_id: str) -> Indicator | None:
        """The indicator with this id, or None."""
        return next((i for i in self.indicators if i.id == indicator_id), None)

    def outcome(self, outcome_id: str) -> ExitWithinOutcome | ApplicationWithinOutcome | SurveyChangeOutcome | None:
        """The outcome with this id, or None."""
        return next((o for o in self.outcomes if o.id == outcome_id), None)

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)

    @property
    def outcome_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.outcomes)
