"""The evaluation document: everything ``evaluation.json`` holds, as plain JSON values.

The report renders this same document, so the page and the file never disagree. The
schema is documented in ``docs/evaluation.md``. Disclosure control is applied here, once:
counts below the threshold become ``null`` (published as "suppressed"), and nothing
person-level is ever put in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from logicmodel.model import LogicModel
from tiltak.evaluation.contribution import ContributionAnalysis
from tiltak.evaluation.costs import CostPerOutcome, CostSpread, UnitCost
from tiltak.evaluation.curve_disclosure import disclosed_curve
from tiltak.evaluation.estimate import DesignEstimate
from tiltak.evaluation.model_reads import change_spec, model_estimand, model_text, model_title, node_titles
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.story import contribution_story
from tiltak.evaluation.verdicts import Reason, Verdict

SCHEMA = "tiltak-evaluation/4"
"""Version 4: language-neutral -- codes, numbers and the model's own texts only; every
sentence is rendered by the report from the catalogues (docs/evaluation.md)."""

ERROR_PATTERNS = (
    ("too_few_participants", re.compile(r"too few participants or comparison persons with this outcome")),
    ("too_few_matched_observed", re.compile(r"too few matched participants with this outcome observed")),
    ("no_covariates", re.compile(r"no covariates")),
    ("not_followed", re.compile(r"no trial can be followed for (?P<months>\d+) months within the data")),
    ("too_few_units_se", re.compile(r"Too few matched units for the standard error: (?P<units>\d+|fewer than \d+) "
                                    r"units for (?P<coefficients>\d+) coefficients.*")),
    ("perfect_prediction", re.compile(r".*predict treatment perfectly.*")),
    ("singular", re.compile(r".*[Ss]ingular.*")),
)
"""The reasons an estimate is missing, by code: tiltak's own and the common ones from
``estimation``; any other is ``other`` (the catalogues say it without the English detail,
which stays in ``params.detail``)."""

NOTE_PATTERNS = (
    ("covariate_missing", re.compile(r"covariate '(?P<name>[^']+)' is not in the registers \(all null\) and was left out")),
    ("censored_few", re.compile(r"fewer than (?P<n>\d+) comparison persons started the measure before the follow-up "
                                r"survey and were left out \(censored\)")),
    ("censored", re.compile(r"(?P<n>\d+) comparison persons started the measure before the follow-up survey and "
                            r"were left out \(censored\)")),
    ("fewer_controls_strata", re.compile(r"Fewer control units than treated units in some 'exact' strata; not all "
                                         r"treated units will get a match\.")),
    ("fewer_controls", re.compile(r"Fewer control units than treated units; not all treated units will get a match\.")),
    ("not_enough_controls_strata", re.compile(r"Not enough control units in some 'exact' strata for an average of "
                                              r"(?P<ratio>[\d.]+) matches per treated unit\.")),
    ("not_enough_controls", re.compile(r"Not enough control units for an average of (?P<ratio>[\d.]+) matches per "
                                       r"treated unit\.")),
    ("not_all_matches", re.compile(r"Not all treated units will get (?P<ratio>\d+) matches\.")),
    ("ratios_undefined", re.compile(r"Risk and odds ratios are undefined: a proportion is 0 or 1\.")),
    ("single_value", re.compile(r"The outcome takes a single value in the matched sample.*")),
    ("weighted_ratios", re.compile(r"Risk and odds ratios come from the weighted proportions.*")),
    ("no_sensitivity", re.compile(r"sensitivity analysis not available.*")),
    ("no_matched_sets_subclass", re.compile(r"Rosenbaum bounds not available for subclassification \(there are no "
                                            r"matched sets\); the E-value is given")),
    ("no_matched_sets_cem", re.compile(r"Rosenbaum bounds not available for coarsened exact matching \(there are no "
                                       r"matched sets\); the E-value is given")),
    ("no_matched_sets_weighting", re.compile(r"Rosenbaum bounds not available for weighting \(there are no matched "
                                             r"sets\); the E-value is given")),
    ("subclasses_reduced", re.compile(r"(?P<reduced>\d+) of (?P<total>\d+) risk sets have too few participants or "
                                      r"comparison persons for (?P<subclasses>\d+) subclasses and were cut into fewer")),
    ("strata_left_out", re.compile(r"(?P<failed>\d+) of (?P<total>\d+) risk sets could not be (subclassified|weighted) "
                                   r"and were left out.*")),
)
"""The notes the design and ``estimation`` attach to an estimate, by code (``other``: any
note without a code; its text stays in ``params.detail``)."""


def _coded(text: str, patterns: Sequence[tuple[str, re.Pattern[str]]], full: bool) -> dict[str, Any]:
    for code, pattern in patterns:
        found = pattern.fullmatch(text) if full else pattern.match(text)
        if found:
            return {"code": code, "params": {**found.groupdict(), "detail": text}}
    return {"code": "other", "params": {"detail": text}}


def error_entry(error: str) -> dict[str, Any]:
    """Why an estimate is missing, as the ``not_estimated`` reason: its error code and parameters.

    >>> error_entry("no trial can be followed for 24 months within the data")["params"]["error"]
    'not_followed'
    """
    coded = _coded(error, ERROR_PATTERNS, full=False)
    return {"code": "not_estimated", "params": {"error": coded["code"], **coded["params"]}}


def note_entry(note: str) -> dict[str, Any]:
    """A design or estimation note as a code and its parameters (``detail``: the note as given).

    >>> note_entry("Not all treated units will get 3 matches.")["code"]
    'not_all_matches'
    """
    return _coded(note, NOTE_PATTERNS, full=True)


def notes_entries(notes: Sequence[str]) -> list[dict[str, Any]]:
    """The estimates' notes for ``estimation_notes``: one coded entry per note."""
    return [note_entry(n) for n in notes]


