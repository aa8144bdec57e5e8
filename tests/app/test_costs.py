"""Cost-effectiveness: unit costs with disclosure control, cost per additional outcome."""

import pytest

from tiltak.evaluation.costs import cost_per_outcome, dominated, measure_unit_costs, spread, unit_cost
from tiltak.evaluation.evidence import EffectEvidence


def ev(att, low, high, n=200):
    return EffectEvidence("assisted_return_12m", att, low, high, n_treated_matched=n)


@pytest.mark.parametrize(
    "values, expected",
    [
        ([50, 36, 14], True),  # 86 % > 85 %
        ([50, 35, 15], False),  # exactly 85 % is not more than 85 %
        ([100], True),  # one contributor dominates
        ([10, 10, 10, 10], False),
        ([0, 0], False),
    ],
)
def test_dominance_rule(values, expected):
    assert dominated(values) is expected


def test_unit_cost_suppression_order():
    assert unit_cost("VV", "c1", 1000.0, [1000.0], 4).suppressed == "small_count"
    small = unit_cost("VV", "c1", 1000.0, [1000.0], 9)
    assert (small.suppressed, small.participants, small.per_participant_nok) == ("small_denominator", 9, None)
    shown = unit_cost("VV", "c1", 1000.0, [1000.0], 10)
    assert shown.per_participant_nok == 100.0 and shown.suppressed is None
    assert unit_cost("VV", None, 1000.0, [900.0, 50.0, 50.0], 50, check_dominance=True).suppressed == "dominance"


def test_measure_unit_costs_by_centre_with_spread_and_central_costs_only_at_measure_level():
    costs = {"c1": 100_000.0, "c2": 300_000.0, "c3": 200_000.0, "c4": 50_000.0, None: 350_000.0}
    people = {"c1": 10, "c2": 20, "c3": 40, "c4": 3, None: 2}
    overall, cells, sp = measure_unit_costs("VV", costs, people, 75)
    assert overall.per_participant_nok == pytest.approx(1_000_000 / 75)
    assert [c.centre_id for c in cells] == ["c1", "c2", "c3", "c4"]
    assert [c.per_participant_nok for c in cells] == [10_000.0, 15_000.0, 5_000.0, None]
    assert [c.total_nok for c in cells] == [None, None, None, None]  # one contributor: dominated
    assert cells[0].total_suppressed == "dominance"
    assert cells[3].suppressed == "small_count"
    assert (sp.n_centres, sp.minimum, sp.median, sp.maximum) == (3, 5_000.0, 10_000.0, 15_000.0)
    assert sp.ratio_max_min == 3.0


def test_spread_quartiles_match_numpy_default():
    import numpy as np

    values = [3.0, 10.0, 7.0, 1.0, 12.0]
    cells = [unit_cost("VV", f"c{i}", v * 20, [v * 20], 20) for i, v in enumerate(values)]
    sp = spread(cells)
    assert (sp.q1, sp.median, sp.q3) == tuple(np.quantile(values, [0.25, 0.5, 0.75]))


def test_cost_per_additional_outcome_with_interval():
    result = cost_per_outcome("VV", ev(0.05, 0.02, 0.08, n=200), 15_000.0, "share", "higher_is_better")
    assert result.defined and result.reason == "defined"
    assert result.value == pytest.approx(300_000.0)  # 15 000 x 200 / (0.05 x 200)
    assert (result.low, result.high) == (pytest.approx(187_500.0), pytest.approx(750_000.0))
    assert result.additional_outcomes == pytest.approx(10.0) and result.total_cost_nok == 3_000_000.0


@pytest.mark.parametrize(
    "evidence, unit, direction, reason",
    [
        (ev(0.03, -0.01, 0.07), "share", "higher_is_better", "includes_zero"),
        (ev(0.03, 0.0, 0.07), "share", "higher_is_better", "includes_zero"),
        (ev(-0.05, -0.08, -0.02), "share", "higher_is_better", "unfavourable"),
        (ev(-0.15, -0.25, -0.05), "mean item score", "lower_is_better", "not_binary"),
        (None, "share", "higher_is_better", "no_estimate"),
    ],
)
def test_cost_per_outcome_not_defined(evidence, unit, direction, reason):
    result = cost_per_outcome("VV", evidence, 15_000.0, unit, direction)
    assert not result.defined and result.value is None and result.reason == reason


def test_lower_is_better_binary_outcome_counts_a_decrease_as_gain():
    result = cost_per_outcome("VV", ev(-0.04, -0.06, -0.02), 12_000.0, "share", "lower_is_better")
    assert result.defined and result.value == pytest.approx(300_000.0)
    assert (result.low, result.high) == (pytest.approx(200_000.0), pytest.approx(600_000.0))


def test_no_participants_is_not_a_small_count():
    cell = unit_cost("VV", "c1", 5000.0, [5000.0], 0)
    assert (cell.participants, cell.per_participant_nok, cell.suppressed) == (0, None, "no_participants")


def test_small_matched_counts_never_reach_the_document():
    from tiltak.evaluation.document import _per_outcome_entry, _reason
    from tiltak.evaluation.outcomes import OutcomeSpec
    from tiltak.evaluation.verdicts import reason

    text = _reason(reason("too_few_matched", n=3, minimum=10), "share", 5)
    from tiltak.evaluation.wording import reason_entry_text

    assert text["params"]["n"] == "<5" and "Only <5 matched participants" in reason_entry_text(text, "share", "en")
    assert set(text) == {"code", "params"}  # the document holds no text (tiltak-evaluation/4)
    outcome = OutcomeSpec("r", "exit_within", 12, "r", exit_types=("assisted_return",))
    entry = _per_outcome_entry(cost_per_outcome("VV", ev(0.3, 0.1, 0.5, n=3), 10_000.0, "share", "higher_is_better"), outcome, 5)
    assert entry["matched_participants"] is None and entry["total_cost_nok"] is None and entry["additional_outcomes"] is None


def test_central_costs_count_in_the_total_but_are_not_a_protected_contributor():
    only_central, _, _ = measure_unit_costs("KVN", {None: 9_000_000.0}, {None: 100}, 100)
    assert only_central.suppressed is None and only_central.per_participant_nok == 90_000.0
    dominated_centres, _, _ = measure_unit_costs("KVL", {"a": 900.0, "b": 50.0, "c": 10.0, None: 10_000.0},
                                                 {"a": 10, "b": 10, "c": 10}, 30)
    assert dominated_centres.suppressed == "dominance"


def test_no_cost_per_outcome_for_a_not_testable_estimate():
    result = cost_per_outcome("VV", ev(0.05, 0.02, 0.08), 15_000.0, "share", "higher_is_better", testable=False)
    assert not result.defined and result.reason == "not_testable"


def test_a_measure_without_cost_records_has_no_unit_cost():
    overall, cells, sp = measure_unit_costs("VV", {}, {"c1": 40}, 40)
    assert (overall.suppressed, overall.per_participant_nok, overall.participants) == ("no_costs", None, 40)
    assert cells == [] and sp.n_centres == 0
    assert cost_per_outcome("VV", ev(0.05, 0.02, 0.08), overall.per_participant_nok, "share", "x").reason == "no_cost"
