"""Plain-language wording of verdicts, reasons and ratings, in every catalogue's language.

The evaluation values hold codes and numbers only; this module turns them into sentences
with the texts of the catalogues (:mod:`tiltak_base.catalogue`, sections ``verdicts``,
``ratings``, ``reasons``, ``errors``).
Numbers are formatted by the outcome's unit: shares (0-1) as percentage points, other
units with two decimals.
"""

from __future__ import annotations

import math
from typing import Any

from tiltak_base import catalogue

_RAW_PARAMS = {"n", "minimum", "n_tests", "side"}
_PLAIN_PARAMS = {"threshold", "max_abs_smd", "gamma", "e_value"}
_P_PARAMS = {"p_value", "p_value_holm"}


def format_p(value: float | None, lang: str) -> str:
    """A p-value with three decimals, '< 0.001' below that."""
    if value is None or not math.isfinite(value):
        return "–"
    if value < 0.001:
        return "< " + format_number(0.001, 3, lang)
    return format_number(value, 3, lang)


def format_number(value: float | None, decimals: int, lang: str) -> str:
    """A number with fixed decimals and the language's decimal mark; '–' when missing."""
    return catalogue.format_number(value, decimals, lang)


def format_effect(value: float | None, unit: str | None, lang: str, signed: bool = True) -> str:
    """An effect in its unit: shares as percentage points, other units with two decimals."""
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "share":
        number = format_number(100 * value, 1, lang)
        suffix = catalogue.text("format.percentage_points", lang)
    else:
        number = format_number(value, 2, lang)
        suffix = ""
    if signed and value > 0:
        number = "+" + number
    return number + suffix


def describe_reason(code: str, values: dict[str, Any], unit: str | None, lang: str) -> str:
    """The sentence for one reason code, with its numbers formatted for the unit."""
    if code == "not_estimated":
        return catalogue.text("errors.not_estimated", lang, error=describe_error(values, lang))
    template = catalogue.lookup(f"reasons.{code}", lang, None) or code
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


def describe_error(values: dict[str, Any], lang: str) -> str:
    """Why an estimate is missing: ``{"error": code, ...its parameters, "detail": estimation's text}``."""
    code = str(values.get("error") or "other")
    params = {k: str(v).replace("fewer than", catalogue.text("report.fewer_than", lang)) for k, v in values.items()
              if k != "error"}
    template = catalogue.lookup(f"errors.{code}", lang, None) or catalogue.text("errors.other", lang)
    try:
        return template.format(**params)
    except KeyError:
        return template


def reason_entry_text(entry: dict[str, Any], unit: str | None, lang: str) -> str:
    """The sentence of a document's reason entry ``{"code": ..., "params": ...}``."""
    return describe_reason(str(entry["code"]), dict(entry.get("params") or {}), unit, lang)


def label(kind: str, code: str, lang: str) -> str:
    """The label of a code of a catalogue section (``verdicts``, ``ratings``); the code itself
    when the catalogue does not know it."""
    found = catalogue.lookup(f"{kind}.{code}", lang, None)
    return str(found) if found else code
