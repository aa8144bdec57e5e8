"""The checks monitoring needs from model files and the data contract, as rules.

They are rules like those of :mod:`logicmodel.rules` (a function from a context to
findings, with a stable id), listed in :data:`RULES`; the application's registry
(``tiltak.rules.DEFAULT_RULES``) runs them on every model and catalogue any command reads,
so ``validate``, ``monitor check/run/show/explain``, ``estimate``, ``evaluate`` and ``demo``
accept and refuse the same files with the same messages:

* ``MON001`` an expression (catalogue filter, share condition, summed column, the
  ``subgroup`` of an expected change) that the expression module refuses
  (:mod:`monitoring.expressions`);
* ``MON002`` an indicator definition monitoring cannot compile;
* ``MON003`` a monitoring target or disclosure setting monitoring cannot use.
"""

from __future__ import annotations

from collections.abc import Iterator

from logicmodel.partial import complete
from logicmodel.rules.registry import CatalogueContext, Finding, ModelContext, Rule, checked_rules, rule
from monitoring.expressions import ExpressionError, bind
from monitoring.disclosure import Thresholds
from monitoring.filters import DEFINITION_RULE, EXPRESSION_RULE, bind_problems, catalogue_codes, definition_problem
from monitoring.indicators import IndicatorDefinitionError, indicator_spec
from monitoring.targets import target_line

SUBGROUP_SOURCE = "person_month"


@rule(EXPRESSION_RULE, "error", "the SQL expressions of the catalogue pass the screen and bind to the contract",
      scope="catalogue")
def catalogue_expressions(ctx: CatalogueContext) -> Iterator[Finding]:
    codes = catalogue_codes(ctx.catalogue)  # the survey instruments: built-in and declared
    for index, indicator in complete(ctx.catalogue.indicators):
        for problem in bind_problems(indicator, codes):
            if problem.rule == EXPRESSION_RULE:
                yield Finding(("indicators", index, *problem.path), f"indicator '{problem.indicator}': {problem.message}")


@rule(DEFINITION_RULE, "error", "monitoring can compile every indicator definition", scope="catalogue")
def indicator_definitions(ctx: CatalogueContext) -> Iterator[Finding]:
    for index, indicator in complete(ctx.catalogue.indicators):
        problem = definition_problem(indicator)
        if problem is not None:
            yield Finding(("indicators", index, *problem.path), f"indicator '{problem.indicator}': {problem.message}")


@rule(EXPRESSION_RULE, "error", "the subgroups of expected changes pass the screen and bind to the panel")
def subgroups(ctx: ModelContext) -> Iterator[Finding]:
    for index, change in enumerate(ctx.model.expected_changes):
        if change.subgroup is None:
            continue
        try:
            bind(change.subgroup, SUBGROUP_SOURCE, "boolean")
        except ExpressionError as exc:
            yield Finding(("expected_changes", index, "subgroup"), f"subgroup {change.subgroup!r}: {exc.reason}")


@rule("MON003", "error", "monitoring can use the disclosure settings and the targets")
def monitoring_settings(ctx: ModelContext) -> Iterator[Finding]:
    """Targets and thresholds of the monitored indicators (the indicators themselves are
    checked with the catalogue, and references by the model rules)."""
    model, catalogue = ctx.model, ctx.catalogue
    try:
        Thresholds.of_model(model)
    except ValueError as exc:
        yield Finding(("monitoring", "disclosure"), str(exc))
    if catalogue is None:
        return
    for index, target in enumerate(model.monitoring.targets):
        indicator = catalogue.indicator(str(target.indicator))
        if indicator is None or target.indicator not in model.monitoring.indicators:
            continue  # reported by the model rules (LM020, LM023)
        try:
            target_line(target, indicator_spec(indicator).grain)
        except IndicatorDefinitionError:
            continue  # reported at the catalogue (MON002)
        except ValueError as exc:
            yield Finding(("monitoring", "targets", index), str(exc))


RULES: tuple[Rule, ...] = checked_rules((
    catalogue_expressions,   # MON001 (catalogues)
    indicator_definitions,   # MON002
    subgroups,               # MON001 (models)
    monitoring_settings,     # MON003
))
