"""Rules on expected changes: what they refer to, their direction and size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from logicmodel.model import ExpectedChange
from logicmodel.rules.registry import Finding, ModelContext, rule
from logicmodel.rules.wording import one_of, unknown_id

_GOOD = {"higher_is_better": "increase", "lower_is_better": "decrease"}


@rule("LM030", "error", "expected changes refer to a known node")
def change_nodes(ctx: ModelContext) -> Iterator[Finding]:
    known = [n.id for n in ctx.model.nodes]
    for index, change in enumerate(ctx.model.expected_changes):
        if change.node not in known:
            yield Finding(("expected_changes", index, "node"), unknown_id("node", change.node, known, "nodes"))


@rule("LM031", "warning", "expected changes are on outcomes or impacts")
def change_levels(ctx: ModelContext) -> Iterator[Finding]:
    for index, change in enumerate(ctx.model.expected_changes):
        node = ctx.model.node(change.node)
        if node is not None and node.level not in ("outcome", "impact"):
            yield Finding(
                ("expected_changes", index, "node"),
                f"expected change '{change.id}' is on '{node.id}', a node of level {node.level}; expected changes belong on outcomes and impacts",
            )


@rule("LM032", "error", "an expected change names an outcome or an indicator")
def change_measures(ctx: ModelContext) -> Iterator[Finding]:
    for index, change in enumerate(ctx.model.expected_changes):
        if change.outcome is None and change.indicator is None:
            yield Finding(
                ("expected_changes", index),
                f"expected change '{change.id}' has neither outcome nor indicator; name what shows the change",
            )
        if change.trajectory and change.indicator is None:
            yield Finding(("expected_changes", index, "trajectory"), "a trajectory needs an indicator to compare with; add indicator")


@rule("LM033", "error", "outcomes are defined in the catalogue")
def unknown_outcomes(ctx: ModelContext) -> Iterator[Finding]:
    if ctx.catalogue is None:
        return
    known = ctx.catalogue.outcome_ids
    for index, change in enumerate(ctx.model.expected_changes):
        if change.outcome is not None and change.outcome not in known:
            yield Finding(("expected_changes", index, "outcome"), f"unknown outcome '{change.outcome}'; {one_of(change.outcome, known)}")


@rule("LM034", "warning", "every expected change is tested or monitored")
def untested_changes(ctx: ModelContext) -> Iterator[Finding]:
    tested = set(ctx.model.evaluation.tests) if ctx.model.evaluation else set()
    for index, change in enumerate(ctx.model.expected_changes):
        if change.id not in tested and change.outcome is not None:
            yield Finding(("expected_changes", index, "id"), f"expected change '{change.id}' is not tested by the evaluation; add it to evaluation.tests")
        elif change.id not in tested and not change.trajectory:
            yield Finding(
                ("expected_changes", index, "id"),
                f"expected change '{change.id}' is neither tested by the evaluation nor given a trajectory; nothing will check it",
            )


def _definition_direction(ctx: ModelContext, kind: str, name: str | None) -> str | None:
    if ctx.catalogue is None or name is None:
        return None
    found = ctx.catalogue.indicator(name) if kind == "indicator" else ctx.catalogue.outcome(name)
    return found.direction if found is not None else None


@rule("LM035", "warning", "expected changes go in the indicator's direction of good")
def contradicting_directions(ctx: ModelContext) -> Iterator[Finding]:
    for index, change in enumerate(ctx.model.expected_changes):
        for kind in ("indicator", "outcome"):
            name = getattr(change, kind)
            good = _GOOD.get(_definition_direction(ctx, kind, name) or "")
            if good is not None and good != change.direction:
                yield Finding(
                    ("expected_changes", index, "direction"),
                    f"expected change '{change.id}' is {'an' if change.direction == 'increase' else 'a'} {change.direction}, but for {kind} '{name}' "
                    f"{'higher' if good == 'increase' else 'lower'} is better; check the direction",
                )


def _with_outcomes(ctx: ModelContext) -> Iterator[tuple[int, ExpectedChange, Any]]:
    """Each expected change (with its index) and its catalogue outcome (None: none or unknown);
    nothing without a catalogue."""
    if ctx.catalogue is None:
        return
    for index, change in enumerate(ctx.model.expected_changes):
        yield index, change, ctx.catalogue.outcome(change.outcome) if change.outcome else None


@rule("LM036", "error", "the smallest meaningful change fits the outcome's unit and horizon")
def change_sizes(ctx: ModelContext) -> Iterator[Finding]:
    for index, change, outcome in _with_outcomes(ctx):
        if outcome is None:
            continue
        if outcome.unit == "share" and change.min_change >= 1:
            yield Finding(
                ("expected_changes", index, "min_change"),
                f"outcome '{outcome.id}' is a share between 0 and 1; min_change {change.min_change:g} is impossible (write 0.05 for 5 points)",
            )
        if outcome.months != change.horizon_months:
            yield Finding(
                ("expected_changes", index, "horizon_months"),
                f"outcome '{outcome.id}' is measured {outcome.months} months after enrolment but horizon_months is {change.horizon_months}",
                "warning",
            )


@rule("LM037", "warning", "an outcome and an indicator of one expected change share a unit")
def mixed_units(ctx: ModelContext) -> Iterator[Finding]:
    for index, change, outcome in _with_outcomes(ctx):
        indicator = ctx.catalogue.indicator(change.indicator) if change.indicator else None
        if outcome is not None and indicator is not None and outcome.unit != indicator.unit:
            yield Finding(
                ("expected_changes", index, "min_change"),
                f"min_change is one number but outcome '{outcome.id}' is in '{outcome.unit}' and indicator "
                f"'{indicator.id}' in '{indicator.unit}'; split it into two expected changes",
            )
