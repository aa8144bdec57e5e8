"""No English reason reaches an nb report: every 'not estimated' reason has a bokmål text."""

from __future__ import annotations

import pytest

from estimation.errors import EstimationError
from tiltak.evaluation.document import ERROR_NB_OTHER, ERRORS_NB, error_nb


@pytest.mark.parametrize("error", sorted(ERRORS_NB))
def test_the_reasons_tiltak_gives_have_their_own_text(error):
    assert error_nb(error) == ERRORS_NB[error] != error


def test_reasons_with_numbers_keep_the_numbers():
    assert error_nb("no trial can be followed for 12 months within the data") == (
        "ingen forsøksmåned kan følges i 12 måneder innenfor dataene")
    assert error_nb("Too few matched units for the standard error: 2 units for 2 coefficients.") == (
        "for få matchede enheter til å beregne standardfeilen (2 enheter for 2 koeffisienter)")


def test_the_design_runs_messages_are_the_ones_translated():
    from tiltak.evaluation import design_run

    class Spec:
        months = 6

    for message in (str(design_run._no_follow_up(Spec())), str(design_run._too_few())):
        assert error_nb(message) != ERROR_NB_OTHER, message


def test_any_other_reason_gets_a_norwegian_sentence_without_the_english():
    message = str(EstimationError("estimate_att: the weights sum to zero in the control group"))
    assert error_nb(message) == ERROR_NB_OTHER
    assert "weights" not in error_nb(message)


def test_the_notes_of_estimates_have_bokmal_texts():
    from tiltak.evaluation.document import notes_entries

    notes = ["Fewer control units than treated units in some 'exact' strata; not all treated units "
             "will get a match.", "Not all treated units will get 3 matches.",
             "covariate 'health_flag' is not in the registers (all null) and was left out",
             "12 comparison persons started the measure before the follow-up survey and were left out "
             "(censored)", "a note nobody translated"]
    assert notes_entries(["fewer than 5 comparison persons started the measure before the follow-up "
                          "survey and were left out (censored)"])[0]["nb"].startswith(
        "Færre enn 5 sammenligningspersoner")
    entries = notes_entries(notes)
    assert entries[0]["nb"] == ("Færre sammenligningspersoner enn deltakere i noen strata med eksakt "
                                "matching; ikke alle deltakere får en match.")
    assert entries[1]["nb"] == "Ikke alle deltakere får 3 matcher."
    assert "«health_flag»" in entries[2]["nb"] and entries[3]["nb"].startswith("12 sammenligningspersoner")
    assert entries[4] == {"en": "a note nobody translated", "nb": None}
    assert entries[5] == {"en": None, "nb": "1 teknisk merknad fra beregningen står bare på engelsk "
                                            "(se evaluation.json)."}


def test_the_nb_report_shows_no_english_note_and_the_en_report_no_bokmal_line():
    from tiltak.report.render import _environment

    env = _environment("nb", {})
    entries = [{"en": "a note nobody translated", "nb": None}, {"en": None, "nb": "1 merknad."}]
    assert env.filters["in_lang"](entries) == [entries[1]]
    assert _environment("en", {}).filters["in_lang"](entries) == [entries[0]]


def test_a_small_count_in_an_error_is_published_as_fewer_than_the_threshold():
    from tiltak.evaluation.estimate_errors import published_error

    raw = "Too few matched units for the standard error: 2 units for 2 coefficients."
    published = published_error(raw, 5)
    assert published == "Too few matched units for the standard error: fewer than 5 units for 2 coefficients."
    assert error_nb(published) == ("for få matchede enheter til å beregne standardfeilen "
                                   "(færre enn 5 enheter for 2 koeffisienter)")
    assert published_error("7 treated units and 3 controls", 5) == "7 treated units and fewer than 5 controls"
    assert published_error("no trial can be followed for 3 months within the data", 5) == (
        "no trial can be followed for 3 months within the data")
    assert published_error(None, 5) is None
