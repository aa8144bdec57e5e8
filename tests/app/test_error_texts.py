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