def estimand_entry(code: str) -> dict[str, Any]:
    """The estimand code (its description is the catalogue's ``estimands.<code>``)."""
    return {"code": code}


def clean(value: Any, digits: int = 6) -> Any:
    """JSON-safe values: floats rounded (non-finite -> None), tuples as lists."""
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, digits) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return clean(value.item(), digits)
    return value


def publish_count(n: int | None, min_count: int) -> int | None:
    """A count as published: ``None`` (suppressed) when 0 < n < min_count."""
    if n is None:
        return None
    return None if 0 < int(n) < min_count else int(n)


def _reason(r: Reason, unit: str | None, min_count: int = 5) -> dict[str, Any]:
    params = dict(r.params)
    if r.code == "too_few_matched" and publish_count(params.get("n"), min_count) is None and params.get("n"):
        params["n"] = f"<{min_count}"  # a small count is never published, not even in a sentence
    return {"code": r.code, "params": params}


def verdict_entry(model: LogicModel, verdict: Verdict, outcome: OutcomeSpec | None, min_count: int) -> dict[str, Any]:
    spec = verdict.change
    node = model.node(spec.node or "")
    unit = outcome.unit if outcome else None
    ev = verdict.evidence
    estimate = None
    if ev is not None and ev.att is not None:
        estimate = {"att": ev.att, "ci_low": ev.ci_low, "ci_high": ev.ci_high, "interval": "unadjusted 95 %",
                    "p_value": ev.p_value, "p_value_holm": ev.p_value_holm, "n_tests": ev.n_tests,
                    "mde": ev.mde, "mde_alpha": ev.alpha_adjusted,
                    "n_treated_matched": publish_count(ev.n_treated_matched, min_count),
                    "n_control_matched": publish_count(ev.n_control_matched, min_count),
                    "max_abs_smd": ev.max_abs_smd}
    reasons = [_reason(r, unit, min_count) for r in verdict.reasons]
    own = getattr(spec, "balance_threshold", None)
    if own is not None and ev is not None and ev.max_abs_smd is not None and verdict.kind.value != "not_testable":
        reasons.append(_reason(Reason("own_threshold", (("max_abs_smd", ev.max_abs_smd), ("threshold", own))), unit))
    return {
        "change": spec.id, "node": spec.node, "node_title": model_text(node.title, node.id) if node else spec.node,
        "outcome": spec.outcome, "outcome_title": outcome.title if outcome else None, "indicator": spec.indicator,
        "direction": spec.direction, "min_change": spec.min_change, "unit": unit,
        "estimand": estimand_entry(ev.estimand if ev is not None else model_estimand(model)),
        "verdict": verdict.kind.value, "reasons": reasons,
        "sensitivity": [_reason(r, unit, min_count) for r in verdict.sensitivity],
        "gamma": verdict.gamma, "e_value": verdict.e_value, "period": verdict.period, "estimate": estimate,
    }


