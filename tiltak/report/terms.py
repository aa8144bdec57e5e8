"""Titles of the register variables, their codes and the report's units, per language.

cobalt's ``var.names`` in one catalogue: the love plot and the design line name a covariate
``household`` "Husholdning" and its model term ``householdwith_children`` "Husholdning: med
barn", never the raw term. The texts are the ``terms`` section of the text catalogues
(:mod:`tiltak_base.catalogue`: ``variables``, ``codes``, ``boolean``, ``units``,
``orders``). A variable or code the catalogue does not know keeps its name (a model may use
columns of its own), so nothing is ever dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from tiltak_base import catalogue


def _pick(kind: str, key: str, lang: str, fallback: str) -> str:
    found = catalogue.lookup(f"terms.{kind}.{key}", lang, None)
    return str(found) if isinstance(found, str) and found else fallback


def _variables(lang: str) -> dict[str, str]:
    return catalogue.lookup("terms.variables", lang)


def variable_title(name: str, lang: str) -> str:
    """The variable's title in ``lang`` (its name when the catalogue does not know it)."""
    return _pick("variables", name, lang, name)


def unit_title(unit: str | None, lang: str) -> str:
    """The unit in ``lang`` (as declared when the catalogue does not know it)."""
    if not unit:
        return ""
    return _pick("units", unit, lang, unit)


def order_title(order: str | None, lang: str) -> str:
    return _pick("orders", order, lang, order) if order else "–"


def term_title(term: str, variables: Iterable[str], lang: str) -> str:
    """A model term (``householdwith_children``, ``return_agreementTRUE``, ``age``) as a title.

    The term is split at the longest variable name it starts with; the rest is the level.
    """
    names = sorted({*variables, *_variables(lang)}, key=len, reverse=True)
    for name in names:
        if term == name:
            return variable_title(name, lang)
        if term.startswith(name):
            level = term[len(name):]
            shown = _pick("boolean", level, lang, "") or _pick("codes", f"{name}.{level}", lang, level)
            return f"{variable_title(name, lang)}: {shown}"
    return term
