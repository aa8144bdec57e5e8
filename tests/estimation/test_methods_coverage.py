"""Known truth for the methods beyond nearest neighbour: a small version of
benchmarks/validate_methods.py (which runs 500 replications per design and prints the
table). Here 40 replications of the standard design (n = 2,000, heterogeneous effects, so
that the ATT, ATE and ATO differ): the regression-adjusted estimates of matching and the
weighted estimates must sit within 4 Monte Carlo standard errors of their own estimand,
their intervals must cover it in at least 85 % of the replications, and the M-estimation
standard errors of weighting must match the spread of the estimates."""

from __future__ import annotations

import pytest

from script_loader import load_benchmark

pytestmark = pytest.mark.slow  # known-truth replications

validate = load_benchmark("validate_methods")

CHECKED = [  # (1:1 pair matching of 30 % treated units leaves imbalance: not checked here)
    ("full", "ATT", "regression"),
    ("full", "ATE", "regression"),
    ("subclass 6", "ATE", "regression"),
    ("ipw", "ATT", "difference"),
    ("ipw", "ATE", "difference"),
    ("overlap", "ATO", "difference"),
    ("ebal", "ATT", "difference"),
    ("ebal", "ATE", "difference"),
]
WEIGHTING = [row for row in CHECKED if row[0] in ("ipw", "overlap", "ebal")]


@pytest.fixture(scope="module")
def table():
    only = {(name, estimand) for name, estimand, _ in CHECKED}
    result = validate.run(reps=40, seed=3, designs=("standard",), draws=1_000_000, only=only)
    return result.set_index(["method", "estimand", "estimator"])


def test_the_estimands_differ_so_the_check_can_tell_them_apart():
    truth = validate.truths("standard", draws=1_000_000)
    assert truth["ATT"] - truth["ATE"] > 0.1 and abs(truth["ATO"] - truth["ATE"]) > 0.02


@pytest.mark.parametrize("row", CHECKED)
def test_each_estimate_is_unbiased_for_its_own_estimand(table, row):
    result = table.loc[row]
    assert abs(result["bias"]) <= 4 * result["mc_se"], f"{row}: bias {result['bias']:.4f}"


@pytest.mark.parametrize("row", CHECKED)
def test_intervals_cover_the_estimand(table, row):
    assert table.loc[row, "coverage"] >= 0.85, f"{row}: coverage {table.loc[row, 'coverage']:.3f}"


@pytest.mark.parametrize("row", WEIGHTING)
def test_m_estimation_standard_errors_match_the_spread(table, row):
    result = table.loc[row]
    assert 0.7 <= result["mean_se"] / result["sd"] <= 1.4, f"{row}: {result['mean_se'] / result['sd']:.2f}"
