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

from tiltak.evaluation.contribution import ContributionAnalysis
from tiltak.evaluation.costs import CostPerOutcome, CostSpread, UnitCost
from tiltak.evaluation.estimate import DesignEstimate
from tiltak.evaluation.model_view import ModelView
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.story import contribution_story
from tiltak.evaluation.verdicts import Reason, Verdict
from tiltak.evaluation.wording import describe_reason

SCHEMA = "tiltak-evaluation/3"
ESTIMAND_TEXT = {
    "enrol_vs_not": {
        "en": "starting the measure against not starting it within the follow-up (comparison persons who start later are censored at their start, with censoring weights)",
        "nb": "å starte i tiltaket mot ikke å starte i oppfølgingstiden (sammenligningspersoner som starter senere, sensureres ved start, med sensureringsvekter)",
    },
    "enrol_now_vs_later": {
        "en": "starting the measure now against not yet (comparison persons who start later stay in the comparison)",
        "nb": "å starte i tiltaket nå mot ikke ennå (sammenligningspersoner som starter senere, blir værende i sammenligningen)",
    },
}
ERRORS_NB = {
    "too few participants or comparison persons with this outcome":
        "for få deltakere eller sammenligningspersoner med dette utfallet",
    "too few matched participants with this outcome observed": "for få matchede deltakere med observert utfall",
    "no covariates": "ingen kovariater",
}
"""Bokmål for the reasons tiltak itself gives; the patterns below cover reasons with numbers
and the common ones from ``estimation``; any other reason gets ERROR_NB_OTHER, so that no
English text reaches an nb report (the technical reason stays in the en text and in
``params.error``)."""
ERROR_PATTERNS_NB = (
    (re.compile(r"no trial can be followed for (\d+) months within the data"),
     "ingen forsøksmåned kan følges i {0} måneder innenfor dataene"),
    (re.compile(r"Too few matched units for the standard error: (\d+|fewer than \d+) units for (\d+) "
                r"coefficients"),
     "for få matchede enheter til å beregne standardfeilen ({0} enheter for {1} koeffisienter)"),
    (re.compile(r".*predict treatment perfectly"),
     "kovariatene skiller deltakere og sammenligningspersoner fullstendig"),
    (re.compile(r".*[Ss]ingular"), "modellen kan ikke tilpasses (singulær matrise)"),
)
ERROR_NB_OTHER = "beregningen kunne ikke gjennomføres på disse dataene (teknisk årsak i den engelske teksten)"


def error_nb(error: str) -> str:
    """The bokmål text of an estimation error (see ERRORS_NB)."""
    if error in ERRORS_NB:
        return ERRORS_NB[error]
    for pattern, text in ERROR_PATTERNS_NB:
        found = pattern.match(error)
        if found:
            return text.format(*(g.replace("fewer than", "færre enn") for g in found.groups()))
    return ERROR_NB_OTHER



NOTE_PATTERNS_NB = (
    (re.compile(r"covariate '([^']+)' is not in the registers \(all null\) and was left out"),
     "kovariaten «{0}» finnes ikke i registrene (bare tomme verdier) og ble utelatt"),
    (re.compile(r"fewer than (\d+) comparison persons started the measure before the follow-up "
                r"survey and were left out \(censored\)"),
     "færre enn {0} sammenligningspersoner startet tiltaket før oppfølgingsundersøkelsen og ble "
     "utelatt (sensurert)"),
    (re.compile(r"(\d+) comparison persons started the measure before the follow-up survey and "
                r"were left out \(censored\)"),
     "{0} sammenligningspersoner startet tiltaket før oppfølgingsundersøkelsen og ble utelatt "
     "(sensurert)"),
    (re.compile(r"Fewer control units than treated units( in some 'exact' strata)?; not all treated "
                r"units will get a match\."),
     "færre sammenligningspersoner enn deltakere{0}; ikke alle deltakere får en match"),
    (re.compile(r"Not enough control units( in some 'exact' strata)? for an average of ([\d.]+) "
                r"matches per treated unit\."),
     "ikke nok sammenligningspersoner{0} til gjennomsnittlig {1} matcher per deltaker"),
    (re.compile(r"Not all treated units will get (\d+) matches\."),
     "ikke alle deltakere får {0} matcher"),
    (re.compile(r"Risk and odds ratios are undefined: a proportion is 0 or 1\."),
     "risiko- og oddsforhold er udefinerte: en andel er 0 eller 1"),
    (re.compile(r"The outcome takes a single value in the matched sample.*"),
     "utfallet har bare én verdi i det matchede utvalget: ingen variasjon, så standardfeilen er 0 "
     "og ingen p-verdi gis"),
    (re.compile(r"Risk and odds ratios come from the weighted proportions.*"),
     "risiko- og oddsforhold er beregnet fra de vektede andelene (ikke justert for kovariater)"),
    (re.compile(r"sensitivity analysis not available.*"),
     "sensitivitetsanalysen er ikke tilgjengelig for dette estimatet"),
)
"""Bokmål for the notes the design and ``estimation`` attach to an estimate."""
STRATA_NB = " i noen strata med eksakt matching"


