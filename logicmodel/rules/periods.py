"""Rules on time: the model's period, trajectories, targets and cost periods."""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel.fields import last_month_index, month_index
from logicmodel.rules.registry import Finding, ModelContext, rule


def _outside(ctx: ModelContext, label: str) -> str | None:
    period = ctx.model.period
    if last_month_index(label) < month_index(period.start):
        return f"period {label} is before the model's start {period.start}"
    if period.end is not None and month_index(label) > month_index(period.end):
        return f"period {label} is after the model's end {period.end}"
    return None


def _dated_values(ctx: ModelContext) -> Iterator[tuple[tuple, str]]:
    for i, change in enumerate(ctx.model.expected_changes):
        for j, point in enumerate(change.trajectory):
            yield ("expected_changes", i, "trajectory", j, "period"), point.period
    for i, target in enumerate(ctx.model.monitoring.targets):
        for j, value in enumerate(target.values):
            yield ("monitoring", "targets", i, "values", j, "period"), value.period
    if ctx.model.costs is not None:
        for i, total in enumerate(ctx.model.costs.totals):
            yield ("costs", "totals", i, "period"), total.period


@rule("LM050", "error", "the period ends after it starts; dated values fall within it")
def periods(ctx: ModelContext) -> Iterator[Finding]:
    period = ctx.model.period
    if period.end is not None and month_index(period.end) < month_index(period.start):
        yield Finding(("period", "end"), f"period ends ({period.end}) before it starts ({period.start})")
        return
    for path, label in _dated_values(ctx):
        problem = _outside(ctx, label)
        if problem:
            yield Finding(path, f"{problem}; values must fall within the period of operation")


def _ordered(labels: list[str], path: tuple) -> Iterator[Finding]:
    for index in range(1, len(labels)):
        if month_index(labels[index]) <= month_index(labels[index - 1]):
            yield Finding((*path, index, "period"), f"period {labels[index]} does not come after {labels[index - 1]}; list periods in time order, each once")


@rule("LM051", "error", "trajectories and target values are in time order, each period once")
def time_order(ctx: ModelContext) -> Iterator[Finding]:
    for i, change in enumerate(ctx.model.expected_changes):
        yield from _ordered([p.period for p in change.trajectory], ("expected_changes", i, "trajectory"))
    for i, target in enumerate(ctx.model.monitoring.targets):
        yield from _ordered([v.period for v in target.values], ("monitoring", "targets", i, "values"))
        if target.baseline is not None and target.values and month_index(target.baseline.period) >= month_index(target.values[0].period):
            yield Finding(("monitoring", "targets", i, "baseline", "period"), f"baseline {target.baseline.period} is not before the first target {target.values[0].period}")


@rule("LM052", "warning", "costs are given and not repeated")
def costs(ctx: ModelContext) -> Iterator[Finding]:
    costs = ctx.model.costs
    if costs is None or (costs.per_participant_nok is None and not costs.totals):
        yield Finding(("costs",) if costs else (), "no costs given; unit costs cannot be compared with effects")
        return
    seen: dict[tuple[str, str | None], int] = {}
    for index, total in enumerate(costs.totals):
        key = (total.period, total.centre_id)
        if key in seen:
            yield Finding(("costs", "totals", index), f"a total for period {total.period} and centre {total.centre_id or 'central'} is already given by costs.totals.{seen[key]}", "error")
        seen.setdefault(key, index)
