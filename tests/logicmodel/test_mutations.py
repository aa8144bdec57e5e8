"""One valid fixture, one mutation per test: the exact position and message."""

from __future__ import annotations

from pathlib import Path

from logicmodel.validation import validate_paths


def rendered(path: Path) -> list[str]:
    """Issues as lines, with the temporary folder replaced by its file name."""
    report = validate_paths([str(path)])
    folder = str(path.parent) + "/"
    return [issue.render().replace(folder, "") for issue in report.issues]


def test_the_fixture_is_valid(workdir):
    assert rendered(workdir / "valid.yaml") == []


def test_unknown_key_is_reported_at_the_key_with_a_suggestion(mutate):
    path = mutate("    level: activity\n", "    level: activity\n    titel: x\n")
    assert rendered(path) == [
        "valid.yaml:10:5: error LM001 nodes.0.titel: unknown key 'titel'; did you mean 'title'? "
        "allowed keys: id, level, horizon, title, description, indicators"
    ]


def test_wrong_level_lists_the_levels(mutate):
    path = mutate("    level: activity\n", "    level: activty\n")
    assert rendered(path) == [
        "valid.yaml:9:12: error LM001 nodes.0.level: expected one of 'input', 'activity', 'output', 'outcome', 'impact'; got 'activty'"
    ]


def test_missing_required_key_points_at_its_mapping(mutate):
    path = mutate('    title: "Motivasjon"\n', "")
    assert rendered(path) == ["valid.yaml:17:5: error LM001 nodes.2: missing required key 'title'"]


def test_number_where_text_is_expected(mutate):
    path = mutate('version: "1.0"', "version: 1.0")
    assert rendered(path) == ["valid.yaml:3:10: error LM001 version: expected a text; got 1.0 (write it in quotes: \"1.0\")"]


def test_text_that_is_neither_string_nor_mapping(mutate):
    path = mutate('    title: "Samtaler"', "    title: [a, b]")
    assert rendered(path) == [
        "valid.yaml:10:12: error LM001 nodes.0.title: expected a text or a mapping {nb: ..., nn: ..., en: ...}; got a list"
    ]


def test_unknown_language_in_a_text(mutate):
    path = mutate('title: {nb: "Mini", en: "Mini"}', 'title: {nb: "Mini", de: "Mini"}')
    assert rendered(path) == ["valid.yaml:2:21: error LM001 title.de: unknown key 'de'; allowed keys: nb, nn, en"]


def test_month_with_wrong_format(mutate):
    path = mutate('start: "2012-01"', 'start: "2012-1"')
    assert rendered(path) == [
        "valid.yaml:5:17: error LM001 period.start: expected a month written YYYY-MM (in quotes is safest); got '2012-1'"
    ]


def test_disclosure_threshold_below_three(mutate):
    path = mutate("  targets:\n", "  disclosure: {min_count: 2}\n  targets:\n")
    assert rendered(path) == ["valid.yaml:55:27: error LM001 monitoring.disclosure.min_count: expected a number >= 3; got 2"]


def test_duplicate_key(mutate):
    path = mutate("measure: VV\n", "measure: VV\nmeasure: KVL\n")
    assert rendered(path) == [
        "valid.yaml:5:1: error LM000: duplicate key 'measure' (first at line 4, column 1); a key may appear only once in a mapping"
    ]


def test_duplicate_node_id(mutate):
    path = mutate("  - id: motivation\n", "  - id: health\n")
    lines = rendered(path)
    assert "valid.yaml:17:9: error LM002 nodes.2.id: duplicate id 'health' (first used by nodes.1); ids must be unique" in lines


def test_link_to_unknown_node(mutate):
    path = mutate("    to: fewer_stays\n", "    to: fewer_stay\n")
    assert (
        "valid.yaml:32:9: error LM003 links.1.to: unknown node 'fewer_stay'; did you mean 'fewer_stays'? "
        "expected one of 'fewer_stays', 'talks', 'health', 'motivation'"
    ) in rendered(path)


def test_cycle_names_its_nodes(mutate):
    path = mutate("expected_changes:\n", "  - from: fewer_stays\n    to: talks\nexpected_changes:\n")
    lines = rendered(path)
    assert "valid.yaml:35:5: error LM004 links.2: links form a cycle: talks -> health -> fewer_stays -> talks; " \
        "a theory of change must not loop back" in lines


