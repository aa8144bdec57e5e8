"""The data contract: the register tables an agency extracts, as plain Python data.

This module imports nothing heavy (no DuckDB, no pandas) so that any layer can read the
contract cheaply. ``docs/data-contract.md`` documents it for people; the tests check that
the DuckDB schema the migrations create matches it column for column.

Conventions:

- Types are DuckDB types: ``VARCHAR``, ``INTEGER``, ``DOUBLE``, ``BOOLEAN``, ``DATE``.
- ``key`` columns form the table's key (unique together); ``nullable`` columns may hold
  nulls; ``optional`` columns may be left out of an extract (they are then stored as null).
- Codes are lower-case snake case unless the contract says "any code".
- Date ranges: residence ``date_to`` is an exclusive end (the first day no longer resident);
  participation ``end_date`` is the last day of participation (inclusive).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from logicmodel.instruments import BUILTIN_INSTRUMENTS, MAX_ITEMS, InstrumentScale

PERSON_ID = "person_id"


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str
    description: str
    key: bool = False
    nullable: bool = False
    optional: bool = False
    codes: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_hint: str | None = None
    references: str | None = None  # "table.column"
    special_category: bool = False
    minimum: float | None = None
    maximum: float | None = None
    not_in_future: bool = False


@dataclass(frozen=True)
class DateOrder:
    """``first`` must come before ``second`` (or on the same day unless ``strict``)."""

    first: str
    second: str
    strict: bool


@dataclass(frozen=True)
class NoOverlap:
    """Spells ``[start, end)`` of the same ``group`` must not overlap (null end = ongoing)."""

    group: str
    start: str
    end: str


@dataclass(frozen=True)
class Table:
    """One contract table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    required: bool
    allow_empty: bool = True
    date_orders: tuple[DateOrder, ...] = ()
    no_overlap: NoOverlap | None = None
    reporting_lag_months: int = 0
    """Months after which the table's records for a month are complete: the last this many
    complete months may still change (records arrive or are updated late). Periods that read
    the table and end within the lag are *provisional* (see :mod:`monitoring.provisional`)."""
    column_index: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_index", MappingProxyType({c.name: c for c in self.columns}))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.optional)

    @property
    def person_level(self) -> bool:
        return PERSON_ID in self.column_index

    def column(self, name: str) -> Column:
        return self.column_index[name]


CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_]{0,31}"
ID_PATTERN = r"[^\s]([^\t\r\n]{0,126}[^\s])?"
ID_HINT = "a non-empty identifier of at most 128 characters without leading or trailing spaces"

RETURNABILITY = ("high", "medium", "low")
SEXES = ("male", "female")
HOUSEHOLDS = ("single", "with_children", "couple")
CENTRE_TYPES = ("ordinary", "family", "health")
CASE_TYPES = ("asylum", "dublin", "other")
PROGRAMMES = ("assisted_return",)
EXIT_TYPES = (
    "assisted_return",
    "independent_return",
    "forced_return",
    "unknown_address",
    "permit",
    "other",
)
#: The built-in survey instruments and their scales (one definition, in logicmodel); a
#: catalogue may declare more (``Catalogue.instrument_scales()``), and a load given the
#: catalogue accepts them too.
INSTRUMENT_SCALES: Mapping[str, InstrumentScale] = BUILTIN_INSTRUMENTS
INSTRUMENTS = tuple(BUILTIN_INSTRUMENTS)
SURVEY_ITEMS = tuple(f"item_{i:02d}" for i in range(1, MAX_ITEMS + 1))


def _person(description: str = "pseudonymous person identifier", key: bool = True) -> Column:
    return Column(
        PERSON_ID, "VARCHAR", description, key=key, pattern=ID_PATTERN, pattern_hint=ID_HINT,
        references="persons.person_id",
    )


def _date(name: str, description: str, *, key: bool = False, nullable: bool = False) -> Column:
    return Column(name, "DATE", description, key=key, nullable=nullable, not_in_future=True)


def _measure(key: bool = True, description: str = "code of the measure (any code)") -> Column:
    return Column(
        "measure", "VARCHAR", description, key=key, pattern=CODE_PATTERN,
        pattern_hint="a code of letters, digits and '_' (at most 32 characters), e.g. 'VV'",
    )


_NATIONALITIES = Table(
    "nationalities",
    "Countries of origin and how returnable their nationals are.",
    (
        Column("nationality", "VARCHAR", "ISO 3166 alpha-3 code", key=True, pattern="[A-Z]{3}",
               pattern_hint="an ISO 3166 alpha-3 code in capitals, e.g. 'AFG'"),
        Column("name", "VARCHAR", "country name"),
        Column("returnability", "VARCHAR", "how feasible return is", codes=RETURNABILITY),
        Column("return_agreement_from", "DATE", "return agreement in force from (null = none)",
               nullable=True),
    ),
    required=True,
    allow_empty=False,
)

