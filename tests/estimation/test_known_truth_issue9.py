"""Known truth, small versions of benchmarks/validate_replacement.py and
benchmarks/validate_sensitivity.py (the full tables: validate_coverage.py --part ...)."""

from __future__ import annotations

import warnings

import pytest

from script_loader import load_benchmark


@pytest.fixture(scope="module")
def replacement():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_benchmark("validate_replacement").run(reps=80, n=800, seed=11) \
            .set_index("estimator, SE")


def test_robust_se_after_replacement_holds_its_level(replacement):
    for label in ("difference, robust (unit-clustered HC1)",
                  "regression, robust (unit-clustered HC1)"):
        row = replacement.loc[label]
        assert row["rejection at 5%"] <= 0.10, label
        assert row["se/sd"] >= 0.9, label


def test_hc1_on_stacked_rows_was_too_small(replacement):
    """The defect the fix removes: rows of a reused control treated as independent."""
    for kind in ("difference", "regression"):
        rows = replacement.loc[f"{kind}, HC1 on rows (before)"]
        unit = replacement.loc[f"{kind}, robust (unit-clustered HC1)"]
        assert rows["mean_se"] < 0.75 * unit["mean_se"], kind
        assert rows["rejection at 5%"] > unit["rejection at 5%"], kind
    assert replacement.loc["regression, HC1 on rows (before)", "rejection at 5%"] > 0.10


@pytest.fixture(scope="module")
def sensitivity():
    return load_benchmark("validate_sensitivity").run(
        reps=400, seed=5, designs=["binary, 3:1", "continuous t(3), 1 to 4 controls"]) \
        .set_index(["design", "test"])


@pytest.mark.parametrize("design", ["binary, 3:1", "continuous t(3), 1 to 4 controls"])
def test_m_statistic_holds_its_level_at_gamma_one(sensitivity, design):
    row = sensitivity.loc[(design, "M-statistic")]
    assert row["rejection at 5%"] <= 0.05 + 3 * row["mc_se"]


def test_wilcoxon_on_treated_minus_mean_of_controls_is_invalid_for_binary_3_to_1(sensitivity):
    assert sensitivity.loc[("binary, 3:1", "Wilcoxon on treated - mean of controls"),
                           "rejection at 5%"] > 0.2
