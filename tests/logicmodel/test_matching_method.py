"""``evaluation.matching.method`` and the settings of each method: one mutation per test."""

from __future__ import annotations

from pathlib import Path

from logicmodel.validation import validate_paths

COVARIATES = "  covariates: [age, sex, nationality]\n"
PIPELINE = ("valid.yaml:52:22: error LM047 evaluation.matching.method: method '{m}' is not used by the "
            "register evaluation yet: its risk-set matching is nearest-neighbour (the ATT per enrolment "
            "month); use method: nearest here, and try '{m}' on an extract with tiltak match --method {m}")


def rendered(path: Path) -> list[str]:
    """Issues as lines, with the temporary folder replaced by its file name."""
    report = validate_paths([str(path)])
    folder = str(path.parent) + "/"
    return [issue.render().replace(folder, "") for issue in report.issues]


def with_matching(mutate, text: str):
    return mutate(COVARIATES, COVARIATES + f"  matching: {text}\n")


def test_nearest_is_the_default_and_valid(mutate):
    assert rendered(with_matching(mutate, "{method: nearest, ratio: 2}")) == []


def test_other_methods_are_refused_by_the_register_pipeline(mutate):
    assert rendered(with_matching(mutate, "{method: full}")) == [PIPELINE.format(m="full")]


def test_an_unknown_method_lists_the_methods(mutate):
    assert rendered(with_matching(mutate, "{method: fulll}")) == [
        "valid.yaml:52:22: error LM001 evaluation.matching.method: expected one of 'nearest', 'optimal', 'full', "
        "'subclass', 'cem', 'weighting'; got 'fulll'"
    ]


def test_a_setting_of_another_method_is_an_error(mutate):
    assert rendered(with_matching(mutate, "{method: subclass, replace: true, subclasses: 5}")) == [
        PIPELINE.format(m="subclass"),
        "valid.yaml:52:41: error LM046 evaluation.matching.replace: 'replace' is a setting of method nearest; "
        "this design uses method 'subclass'",
    ]


def test_cutpoints_must_be_a_rule_bins_or_cut_points(mutate):
    assert rendered(with_matching(mutate, "{method: cem, cutpoints: {age: -1}}")) == [
        PIPELINE.format(m="cem"),  # the rules run on the parts that parse (the method does)
        "valid.yaml:52:44: error LM001 evaluation.matching.cutpoints.age: expected sturges, scott, fd, qK (K "
        "quantile bins), a number of bins (0: exact, 1: leave out) or a list of cut points; got -1"
    ]


def test_cutpoints_name_covariates(mutate):
    lines = rendered(with_matching(mutate, "{method: cem, cutpoints: {age: q4, months_in_reception: [6, 12]}}"))
    assert lines == [
        PIPELINE.format(m="cem"),
        "valid.yaml:52:69: error LM046 evaluation.matching.cutpoints.months_in_reception: cutpoints for "
        "'months_in_reception', which is not among the covariates; add it to covariates",
    ]


def test_variable_ratio_limits_are_checked(mutate):
    lines = rendered(with_matching(mutate, "{method: optimal, ratio: 2, min_controls: 1, max_controls: 2}"))
    assert lines == [
        PIPELINE.format(m="optimal"),
        "valid.yaml:52:72: error LM046 evaluation.matching.max_controls: variable-ratio matching needs whole "
        "numbers 1 <= min_controls < ratio < max_controls; got 1, 2, 2",
    ]
