"""The registry of every check of a model: one explicit tuple of rules from every layer.

Each layer writes its checks as rules (:class:`logicmodel.rules.Rule`: a function from a
model or catalogue to findings, with a stable id and a severity): the theory of change in
``logicmodel`` (``LM0nn``), the expressions, definitions and settings monitoring needs in
``monitoring`` (``MON0nn``). A registry that holds rules from several layers can only live
above them, so it is here, in the application layer. Every command reads models through
:mod:`tiltak.loading`, which hands :data:`DEFAULT_RULES` to the validator: the same rules
run on every load path, each guarded so that a rule that crashes becomes an issue naming
it (as dbt-semantic-interfaces' ``DEFAULT_RULES`` and ``validate_safely``).

A new check is a rule in the module of its layer and a line in that layer's ``RULES``;
a new layer's rules are one more group below.

>>> [rule.id for rule in DEFAULT_RULES][:3], len({rule.id for rule in DEFAULT_RULES}) > 30
(['LM002', 'LM003', 'LM004'], True)
"""

from __future__ import annotations

from logicmodel.rules import RULES as LOGICMODEL_RULES
from logicmodel.rules import Rule, checked_rules
from monitoring.rules import RULES as MONITORING_RULES

DEFAULT_RULES: tuple[Rule, ...] = checked_rules(
    LOGICMODEL_RULES,    # the theory of change and the catalogue (LM0nn)
    MONITORING_RULES,    # expressions, indicator definitions, targets, disclosure (MON0nn)
)
