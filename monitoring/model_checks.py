"""The checks monitoring and the evaluation need from model files and the data contract.

One checker, run by the validator of :mod:`logicmodel` on every model and catalogue it
reads (:data:`CHECKERS`), so that every command that reads a model (``validate``,
``monitor check/run/show/explain``, ``estimate``, ``evaluate``, ``demo``) accepts and
refuses the same files with the same messages:

* ``MON001`` an expression (catalogue filter, share condition, summed column, the
  ``subgroup`` of an expected change) that the expression module refuses
  (:mod:`monitoring.expressions`);
* ``MON002`` an indicator definition monitoring cannot compile;
* ``MON003`` a monitoring target or disclosure setting monitoring cannot use.
"""

from __future__ import annotations

from typing import Any

from monitoring.expressions import ExpressionError, bind

SUBGROUP_SOURCE = "person_month"
SETTINGS_RULE = "MON003"


def contract_checker(unit: Any) -> list:
    """Issues of one validation unit (a model with its catalogue, or a catalogue alone)."""
    if unit.model is None:
        return _catalogue_issues(unit) if unit.catalogue is not None else []
    return _subgroup_issues(unit) + _monitoring_issues(unit)


CHECKERS = (contract_checker,)


def _catalogue_issues(unit: Any) -> list:
    from monitoring.filters import check_catalogue

    document = unit.catalogue_document

    def locate(path: tuple) -> tuple[str, int, int]:
        where = document.position(path)
        return document.file, where.line, where.column

    return list(check_catalogue(unit.catalogue, locate))


def _subgroup_issues(unit: Any) -> list:
    issues = []
    for index, change in enumerate(unit.model.expected_changes):
        if change.subgroup is None:
            continue
        try:
            bind(change.subgroup, SUBGROUP_SOURCE, "boolean")
        except ExpressionError as exc:
            path = ("expected_changes", index, "subgroup")
            issues.append(unit.issue(unit.model_document, path, "MON001", "error",
                                     f"subgroup {change.subgroup!r}: {exc.reason}"))
    return issues


def _monitoring_issues(unit: Any) -> list:
    """Targets and thresholds of the monitored indicators (the indicators themselves are
    checked with the catalogue, and references by the model rules)."""
    from monitoring.indicators import IndicatorDefinitionError, indicator_spec
    from monitoring.monitored import thresholds_of
    from monitoring.targets import target_line

    issues = []
    model, catalogue = unit.model, unit.catalogue
    try:
        thresholds_of(model)
    except ValueError as exc:
        issues.append(unit.issue(unit.model_document, ("monitoring", "disclosure"), SETTINGS_RULE, "error", str(exc)))
    if catalogue is None:
        return issues
    for n, target in enumerate(model.monitoring.targets):
        ind = catalogue.indicator(str(target.indicator))
        if ind is None or target.indicator not in model.monitoring.indicators:
            continue  # reported by the model rules (LM020, LM023)
        try:
            target_line(target, indicator_spec(ind).grain)
        except IndicatorDefinitionError:
            continue  # reported at the catalogue (MON002)
        except ValueError as exc:
            issues.append(unit.issue(unit.model_document, ("monitoring", "targets", n), SETTINGS_RULE, "error", str(exc)))
    return issues
