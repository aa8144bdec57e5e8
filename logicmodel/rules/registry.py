"""Rules: small functions with a stable id and a severity, run safely.

A rule receives a :class:`ModelContext` (or a :class:`CatalogueContext`) and yields
:class:`Finding` objects: a key path in the checked document and a message. The runner
adds the rule id, the severity and the source position. Every rule runs; a rule that
raises becomes an error issue naming the rule instead of stopping the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

from logicmodel.catalogue import Catalogue
from logicmodel.graph import to_graph
from logicmodel.issues import Severity
from logicmodel.model import LogicModel


@dataclass(frozen=True)
class Finding:
    """What a rule found: where (key path) and what; ``severity`` overrides the rule's."""

    path: tuple[Any, ...]
    message: str
    severity: Severity | None = None


@dataclass
class ModelContext:
    """A model with its catalogue (None when it could not be loaded) and its graph."""

    model: LogicModel
    catalogue: Catalogue | None = None

    @cached_property
    def graph(self) -> nx.DiGraph:
        return to_graph(self.model)


@dataclass
class CatalogueContext:
    """A catalogue being checked on its own."""

    catalogue: Catalogue


@dataclass(frozen=True)
class Rule:
    """A registered rule: id (``LM0nn``), default severity, one-line summary, function."""

    id: str
    severity: Severity
    summary: str
    check: Callable[[Any], Iterable[Finding]] = field(repr=False)
    scope: str = "model"  # "model" or "catalogue"


MODEL_RULES: list[Rule] = []
CATALOGUE_RULES: list[Rule] = []


def rule(rule_id: str, severity: Severity, summary: str, *, scope: str = "model") -> Callable:
    """Register the decorated function as a rule."""

    def register(function: Callable[[Any], Iterable[Finding]]) -> Callable[[Any], Iterable[Finding]]:
        target = MODEL_RULES if scope == "model" else CATALOGUE_RULES
        if any(existing.id == rule_id for existing in MODEL_RULES + CATALOGUE_RULES):
            raise ValueError(f"rule id {rule_id} registered twice")
        target.append(Rule(rule_id, severity, summary, function, scope))
        return function

    return register


@dataclass(frozen=True)
class RuleResult:
    """A finding with the rule that produced it and its final severity."""

    rule: str
    severity: Severity
    finding: Finding


def run_rules(rules: Iterable[Rule], context: Any) -> list[RuleResult]:
    """Run every rule on ``context``; a crashing rule yields one error result."""
    results: list[RuleResult] = []
    for current in rules:
        try:
            findings = list(current.check(context))
        except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the others
            message = f"rule '{current.summary}' crashed ({type(exc).__name__}: {exc}); please report this"
            results.append(RuleResult(current.id, "error", Finding((), message)))
            continue
        for finding in findings:
            results.append(RuleResult(current.id, finding.severity or current.severity, finding))
    return results


def all_rules() -> list[Rule]:
    """Every registered rule (model rules then catalogue rules), sorted by id."""
    import logicmodel.rules  # noqa: F401 - registers the rules

    return sorted(MODEL_RULES + CATALOGUE_RULES, key=lambda r: r.id)