def test_backward_link(mutate):
    path = mutate("expected_changes:\n", "  - from: motivation\n    to: health\nexpected_changes:\n")
    assert rendered(path) == [
        "valid.yaml:35:5: error LM005 links.2: link runs backwards: 'motivation' (outcome, medium) -> 'health' (outcome, short); "
        "links go input -> activity -> output -> outcome (short -> medium -> long) -> impact"
    ]


def test_isolated_node(mutate):
    path = mutate("links:\n", "  - id: lonely\n    level: output\n    title: x\nlinks:\n")
    assert rendered(path) == ["valid.yaml:26:9: error LM006 nodes.4.id: node 'lonely' has no link in or out; link it or remove it"]


def test_outcome_unreachable_from_activities(mutate):
    path = mutate("    to: [health, motivation]\n", "    to: [health]\n")
    assert rendered(path) == [
        "valid.yaml:17:9: error LM007 nodes.2.id: outcome 'motivation' cannot be reached from any activity; add a link that leads to it"
    ]


def test_activity_without_result(mutate):
    path = mutate("links:\n", "  - id: idle\n    level: activity\n    title: x\nlinks:\n  - {from: idle, to: idle_output}\n")
    mutate("links:\n", "  - id: idle_output\n    level: output\n    title: y\nlinks:\n")
    assert rendered(path) == [
        "valid.yaml:26:9: error LM008 nodes.4.id: activity 'idle' leads to no outcome or impact; link it onwards"
    ]


def test_no_impact(mutate):
    path = mutate("    level: impact\n", "    level: outcome\n    horizon: long\n")
    assert rendered(path) == [
        "valid.yaml:8:3: error LM009 nodes: the model has no impact node; a theory of change runs from activities to an impact"
    ]


def test_unknown_indicator(mutate):
    path = mutate("indicators: [hscl10_mean]", "indicators: [hscl_mean]")
    assert rendered(path) == [
        "valid.yaml:16:18: error LM020 nodes.1.indicators.0: unknown indicator 'hscl_mean'; did you mean 'hscl10_mean'? "
        "expected one of 'hscl10_mean', 'participants', 'returns_per_100'"
    ]


def test_indicator_listed_twice(mutate):
    path = mutate("indicators: [hscl10_mean]", "indicators: [hscl10_mean, hscl10_mean]")
    assert rendered(path) == [
        "valid.yaml:16:31: error LM021 nodes.1.indicators.1: indicator 'hscl10_mean' is listed twice (first at nodes.1.indicators.0)"
    ]


def test_outcome_without_indicator_is_a_warning(mutate):
    path = mutate("    indicators: [hscl10_mean]\n", "")
    assert rendered(path) == [
        "valid.yaml:12:9: warning LM022 nodes.1.id: outcome 'health' has no indicator; add one so that it can be monitored"
    ]


def test_untested_expected_change_is_a_warning(mutate):
    path = mutate("tests: [hscl_down, return_up]", "tests: [hscl_down]")
    assert rendered(path) == [
        "valid.yaml:43:9: warning LM034 expected_changes.1.id: expected change 'return_up' is not tested by the evaluation; "
        "add it to evaluation.tests"
    ]


def test_direction_against_the_direction_of_good_is_a_warning(mutate):
    path = mutate("    direction: decrease\n", "    direction: increase\n")
    lines = rendered(path)
    assert lines == [
        "valid.yaml:40:16: warning LM035 expected_changes.0.direction: expected change 'hscl_down' is an increase, but for "
        "indicator 'hscl10_mean' lower is better; check the direction",
        "valid.yaml:40:16: warning LM035 expected_changes.0.direction: expected change 'hscl_down' is an increase, but for "
        "outcome 'hscl10_change_6m' lower is better; check the direction",
    ]


def test_evaluation_tests_unknown_change(mutate):
    path = mutate("tests: [hscl_down, return_up]", "tests: [hscl_down, return_up, retrun_up]")
    assert rendered(path) == [
        "valid.yaml:52:33: error LM040 evaluation.tests.2: unknown expected change 'retrun_up'; did you mean 'return_up'? "
        "expected one of 'return_up', 'hscl_down'"
    ]