_PERSONS = Table(
    "persons",
    "One row per person obliged to leave (or who was at some point in the extract).",
    (
        Column(PERSON_ID, "VARCHAR", "pseudonymous person identifier", key=True,
               pattern=ID_PATTERN, pattern_hint=ID_HINT),
        Column("birth_year", "INTEGER", "year of birth", minimum=1900, not_in_future=True),
        Column("sex", "VARCHAR", "sex", codes=SEXES),
        Column("nationality", "VARCHAR", "nationality", references="nationalities.nationality"),
        Column("household", "VARCHAR", "household type", codes=HOUSEHOLDS),
        Column("dublin", "BOOLEAN", "Dublin case"),
        Column("identity_documented", "BOOLEAN", "identity documented"),
        Column("prior_absconding", "BOOLEAN", "has absconded before"),
        Column("health_issue", "BOOLEAN", "known health problems (special category, GDPR Art. 9)",
               nullable=True, optional=True, special_category=True),
        Column("special_circumstances", "BOOLEAN",
               "other special circumstances, e.g. sexual orientation (special category)",
               nullable=True, optional=True, special_category=True),
    ),
    required=True,
    allow_empty=False,
)

_CENTRES = Table(
    "centres",
    "Reception centres.",
    (
        Column("centre_id", "VARCHAR", "centre identifier", key=True, pattern=ID_PATTERN,
               pattern_hint=ID_HINT),
        Column("name", "VARCHAR", "centre name"),
        Column("centre_type", "VARCHAR", "type of centre", codes=CENTRE_TYPES),
        Column("region", "VARCHAR", "UDI region"),
        Column("municipality", "VARCHAR", "municipality"),
    ),
    required=True,
    allow_empty=False,
)

_RESIDENCE = Table(
    "residence",
    "Residence spells in centres; date_to is exclusive (the first day no longer resident).",
    (
        _person(),
        Column("centre_id", "VARCHAR", "centre of residence", references="centres.centre_id"),
        _date("date_from", "first day of residence", key=True),
        Column("date_to", "DATE", "first day no longer resident (null = ongoing)", nullable=True,
               not_in_future=True),
    ),
    required=True,
    allow_empty=False,
    date_orders=(DateOrder("date_from", "date_to", strict=True),),
    no_overlap=NoOverlap(PERSON_ID, "date_from", "date_to"),
)

_DECISIONS = Table(
    "decisions",
    "Final rejections: from this date the person is obliged to leave.",
    (
        _person(),
        _date("decision_date", "date of the final decision", key=True),
        Column("case_type", "VARCHAR", "type of case", codes=CASE_TYPES),
    ),
    required=True,
    allow_empty=False,
)

_PARTICIPATION = Table(
    "participation",
    "Participation in measures; end_date is the last day (inclusive, null = ongoing).",
    (
        _person(),
        _measure(),
        _date("start_date", "first day of participation", key=True),
        _date("end_date", "last day of participation (null = ongoing)", nullable=True),
        Column("sessions_planned", "INTEGER", "sessions planned", nullable=True, minimum=0),
        Column("sessions_attended", "INTEGER", "sessions attended", nullable=True, minimum=0),
        Column("completed", "BOOLEAN", "completed the measure", nullable=True),
        Column("centre_id", "VARCHAR", "centre that ran the measure for this person",
               nullable=True, optional=True, references="centres.centre_id"),
    ),
    required=False,
    date_orders=(DateOrder("start_date", "end_date", strict=False),),
    reporting_lag_months=2,  # sessions attended are recorded as a measure runs and reported after it
)

_APPLICATIONS = Table(
    "applications",
    "Applications for assisted return.",
    (
        _person(),
        _date("application_date", "date of the application", key=True),
        Column("programme", "VARCHAR", "programme applied for", codes=PROGRAMMES),
    ),
    required=False,
)

_EXITS = Table(
    "exits",
    "The exit of each person who left (one per person).",
    (
        _person(),
        _date("exit_date", "date of exit"),
        Column("exit_type", "VARCHAR", "how the person left", codes=EXIT_TYPES),
    ),
    required=True,
)

_SURVEYS = Table(
    "surveys",
    "Survey responses: mental health instruments and the MI readiness ruler.",
    (
        _person(),
        _date("survey_date", "date of the response", key=True),
        Column("instrument", "VARCHAR", "instrument", key=True, codes=INSTRUMENTS),
        Column("total", "DOUBLE", "total: HSCL mean item score, RHS-13/PHQ-9 sum, MI 0-10"),
        *(
            Column(item, "DOUBLE", f"item score {item[-2:]}", nullable=True, optional=True,
                   special_category=True)
            for item in SURVEY_ITEMS
        ),
    ),
    required=False,
)

