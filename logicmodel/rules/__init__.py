"""The semantic rules of logic models and catalogues (ids ``LM0nn``, see docs/rules.md).

Importing this package registers every rule in :data:`MODEL_RULES` and
:data:`CATALOGUE_RULES`.
"""

from logicmodel.rules import catalogue_rules, changes, evaluation, indicators, periods, structure  # noqa: F401
from logicmodel.rules.registry import (
    CATALOGUE_RULES,
    MODEL_RULES,
    CatalogueContext,
    Finding,
    ModelContext,
    Rule,
    RuleResult,
    all_rules,
    run_rules,
)

__all__ = [
    "CATALOGUE_RULES",
    "MODEL_RULES",
    "CatalogueContext",
    "Finding",
    "ModelContext",
    "Rule",
    "RuleResult",
    "all_rules",
    "run_rules",
]
