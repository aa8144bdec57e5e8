"""Report pieces: labels, figures, trajectories, rendering suppressed cells."""

import pytest

from logicmodel.model import LogicModel
from tiltak.evaluation.trajectories import (
    ExpectedSeries, IndicatorSeries, SeriesPoint, TrajectoryPoint, compare, expected_for, period_position,
)
from tiltak.evaluation.wording import format_effect, format_number
from tiltak.report import figures
from tiltak.report.labels import LABELS, METHOD_APPENDIX
from tiltak.report.render import _cell


@pytest.mark.parametrize(
    "period, position",
    [("2013-01", 2013 + 0.5 / 12), ("2013-12", 2013 + 11.5 / 12), ("2013-Q2", 2013.375), ("2013", 2013.5)],
)
def test_period_positions(period, position):
    assert period_position(period) == pytest.approx(position)


@pytest.mark.parametrize("bad", ["2013-13", "13-01", "2013-Q5", "x"])
def test_bad_period_is_refused(bad):
    with pytest.raises(ValueError, match="expected YYYY-MM, YYYY-Qn or YYYY"):
        period_position(bad)


def series(points, unit="percent"):
    return IndicatorSeries("ind", {"nb": "I", "en": "I"}, unit, 1, "higher_is_better",
                           tuple(SeriesPoint(p, v, v is None) for p, v in points))


def test_compare_matches_monthly_expectations_to_the_containing_quarter_and_skips_suppressed():
    observed = series([("2013-Q1", 60.0), ("2013-Q2", None), ("2013-Q3", 75.0)])
    expected = ExpectedSeries("ind", trajectory=(TrajectoryPoint("2013-02", 70.0), TrajectoryPoint("2013-05", 72.0)),
                              targets=(TrajectoryPoint("2013-Q3", 80.0),), tolerance=0.1)
    rows = compare(observed, expected)
    assert [(r.period, r.observed, r.expected, r.within_tolerance) for r in rows] == [
        ("2013-Q1", 60.0, 70.0, None), ("2013-Q3", 75.0, 80.0, True)]
    assert rows[0].gap == -10.0


def test_expected_for_collects_trajectories_and_targets_of_a_model():
    model = LogicModel.model_validate({
        "id": "m", "title": "M", "version": "1", "measure": "M", "period": {"start": "2012-01"},
        "nodes": [{"id": "n", "level": "outcome", "title": "N"}],
        "expected_changes": [{"id": "c", "node": "n", "indicator": "ind", "direction": "increase", "min_change": 1,
                              "horizon_months": 12,
                              "trajectory": [{"period": "2013-06", "value": 3}, {"period": "2012-06", "value": 2}]}],
        "monitoring": {"targets": [{"indicator": "ind", "baseline": {"period": "2012-01", "value": 1},
                                    "values": [{"period": "2013-01", "value": 4}], "tolerance": 0.2}]},
    })
    exp = expected_for(model, "ind")
    assert [p.period for p in exp.trajectory] == ["2012-06", "2013-06"]
    assert exp.baseline == TrajectoryPoint("2012-01", 1.0) and exp.tolerance == 0.2
    assert expected_for(model, "other") == ExpectedSeries("other")


def test_chart_is_deterministic_accessible_svg_with_gaps():
    labels = LABELS["en"]
    data = series([("2013-01", 1.0), ("2013-02", None), ("2013-03", 3.0)])
    expected = ExpectedSeries("ind", trajectory=(TrajectoryPoint("2013-01", 2.0),))
    first = figures.indicator_chart(data, expected, labels, "en")
    assert first == figures.indicator_chart(data, expected, labels, "en")
    assert first.startswith('<svg role="img" aria-label="I: observed values against')
    assert "<title>I: observed values" in first and "Date" not in first


def test_love_and_overlap_plots():
    labels = LABELS["nb"]
    rows = [{"term": "age", "smd_before": 0.3, "smd_after": 0.05}, {"term": "sexmale", "smd_before": -0.2, "smd_after": None}]
    love = figures.love_plot(rows, 0.1, labels, "Love")
    assert "age" in love and "sexmale" in love and 'aria-label="Love"' in love
    assert "0,1" in love or "0,2" in love  # Norwegian decimal commas on the axis
    overlap = figures.overlap_plot({"edges": [0, 1, 2], "treated": [0.5, 0.5], "control": [0.9, 0.1]}, labels, "Overlapp")
    assert 'aria-label="Overlapp"' in overlap


def test_suppressed_cells_render_as_text_never_as_zero():
    cell = {"total_nok": None, "per_participant_nok": None, "suppressed": "small_count", "threshold": 5}
    assert "suppressed (fewer than 5)" in str(_cell(cell, "per_participant_nok", LABELS["en"], "en"))
    dominated = {"total_nok": None, "per_participant_nok": 1200.0, "suppressed": None, "total_suppressed": "dominance"}
    assert "dominance" in str(_cell(dominated, "total_nok", LABELS["en"], "en"))
    assert _cell(dominated, "per_participant_nok", LABELS["nb"], "nb") == "1\u2009200"


