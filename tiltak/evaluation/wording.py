"""Plain-language wording of verdicts, reasons and ratings, in bokmål (nb) and English (en).

The evaluation values hold codes and numbers only; this module turns them into sentences.
Numbers are formatted by the outcome's unit: shares (0-1) as percentage points, other
units with two decimals.
"""

from __future__ import annotations

import math
from typing import Any

LANGUAGES = ("nb", "en")

VERDICT_LABELS: dict[str, dict[str, str]] = {
    "confirmed": {"en": "confirmed", "nb": "bekreftet"},
    "not_confirmed": {"en": "not confirmed", "nb": "ikke bekreftet"},
    "inconclusive": {"en": "inconclusive", "nb": "uavklart"},
    "contradicted": {"en": "contradicted", "nb": "motsagt"},
    "not_testable": {"en": "not testable", "nb": "ikke testbar"},
}

RATING_LABELS: dict[str, dict[str, str]] = {
    "supported": {"en": "supported", "nb": "støttet"},
    "weakened": {"en": "weakened", "nb": "svekket"},
    "refuted": {"en": "refuted", "nb": "avkreftet"},
    "untested": {"en": "untested", "nb": "ikke testet"},
}

NODE_STATUS_LABELS: dict[str, dict[str, str]] = {
    "achieved": {"en": "achieved", "nb": "oppnådd"},
    "not_achieved": {"en": "not achieved", "nb": "ikke oppnådd"},
    "contrary": {"en": "changed the wrong way", "nb": "endret i feil retning"},
    "unknown": {"en": "unknown", "nb": "ukjent"},
}

REASONS: dict[str, dict[str, str]] = {
    "no_outcome": {
        "en": "No person-level outcome is named, so matching cannot test it; see indicator {indicator} over time.",
        "nb": "Ingen utfallsvariabel på personnivå er oppgitt, så matching kan ikke teste den; se indikatoren {indicator} over tid.",
    },
    "trajectory": {
        "en": "Monitoring (not an effect estimate): observed {observed} in {period} against the expected {expected}.",
        "nb": "Overvåking (ikke et effektestimat): observert {observed} i {period} mot forventet {expected}.",
    },
    "trajectory_provisional": {
        "en": "Monitoring (not an effect estimate): observed {observed} in {period} against the expected {expected}; "
              "provisional periods ({provisional}) are not compared, their values may still change.",
        "nb": "Overvåking (ikke et effektestimat): observert {observed} i {period} mot forventet {expected}; "
              "foreløpige perioder ({provisional}) er ikke sammenlignet, verdiene kan fortsatt endre seg.",
    },
    "own_threshold": {
        "en": "This change sets its own balance threshold in the model: largest |SMD| after matching {max_abs_smd} against {threshold}.",
        "nb": "Denne endringen har egen balanseterskel i modellen: største |SMD| etter matching {max_abs_smd} mot {threshold}.",
    },
    "no_estimate": {
        "en": "No estimate for outcome {outcome}: no data, or the evaluation design does not test it.",
        "nb": "Ingen estimat for utfallet {outcome}: mangler data, eller evalueringsdesignet tester det ikke.",
    },
    "no_overlap": {
        "en": "No common support between participants and comparison persons.",
        "nb": "Ingen felles støtte (overlapp) mellom deltakere og sammenligningspersoner.",
    },
    "too_few_matched": {
        "en": "Only {n} matched participants; at least {minimum} are needed.",
        "nb": "Bare {n} matchede deltakere; minst {minimum} trengs.",
    },
    "balance_unknown": {
        "en": "Balance after matching is unknown.",
        "nb": "Balansen etter matching er ukjent.",
    },
    "imbalance": {
        "en": "Balance not reached: largest |SMD| after matching is {max_abs_smd} (threshold {threshold}).",
        "nb": "Balanse ikke oppnådd: største |SMD| etter matching er {max_abs_smd} (terskel {threshold}).",
    },
    "no_interval": {
        "en": "The estimate has no confidence interval.",
        "nb": "Estimatet har ikke noe konfidensintervall.",
    },
    "opposite_side": {
        "en": "The effect is {att} (unadjusted 95 % CI {ci_low} to {ci_high}): significantly on the opposite side of zero.",
        "nb": "Effekten er {att} (ujustert 95 % KI {ci_low} til {ci_high}): signifikant på motsatt side av null.",
    },
    "expected_side": {
        "en": "The effect is {att} (unadjusted 95 % CI {ci_low} to {ci_high}): significantly on the expected side of zero.",
        "nb": "Effekten er {att} (ujustert 95 % KI {ci_low} til {ci_high}): signifikant på forventet side av null.",
    },
    "includes_zero": {
        "en": "The effect is {att} (unadjusted 95 % CI {ci_low} to {ci_high}): not significantly different from zero.",
        "nb": "Effekten er {att} (ujustert 95 % KI {ci_low} til {ci_high}): ikke signifikant forskjellig fra null.",
    },
    "holm": {
        "en": "Holm-adjusted p = {p_value_holm} (p = {p_value} before adjustment; {n_tests} changes tested in this model).",
        "nb": "Holm-justert p = {p_value_holm} (p = {p_value} før justering; {n_tests} endringer testet i denne modellen).",
    },
    "significant_before_adjustment": {
        "en": "The effect is {att} (unadjusted 95 % CI {ci_low} to {ci_high}, p = {p_value}): significant only before adjusting for the {n_tests} changes this model tests (Holm-adjusted p = {p_value_holm}), so no verdict is drawn from it.",
        "nb": "Effekten er {att} (ujustert 95 % KI {ci_low} til {ci_high}, p = {p_value}): signifikant bare før justering for de {n_tests} endringene modellen tester (Holm-justert p = {p_value_holm}), så ingen konklusjon trekkes av den.",
    },
    "reaches_min_change": {
        "en": "The change reaches the smallest change that matters ({min_change}).",
        "nb": "Endringen når den minste endringen som betyr noe ({min_change}).",
    },
    "below_min_change": {
        "en": "The change ({effect}) is smaller than the smallest change that matters ({min_change}).",
        "nb": "Endringen ({effect}) er mindre enn den minste endringen som betyr noe ({min_change}).",
    },
    "mde_unknown": {
        "en": "The minimum detectable effect is unknown, so 'no effect' cannot be told from 'could not have seen one'.",
        "nb": "Minste påviselige effekt er ukjent, så «ingen effekt» kan ikke skilles fra «kunne ikke ha sett en effekt».",
    },
    "underpowered": {
        "en": "The design could not have seen the expected change: minimum detectable effect {mde} > {min_change}.",
        "nb": "Designet kunne ikke ha sett den forventede endringen: minste påviselige effekt {mde} > {min_change}.",
    },
    "powered": {
        "en": "The design could have seen the expected change (minimum detectable effect {mde} ≤ {min_change}), and did not.",
        "nb": "Designet kunne ha sett den forventede endringen (minste påviselige effekt {mde} ≤ {min_change}), men gjorde det ikke.",
    },
    "robust": {
        "en": "Robust to hidden bias up to Rosenbaum Γ = {gamma}.",
        "nb": "Robust mot skjult skjevhet opp til Rosenbaums Γ = {gamma}.",
    },
    "fragile": {
        "en": "Fragile: a hidden bias of Rosenbaum Γ = {gamma} (below {threshold}) would change the conclusion.",
        "nb": "Skjørt: en skjult skjevhet på Rosenbaums Γ = {gamma} (under {threshold}) ville endret konklusjonen.",
    },
    "e_value": {
        "en": "E-value {e_value}: an unmeasured confounder would need a risk ratio of this size with both participation and outcome to explain the estimate away.",
        "nb": "E-verdi {e_value}: en umålt konfunder måtte ha en risikoratio av denne størrelsen med både deltakelse og utfall for å forklare bort estimatet.",
    },
}

