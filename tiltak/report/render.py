"""Render the evaluation document as one self-contained HTML file.

The page is built from the same JSON-ready document that is written to
``evaluation.json`` plus inline SVG figures, with jinja2 autoescaping on. It needs no
network and no JavaScript: CSS and figures are inline. The document is language-neutral
(codes, numbers, messages and the model's own texts); every sentence of the page is
rendered here from the catalogue of the page's language (:mod:`tiltak_base.catalogue`).
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

from markupsafe import Markup, escape

from logicmodel.fields import LocalizedText
from tiltak.evaluation.wording import format_effect, format_number, format_p, label, reason_entry_text
from tiltak.report.labels import LABELS, METHOD_APPENDIX
from tiltak.report.terms import order_title, unit_title, variable_title
from tiltak_base import catalogue


def _environment(lang: str, labels: dict[str, str]):
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update({
        "txt": lambda value: _text(value, lang),
        "txtlist": lambda values: [_text(v, lang) for v in values],
        "reason": lambda entry, unit=None: reason_entry_text(entry, unit, lang),
        "estimand": lambda code: _term("estimands", code, lang),
        "link_reason": lambda code: _term("link_reasons", code, lang),
        "quality": lambda document: quality_lines(document, lang),
        "eff": lambda value, unit, signed=True: format_effect(value, unit, lang, signed),
        "level": lambda value, unit: _level(value, unit, lang),
        "num": lambda value, decimals=2: format_number(_finite(value), decimals, lang),
        "unit": lambda unit: unit_title(unit, lang),
        "vars": lambda names: ", ".join(variable_title(n, lang) for n in names) or "–",
        "design": lambda design: _design_line(design, labels, lang),
        "suppressed_note": lambda n: labels["n_suppressed_one"] if n == 1 else labels["n_suppressed"].format(n=n),
        "provisional_note": lambda n: labels["n_provisional_one"] if n == 1 else labels["n_provisional"].format(n=n),
        "cost_gap": lambda comparison: _cost_gap(comparison, labels, lang),
        "pval": lambda value: format_p(_finite(value), lang),
        "count": lambda value: labels["suppressed"] if value is None else format_number(float(value), 0, lang),
        "vlabel": lambda code: label("verdicts", code, lang),
        "rlabel": lambda code: label("ratings", code, lang),
        "cell": lambda cell, key: _cell(cell, key, labels, lang),
    })
    return env


def _design_line(design: dict[str, Any], labels: dict[str, str], lang: str) -> str:
    """"nearest-neighbour matching: ratio 3:1, no replacement, caliper 0.2 SD of the score, ..." in ``lang``.

    A design without ``method`` (written before the register evaluation ran other methods)
    is nearest-neighbour matching and keeps its line without the method's name.
    """
    caliper = design.get("caliper")
    if caliper is None:
        caliper_text = "–"
    else:
        value = format_number(float(caliper), 2, lang).rstrip("0").rstrip(",.")
        caliper_text = labels["caliper_sd" if design.get("std_caliper") else "caliper_raw"].format(value=value)
    exact = ", ".join(variable_title(n, lang) for n in design.get("exact") or ()) or "–"
    method = design.get("method")
    if method in (None, "nearest"):
        line = labels["design_line"].format(
            ratio=design.get("ratio"), replace=labels["with_replacement" if design.get("replace") else "no_replacement"],
            caliper=caliper_text, order=order_title(design.get("order"), lang), exact=exact)
        if design.get("distance") not in (None, "glm", "logit"):
            line += ", " + labels["distance_line"].format(distance=design["distance"])
        return line if method is None else f"{labels['method_nearest']}: {line}"
    if method == "optimal":
        detail = labels["design_line_optimal"].format(ratio=design.get("ratio"), caliper=caliper_text, exact=exact)
    elif method == "full":
        low, high = design.get("min_controls"), design.get("max_controls")
        detail = labels["design_line_full"].format(
            low=format_number(float(low), 2, lang).rstrip("0").rstrip(",.") if low is not None else "0",
            high=format_number(float(high), 2, lang).rstrip("0").rstrip(",.") if high is not None else labels["no_limit"],
            caliper=caliper_text, exact=exact)
    elif method == "subclass":
        detail = labels["design_line_subclass"].format(subclasses=design.get("subclasses"), exact=exact)
    elif method == "cem":
        cuts = design.get("cutpoints")
        text = (", ".join(f"{variable_title(k, lang)} {v}" for k, v in cuts.items()) if isinstance(cuts, dict) and cuts
                else str(cuts or "sturges"))
        detail = (labels["k2k_line"].format(cutpoints=text, exact=exact, distance=design.get("k2k_method") or "–")
                  if design.get("k2k") else labels["design_line_cem"].format(cutpoints=text, exact=exact))
    else:
        trim = design.get("trim")
        trim_text = "" if not trim else labels["trim_line"].format(
            low=format_number(float(trim), 3, lang), high=format_number(1 - float(trim), 3, lang))
        detail = labels["design_line_weighting"].format(trim=trim_text, exact=exact)
        method = f"weighting_{design.get('weights') or 'ipw'}"
    return f"{labels.get('method_' + method, method)}: {detail}"


COST_GAP = 1.5
"""A register cost per participant this many times the declared one (or below 1/this) is flagged."""


def _cost_gap(comparison: dict[str, Any], labels: dict[str, str], lang: str) -> str:
    """A note when the register's cost per participant is far from the cost the model declares."""
    declared = _finite(comparison.get("declared_per_participant_nok"))
    actual = _finite((comparison.get("overall") or {}).get("per_participant_nok"))
    if not declared or actual is None or declared <= 0:
        return ""
    ratio = actual / declared
    if 1 / COST_GAP < ratio < COST_GAP:
        return ""
    return labels["cost_gap"].format(ratio=format_number(ratio, 1, lang))


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _text(value: Any, lang: str) -> str:
    """A message, a catalogue term or a model text in ``lang`` ('' for nothing)."""
    return "" if value is None else catalogue.render(value, lang)