def estimate_entry(est: DesignEstimate, min_count: int) -> dict[str, Any]:
    ev = est.evidence
    out = est.outcome
    entry: dict[str, Any] = {
        "change": est.change_id, "outcome": out.id, "outcome_title": out.title, "unit": out.unit,
        "kind": out.kind, "months": out.months, "estimand": estimand_entry(est.estimand), "design": est.design,
        "error": None, "notes": notes_entries(est.notes),
    }
    if est.error or ev is None or ev.att is None:
        entry["error"] = error_entry(est.error or "")
        entry["sample"] = {"n_treated": publish_count(ev.n_treated if ev else None, min_count),
                           "n_control": publish_count(ev.n_control if ev else None, min_count)}
        return entry
    entry.update({
        "period": ev.period,
        "sample": {"n_treated": publish_count(ev.n_treated, min_count), "n_control": publish_count(ev.n_control, min_count),
                   "n_treated_matched": publish_count(ev.n_treated_matched, min_count),
                   "n_control_matched": publish_count(ev.n_control_matched, min_count), "ess_control": est.ess_control},
        "effect": {"att": ev.att, "se": ev.se, "ci_low": ev.ci_low, "ci_high": ev.ci_high, "interval": "unadjusted 95 %",
                   "p_value": ev.p_value, "p_value_holm": ev.p_value_holm, "n_tests": ev.n_tests,
                   "treated_mean": ev.treated_mean, "control_mean": ev.control_mean,
                   "risk_ratio": est.risk_ratio, "odds_ratio": est.odds_ratio},
        "mde": ev.mde, "mde_alpha": ev.alpha_adjusted,
        "trials": _trials_entry(est.trials, min_count),
        "sensitivity": {"gamma": ev.gamma, "e_value": ev.e_value},
        "balance": {"max_abs_smd_before": ev.max_abs_smd_before, "max_abs_smd_after": ev.max_abs_smd,
                    "terms": list(est.balance_terms)},
        "overlap": est.overlap,
    })
    return entry


def _trials_entry(trials: dict[str, Any] | None, min_count: int) -> dict[str, Any] | None:
    """The trial design's counts, small ones suppressed."""
    if trials is None:
        return None
    out = dict(trials)
    for key in ("n_controls_left_before_index_date", "n_treated_without_controls", "n_participants_not_eligible",
                "n_controls_censored_at_start"):
        if key in out:
            out[key] = publish_count(out[key], min_count)
    weights = out.get("censoring_weights")
    if isinstance(weights, dict):
        out["censoring_weights"] = {k: v for k, v in weights.items() if k not in ("n_units", "n_rows")}
        out["censoring_weights"]["n_censored"] = publish_count(weights.get("n_censored"), min_count)
    return out


