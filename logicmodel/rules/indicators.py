"""Rules on the indicators a model refers to: known, not repeated, present where needed."""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel.rules.registry import Finding, ModelContext, rule
from logicmodel.rules.wording import one_of


def indicator_references(ctx: ModelContext) -> Iterator[tuple[tuple, str]]:
    """Every place the model names an indicator: (key path, indicator id)."""
    model = ctx.model
    for i, node in enumerate(model.nodes):
        for j, indicator in enumerate(node.indicators):
            yield ("nodes", i, "indicators", j), indicator
    for i, link in enumerate(model.links):
        for j, assumption in enumerate(link.assumptions):
            if assumption.indicator is not None:
                yield ("links", i, "assumptions", j, "indicator"), assumption.indicator
    for i, change in enumerate(model.expected_changes):
        if change.indicator is not None:
            yield ("expected_changes", i, "indicator"), change.indicator
    for i, indicator in enumerate(model.monitoring.indicators):
        yield ("monitoring", "indicators", i), indicator
    for i, target in enumerate(model.monitoring.targets):
        yield ("monitoring", "targets", i, "indicator"), target.indicator


@rule("LM020", "error", "indicators are defined in the catalogue")
def unknown_indicators(ctx: ModelContext) -> Iterator[Finding]:
    if ctx.catalogue is None:
        return
    known = ctx.catalogue.indicator_ids
    for path, indicator in indicator_references(ctx):
        if indicator not in known:
            yield Finding(path, f"unknown indicator '{indicator}'; {one_of(indicator, known)}")


def _repeats(items: tuple[str, ...], path: tuple) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item in seen:
            yield Finding((*path, index), f"indicator '{item}' is listed twice (first at {'.'.join(map(str, path))}.{seen[item]})")
        else:
            seen[item] = index


@rule("LM021", "error", "an indicator is listed once per node and once in monitoring")
def duplicate_indicators(ctx: ModelContext) -> Iterator[Finding]:
    for index, node in enumerate(ctx.model.nodes):
        yield from _repeats(node.indicators, ("nodes", index, "indicators"))
    yield from _repeats(ctx.model.monitoring.indicators, ("monitoring", "indicators"))
    yield from _repeats(tuple(t.indicator for t in ctx.model.monitoring.targets), ("monitoring", "targets"))


@rule("LM022", "warning", "outcomes and impacts have an indicator")
def results_without_indicator(ctx: ModelContext) -> Iterator[Finding]:
    for index, node in enumerate(ctx.model.nodes):
        if node.level in ("outcome", "impact") and not node.indicators:
            yield Finding(("nodes", index, "id"), f"{node.level} '{node.id}' has no indicator; add one so that it can be monitored")


@rule("LM023", "warning", "targets are set on monitored indicators")
def targets_not_monitored(ctx: ModelContext) -> Iterator[Finding]:
    monitored = ctx.model.monitoring.indicators
    for index, target in enumerate(ctx.model.monitoring.targets):
        if target.indicator not in monitored:
            yield Finding(
                ("monitoring", "targets", index, "indicator"),
                f"target for '{target.indicator}', which is not in monitoring.indicators; add it there",
            )
        if target.baseline is None and not target.values:
            yield Finding(("monitoring", "targets", index), f"target for '{target.indicator}' has neither baseline nor values")


@rule("LM024", "warning", "indicators of nodes are monitored")
def node_indicators_unmonitored(ctx: ModelContext) -> Iterator[Finding]:
    if ctx.catalogue is None:
        return
    monitored = set(ctx.model.monitoring.indicators)
    for index, node in enumerate(ctx.model.nodes):
        for j, indicator in enumerate(node.indicators):
            if ctx.catalogue.indicator(indicator) is not None and monitored and indicator not in monitored:
                yield Finding(
                    ("nodes", index, "indicators", j),
                    f"indicator '{indicator}' measures node '{node.id}' but is not in monitoring.indicators; it will not be computed",
                )
