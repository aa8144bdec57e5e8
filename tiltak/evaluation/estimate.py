"""Run a logic model's evaluation design against the store: a sequence of target trials.

For each expected change the design tests (and that names a person-level outcome): the
trials of the measure (:mod:`tiltak.evaluation.riskset_data`) are matched
(``estimation.RiskSetMatching``: exact on the month, on earlier participation in other
measures and on the model's ``exact`` columns, nearest on the propensity score); time zero
is aligned at each participant's start date (:mod:`tiltak.evaluation.trials`); register
outcomes are estimated as cumulative incidence curves per trial, averaged over the trials
(:mod:`tiltak.evaluation.curves`), survey outcomes as regression-adjusted differences in
weighted means; then balance (after matching and censoring weights), the minimum detectable
effect at the model's multiplicity-adjusted level and the sensitivity to hidden bias. Only
aggregates leave this module: the person-period frame stays in memory.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from logicmodel.model import COVARIATE_DISTANCES, METHOD_KEYS, ExpectedChange, LogicModel, Matching
from tiltak.errors import TiltakError
from tiltak.evaluation.design_estimate import DEFAULT_ESTIMAND, ESTIMANDS, DesignEstimate  # noqa: F401 (re-exported)
from tiltak.evaluation.design_run import DesignRun
from tiltak.evaluation.model_reads import model_estimand  # noqa: F401 (re-exported)
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.riskset_data import PRIOR_OTHER, build_risk_sets
from tiltak.evaluation.verdicts import VerdictRules


def tested_changes(model: LogicModel) -> list[ExpectedChange]:
    """Expected changes the design tests that name a person-level outcome, in model order."""
    if model.evaluation is None:
        return []
    tests = set(model.evaluation.tests)
    return [c for c in model.expected_changes if c.id in tests and c.outcome]


def _outcomes_for(model: LogicModel, changes: list[ExpectedChange], catalogue: Mapping[str, OutcomeSpec],
                  where: str) -> tuple[OutcomeSpec, ...]:
    wanted: dict[str, OutcomeSpec] = {}
    for change in changes:
        oid = change.outcome
        if oid not in catalogue:
            index = next(i for i, c in enumerate(model.expected_changes) if c.id == change.id)
            raise TiltakError(
                f"{where}expected_changes.{index}.outcome: unknown outcome {oid!r}; expected one of "
                + ", ".join(repr(k) for k in sorted(catalogue))
            )
        wanted[oid] = catalogue[oid]
    return tuple(wanted.values())


def design_settings(m: Matching, covariates: tuple[str, ...]) -> dict[str, Any]:
    """The matching settings of a design: the model's keys with ``logicmodel.Matching``'s defaults.

    The defaults are defined once, on ``logicmodel.Matching`` (docs/logic-models.md); every
    key of the chosen method is given (the method's ``RiskSetMatching`` parameters), the
    keys of the other methods are left out. Covariates the registers do not have are left
    out of ``mahvars``/``antiexact``/covariate calipers/cutpoints as of the propensity model.
    """

    present = set(covariates)
    settings: dict[str, Any] = {"method": m.method, "covariates": list(covariates),
                                "exact": ["period", PRIOR_OTHER, *[str(e) for e in m.exact]]}
    for key in METHOD_KEYS[m.method]:
        if key == "exact":
            continue
        value = getattr(m, key)
        if key in ("mahvars", "antiexact"):
            value = [str(v) for v in value if v in present]
        elif key in ("covariate_calipers", "cutpoints"):
            value = {str(k): (list(v) if isinstance(v, tuple) else v) for k, v in value.items() if k in present}
        elif key == "order" and value is None:
            value = "largest" if m.distance in ("glm", "logit") else "data"
        settings[key] = value
    if m.distance in COVARIATE_DISTANCES and "caliper" not in m.model_fields_set:
        settings["caliper"] = None  # the default caliper is on the score, which this distance has not
    # the keys every estimate's design line reads, whatever the method
    settings.setdefault("ratio", 1)
    settings.setdefault("replace", False)
    settings.setdefault("caliper", None)
    settings.setdefault("std_caliper", True)
    settings.setdefault("distance", "glm")
    settings.setdefault("order", None)
    if isinstance(settings.get("caliper"), (int, float)):
        settings["caliper"] = float(settings["caliper"])
    return settings


def estimate_model(
    con: Any, model: LogicModel, catalogue: Mapping[str, OutcomeSpec], seed: int = 0,
    rules: VerdictRules | None = None, estimands: tuple[str, ...] | None = None, curves: bool = True,
    source: str | None = None,
) -> list[DesignEstimate]:
    """Estimate every expected change the model's design tests, under each estimand.

    ``estimands`` defaults to the model's own (``evaluation.estimand``). Register outcomes
    (exits and applications) without a subgroup share one matching on all trials; survey
    outcomes and subgroups are matched on their own pool. The minimum detectable effect
    uses the level 0.05 / m, m the number of tested changes (Holm's first step). ``source``
    (the model's file) starts the message of an outcome the catalogue does not have.
    """

    rules = rules or VerdictRules()
    changes = tested_changes(model)
    design = model.evaluation
    if not changes or design is None:
        return []
    estimands = estimands or (model_estimand(model),)
    where = f"{source}: " if source else ""
    outcomes = _outcomes_for(model, changes, catalogue, where)
    subgroups = {c.id: c.subgroup for c in changes if c.subgroup}
    exact = tuple(design.matching.exact)
    rs = build_risk_sets(con, design.treatment.measure, design.covariates, outcomes, subgroups, where, exact)
    curve_change = _curve_change(changes, catalogue) if curves else None
    run = DesignRun(con, model, rs, design_settings(design.matching, rs.covariates), rules, seed,
                    n_tests=len(changes), curve_change=curve_change)
    results: dict[tuple[str, str], DesignEstimate] = {}
    for change in changes:
        spec = catalogue[change.outcome]
        for estimand in estimands:
            results[(change.id, estimand)] = run.estimate(change, spec, estimand)
    return [results[(c.id, e)] for c in changes for e in estimands]


def _curve_change(changes: list[ExpectedChange], catalogue: Mapping[str, OutcomeSpec]) -> str | None:
    """The change whose curve the report shows: assisted return, longest horizon (first if tied)."""
    candidates = [c for c in changes if "assisted_return" in catalogue[c.outcome].exit_types
                  and catalogue[c.outcome].kind == "exit_within" and not c.subgroup]
    if not candidates:
        return None
    return max(candidates, key=lambda c: catalogue[c.outcome].months).id


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def replace_evidence(estimate: DesignEstimate, **changes: Any) -> DesignEstimate:
    """The estimate with some evidence fields changed (the Holm-adjusted p-value)."""
    if estimate.evidence is None:
        return estimate
    return dataclasses.replace(estimate, evidence=dataclasses.replace(estimate.evidence, **changes))
