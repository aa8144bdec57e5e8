"""Titles of the register variables, their codes and the report's units, per language.

cobalt's ``var.names`` in one catalogue: the love plot and the design line name a covariate
``household`` "Husholdning" and its model term ``householdwith_children`` "Husholdning: med
barn", never the raw term. A variable or code the catalogue does not know keeps its name
(a model may use columns of its own), so nothing is ever dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

VARIABLES: dict[str, dict[str, str]] = {
    "age": {"nb": "Alder", "en": "Age"},
    "sex": {"nb": "Kjønn", "en": "Sex"},
    "household": {"nb": "Husholdning", "en": "Household"},
    "nationality": {"nb": "Nasjonalitet", "en": "Nationality"},
    "returnability": {"nb": "Returnerbarhet", "en": "Returnability"},
    "return_agreement": {"nb": "Returavtale i kraft", "en": "Return agreement in force"},
    "dublin": {"nb": "Dublin-sak", "en": "Dublin case"},
    "identity_documented": {"nb": "Identitet dokumentert", "en": "Identity documented"},
    "prior_absconding": {"nb": "Forsvunnet før", "en": "Absconded before"},
    "health_issue": {"nb": "Helseplager", "en": "Health problems"},
    "special_circumstances": {"nb": "Særlige omstendigheter", "en": "Special circumstances"},
    "months_since_decision": {"nb": "Måneder siden endelig vedtak", "en": "Months since the final decision"},
    "months_in_reception": {"nb": "Måneder i mottak", "en": "Months in reception"},
    "centre_type": {"nb": "Mottakstype", "en": "Type of centre"},
    "region": {"nb": "Region", "en": "Region"},
    "municipality": {"nb": "Kommune", "en": "Municipality"},
    "age_band": {"nb": "Aldersgruppe", "en": "Age band"},
    "period": {"nb": "Periode", "en": "Period"},
    "prior_other_measure": {"nb": "Tidligere i et annet tiltak", "en": "Earlier in another measure"},
}

CODES: dict[str, dict[str, dict[str, str]]] = {
    "sex": {"male": {"nb": "mann", "en": "male"}, "female": {"nb": "kvinne", "en": "female"}},
    "household": {"single": {"nb": "enslig", "en": "single"}, "with_children": {"nb": "med barn", "en": "with children"},
                  "couple": {"nb": "par", "en": "couple"}},
    "centre_type": {"ordinary": {"nb": "ordinært", "en": "ordinary"}, "family": {"nb": "familiemottak", "en": "family"},
                    "health": {"nb": "helsemottak", "en": "health"}},
    "returnability": {"high": {"nb": "høy", "en": "high"}, "medium": {"nb": "middels", "en": "medium"},
                      "low": {"nb": "lav", "en": "low"}},
}

BOOLEAN = {"TRUE": {"nb": "ja", "en": "yes"}, "FALSE": {"nb": "nei", "en": "no"}}

UNITS: dict[str, dict[str, str]] = {
    "persons": {"nb": "personer", "en": "persons"},
    "percent": {"nb": "prosent", "en": "percent"},
    "share": {"nb": "andel", "en": "share"},
    "per 100 person-months": {"nb": "per 100 personmåneder", "en": "per 100 person-months"},
    "NOK": {"nb": "kroner", "en": "NOK"},
    "NOK per participant": {"nb": "kroner per deltaker", "en": "NOK per participant"},
    "mean item score": {"nb": "gjennomsnittlig skåre per ledd", "en": "mean item score"},
    "score 0-10": {"nb": "skåre 0–10", "en": "score 0–10"},
    "sessions": {"nb": "økter", "en": "sessions"},
    "applications": {"nb": "søknader", "en": "applications"},
}

ORDERS = {"largest": {"nb": "største skåre først", "en": "largest score first"},
          "smallest": {"nb": "minste skåre først", "en": "smallest score first"},
          "random": {"nb": "tilfeldig rekkefølge", "en": "random order"},
          "data": {"nb": "datarekkefølge", "en": "data order"},
          "closest": {"nb": "nærmeste par først", "en": "closest pairs first"},
          "farthest": {"nb": "fjerneste par først", "en": "farthest pairs first"}}


def _pick(texts: dict[str, str], lang: str, fallback: str) -> str:
    return texts.get(lang) or texts.get("nb") or fallback


def variable_title(name: str, lang: str) -> str:
    """The variable's title in ``lang`` (its name when the catalogue does not know it)."""
    return _pick(VARIABLES[name], lang, name) if name in VARIABLES else name


def unit_title(unit: str | None, lang: str) -> str:
    """The unit in ``lang`` (as declared when the catalogue does not know it)."""
    if not unit:
        return ""
    return _pick(UNITS[unit], lang, unit) if unit in UNITS else unit


def order_title(order: str | None, lang: str) -> str:
    return _pick(ORDERS[order], lang, order) if order in ORDERS else (order or "–")


def term_title(term: str, variables: Iterable[str], lang: str) -> str:
    """A model term (``householdwith_children``, ``return_agreementTRUE``, ``age``) as a title.

    The term is split at the longest variable name it starts with; the rest is the level.
    """
    names = sorted({*variables, *VARIABLES}, key=len, reverse=True)
    for name in names:
        if term == name:
            return variable_title(name, lang)
        if term.startswith(name):
            level = term[len(name):]
            texts = BOOLEAN.get(level) or CODES.get(name, {}).get(level)
            return f"{variable_title(name, lang)}: {_pick(texts, lang, level) if texts else level}"
    return term