def test_number_formats():
    assert format_number(-1234.5, 1, "nb") == "−1\u2009234,5"
    assert format_effect(0.0523, "share", "en") == "+5.2 pp"
    assert format_effect(-0.15, "mean item score", "nb") == "−0,15"
    assert format_effect(float("nan"), "share", "en") == "–"


def test_svg_ids_are_made_unique_with_their_references():
    from tiltak.report.build import prefix_ids

    svg = '<svg><defs><path id="m1"/><clipPath id="p2"/></defs><use xlink:href="#m1"/><g clip-path="url(#p2)"/><a href="#other"/></svg>'
    out = prefix_ids(svg, "f-")
    assert 'id="f-m1"' in out and 'xlink:href="#f-m1"' in out and "url(#f-p2)" in out and 'href="#other"' in out


# --- the voluntary-return curve and its disclosure rule -------------------------------------

from tiltak.evaluation.curve_disclosure import disclosed_curve, publishable  # noqa: E402


@pytest.mark.parametrize("risk, events, expected", [
    ([40, 38, 30, 4], [3, 2, 6, 5], [False, True, True, False]),   # events add up until they reach 5
    ([40, 38], [5, 0], [True, False]),                             # no step without events
    ([4, 40], [9, 1], [False, True]),                              # too few at risk, then enough
    ([9, 9, 9], [1, 1, 1], [False, False, False]),
])
def test_a_point_is_published_only_on_enough_people_and_events_since_the_last(risk, events, expected):
    assert publishable(risk, events, 5) == expected


def test_no_published_step_rests_on_fewer_than_the_threshold():
    curve = {"months": [1, 2, 3, 4], "treated": [0.01, 0.02, 0.05, 0.06], "control": [0.01, 0.03, 0.04, 0.05],
             "control_low": [0, 0, 0, 0], "control_high": [0.1] * 4,
             "n_risk_treated": [100, 90, 80, 70], "n_risk_control": [300, 290, 280, 4],
             "events_treated": [1, 1, 3, 1], "events_control": [5, 6, 3, 9]}
    shown = disclosed_curve(curve, 5)
    assert shown["months"] == [0, 1, 2, 3, 4]
    assert shown["participants"] == [0.0, None, None, 0.05, None]
    assert shown["comparison"] == [0.0, 0.01, 0.03, None, None]
    assert shown["suppressed_points"] == 5


def test_return_curve_plot_is_deterministic_svg():
    curve = {"months": [0, 6, 12], "participants": [0.0, 0.1, 0.2], "comparison": [0.0, 0.08, None],
             "comparison_low": [0.0, 0.05, None], "comparison_high": [0.0, 0.11, None],
             "expected": [{"months": 12, "value": 0.25, "change": "return_up"}]}
    a = figures.return_curve_plot(curve, LABELS["en"], "Return")
    assert a == figures.return_curve_plot(curve, LABELS["en"], "Return")
    assert a.startswith("<svg") and "<title>Return</title>" in a


@pytest.mark.parametrize("term, lang, title", [
    ("householdwith_children", "nb", "Husholdning: med barn"),
    ("return_agreementTRUE", "nb", "Returavtale i kraft: ja"),
    ("return_agreementTRUE", "en", "Return agreement in force: yes"),
    ("sexmale", "en", "Sex: male"),
    ("age", "nb", "Alder"),
    ("nationalityAFG", "nb", "Nasjonalitet: AFG"),
    ("own_columnlevel", "nb", "own_columnlevel"),
    ("own_columnlevel", "en", "own_column: level"),
])
def test_model_terms_get_titles_as_cobalts_var_names(term, lang, title):
    from tiltak.report.terms import term_title

    variables = ["own_column"] if lang == "en" else []
    assert term_title(term, variables, lang) == title


def test_the_design_line_and_p_values_in_bokmal():
    from tiltak.evaluation.wording import describe_reason, format_p
    from tiltak.report.render import _design_line

    design = {"ratio": 2, "replace": False, "caliper": 0.2, "std_caliper": True, "order": "largest", "exact": ["period"]}
    assert _design_line(design, LABELS["nb"], "nb") == (
        "forhold 2:1, uten tilbakelegging, kaliper 0,2 standardavvik av skåren, rekkefølge: største skåre først, "
        "eksakt på: Periode")
    assert "ratio 2:1, no replacement, caliper 0.2 SD" in _design_line(design, LABELS["en"], "en")
    assert format_p(0.0004, "nb") == "< 0,001" and format_p(0.0123, "nb") == "0,012"
    text = describe_reason("holm", {"p_value_holm": 0.0002, "p_value": 0.00001, "n_tests": 3}, None, "nb")
    assert "p < 0,001" in text and "= <" not in text and "0,000" not in text


@pytest.mark.parametrize("declared, actual, flagged", [(4500, 14953, True), (4500, 5000, False), (4500, 2000, True),
                                                         (None, 14953, False), (4500, None, False)])
def test_a_large_gap_between_declared_and_register_cost_is_flagged(declared, actual, flagged):
    from tiltak.report.render import _cost_gap

    note = _cost_gap({"declared_per_participant_nok": declared, "overall": {"per_participant_nok": actual}},
                     LABELS["en"], "en")
    assert bool(note) == flagged
    if declared == 4500 and actual == 14953:
        assert note == "Large gap: the register figure is 3.3 × the declared cost."
