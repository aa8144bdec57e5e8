"""Known truth: bias and 95 % interval coverage over simulated replications (small version of
benchmarks/validate_coverage.py, which prints the full table)."""

from __future__ import annotations

import warnings

import pytest

from script_loader import load_benchmark

pytestmark = pytest.mark.slow  # known-truth replications

validate = load_benchmark("validate_coverage")


@pytest.fixture(scope="module")
def table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return validate.run(
            reps=200, n=800, seed=7, truth=validate.true_att(draws=1_000_000),
            designs=["1:1 without replacement", "1:1 without replacement, true score",
                     "1:1 with replacement, true score"],
        ).set_index(["design", "estimator", "se_type"])


@pytest.mark.parametrize(
    "row",
    [
        ("1:1 without replacement, true score", "difference", "cluster"),
        ("1:1 without replacement, true score", "regression", "cluster"),
        ("1:1 without replacement", "regression", "cluster"),
        ("1:1 with replacement, true score", "difference", "abadie_imbens"),
    ],
)
def test_interval_coverage_is_near_nominal(table, row):
    coverage = table.loc[row, "coverage"]
    assert 0.90 <= coverage <= 0.985, f"{row}: coverage {coverage:.3f}"


def test_regression_adjusted_estimate_is_unbiased(table):
    row = table.loc[("1:1 without replacement", "regression", "cluster")]
    # bias within 3 Monte Carlo standard errors of the mean estimate
    assert abs(row["bias"]) < 3 * row["sd"] / 200**0.5


def test_abadie_imbens_se_matches_the_spread_of_the_estimates(table):
    row = table.loc[("1:1 with replacement, true score", "difference", "abadie_imbens")]
    assert 0.85 <= row["mean_se"] / row["sd"] <= 1.15


def test_estimated_score_makes_the_unadjusted_cluster_se_conservative_not_liberal(table):
    """With an estimated propensity score the matched difference varies less than the pair
    SE says (Abadie and Imbens 2016): intervals may over-cover, never badly under-cover."""
    row = table.loc[("1:1 without replacement", "difference", "cluster")]
    assert row["coverage"] >= 0.90 and row["mean_se"] >= 0.95 * row["sd"]