def note_nb(note: str) -> str | None:
    """The bokmål text of a design or estimation note, None when there is none (the report
    then counts it among the notes given in English in evaluation.json)."""
    for pattern, text in NOTE_PATTERNS_NB:
        found = pattern.fullmatch(note)
        if found:
            groups = [STRATA_NB if g and g.startswith(" in some") else (g or "") for g in found.groups()]
            return text.format(*groups)
    return None


def notes_entries(notes: Sequence[str]) -> list[dict[str, str]]:
    """The estimates' notes for ``data_quality``: one entry per note with its bokmål text;
    notes without one are named in English only and counted in one bokmål line."""
    entries, untranslated = [], 0
    for note in notes:
        nb = note_nb(note)
        if nb is None:
            untranslated += 1
        entries.append({"en": note, "nb": None if nb is None else nb[0].upper() + nb[1:] + "."})
    if untranslated:
        entries.append({"en": None, "nb": ("1 teknisk merknad" if untranslated == 1 else
                                           f"{untranslated} tekniske merknader")
                        + " fra beregningen står bare på engelsk (se evaluation.json)."})
    return entries

def estimand_entry(code: str) -> dict[str, Any]:
    """The estimand code with its plain-language description."""
    return {"code": code, "text": ESTIMAND_TEXT.get(code, {"en": code, "nb": code})}
LINK_REASONS = {
    "no_evidence_source": {"en": "No evidence at the cause.", "nb": "Ingen funn for årsaken."},
    "no_evidence_target": {"en": "No evidence at the effect.", "nb": "Ingen funn for virkningen."},
    "cause_not_achieved": {"en": "The cause was not achieved, so the link could not be tested.",
                           "nb": "Årsaken ble ikke oppnådd, så sammenhengen kunne ikke testes."},
    "effect_contrary": {"en": "The cause was achieved and the effect changed the wrong way.",
                        "nb": "Årsaken ble oppnådd, og virkningen gikk i feil retning."},
    "effect_not_achieved": {"en": "The cause was achieved but the expected effect was not seen.",
                            "nb": "Årsaken ble oppnådd, men den forventede virkningen ble ikke sett."},
    "assumption_off_track": {"en": "Both ends achieved, but a monitored assumption is off target.",
                             "nb": "Begge ender oppnådd, men en overvåket forutsetning er utenfor mål."},
    "both_achieved": {"en": "Both ends achieved and no monitored assumption off target.",
                      "nb": "Begge ender oppnådd og ingen overvåket forutsetning utenfor mål."},
}


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
    return {"code": r.code, "params": params,
            "text": {lang: describe_reason(r.code, params, unit, lang) for lang in ("nb", "en")}}


def verdict_entry(model: ModelView, verdict: Verdict, outcome: OutcomeSpec | None, min_count: int) -> dict[str, Any]:
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
        "change": spec.id, "node": spec.node, "node_title": node.title if node else {"nb": spec.node, "en": spec.node},
        "outcome": spec.outcome, "outcome_title": outcome.title if outcome else None, "indicator": spec.indicator,
        "direction": spec.direction, "min_change": spec.min_change, "unit": unit,
        "estimand": estimand_entry(ev.estimand if ev is not None else model.estimand),
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
        "error": None, "notes": list(est.notes),
    }
    if est.error or ev is None or ev.att is None:
        entry["error"] = {"en": f"Not estimated: {est.error}.", "nb": f"Ikke estimert: {error_nb(est.error)}."}
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