def test_covariate_that_is_an_outcome(mutate):
    path = mutate("covariates: [age, sex, nationality]", "covariates: [age, sex, exit_type]")
    assert rendered(path) == [
        "valid.yaml:51:26: error LM041 evaluation.covariates.2: 'exit_type' cannot be a covariate: it is an outcome (measured after the index date)"
    ]


def test_target_outside_the_period(mutate):
    path = mutate('values: [{period: "2013-01", value: 20}]', 'values: [{period: "2016-01", value: 20}]')
    assert rendered(path) == [
        "valid.yaml:58:25: error LM050 monitoring.targets.0.values.0.period: period 2016-01 is after the model's end 2014-12; "
        "values must fall within the period of operation"
    ]


def test_share_outcome_with_impossible_min_change(mutate):
    path = mutate("    min_change: 0.05\n", "    min_change: 5\n")
    assert rendered(path) == [
        "valid.yaml:47:17: error LM036 expected_changes.1.min_change: outcome 'assisted_return_12m' is a share between 0 and 1; "
        "min_change 5 is impossible (write 0.05 for 5 points)"
    ]


def test_missing_catalogue_file(mutate):
    path = mutate("catalogue: catalogue.yaml", "catalogue: nowhere.yaml")
    lines = rendered(path)
    assert len(lines) == 1
    assert lines[0].startswith("valid.yaml:6:12: error LM019 catalogue: catalogue file '")
    assert lines[0].endswith("nowhere.yaml' does not exist; the path is relative to the model file")


def test_catalogue_errors_are_reported_at_the_catalogue_lines(mutate, workdir):
    mutate("    type: mean\n", "    type: average\n", file="catalogue.yaml")
    assert rendered(workdir / "valid.yaml") == [
        "catalogue.yaml:15:11: error LM001 indicators.1.type: expected one of 'count', 'sum', 'mean', 'share', 'ratio', 'median', 'quantile', 'duration', 'distinct_count'; got 'average'",
    ]  # the ids of the catalogue parse, so the model's references were checked (no LM019 warning)


def test_catalogue_indicator_missing_the_key_its_type_needs(mutate, workdir):
    mutate("    column: total\n", "", file="catalogue.yaml")
    assert rendered(workdir / "valid.yaml") == [
        "catalogue.yaml:12:5: error LM061 indicators.1: indicator 'hscl10_mean' of type mean needs 'column' (the column to add up, average, count or take a quantile of)"
    ]


def test_unknown_outcome_kind(mutate, workdir):
    mutate("    kind: survey_change\n", "    kind: survey_delta\n", file="catalogue.yaml")
    lines = rendered(workdir / "valid.yaml")
    assert lines[0] == (
        "catalogue.yaml:39:11: error LM001 outcomes.1.kind: unknown kind 'survey_delta'; "
        "expected one of 'exit_within', 'application_within', 'survey_change'"
    )


def test_catalogue_is_checked_even_when_the_model_has_schema_errors(mutate, workdir):
    mutate("measure: VV\n", "measure: VV\nmesure: VV\n")
    mutate("numerator: {type: count, filter:", "numerator: {type: count, filtr:", file="catalogue.yaml")
    assert rendered(workdir / "valid.yaml") == [
        "catalogue.yaml:25:30: error LM001 indicators.2.numerator.filtr: unknown key 'filtr'; did you mean 'filter'? "
        "allowed keys: type, filter, column, distinct, source",
        "valid.yaml:5:1: error LM001 mesure: unknown key 'mesure'; did you mean 'measure'? allowed keys: id, title, version, "
        "owner, target_group, description, measure, period, catalogue, nodes, links, expected_changes, evaluation, monitoring, costs",
    ]


def test_unknown_estimand_lists_the_two(mutate):
    path = mutate("  treatment: {measure: VV}\n", "  treatment: {measure: VV}\n  estimand: now_vs_never\n")
    assert rendered(path) == [
        "valid.yaml:51:13: error LM001 evaluation.estimand: expected one of 'enrol_vs_not', 'enrol_now_vs_later'; "
        "got 'now_vs_never'"
    ]


def test_the_other_estimand_is_valid(mutate):
    path = mutate("  treatment: {measure: VV}\n", "  treatment: {measure: VV}\n  estimand: enrol_now_vs_later\n")
    assert rendered(path) == []
