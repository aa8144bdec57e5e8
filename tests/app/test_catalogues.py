"""The text catalogues: one per language, the same keys and template fields as bokmål's,
languages discovered from the files, a bad file refused with its name and line."""

from __future__ import annotations

import re
import string

import pytest

from tiltak_base import catalogue
from tiltak_base.catalogue import CatalogueError

REFERENCE = catalogue.catalogue(catalogue.REFERENCE)


OPTIONAL = {"detail"}
"""Parameters every error and note carries, which a language may or may not show (English
shows estimation's own text; Norwegian says it in its words)."""


def _fields(text: object) -> set[str]:
    if not isinstance(text, str):
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(text) if name} - OPTIONAL


def _texts(lang: str) -> dict[str, object]:
    return {k: v for k, v in catalogue.flat_keys(catalogue.catalogue(lang)).items() if not k.startswith("meta.")}


def test_the_shipped_languages_are_discovered_with_bokmal_first():
    assert catalogue.languages() == ("nb", "en", "nn")


@pytest.mark.parametrize("lang", catalogue.languages())
def test_every_catalogue_has_the_keys_of_bokmal(lang):
    reference, own = set(_texts("nb")), set(_texts(lang))
    missing, extra = sorted(reference - own), sorted(own - reference)
    assert (missing, extra) == ([], []), f"catalogue {lang}: missing {missing}; not in nb.yaml: {extra}"


@pytest.mark.parametrize("lang", catalogue.languages())
def test_every_text_has_the_template_fields_of_bokmal(lang):
    reference, own = _texts("nb"), _texts(lang)
    differ = {key: (sorted(_fields(reference[key])), sorted(_fields(own[key])))
              for key in reference if key in own and reference[key] and own[key]  # "": not shown in that language
              and _fields(reference[key]) != _fields(own[key])}
    assert differ == {}, f"catalogue {lang}: fields differ from nb.yaml (nb, {lang}): {differ}"


@pytest.mark.parametrize("lang", catalogue.languages())
def test_every_catalogue_says_how_the_language_writes(lang):
    meta = catalogue.catalogue(lang)["meta"]
    assert meta["decimal_mark"] in (",", ".") and "{}" in meta["quote"] and meta["name"]
    assert set(meta["fallback"]) <= set(catalogue.languages()) - {lang}


BOKMAL_FORMS = ("ikke", "bare", "deltakere", "sammenligning", "sammenligningspersoner", "virkning", "hver",
                "annet", "noen", "uten", "måneder", "måned", "fra", "hvor", "hva", "også", "fortsatt",
                "ennå", "beboere", "ble", "følges", "vises", "skjules", "størrelse")


def test_nynorsk_is_nynorsk():
    """No bokmål form in any nynorsk text (a word list of the forms bokmål texts use most)."""
    words = {key: set(re.findall(r"[\wæøå]+", str(text).lower())) for key, text in _texts("nn").items()}
    found = {key: sorted(w & set(BOKMAL_FORMS)) for key, w in words.items() if w & set(BOKMAL_FORMS)}
    assert found == {}
    joined = " ".join(str(t) for t in _texts("nn").values())
    for form in ("ikkje", "berre", "utfall", "tiltaket", "vurdering", "deltakarar", "samanlikning", "verknad",
                 "kvar", "anna"):
        assert re.search(rf"\b{form}\b", joined), form


def test_texts_are_read_by_dotted_key_and_formatted():
    assert catalogue.text("verdicts.confirmed", "nb") == "bekreftet"
    assert catalogue.text("report.n_suppressed", "nn", n=3) == "3 verdiar skjulte (små tal)."
    assert catalogue.format_number(-1234.5, 1, "en") == "\u22121\u2009234.5"
    with pytest.raises(CatalogueError, match="catalogue nn: no text 'report.nothing'"):
        catalogue.text("report.nothing", "nn")
    with pytest.raises(CatalogueError, match="language 'de': no catalogue; expected one of nb, en, nn"):
        catalogue.catalogue("de")


def test_a_model_text_falls_back_in_the_languages_order():
    assert catalogue.fallbacks("nn")[:3] == ("nn", "nb", "en")
    assert catalogue.pick({"en": "Talks"}, "nn") == "Talks"
    assert catalogue.shown_in({"nb": "Samtaler", "en": "Talks"}, "nn") == "nb"
    assert catalogue.shown_in({"nn": "Samtalar"}, "nn") is None
    assert catalogue.shown_in("Samtaler", "nn") is None  # a plain string is not in a language


def test_a_broken_catalogue_is_refused_with_its_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "xx.yaml").write_text("meta:\n  name: X\n  decimal_mark: ','\n  quote: '{}'\nreport: [unclosed\n",
                                      encoding="utf-8")
    monkeypatch.setenv(catalogue.ENVIRONMENT, str(tmp_path))
    with pytest.raises(CatalogueError, match=r"xx\.yaml:\d+: not valid YAML"):
        catalogue.languages()
    (tmp_path / "xx.yaml").write_text("report: {}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"xx\.yaml: expected a mapping of sections with a 'meta' section"):
        catalogue.languages()


def test_a_file_that_is_not_a_language_code_is_not_a_language(tmp_path, monkeypatch):
    (tmp_path / "notes.yaml").write_text("meta: {}\n", encoding="utf-8")
    monkeypatch.setenv(catalogue.ENVIRONMENT, str(tmp_path))
    assert catalogue.languages() == ("nb", "en", "nn")


def test_localized_text_takes_nynorsk_and_needs_one_language():
    from pydantic import ValidationError

    from logicmodel.fields import LocalizedText, text_in

    text = LocalizedText(nb="Samtaler", nn="Samtalar", en="Talks")
    assert (text_in(text, "nn"), text_in(text, "nb"), text_in(LocalizedText(nb="Samtaler"), "nn")) == (
        "Samtalar", "Samtaler", "Samtaler")
    with pytest.raises(ValidationError, match="give the text in at least one language: nb, nn or en"):
        LocalizedText()


def test_the_diagram_legend_reads_the_catalogues():
    from logicmodel.diagram.vocabulary import BAND_LABELS, PHRASES, VERDICT_LABELS

    assert BAND_LABELS["nn"]["input"] == "Innsatsfaktorar" and PHRASES["en"]["links"] == "links"
    assert VERDICT_LABELS["nn"]["confirmed"] == "stadfesta" and set(BAND_LABELS) == set(catalogue.languages())
    with pytest.raises(KeyError):
        BAND_LABELS["de"]


def test_the_graph_command_draws_in_nynorsk(tiltak_main):
    from tiltak import pipeline

    code, out, err = tiltak_main("graph", str(pipeline.shipped_models_dir() / "veien-videre.yaml"), "--lang", "nn")
    assert code == 0, err
    assert "Innsatsfaktorar" in out and "Rettleiarar opplærte i MI" in out


def test_every_lang_option_offers_the_catalogues_found(tiltak_main, tmp_path, monkeypatch):
    for command in ("demo", "evaluate", "graph"):
        code, out, _ = tiltak_main(command, "--help")
        assert code == 0 and "[default: nb]" in out and "nb|en|nn" in out, command
    (tmp_path / "xx.yaml").write_text((catalogue.SHIPPED / "en.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv(catalogue.ENVIRONMENT, str(tmp_path))
    code, out, _ = tiltak_main("graph", "--help")
    assert "nb|en|nn|xx" in out