_RAW_PARAMS = {"n", "minimum", "n_tests", "side"}
_PLAIN_PARAMS = {"threshold", "max_abs_smd", "gamma", "e_value"}
_P_PARAMS = {"p_value", "p_value_holm"}


def format_p(value: float | None, lang: str = "en") -> str:
    """A p-value with three decimals, '< 0.001' below that."""
    if value is None or not math.isfinite(value):
        return "–"
    if value < 0.001:
        return "< " + format_number(0.001, 3, lang)
    return format_number(value, 3, lang)


def format_number(value: float | None, decimals: int = 2, lang: str = "en") -> str:
    """A number with fixed decimals; a comma as decimal mark in bokmål; '–' when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,.{decimals}f}".replace(",", "\u2009")
    text = text.replace("-", "−")
    return text.replace(".", ",") if lang == "nb" else text


def format_effect(value: float | None, unit: str | None, lang: str = "en", signed: bool = True) -> str:
    """An effect in its unit: shares as percentage points, other units with two decimals."""
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "share":
        number = format_number(100 * value, 1, lang)
        suffix = " pp" if lang == "en" else " %-poeng"
    else:
        number = format_number(value, 2, lang)
        suffix = ""
    if signed and value > 0:
        number = "+" + number
    return number + suffix


def describe_reason(code: str, values: dict[str, Any], unit: str | None, lang: str) -> str:
    """The sentence for one reason code, with its numbers formatted for the unit."""
    template = REASONS.get(code, {}).get(lang) or REASONS.get(code, {}).get("en") or code
    shown: dict[str, str] = {}
    for key, value in values.items():
        if key in _RAW_PARAMS or value is None or isinstance(value, str):
            shown[key] = "–" if value is None else str(value)
        elif key in _P_PARAMS:
            shown[key] = format_p(float(value), lang)
        elif key in _PLAIN_PARAMS:
            shown[key] = format_number(float(value), 2 if key != "max_abs_smd" else 3, lang)
        else:
            shown[key] = format_effect(float(value), unit, lang, signed=key in ("att", "effect"))
    try:
        text = template.format(**shown)
    except KeyError:
        return template
    return text.replace("= < ", "< ")  # "p = < 0.001" reads "p < 0.001"


def label(table: dict[str, dict[str, str]], code: str, lang: str) -> str:
    """The label of a code in the language, falling back to English and then the code."""
    entry = table.get(code, {})
    return entry.get(lang) or entry.get("en") or code