_COSTS = Table(
    "costs",
    "Costs of measures per period; centre_id null for centrally run measures.",
    (
        _measure(),
        Column("centre_id", "VARCHAR", "centre (null = central)", key=True, nullable=True,
               references="centres.centre_id"),
        Column("period", "VARCHAR", "month", key=True, pattern=r"[0-9]{4}-(0[1-9]|1[0-2])",
               pattern_hint="a month written YYYY-MM, e.g. '2012-03'"),
        Column("amount_nok", "DOUBLE", "amount in NOK", minimum=0),
    ),
    required=False,
)

CONTRACT: Mapping[str, Table] = MappingProxyType(
    {
        t.name: t
        for t in (
            _NATIONALITIES, _PERSONS, _CENTRES, _RESIDENCE, _DECISIONS,
            _PARTICIPATION, _APPLICATIONS, _EXITS, _SURVEYS, _COSTS,
        )
    }
)
"""Contract tables by name, in load order (referenced tables first)."""



def contract_for(instruments: Mapping[str, InstrumentScale] | None = None) -> Mapping[str, Table]:
    """The contract with the survey instruments of ``instruments`` (built-in and those a
    catalogue declares, ``Catalogue.instrument_scales()``) as the codes of
    ``surveys.instrument``; :data:`CONTRACT` itself when None."""
    if instruments is None:
        return CONTRACT
    columns = tuple(dataclasses.replace(c, codes=tuple(instruments)) if c.name == "instrument" else c
                    for c in _SURVEYS.columns)
    return MappingProxyType({**CONTRACT, "surveys": dataclasses.replace(_SURVEYS, columns=columns)})


TABLE_NAMES: tuple[str, ...] = tuple(CONTRACT)
REQUIRED_TABLES: tuple[str, ...] = tuple(t.name for t in CONTRACT.values() if t.required)
REPORTING_LAGS: Mapping[str, int] = MappingProxyType(
    {t.name: t.reporting_lag_months for t in CONTRACT.values() if t.reporting_lag_months})
"""Declared reporting lags in months, by table (tables without a lag are left out)."""

RAW_PERSON_ID_COLUMNS: tuple[str, ...] = ("person_number", "fnr", "duf_number")
"""Columns holding raw person numbers; replaced by keyed pseudonyms in ``person_id``."""

FREE_TEXT_COLUMNS: frozenset[str] = frozenset(
    {"comment", "comments", "note", "notes", "free_text", "freetext", "remark", "remarks",
     "kommentar", "merknad", "fritekst", "notat"}
)
"""Free-text columns: dropped with a notice, never stored."""

DIRECT_IDENTIFIER_COLUMNS: frozenset[str] = frozenset(
    {"first_name", "last_name", "full_name", "surname", "address", "phone", "email",
     "birth_date", "date_of_birth", "passport_number"}
)
"""Columns that identify a person directly: an extract carrying one is refused."""

SPECIAL_CATEGORY_COLUMNS: tuple[str, ...] = tuple(
    f"{t.name}.{c.name}" for t in CONTRACT.values() for c in t.columns if c.special_category
)

LOADER_TABLES: tuple[str, ...] = ("schema_version", "loads")
DERIVED_TABLES: tuple[str, ...] = ("person_month",)

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-17", 0, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55+", 55, None),
)
"""Age bands of the panel (``0-17`` holds minors, who are rare in the target group)."""

PANEL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("person_id", "VARCHAR", "pseudonym"),
    ("month", "DATE", "first day of the month"),
    ("period", "VARCHAR", "YYYY-MM"),
    ("centre_id", "VARCHAR", "centre of residence on the month's first day (or on entry)"),
    ("centre_type", "VARCHAR", "type of that centre"),
    ("region", "VARCHAR", "region of that centre"),
    ("municipality", "VARCHAR", "municipality of that centre"),
    ("nationality", "VARCHAR", "nationality"),
    ("returnability", "VARCHAR", "returnability of the nationality"),
    ("return_agreement", "BOOLEAN", "the nationality's return agreement is in force this month"),
    ("sex", "VARCHAR", "sex"),
    ("household", "VARCHAR", "household"),
    ("age", "INTEGER", "year(month) - birth_year"),
    ("age_band", "VARCHAR", "age band"),
    ("dublin", "BOOLEAN", "Dublin case"),
    ("identity_documented", "BOOLEAN", "identity documented"),
    ("prior_absconding", "BOOLEAN", "absconded before"),
    ("health_issue", "BOOLEAN", "health problems (null when not supplied)"),
    ("special_circumstances", "BOOLEAN", "special circumstances (null when not supplied)"),
    ("months_since_decision", "INTEGER", "whole months from the latest final decision"),
    ("months_in_reception", "INTEGER", "months since the first residence spell began"),
    ("measure", "VARCHAR", "measure taken part in this month (earliest started if several)"),
    ("participating", "BOOLEAN", "in any measure this month"),
    ("enrolled", "BOOLEAN", "started a measure this month"),
    ("exit_type", "VARCHAR", "exit this month, null if none"),
    ("applied", "BOOLEAN", "applied for assisted return this month"),
)
