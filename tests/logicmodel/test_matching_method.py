"""``evaluation.matching.method`` and the settings of each method: one mutation per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from logicmodel.validation import validate_paths

COVARIATES = "  covariates: [age, sex, nationality]\n"
ESTIMAND = ("valid.yaml:52:{col}: error LM047 evaluation.matching.estimand: estimand '{e}' is not used by the "
            "register evaluation: its verdicts, known truth and cost per additional outcome are defined for the "
            "ATT (the effect on the participants); leave the key out (ATT), and use tiltak match --estimand {e} "
            "on an extract")


def rendered(path: Path, lm048: bool = False) -> list[str]:
    """Issues as lines, with the temporary folder replaced by its file name (LM048's warning on
    a method not yet validated in the register design only when asked for)."""
    report = validate_paths([str(path)])
    folder = str(path.parent) + "/"
    lines = [issue.render().replace(folder, "") for issue in report.issues]
    return lines if lm048 else [line for line in lines if " LM048 " not in line]


def with_matching(mutate, text: str):
    return mutate(COVARIATES, COVARIATES + f"  matching: {text}\n")


def test_nearest_is_the_default_and_valid(mutate):
    assert rendered(with_matching(mutate, "{method: nearest, ratio: 2}")) == []


@pytest.mark.parametrize("text", ["{method: optimal, ratio: 2}", "{method: full, max_controls: 4}",
                                  "{method: subclass, subclasses: 8}", "{method: cem, cutpoints: {age: q4}}",
                                  "{method: weighting}", "{method: weighting, weights: ebal, moments: 2}",
                                  "{method: weighting, trim: 0.05}", "{method: full, estimand: ATT}"])
def test_every_method_is_valid_for_the_register_pipeline(mutate, text):
    lines = rendered(with_matching(mutate, text), lm048=True)
    if "optimal" in text:
        assert lines == []
    else:  # runs, with a warning: its standard errors are not yet right in the register design
        (line,) = lines
        assert line.startswith("valid.yaml:52:") and " warning LM048 evaluation.matching.method: method '" in line
        method = "weighting" if "weighting" in text else text.split(",")[0].split()[-1]
        assert {"cem": "8 % of the null changes", "full": "10 % of the null changes",
                "subclass": "9 % of the null changes", "weighting": "8-10 % of the null changes"}[method] in line


@pytest.mark.parametrize("estimand", ["ATE", "ATC", "ATO"])
def test_an_estimand_other_than_the_att_is_refused_naming_the_key(mutate, estimand):
    assert rendered(with_matching(mutate, f"{{method: weighting, estimand: {estimand}}}")) == [
        ESTIMAND.format(col=43, e=estimand)]


@pytest.mark.parametrize("text", [
    "{distance: mahalanobis, caliper: null}", "{distance: robust_mahalanobis, order: closest, caliper: null}",
    "{distance: euclidean, covariate_calipers: {age: 5}, caliper: null}", "{distance: scaled_euclidean, order: random}",
    "{mahvars: [age, sex], caliper: 0.25}", "{antiexact: [sex], reuse_max: 2}", "{order: farthest}",
    "{ratio: 2, min_controls: 1, max_controls: 3}", "{distance: logit, covariate_calipers: {age: 3.5}}",
])
def test_nearest_neighbour_options_are_model_keys(mutate, text):
    assert rendered(with_matching(mutate, text)) == []


@pytest.mark.parametrize("text, expected", [
    ("{method: full, distance: mahalanobis}",
     "valid.yaml:52:22: error LM046 evaluation.matching.distance: distance 'mahalanobis' (on the covariates) is "
     "for method nearest; method 'full' matches on the propensity score (glm or logit)"),
    ("{distance: mahalanobis, order: largest, caliper: null}",
     "valid.yaml:52:22: error LM046 evaluation.matching.order: order 'largest' sorts by the propensity score, "
     "which distance 'mahalanobis' does not have; expected one of 'data', 'random', 'closest', 'farthest'"),
    ("{distance: euclidean, caliper: 0.1}",
     "valid.yaml:52:22: error LM046 evaluation.matching.caliper: a caliper on the propensity score with "
     "distance 'euclidean', which has no score; use covariate_calipers, or caliper: null"),
    ("{distance: euclidean, mahvars: [age], caliper: null}",
     "valid.yaml:52:22: error LM046 evaluation.matching.mahvars: mahvars (a Mahalanobis distance within a score "
     "caliper) needs distance glm or logit; this design matches on the covariates ('euclidean')"),
    ("{mahvars: [age, centre_id]}",
     "valid.yaml:52:22: error LM046 evaluation.matching.mahvars.1: mahvars names 'centre_id', which is not among "
     "the covariates; add it to covariates"),
    ("{antiexact: [region]}",
     "valid.yaml:52:22: error LM046 evaluation.matching.antiexact.0: antiexact names 'region', which is not among "
     "the covariates; add it to covariates"),
    ("{covariate_calipers: {months_in_reception: 3}}",
     "valid.yaml:52:22: error LM046 evaluation.matching.covariate_calipers.months_in_reception: a caliper for "
     "'months_in_reception', which is not among the covariates; add it to covariates"),
    ("{method: cem, reuse_max: 2}",
     "valid.yaml:52:22: error LM046 evaluation.matching.reuse_max: 'reuse_max' is a setting of method nearest; "
     "this design uses method 'cem'"),
    ("{ratio: 2, min_controls: 1, max_controls: 2}",
     "valid.yaml:52:22: error LM046 evaluation.matching.max_controls: variable-ratio matching needs whole numbers "
     "1 <= min_controls < ratio < max_controls; got 1, 2, 2"),
])
def test_nearest_neighbour_options_are_checked(mutate, text, expected):
    lines = rendered(with_matching(mutate, text))
    assert [line.split(": error ", 1)[1] for line in lines] == [expected.split(": error ", 1)[1]]


def test_an_unknown_method_lists_the_methods(mutate):
    assert rendered(with_matching(mutate, "{method: fulll}")) == [
        "valid.yaml:52:22: error LM001 evaluation.matching.method: expected one of 'nearest', 'optimal', 'full', "
        "'subclass', 'cem', 'weighting'; got 'fulll'"
    ]


def test_a_setting_of_another_method_is_an_error(mutate):
    assert rendered(with_matching(mutate, "{method: subclass, replace: true, subclasses: 5}")) == [
        "valid.yaml:52:41: error LM046 evaluation.matching.replace: 'replace' is a setting of method nearest; "
        "this design uses method 'subclass'",
    ]


def test_cutpoints_must_be_a_rule_bins_or_cut_points(mutate):
    assert rendered(with_matching(mutate, "{method: cem, cutpoints: {age: -1}}")) == [
        "valid.yaml:52:44: error LM001 evaluation.matching.cutpoints.age: expected sturges, scott, fd, qK (K "
        "quantile bins), a number of bins (0: exact, 1: leave out) or a list of cut points; got -1"
    ]


def test_cutpoints_name_covariates(mutate):
    lines = rendered(with_matching(mutate, "{method: cem, cutpoints: {age: q4, months_in_reception: [6, 12]}}"))
    assert lines == [
        "valid.yaml:52:69: error LM046 evaluation.matching.cutpoints.months_in_reception: cutpoints for "
        "'months_in_reception', which is not among the covariates; add it to covariates",
    ]


def test_variable_ratio_limits_are_checked(mutate):
    lines = rendered(with_matching(mutate, "{method: optimal, ratio: 2, min_controls: 1, max_controls: 2}"))
    assert lines == [
        "valid.yaml:52:72: error LM046 evaluation.matching.max_controls: variable-ratio matching needs whole "
        "numbers 1 <= min_controls < ratio < max_controls; got 1, 2, 2",
    ]


def test_cem_k2k_is_a_model_key(mutate):
    assert rendered(with_matching(mutate, "{method: cem, k2k: true, k2k_method: euclidean}")) == []


def test_k2k_is_a_key_of_cem_only(mutate):
    lines = rendered(with_matching(mutate, "{method: subclass, k2k: true}"))
    assert [line.split(": error ", 1)[1] for line in lines] == [
        "LM046 evaluation.matching.k2k: 'k2k' is a setting of method cem; this design uses method 'subclass'"]
