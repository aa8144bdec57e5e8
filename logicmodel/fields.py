"""Building blocks shared by the model and catalogue schemas: the frozen base, identifiers,
months, numbers and translatable text."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, model_validator
from tiltak_base.catalogue import pick

#: Patterns of identifiers, with the words used for them in messages.
ID_PATTERN = r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$"
SNAKE_PATTERN = r"^[a-z][a-z0-9_]*$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
CODE_PATTERN = r"^[A-Za-z0-9_]+$"

PATTERN_WORDS = {
    ID_PATTERN: "an identifier in lower case (letters, digits, '_' or '-', starting with a letter)",
    SNAKE_PATTERN: "an identifier in lower snake case (letters, digits and '_', starting with a letter)",
    MONTH_PATTERN: "a month written YYYY-MM (in quotes is safest)",
    PERIOD_PATTERN: "a period written YYYY, YYYY-MM or YYYY-Qn",
    CODE_PATTERN: "a code of letters, digits and '_'",
}


class Frozen(BaseModel):
    """Base of every schema class: immutable, unknown keys forbidden, no silent coercion."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)


Str = Annotated[str, Strict(), Field(min_length=1)]
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Id = Annotated[str, Strict(), Field(pattern=ID_PATTERN, max_length=64)]
SnakeId = Annotated[str, Strict(), Field(pattern=SNAKE_PATTERN, max_length=64)]
Month = Annotated[str, Strict(), Field(pattern=MONTH_PATTERN)]
PeriodLabel = Annotated[str, Strict(), Field(pattern=PERIOD_PATTERN)]
Code = Annotated[str, Strict(), Field(pattern=CODE_PATTERN, max_length=32)]


class LocalizedText(Frozen):
    """Text in Norwegian Bokmål (``nb``), Nynorsk (``nn``) and/or English (``en``); at least one."""

    # A text missing in the report's language is shown in the next language of that language's
    # catalogue (meta.fallback: nynorsk falls back to bokmål, then English); the report says so.

    nb: Str | None = None
    nn: Str | None = None
    en: Str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> LocalizedText:
        if self.nb is None and self.nn is None and self.en is None:
            raise ValueError("give the text in at least one language: nb, nn or en")
        return self


def _text_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "plain"
    if isinstance(value, (dict, LocalizedText)):
        return "localized"
    return None


#: A plain string, or a mapping ``{nb: ..., en: ...}``.
Text = Annotated[
    Union[Annotated[Str, Tag("plain")], Annotated[LocalizedText, Tag("localized")]],
    Discriminator(
        _text_kind,
        custom_error_type="text_type",
        custom_error_message="expected a text or a mapping {nb: ..., nn: ..., en: ...}",
    ),
]

#: Loc elements pydantic inserts for tagged unions; they are not keys of the data.
UNION_TAGS = frozenset({"plain", "localized", "one", "many", "exit_within", "application_within", "survey_change"})


def text_in(text: str | LocalizedText | None, lang: str) -> str | None:
    """The text in ``lang``, falling back in the order of that language's catalogue.

    >>> text_in(LocalizedText(nb="Samtaler", en="Talks"), "en"), text_in(LocalizedText(nb="Samtaler"), "en")
    ('Talks', 'Samtaler')
    >>> text_in(LocalizedText(nb="Samtaler", en="Talks"), "nn"), text_in("Samtaler", "en")
    ('Samtaler', 'Samtaler')
    """
    if text is None or isinstance(text, str):
        return text
    return pick(text.model_dump(exclude_none=True), lang) or None


def month_index(label: str) -> int:
    """Months since year 0 of the first month of a period label (YYYY, YYYY-MM, YYYY-Qn)."""
    year = int(label[:4])
    if len(label) == 4:
        return year * 12
    if label[5] == "Q":
        return year * 12 + (int(label[6]) - 1) * 3
    return year * 12 + int(label[5:7]) - 1


def last_month_index(label: str) -> int:
    """Months since year 0 of the last month of a period label."""
    if len(label) == 4:
        return month_index(label) + 11
    if label[5] == "Q":
        return month_index(label) + 2
    return month_index(label)
