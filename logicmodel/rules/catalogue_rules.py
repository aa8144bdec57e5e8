"""Rules on the indicator catalogue itself: unique ids and keys that fit each type."""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel import vocabulary
from logicmodel.catalogue import Aggregate, Indicator, InstrumentDefinition
from logicmodel.instruments import BUILTIN_INSTRUMENTS
from logicmodel.partial import complete
from logicmodel.rules.registry import CatalogueContext, Finding, rule
from logicmodel.rules.wording import one_of

_HINTS = vocabulary.KEY_HINTS


def type_keys(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """For an indicator kind: the keys it requires and the keys that do not apply."""
    keys = vocabulary.INDICATOR_KINDS[kind]
    return keys.required, keys.not_applicable


@rule("LM060", "error", "indicator and outcome ids are unique in the catalogue", scope="catalogue")
def catalogue_ids(ctx: CatalogueContext) -> Iterator[Finding]:
    first: dict[str, tuple] = {}
    sections = (("indicators", ctx.catalogue.indicators), ("outcomes", ctx.catalogue.outcomes))
    for section, items in sections:
        for index, item in enumerate(items):
            if item.id in first:
                where = ".".join(map(str, first[item.id]))
                yield Finding((section, index, "id"), f"duplicate id '{item.id}' (first used by {where}); ids must be unique")
            else:
                first[item.id] = (section, index)


def _type_findings(indicator: Indicator, index: int) -> Iterator[Finding]:
    required, not_applicable = type_keys(indicator.type)
    for key in required:
        if getattr(indicator, key) is None:
            yield Finding(("indicators", index), f"indicator '{indicator.id}' of type {indicator.type} needs '{key}' ({_HINTS[key]})")
    for key in not_applicable:
        if getattr(indicator, key) is not None:
            hint = "; put filters in numerator and denominator" if indicator.type == "ratio" and key == "filter" else ""
            yield Finding(("indicators", index, key), f"'{key}' does not apply to an indicator of type {indicator.type}{hint}")


def _aggregate_findings(part: Aggregate, path: tuple) -> Iterator[Finding]:
    if part.type == "sum" and part.column is None:
        yield Finding(path, "a sum needs 'column' (the column to add up)")
    if part.type == "sum" and part.distinct is not None:
        yield Finding((*path, "distinct"), "'distinct' applies to counts only")
    if part.type == "count" and part.column is not None:
        yield Finding((*path, "column"), "'column' does not apply to a count; use distinct to count distinct values")


@rule("LM061", "error", "each indicator has the keys its type needs and no others", scope="catalogue")
def indicator_types(ctx: CatalogueContext) -> Iterator[Finding]:
    for index, indicator in complete(ctx.catalogue.indicators):
        yield from _type_findings(indicator, index)
        for name in ("numerator", "denominator"):
            part = getattr(indicator, name)
            if part is not None:
                yield from _aggregate_findings(part, ("indicators", index, name))


@rule("LM062", "error", "rolling windows and cumulative values are not combined", scope="catalogue")
def windows(ctx: CatalogueContext) -> Iterator[Finding]:
    for index, indicator in complete(ctx.catalogue.indicators):
        if indicator.window_months is not None and indicator.cumulative:
            yield Finding(("indicators", index, "cumulative"), "an indicator is either cumulative or has window_months, not both")
        if indicator.window_months is not None and indicator.type in ("mean", "share") and indicator.window_months > 1:
            yield Finding(
                ("indicators", index, "window_months"),
                f"window_months sums over months; a {indicator.type} over a window counts people once per month",
                "warning",
            )


@rule("LM063", "warning", "disaggregations are listed once", scope="catalogue")
def disaggregations(ctx: CatalogueContext) -> Iterator[Finding]:
    for index, indicator in complete(ctx.catalogue.indicators):
        seen: set[str] = set()
        for j, name in enumerate(indicator.disaggregations):
            if name in seen:
                yield Finding(("indicators", index, "disaggregations", j), f"disaggregation '{name}' is listed twice")
            seen.add(name)


def _scale_findings(instrument: InstrumentDefinition, index: int) -> Iterator[Finding]:
    path = ("instruments", index)
    if instrument.id in BUILTIN_INSTRUMENTS:
        yield Finding((*path, "id"), f"'{instrument.id}' is a built-in instrument; declare only new instruments")
    for key, score in (("total", instrument.total), ("item", instrument.item)):
        if score is not None and score.min >= score.max:
            yield Finding((*path, key), f"{key}.min ({score.min:g}) must be below {key}.max ({score.max:g})")
    if instrument.items and instrument.item is None:
        yield Finding(path, f"instrument '{instrument.id}' has {instrument.items} items but no 'item' range "
                            "(item: {min: ..., max: ...})")
    if not instrument.items and instrument.item is not None:
        yield Finding((*path, "item"), "'item' needs 'items' (how many item scores the register holds)")


@rule("LM064", "error", "instruments are declared once, not built-in, with ranges that hold; survey outcomes "
      "name known instruments", scope="catalogue")
def instruments(ctx: CatalogueContext) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for index, instrument in complete(ctx.catalogue.instruments):
        if instrument.id in first:
            yield Finding(("instruments", index, "id"),
                          f"instrument '{instrument.id}' is declared twice (first at instruments.{first[instrument.id]})")
        first.setdefault(instrument.id, index)
        yield from _scale_findings(instrument, index)
    known = list(ctx.catalogue.instrument_scales())
    for index, outcome in complete(ctx.catalogue.outcomes):
        if outcome.kind == "survey_change" and outcome.instrument not in known:
            yield Finding(("outcomes", index, "instrument"), f"unknown instrument '{outcome.instrument}'; "
                          f"{one_of(outcome.instrument, known)} (or declare it in 'instruments')")
