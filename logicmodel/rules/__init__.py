"""The semantic rules of logic models and catalogues (ids ``LM0nn``, see docs/rules.md).

The rules that run are this explicit tuple (as dbt-semantic-interfaces'
``DEFAULT_RULES``): :data:`RULES` is everything this package checks by itself, model rules
then catalogue rules. The application's registry (``tiltak.rules.DEFAULT_RULES``) adds
the rules of the other layers. A new rule is a function decorated with ``@rule`` in the
module of its topic, and a line here.
"""

from logicmodel.rules import catalogue_rules, changes, evaluation, indicators, periods, structure
from logicmodel.rules.registry import (
    CatalogueContext,
    Finding,
    ModelContext,
    Rule,
    RuleResult,
    checked_rules,
    of_scope,
    run_rules,
)

RULES: tuple[Rule, ...] = checked_rules((
    structure.duplicate_ids,                   # LM002
    structure.unknown_link_nodes,              # LM003
    structure.cycles,                          # LM004
    structure.backward_links,                  # LM005
    structure.isolated,                        # LM006
    structure.unreachable_results,             # LM007
    structure.activities_without_result,       # LM008
    structure.missing_levels,                  # LM009
    structure.horizons,                        # LM010
    structure.repeated_links,                  # LM011
    indicators.unknown_indicators,             # LM020
    indicators.duplicate_indicators,           # LM021
    indicators.results_without_indicator,      # LM022
    indicators.targets_not_monitored,          # LM023
    indicators.node_indicators_unmonitored,    # LM024
    changes.change_nodes,                      # LM030
    changes.change_levels,                     # LM031
    changes.change_measures,                   # LM032
    changes.unknown_outcomes,                  # LM033
    changes.untested_changes,                  # LM034
    changes.contradicting_directions,          # LM035
    changes.change_sizes,                      # LM036
    changes.mixed_units,                       # LM037
    evaluation.evaluation_tests,               # LM040
    evaluation.covariates,                     # LM041
    evaluation.treatment_measure,              # LM042
    evaluation.missing_evaluation,             # LM043
    evaluation.method_settings,                # LM046
    evaluation.pipeline_estimand,              # LM047
    evaluation.pipeline_method_validated,      # LM048
    periods.periods,                           # LM050
    periods.time_order,                        # LM051
    periods.costs,                             # LM052
    catalogue_rules.catalogue_ids,             # LM060
    catalogue_rules.indicator_types,           # LM061
    catalogue_rules.windows,                   # LM062
    catalogue_rules.disaggregations,           # LM063
    catalogue_rules.instruments,               # LM064
))
#: The model rules and the catalogue rules of :data:`RULES`.
MODEL_RULES: tuple[Rule, ...] = of_scope(RULES, "model")
CATALOGUE_RULES: tuple[Rule, ...] = of_scope(RULES, "catalogue")


def all_rules() -> list[Rule]:
    """The rules of this package, sorted by id."""
    return sorted(RULES, key=lambda r: r.id)


__all__ = [
    "CATALOGUE_RULES",
    "MODEL_RULES",
    "RULES",
    "CatalogueContext",
    "Finding",
    "ModelContext",
    "Rule",
    "RuleResult",
    "all_rules",
    "checked_rules",
    "of_scope",
    "run_rules",
]
