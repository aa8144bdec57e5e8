"""Balance table: boundary cases, invariances and pinned error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.balance import balance_table
from estimation.errors import EstimationError
from estimation.matched import MatchedSample


def _sample(covariates: pd.DataFrame, treat, weights, *, mm=None, distance=None, discarded=None):
    treat = np.asarray(treat, bool)
    n = treat.size
    weights = np.asarray(weights, float)
    if mm is None:
        mm = np.full((int(treat.sum()), 1), -1, dtype=np.int64)
    return MatchedSample(
        treat=treat, distance=np.linspace(0.2, 0.8, n) if distance is None else distance,
        weights=weights, subclass=np.full(n, -1), match_matrix=np.asarray(mm),
        discarded=np.zeros(n, bool) if discarded is None else np.asarray(discarded),
        covariates=covariates.reset_index(drop=True),
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame({
        "age": rng.integers(18, 70, n).astype(float),
        "sex": rng.choice(["male", "female"], n),
        "dublin": rng.random(n) < 0.3,
        "centre": pd.Categorical(rng.choice(["c1", "c2", "c3"], n), categories=["c3", "c1", "c2"]),
    })
    treat = np.r_[np.ones(20, bool), np.zeros(40, bool)]
    weights = np.r_[np.ones(20), np.ones(20), np.zeros(20)]
    mm = np.arange(20, 40).reshape(-1, 1)
    return frame, treat, weights, mm


def test_factor_levels_expand_in_matchit_order(data):
    frame, treat, weights, mm = data
    table = balance_table(_sample(frame, treat, weights, mm=mm), include_distance=False)
    assert list(table.frame["term"]) == [
        "age", "sexfemale", "sexmale", "dublinTRUE", "centrec3", "centrec1", "centrec2"]
    assert list(table.frame["variable"]) == ["age", "sex", "sex", "dublin", "centre", "centre",
                                             "centre"]
    assert table.frame["binary"].tolist() == [False] + [True] * 6
    binary = table.frame.iloc[1]
    assert np.isnan(binary["var_ratio_before"])
    assert binary["ecdf_max_before"] == pytest.approx(abs(binary["mean_treated_before"]
                                                          - binary["mean_control_before"]))


def test_all_weights_equal_gives_after_equal_to_before(data):
    frame, treat, _, mm = data
    table = balance_table(_sample(frame, treat, np.ones(60)))
    for stat in ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"):
        np.testing.assert_array_equal(table.frame[f"{stat}_before"], table.frame[f"{stat}_after"])
    assert table.sample_sizes.loc["Matched (ESS)", "Control"] == 40


def test_constant_covariate_is_as_matchit_shows_it(data):
    """SMD 0 (the raw difference, below sqrt(eps)); eCDF 0; the variance ratio is a ratio of
    rounding noise, which MatchIt 4.5.1 prints as 1.0263157894736841 for this very input
    (MatchIt:::bal1var(rep(7, 60), c(rep(1, 20), rep(0, 40)), ...)) and tiltak reproduces."""
    frame, treat, weights, mm = data
    frame = frame.assign(const=7.0)
    row = balance_table(_sample(frame, treat, weights, mm=mm)).frame.set_index("term").loc["const"]
    assert row["smd_before"] == 0 and row["smd_after"] == 0
    assert row["ecdf_max_before"] == 0 and row["ecdf_mean_after"] == 0
    assert row["var_ratio_before"] == 1.0263157894736841


def test_no_matched_controls_gives_undefined_after_statistics(data):
    frame, treat, _, _ = data
    weights = np.r_[np.ones(20), np.zeros(40)]
    table = balance_table(_sample(frame, treat, weights))
    assert np.isnan(table.frame["mean_control_after"]).all()
    assert table.sample_sizes.loc["Matched", "Control"] == 0
    assert table.sample_sizes.loc["Unmatched", "Control"] == 40
    assert "Sample sizes" in table.as_text()


def test_invariant_to_row_order_and_covariate_order(data):
    frame, treat, weights, mm = data
    base = balance_table(_sample(frame, treat, weights, mm=mm))
    perm = np.random.default_rng(0).permutation(60)
    inverse = np.argsort(perm)
    mm_perm = inverse[mm[np.argsort(inverse[:20])]]
    shuffled = _sample(frame.iloc[perm], treat[perm], weights[perm], mm=mm_perm,
                       distance=np.linspace(0.2, 0.8, 60)[perm])
    other = balance_table(shuffled)
    pd.testing.assert_frame_equal(base.frame, other.frame, check_exact=False, rtol=1e-12)
    reordered = balance_table(_sample(frame[["centre", "dublin", "sex", "age"]], treat, weights,
                                      mm=mm))
    merged = reordered.frame.set_index("term").loc[base.frame["term"]].reset_index()
    pd.testing.assert_frame_equal(
        base.frame.drop(columns=["variable", "level"]),
        merged.drop(columns=["variable", "level"]), check_exact=False, rtol=1e-12)


def test_binary_raw_option_shows_difference_in_proportions(data):
    frame, treat, weights, mm = data
    table = balance_table(_sample(frame, treat, weights, mm=mm), binary="raw")
    row = table.frame.set_index("term").loc["dublinTRUE"]
    assert row["smd_before"] == pytest.approx(row["mean_treated_before"]
                                              - row["mean_control_before"])


def test_max_abs_smd_excludes_distance_and_imbalanced_lists_terms(data):
    frame, treat, weights, mm = data
    table = balance_table(_sample(frame, treat, weights, mm=mm))
    covs = table.frame.iloc[1:]
    assert table.max_abs_smd_after == pytest.approx(np.nanmax(np.abs(covs["smd_after"])))
    assert set(table.imbalanced(0.0)) <= set(covs["term"])
    html = table.as_html()
    assert "<caption>Sample sizes</caption>" in html and "Std. Mean Diff." in html


@pytest.mark.parametrize(
    "mutate,kwargs,message",
    [
        (lambda f: f.assign(age=[np.nan] * 3 + list(f["age"][3:])), {},
         "Missing values in covariates: 'age' \\(3 rows\\)"),
        (lambda f: f, {"covariates": ["age", "height"]},
         "unknown covariate\\(s\\) 'height'; expected names among 'age', 'sex'"),
        (lambda f: f, {"covariates": pd.DataFrame({"x": [1.0]})},
         "'covariates' has 1 rows; expected one per unit of the matched sample \\(60\\)"),
        (lambda f: f, {"s_d_denom": "average"},
         "The 's_d_denom' parameter of balance_table must be a str among"),
        (lambda f: f, {"binary": "yes"}, "The 'binary' parameter of balance_table"),
        (lambda f: f.assign(age=np.inf), {}, "Covariate 'age' must hold finite numbers"),
    ],
)
def test_errors_name_the_problem(data, mutate, kwargs, message):
    frame, treat, weights, mm = data
    with pytest.raises(EstimationError, match=message):
        balance_table(_sample(mutate(frame), treat, weights, mm=mm), **kwargs)


def test_one_group_only_is_an_error(data):
    frame, _, weights, _ = data
    with pytest.raises(EstimationError, match="needs both treated and control units; got 0 treated"):
        balance_table(_sample(frame, np.zeros(60, bool), weights))
    with pytest.raises(EstimationError, match="expects an estimation.MatchedSample; got dict"):
        balance_table({})


def test_non_finite_distance_is_an_error(data):
    frame, treat, weights, mm = data
    distance = np.linspace(0.2, 0.8, 60)
    distance[5] = np.nan
    with pytest.raises(EstimationError, match="distance must hold one finite value per unit; "
                                              "got 1 missing or infinite of 60"):
        balance_table(_sample(frame, treat, weights, mm=mm, distance=distance))