def return_curve(model: ModelView, estimates: Sequence[DesignEstimate], min_count: int) -> dict[str, Any] | None:
    """The voluntary-return curve of the measure for the report: participants, comparison, expectation.

    From the longest-horizon estimate of assisted return that has a curve: the participants'
    observed cumulative incidence, the estimated curve had they not participated (the
    matched, weighted comparison), each published only where the disclosure rule allows
    (:mod:`tiltak.evaluation.curve_disclosure`); and the trajectory the model expects:
    at the horizon of every tested change on assisted return, the comparison curve plus
    the smallest change that matters (in the change's direction).
    """
    from tiltak.evaluation.curve_disclosure import disclosed_curve

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
                         "value": e.evidence.control_mean + change.spec.sign * change.spec.min_change})
    return {"outcome": best.outcome.id, "outcome_title": best.outcome.title, "estimand": estimand_entry(best.estimand),
            **curve, "expected": sorted(expected, key=lambda p: p["months"])}


def contribution_entry(model: ModelView, verdicts: Sequence[Verdict], analysis: ContributionAnalysis,
                       delivery: Mapping[str, str | None]) -> dict[str, Any]:
    titles = {n.id: n.title for n in model.nodes}
    return {
        "nodes": [asdict(n) for n in analysis.nodes],
        "links": [
            {**asdict(lk), "source_title": titles.get(lk.source), "target_title": titles.get(lk.target),
             "reason_text": LINK_REASONS.get(lk.reason, {"en": lk.reason, "nb": lk.reason})}
            for lk in analysis.links
        ],
        "pathways": [
            {"nodes": list(p.nodes), "rating": p.rating, "weakest": list(p.weakest) if p.weakest else None,
             "titles": [titles.get(n) for n in p.nodes],
             "weakest_titles": [titles.get(n) for n in p.weakest] if p.weakest else None}
            for p in analysis.pathways
        ],
        "pathways_truncated": analysis.pathways_truncated,
        "story": {lang: contribution_story(model, verdicts, analysis, delivery.get(lang), lang) for lang in ("nb", "en")},
    }


def unit_cost_entry(cell: UnitCost, names: Mapping[str, str], min_count: int, min_denominator: int) -> dict[str, Any]:
    threshold = {"small_count": min_count, "small_denominator": min_denominator}.get(cell.suppressed or "", None)
    return {**asdict(cell), "centre_name": names.get(cell.centre_id or "", None), "threshold": threshold}


def costs_entry(model: ModelView, overall: UnitCost, centres: Sequence[UnitCost], spread: CostSpread,
                per_outcome: Sequence[tuple[CostPerOutcome, OutcomeSpec]], names: Mapping[str, str]) -> dict[str, Any]:
    mc, md = model.min_count, model.min_denominator
    return {
        "model": model.id, "measure": model.measure, "title": model.title,
        "overall": unit_cost_entry(overall, names, mc, md),
        "centres": [unit_cost_entry(c, names, mc, md) for c in centres],
        "spread": {**asdict(spread), "ratio_max_min": spread.ratio_max_min},
        "declared_per_participant_nok": model.per_participant_nok,
        "per_outcome": [_per_outcome_entry(c, o, mc) for c, o in per_outcome],
    }


def _per_outcome_entry(cost: CostPerOutcome, outcome: OutcomeSpec, min_count: int) -> dict[str, Any]:
    """Cost per additional outcome; the totals that would reveal a small matched count are withheld."""
    entry = {**asdict(cost), "outcome_title": outcome.title,
             "matched_participants": publish_count(cost.matched_participants, min_count)}
    if cost.matched_participants and entry["matched_participants"] is None:
        entry.update(additional_outcomes=None, total_cost_nok=None)
    return entry