def return_curve(model: LogicModel, estimates: Sequence[DesignEstimate], min_count: int) -> dict[str, Any] | None:
    """The voluntary-return curve of the measure for the report: participants, comparison, expectation.

    From the longest-horizon estimate of assisted return that has a curve: the participants'
    observed cumulative incidence, the estimated curve had they not participated (the
    matched, weighted comparison), each published only where the disclosure rule allows
    (:mod:`tiltak.evaluation.curve_disclosure`); and the trajectory the model expects:
    at the horizon of every tested change on assisted return, the comparison curve plus
    the smallest change that matters (in the change's direction).
    """

    with_curve = [e for e in estimates if e.curve is not None and e.error is None and e.evidence is not None]
    if not with_curve:
        return None
    best = max(with_curve, key=lambda e: e.outcome.months)
    curve = disclosed_curve(best.curve, min_count)
    expected = []
    for e in estimates:
        change = model.change(e.change_id)
        if (e.error or e.evidence is None or e.evidence.control_mean is None or change is None
                or tuple(e.outcome.exit_types) != tuple(best.outcome.exit_types) or e.estimand != best.estimand):
            continue
        expected.append({"months": e.outcome.months, "change": e.change_id,
                         "value": e.evidence.control_mean + change_spec(change).sign * change.min_change})
    return {"outcome": best.outcome.id, "outcome_title": best.outcome.title, "estimand": estimand_entry(best.estimand),
            **curve, "expected": sorted(expected, key=lambda p: p["months"])}


def contribution_entry(model: LogicModel, verdicts: Sequence[Verdict], analysis: ContributionAnalysis,
                       delivery: dict[str, Any] | None) -> dict[str, Any]:
    titles = node_titles(model)
    return {
        "nodes": [asdict(n) for n in analysis.nodes],
        "links": [
            {**asdict(lk), "source_title": titles.get(lk.source), "target_title": titles.get(lk.target)}
            for lk in analysis.links
        ],
        "pathways": [
            {"nodes": list(p.nodes), "rating": p.rating, "weakest": list(p.weakest) if p.weakest else None,
             "titles": [titles.get(n) for n in p.nodes],
             "weakest_titles": [titles.get(n) for n in p.weakest] if p.weakest else None}
            for p in analysis.pathways
        ],
        "pathways_truncated": analysis.pathways_truncated,
        "story": contribution_story(model, verdicts, analysis, delivery),
    }


def unit_cost_entry(cell: UnitCost, names: Mapping[str, str], min_count: int, min_denominator: int) -> dict[str, Any]:
    threshold = {"small_count": min_count, "small_denominator": min_denominator}.get(cell.suppressed or "", None)
    return {**asdict(cell), "centre_name": names.get(cell.centre_id or "", None), "threshold": threshold}


def costs_entry(model: LogicModel, overall: UnitCost, centres: Sequence[UnitCost], spread: CostSpread,
                per_outcome: Sequence[tuple[CostPerOutcome, OutcomeSpec]], names: Mapping[str, str]) -> dict[str, Any]:
    mc, md = model.monitoring.disclosure.min_count, model.monitoring.disclosure.min_denominator
    return {
        "model": model.id, "measure": model.measure, "title": model_title(model),
        "overall": unit_cost_entry(overall, names, mc, md),
        "centres": [unit_cost_entry(c, names, mc, md) for c in centres],
        "spread": {**asdict(spread), "ratio_max_min": spread.ratio_max_min},
        "declared_per_participant_nok": model.costs.per_participant_nok if model.costs else None,
        "per_outcome": [_per_outcome_entry(c, o, mc) for c, o in per_outcome],
    }


def _per_outcome_entry(cost: CostPerOutcome, outcome: OutcomeSpec, min_count: int) -> dict[str, Any]:
    """Cost per additional outcome; the totals that would reveal a small matched count are withheld."""
    entry = {**asdict(cost), "outcome_title": outcome.title,
             "matched_participants": publish_count(cost.matched_participants, min_count)}
    if cost.matched_participants and entry["matched_participants"] is None:
        entry.update(additional_outcomes=None, total_cost_nok=None)
    return entry
