"""Rules on the indicator catalogue itself: unique ids and keys that fit each type."""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel import vocabulary
from logicmodel.catalogue import Aggregate, Indicator
from logicmodel.partial import complete
from logicmodel.rules.registry import CatalogueContext, Finding, rule

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
