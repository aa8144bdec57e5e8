"""No English reason reaches a Norwegian report: every 'not estimated' reason and every
estimation note has a code, and every catalogue has a text for each code."""

from __future__ import annotations

import pytest

from estimation.errors import EstimationError
from tiltak.evaluation.document import ERROR_PATTERNS, NOTE_PATTERNS, error_entry, note_entry
from tiltak.evaluation.wording import describe_error
from tiltak_base import catalogue

NORWEGIAN = [lang for lang in catalogue.languages() if catalogue.meta(lang, "decimal_mark") == ","]


def error_text(error: str, lang: str) -> str:
    return describe_error(error_entry(error)["params"], lang)


def test_every_error_and_note_code_has_a_text_in_every_catalogue():
    for lang in catalogue.languages():
        for code, _ in ERROR_PATTERNS:
            assert catalogue.text(f"errors.{code}", lang), (lang, code)
        for code, _ in NOTE_PATTERNS:
            assert catalogue.lookup(f"notes.{code}", lang) is not None, (lang, code)
    assert set(NORWEGIAN) >= {"nb", "nn"}


@pytest.mark.parametrize("error", ["too few participants or comparison persons with this outcome",
                                   "too few matched participants with this outcome observed", "no covariates"])
def test_the_reasons_tiltak_gives_have_their_own_text(error):
    assert error_entry(error)["params"]["error"] != "other"
    for lang in NORWEGIAN:
        assert error_text(error, lang) != error
    assert error_text(error, "en") == error


def test_reasons_with_numbers_keep_the_numbers():
    assert error_text("no trial can be followed for 12 months within the data", "nb") == (
        "ingen forsøksmåned kan følges i 12 måneder innenfor dataene")
    assert error_text("no trial can be followed for 12 months within the data", "nn") == (
        "ingen forsøksmånad kan følgjast i 12 månader innanfor dataa")
    assert error_text("Too few matched units for the standard error: 2 units for 2 coefficients.", "nb") == (
        "for få matchede enheter til å beregne standardfeilen (2 enheter for 2 koeffisienter)")
    entry = error_entry("no trial can be followed for 12 months within the data")
    assert entry == {"code": "not_estimated", "params": {
        "error": "not_followed", "months": "12", "detail": "no trial can be followed for 12 months within the data"}}


def test_the_design_runs_messages_are_the_ones_translated():
    from tiltak.evaluation import design_run

    class Spec:
        months = 6

    for message in (str(design_run._no_follow_up(Spec())), str(design_run._too_few())):
        assert error_entry(message)["params"]["error"] != "other", message


def test_any_other_reason_gets_a_norwegian_sentence_without_the_english():
    message = str(EstimationError("estimate_att: the weights sum to zero in the control group"))
    assert error_entry(message)["params"]["error"] == "other"
    for lang in NORWEGIAN:
        assert error_text(message, lang) == catalogue.text("errors.other", lang)
        assert "weights" not in error_text(message, lang)
    assert error_text(message, "en") == message


def _lines(notes: list[str], lang: str) -> list[str]:
    from tiltak.report.render import quality_lines

    return quality_lines({"data_quality": [], "estimation_notes": [note_entry(n) for n in notes]}, lang)


def test_the_notes_of_estimates_have_norwegian_texts():
    notes = ["Fewer control units than treated units in some 'exact' strata; not all treated units "
             "will get a match.", "Not all treated units will get 3 matches.",
             "covariate 'health_flag' is not in the registers (all null) and was left out",
             "12 comparison persons started the measure before the follow-up survey and were left out "
             "(censored)", "a note nobody translated"]
    assert _lines(["fewer than 5 comparison persons started the measure before the follow-up "
                   "survey and were left out (censored)"], "nb")[0].startswith("Færre enn 5 sammenligningspersoner")
    nb = _lines(notes, "nb")
    assert nb[0] == ("Færre sammenligningspersoner enn deltakere i noen strata med eksakt "
                     "matching; ikke alle deltakere får en match.")
    assert nb[1] == "Ikke alle deltakere får 3 matcher."
    assert "«health_flag»" in nb[2] and nb[3].startswith("12 sammenligningspersoner")
    assert nb[4:] == ["1 teknisk merknad fra beregningen står bare på engelsk (se evaluation.json)."]
    nn = _lines(notes, "nn")
    assert nn[1] == "Ikkje alle deltakarar får 3 matchar."
    assert nn[4:] == ["1 teknisk merknad frå utrekninga står berre på engelsk (sjå evaluation.json)."]
    assert _lines(notes, "en") == notes  # English shows every note as estimation gave it


def test_a_small_count_in_an_error_is_published_as_fewer_than_the_threshold():
    from tiltak.evaluation.estimate_errors import published_error

    raw = "Too few matched units for the standard error: 2 units for 2 coefficients."
    published = published_error(raw, 5)
    assert published == "Too few matched units for the standard error: fewer than 5 units for 2 coefficients."
    assert error_text(published, "nb") == ("for få matchede enheter til å beregne standardfeilen "
                                           "(færre enn 5 enheter for 2 koeffisienter)")
    assert error_text(published, "nn") == ("for få matcha einingar til å rekne ut standardfeilen "
                                           "(færre enn 5 einingar for 2 koeffisientar)")
    assert published_error("7 treated units and 3 controls", 5) == "7 treated units and fewer than 5 controls"
    assert published_error("no trial can be followed for 3 months within the data", 5) == (
        "no trial can be followed for 3 months within the data")
    assert published_error(None, 5) is None
