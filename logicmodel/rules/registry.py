"""Rules: small functions with a stable id and a severity, run safely.

A rule receives a :class:`ModelContext` (or a :class:`CatalogueContext`) and yields
:class:`Finding` objects: a key path in the checked document and a message. The runner
adds the rule id, the severity and the source position. Every rule runs; a rule that
raises becomes an error issue naming the rule instead of stopping the run (as
dbt-semantic-interfaces' ``validate_safely``), and a rule that reads a part of the file
with schema errors (:class:`~logicmodel.partial.UnparsedPart`) is skipped.

``@rule(...)`` turns a function into a :class:`Rule`; nothing is registered behind the
scenes. Which rules run is an explicit tuple handed to the validator:
``logicmodel.rules.RULES`` for this package's own, and the application's registry
(``tiltak.rules.DEFAULT_RULES``) for every command, which adds the rules of the other
layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

from logicmodel.catalogue import Catalogue
from logicmodel.graph import structure_graph
from logicmodel.issues import Severity
from logicmodel.model import LogicModel
from logicmodel.partial import Partial, UnparsedPart


@dataclass(frozen=True)
class Finding:
    """What a rule found: where (key path) and what; ``severity`` overrides the rule's."""

    path: tuple[Any, ...]
    message: str
    severity: Severity | None = None


@dataclass
class ModelContext:
    """A model with its catalogue (None when it could not be loaded) and its graph.

    Either may be a :class:`~logicmodel.partial.Partial` when its file has schema errors.
    """

    model: LogicModel | Partial
    catalogue: Catalogue | Partial | None = None

    @cached_property
    def graph(self) -> nx.DiGraph:
        return structure_graph(self.model)


@dataclass
class CatalogueContext:
    """A catalogue being checked on its own."""

    catalogue: Catalogue | Partial


SCOPES = ("model", "catalogue")


@dataclass(frozen=True)
class Rule:
    """A rule: id (``LM0nn``, ``MON0nn``...), default severity, one-line summary, function.

    ``scope`` says what it checks: a model (with its catalogue) or a catalogue alone. One
    id may have a rule of each scope (``MON001`` screens the expressions of catalogues and
    of models).
    """

    id: str
    severity: Severity
    summary: str
    check: Callable[[Any], Iterable[Finding]] = field(repr=False)
    scope: str = "model"

    def __call__(self, context: Any) -> Iterable[Finding]:
        return self.check(context)


def rule(rule_id: str, severity: Severity, summary: str, *, scope: str = "model") -> Callable[..., Rule]:
    """Make the decorated function a :class:`Rule` (list it in a rules tuple to run it)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}; got {scope!r}")

    def make(function: Callable[[Any], Iterable[Finding]]) -> Rule:
        return Rule(rule_id, severity, summary, function, scope)

    return make


def checked_rules(*groups: Iterable[Rule]) -> tuple[Rule, ...]:
    """The rules of ``groups`` as one tuple; refuses an id given twice for one scope."""
    rules = tuple(r for group in groups for r in group)
    seen: set[tuple[str, str]] = set()
    for current in rules:
        if (current.id, current.scope) in seen:
            raise ValueError(f"rule {current.id} ({current.scope}) is listed twice")
        seen.add((current.id, current.scope))
    return rules


@dataclass(frozen=True)
class RuleResult:
    """A finding with the rule that produced it and its final severity."""

    rule: str
    severity: Severity
    finding: Finding


def run_rules(rules: Iterable[Rule], context: Any) -> list[RuleResult]:
    """Run every rule on ``context``; a crashing rule yields one error result, a rule that
    reads a part with schema errors yields nothing."""
    results: list[RuleResult] = []
    for current in rules:
        try:
            findings = list(current.check(context))
        except UnparsedPart:
            continue  # the schema errors of that part are reported; this rule needs it whole
        except Exception as exc:  # noqa: BLE001 - a broken rule must not hide the others
            message = f"rule '{current.summary}' crashed ({type(exc).__name__}: {exc}); please report this"
            results.append(RuleResult(current.id, "error", Finding((), message)))
            continue
        for finding in findings:
            results.append(RuleResult(current.id, finding.severity or current.severity, finding))
    return results


def of_scope(rules: Iterable[Rule], scope: str) -> tuple[Rule, ...]:
    """The rules of one scope, in the order given."""
    return tuple(r for r in rules if r.scope == scope)