def _term(kind: str, code: str | None, lang: str) -> str:
    """A code's text in a catalogue section (the code itself when the section lacks it)."""
    return label(kind, code, lang) if code else "–"


def quality_lines(document: dict[str, Any], lang: str) -> list[str]:
    """The data-quality findings and the estimation notes, as sentences of ``lang``.

    A note whose catalogue text is empty in ``lang`` (``notes.other`` in Norwegian: a
    technical note estimation gave in English) is not shown; one line counts them.
    """
    lines = [_text(q, lang) for q in document.get("data_quality") or ()]
    hidden = 0
    for note in document.get("estimation_notes") or ():
        template = catalogue.lookup(f"notes.{note['code']}", lang, None) or catalogue.lookup("notes.other", lang)
        if not template:
            hidden += 1
            continue
        try:
            lines.append(template.format(**{k: str(v) for k, v in (note.get("params") or {}).items()}))
        except (KeyError, IndexError):
            lines.append(template)
    if hidden:
        lines.append(catalogue.text("notes.untranslated_one", lang) if hidden == 1
                     else catalogue.text("notes.untranslated_many", lang, n=hidden))
    return lines


def _model_texts(value: Any, found: list[Any]) -> None:
    """Every model text mapping (``{nb: ..., en: ...}``) in the document, in document order."""
    names = {*LocalizedText.model_fields, *catalogue.languages()}
    if isinstance(value, dict):
        if value and set(value) <= names and all(isinstance(v, str) for v in value.values()):
            found.append(value)
            return
        for item in value.values():
            _model_texts(item, found)
    elif isinstance(value, list):
        for item in value:
            _model_texts(item, found)


def fallback_notes(document: dict[str, Any], lang: str) -> list[str]:
    """One note per language the page shows model texts in because the model lacks ``lang``.

    For example, in a nynorsk page of a model with bokmål titles only: "Vist på bokmål der
    den logiske modellen ikkje har tekst på nynorsk: «Veien videre», ...".
    """
    found: list[Any] = []
    _model_texts(document, found)
    by_language: dict[str, list[str]] = {}
    for value in found:
        shown = catalogue.shown_in(value, lang)
        if shown is not None:
            texts = by_language.setdefault(shown, [])
            if value[shown] not in texts:
                texts.append(value[shown])
    return [catalogue.text("report.fallback_note", lang, language=_language_name(code, lang),
                           own=_language_name(lang, lang),
                           texts=", ".join(catalogue.quoted(t, lang) for t in texts))
            for code, texts in by_language.items()]


def _language_name(code: str, lang: str) -> str:
    """The name of language ``code`` in ``lang`` (its own catalogue's name when ``lang`` lacks it)."""
    return str(catalogue.lookup(f"report.language_names.{code}", lang, None) or catalogue.meta(code, "name"))


def _level(value: Any, unit: str | None, lang: str) -> str:
    if value is None:
        return "–"
    if unit == "share":
        return format_number(100 * float(value), 1, lang) + " %"
    return format_number(float(value), 2, lang)


def _cell(cell: dict[str, Any], key: str, labels: dict[str, str], lang: str) -> Any:
    value = cell.get(key)
    if value is not None:
        return format_number(float(value), 0, lang)
    reason = cell.get("total_suppressed") if key == "total_nok" and cell.get("total_suppressed") else cell.get("suppressed")
    if reason is None:
        return "–"
    text = labels.get(f"suppressed_{reason}", labels["suppressed"]).format(n=cell.get("threshold", ""))

    return Markup(f'<span class="suppressed">{escape(text)}</span>')


def render_report(document: dict[str, Any], figures: dict[str, str], lang: str) -> str:
    """The report page in ``lang`` (one of :func:`tiltak_base.catalogue.languages`)."""
    labels = LABELS[lang]
    env = _environment(lang, labels)
    package = resources.files("tiltak.report")
    template = env.from_string(package.joinpath("report.html.j2").read_text(encoding="utf-8"))
    css = package.joinpath("report.css").read_text(encoding="utf-8")
    return template.render(doc=document, figs=figures, L=labels, lang=lang, css=css, appendix=METHOD_APPENDIX[lang],
                           fallback_notes=fallback_notes(document, lang))
