"""Run a logic model's evaluation design against the store.

For each expected change the design tests (and that names a person-level outcome), the
risk sets of the measure are matched (``estimation.RiskSetMatching``: exact on the month,
nearest on the propensity score, with the model's covariates and matching settings) among
the index months where that outcome is observed; then balance, the ATT with its interval,
the minimum detectable effect and the sensitivity to hidden bias are computed. Only
aggregates leave this module: the person-period frame stays in memory.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tiltak.errors import TiltakError
from tiltak.evaluation.evidence import EffectEvidence
from tiltak.evaluation.model_view import DesignView, ExpectedChangeView, ModelView
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.riskset_data import build_risk_sets
from tiltak.evaluation.sensitivity import design_sensitivity
from tiltak.evaluation.verdicts import VerdictRules

OVERLAP_BINS = 24


@dataclass(frozen=True)
class DesignEstimate:
    """The estimate of one expected change, with the aggregates the report shows."""

    model_id: str
    change_id: str
    outcome: OutcomeSpec
    evidence: EffectEvidence | None
    design: dict[str, Any]
    balance_terms: tuple[dict[str, Any], ...] = ()
    overlap: dict[str, Any] | None = None
    ess_control: float | None = None
    risk_ratio: float | None = None
    odds_ratio: float | None = None
    error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def tested_changes(model: ModelView) -> list[ExpectedChangeView]:
    """Expected changes the design tests that name a person-level outcome, in model order."""
    if model.design is None:
        return []
    tests = set(model.design.tests)
    return [c for c in model.expected_changes if c.spec.id in tests and c.spec.outcome]


def _outcomes_for(model: ModelView, changes: list[ExpectedChangeView], catalogue: Mapping[str, OutcomeSpec]) -> tuple[OutcomeSpec, ...]:
    where = f"{model.source}: " if model.source else ""
    wanted: dict[str, OutcomeSpec] = {}
    for change in changes:
        oid = change.spec.outcome
        if oid not in catalogue:
            index = next(i for i, c in enumerate(model.expected_changes) if c.spec.id == change.spec.id)
            raise TiltakError(
                f"{where}expected_changes.{index}.outcome: unknown outcome {oid!r}; expected one of "
                + ", ".join(repr(k) for k in sorted(catalogue))
            )
        wanted[oid] = catalogue[oid]
    return tuple(wanted.values())


def design_settings(design: DesignView, covariates: tuple[str, ...]) -> dict[str, Any]:
    """The matching settings of a design with the documented defaults filled in."""
    m = design.matching
    return {
        "covariates": list(covariates),
        "ratio": int(m.get("ratio", 1)),
        "replace": bool(m.get("replace", False)),
        "caliper": None if m.get("caliper", 0.2) is None else float(m.get("caliper", 0.2)),
        "std_caliper": bool(m.get("std_caliper", True)),
        "distance": str(m.get("distance", "glm")),
        "exact": ["period", *[str(e) for e in m.get("exact") or ()]],
        "order": str(m.get("order", "largest")),
    }


def estimate_model(
    con: Any, model: ModelView, catalogue: Mapping[str, OutcomeSpec], seed: int = 0,
    rules: VerdictRules | None = None,
) -> list[DesignEstimate]:
    """Estimate every expected change the model's design tests.

    Register outcomes (exits and applications) without a subgroup share one matching on
    all risk sets; each is then estimated on the matched pairs whose index month has its
    full follow-up (pairs share the month, so they are kept or dropped whole). Survey
    outcomes and subgroups are matched on their own pool (people with the outcome).
    """
    rules = rules or VerdictRules()
    changes = tested_changes(model)
    if not changes or model.design is None:
        return []
    outcomes = _outcomes_for(model, changes, catalogue)
    subgroups = {c.spec.id: c.subgroup for c in changes if c.subgroup}
    where = f"{model.source}: " if model.source else ""
    exact = tuple(str(e) for e in model.design.matching.get("exact") or ())
    rs = build_risk_sets(con, model.design.measure, model.design.covariates, outcomes, subgroups, where, exact)
    settings = design_settings(model.design, rs.covariates)
    notes = tuple(f"covariate '{c}' is not in the registers (all null) and was left out" for c in rs.dropped_covariates)
    shared = [c for c in changes if catalogue[c.spec.outcome].binary and not c.subgroup]
    results: dict[str, DesignEstimate] = {}
    if shared:
        match = _match_pool(rs.frame, settings, seed)
        for change in shared:
            results[change.spec.id] = _estimate(model, change, catalogue[change.spec.outcome], match, settings, rules, notes)
    for change in changes:
        if change.spec.id not in results:
            pool = _pool(rs.frame, change, catalogue[change.spec.outcome])
            match = _match_pool(pool, settings, seed)
            results[change.spec.id] = _estimate(model, change, catalogue[change.spec.outcome], match, settings, rules, notes)
    return [results[c.spec.id] for c in changes]


def _pool(frame, change: ExpectedChangeView, outcome: OutcomeSpec):
    """The person-periods with this outcome observed (and in the change's subgroup)."""
    keep = frame[f"y_{outcome.id}"].notna().to_numpy().copy()
    if change.subgroup:
        keep &= frame[f"sg_{change.spec.id}"].to_numpy(dtype=bool)
    return frame.loc[keep].reset_index(drop=True)


@dataclass(frozen=True)
class _Match:
    """A fitted risk-set matching (or why there is none), with the frame rows it used."""

    data: Any
    sample: Any = None
    rows: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def _match_pool(data, settings: dict[str, Any], seed: int) -> _Match:
    import warnings

    from estimation.riskset import RiskSetMatching

    n_treated, n_control = int(data["treated"].sum()), int((~data["treated"]).sum())
    if n_treated < 2 or n_control < 2 or not settings["covariates"]:
        return _Match(data, error="no covariates" if not settings["covariates"]
                      else "too few participants or comparison persons with this outcome")
    covariates, extra = settings["covariates"], settings["exact"][1:]
    matcher = RiskSetMatching(
        id="person_id", period="period", enrolled="treated", covariates=covariates,
        ratio=settings["ratio"], replace=settings["replace"], caliper=settings["caliper"],
        std_caliper=settings["std_caliper"], distance=settings["distance"], exact=extra or None,
        order=settings["order"], random_state=seed,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            matcher.fit(data[["person_id", "period", "treated", *covariates, *[e for e in extra if e not in covariates]]])
        except _estimation_errors() as exc:
            return _Match(data, error=str(exc).splitlines()[0])
    messages = tuple(sorted({str(w.message).splitlines()[0] for w in caught}))
    return _Match(data, matcher.result_, matcher.rows_["row"].to_numpy(), None, messages)


def _estimation_errors() -> tuple[type[BaseException], ...]:
    from estimation.errors import EstimationError

    return (EstimationError,)


def restrict(sample: Any, keep: Any) -> Any:
    """The matched sample restricted to the units in ``keep`` (pairs kept or dropped whole).

    A treated unit that is dropped takes its pair with it; a control that is dropped leaves
    its treated unit with the remaining controls. Weights and subclasses are recomputed
    with MatchIt's definitions.
    """
    import numpy as np
    from estimation.matching import matching_weights, pair_subclass

    keep = np.asarray(keep, dtype=bool)
    new_index = np.cumsum(keep) - 1
    treat = np.asarray(sample.treat, bool)
    mm = np.asarray(sample.match_matrix)
    kept_treated = keep[np.flatnonzero(treat)]
    mm = mm[kept_treated]
    mm = np.where((mm >= 0) & keep[np.where(mm >= 0, mm, 0)], new_index[np.where(mm >= 0, mm, 0)], -1)
    n = int(keep.sum())
    treated_rows = np.flatnonzero(treat[keep])
    return dataclasses.replace(
        sample, treat=treat[keep], distance=np.asarray(sample.distance)[keep],
        weights=matching_weights(mm, treated_rows, n), subclass=pair_subclass(mm, treated_rows, n),
        match_matrix=mm, discarded=np.asarray(sample.discarded)[keep],
        covariates=sample.covariates.loc[keep].reset_index(drop=True),
    )


def _estimate(model: ModelView, change: ExpectedChangeView, outcome: OutcomeSpec, match: _Match,
              settings: dict[str, Any], rules: VerdictRules, notes: tuple[str, ...]) -> DesignEstimate:
    import numpy as np

    if change.spec.balance_threshold is not None:
        rules = dataclasses.replace(rules, balance_threshold=change.spec.balance_threshold)
    base = dict(model_id=model.id, change_id=change.spec.id, outcome=outcome, design=settings,
                notes=notes + match.warnings)
    if match.error is None:
        y = match.data[f"y_{outcome.id}"].to_numpy(dtype=float)[match.rows]
        observed = ~np.isnan(y)
        sample = match.sample if observed.all() else restrict(match.sample, observed)
        y = y[observed]
        periods = match.data["period"].to_numpy()[match.rows][observed]
        if (np.asarray(sample.weights)[np.asarray(sample.treat, bool)] > 0).sum() >= 2:
            try:
                return _summarise(sample, y, periods, outcome, rules, base, change.spec.sign)
            except _estimation_errors() as exc:
                match = _Match(match.data, error=str(exc).splitlines()[0])
        else:
            match = _Match(match.data, error="too few matched participants with this outcome observed")
    data = _pool(match.data, change, outcome)
    evidence = EffectEvidence(outcome.id, None, n_treated=int(data["treated"].sum()),
                              n_control=int((~data["treated"]).sum()), outcome_kind=outcome.kind)
    return DesignEstimate(evidence=evidence, error=match.error, **base)


def _summarise(sample: Any, y: Any, periods: Any, outcome: OutcomeSpec, rules: VerdictRules,
               base: dict[str, Any], sign: int = 1) -> DesignEstimate:
    import numpy as np
    from estimation.balance import balance_table
    from estimation.effects import estimate_att

    covariates = list(sample.covariates.columns)
    balance = balance_table(sample, covariates=covariates, threshold=rules.balance_threshold)
    effect = estimate_att(sample, y, binary=True if outcome.binary else None)
    treat, matched = np.asarray(sample.treat, bool), np.asarray(sample.weights) > 0
    sens = design_sensitivity(sample, y, effect, outcome.binary, sign)
    evidence = EffectEvidence(
        outcome=outcome.id, att=_f(effect.estimate), ci_low=_f(effect.ci_low), ci_high=_f(effect.ci_high),
        se=_f(effect.std_error), p_value=_f(effect.p_value), mde=sens.mde,
        n_treated=int(treat.sum()), n_control=int((~treat).sum()),
        n_treated_matched=int(effect.n_treated), n_control_matched=int(effect.n_control),
        max_abs_smd=_f(balance.max_abs_smd_after), max_abs_smd_before=_f(balance.max_abs_smd_before),
        gamma=sens.gamma, e_value=sens.e_value,
        period_start=str(min(periods[treat & matched])), period_end=str(max(periods[treat & matched])),
        outcome_kind=outcome.kind, treated_mean=_weighted_mean(y, sample.weights, treat & matched),
        control_mean=_weighted_mean(y, sample.weights, ~treat & matched),
    )
    ratios = {r.scale: _f(r.estimate) for r in effect.ratios}
    return DesignEstimate(
        evidence=evidence, balance_terms=_balance_terms(balance), overlap=_overlap(sample),
        ess_control=_f(effect.ess_control), risk_ratio=ratios.get("risk_ratio"), odds_ratio=ratios.get("odds_ratio"),
        **{**base, "notes": base["notes"] + tuple(sens.notes)},
    )


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _weighted_mean(y, weights, mask) -> float | None:
    import numpy as np

    w = np.asarray(weights, dtype=float)[mask]
    if w.sum() <= 0:
        return None
    return float(np.sum(w * y[mask]) / w.sum())


def _balance_terms(balance: Any) -> tuple[dict[str, Any], ...]:
    frame = balance.frame.iloc[1:] if balance.has_distance else balance.frame
    return tuple(
        {"term": str(r.term), "smd_before": _f(r.smd_before), "smd_after": _f(r.smd_after),
         "var_ratio_after": _f(r.var_ratio_after)}
        for r in frame.itertuples(index=False)
    )


def _overlap(sample: Any, min_count: int = 5) -> dict[str, Any]:
    """Shares per bin of the logit propensity score: all participants vs all candidates.

    Bins holding fewer than ``min_count`` people of a group are shown as 0 (suppressed).
    """
    import numpy as np

    p = np.clip(np.asarray(sample.distance, dtype=float), 1e-9, 1 - 1e-9)
    score = np.log(p / (1 - p)) if sample.settings.get("distance") == "glm" else np.asarray(sample.distance, float)
    treat = np.asarray(sample.treat, bool)
    lo = float(np.min(score[treat])) - 1.0  # comparison persons far below all participants
    hi = float(np.max(score))               # are counted in the first bin
    score = np.maximum(score, lo)
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, OVERLAP_BINS + 1)
    shares, suppressed = {}, 0
    for name, group in (("treated", treat), ("control", ~treat)):
        counts = np.histogram(score[group], bins=edges)[0]
        small = (counts > 0) & (counts < min_count)
        suppressed += int(small.sum())
        shares[name] = [round(float(v), 6) for v in np.where(small, 0, counts) / max(int(group.sum()), 1)]
    return {"scale": "logit", "edges": [round(float(e), 6) for e in edges], **shares, "suppressed_bins": suppressed}
