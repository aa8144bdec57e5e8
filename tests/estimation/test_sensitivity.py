"""Rosenbaum bounds and E-values: golden numbers (independent R), scipy and published examples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from estimation.effects import estimate_att
from estimation.errors import EstimationError
from estimation.sensitivity import (
    e_value,
    rosenbaum_binary,
    rosenbaum_binary_counts,
    rosenbaum_wilcoxon,
    rosenbaum_wilcoxon_differences,
)

from script_loader import load_script

GOLDEN = Path(__file__).parents[1] / "golden" / "sensitivity"
golden = load_script("tests/golden/balance_extra/golden_samples.py")


def _assert_bounds(result, expected: pd.DataFrame) -> None:
    frame = result.frame().set_index("gamma").loc[expected["gamma"]]
    np.testing.assert_allclose(frame["p_lower"], expected["lower"], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(frame["p_upper"], expected["upper"], rtol=1e-9, atol=1e-15)


def test_binary_bounds_equal_rbounds_formula_on_lalonde():
    sample, frame = golden.sample("lalonde_nn1")
    expected = pd.read_csv(GOLDEN / "lalonde_nn1_binary.csv")
    result = rosenbaum_binary(sample, (frame["re78"] > 0).astype(int))
    assert (result.statistic, result.n_pairs) == (35, 68)
    assert result.alternative == "greater"
    _assert_bounds(result, expected)
    assert not result.significant_without_bias and math.isnan(result.gamma_critical)


def test_wilcoxon_bounds_equal_rbounds_formula_on_lalonde():
    sample, frame = golden.sample("lalonde_nn1")
    result = rosenbaum_wilcoxon(sample, frame["re78"])
    _assert_bounds(result, pd.read_csv(GOLDEN / "lalonde_nn1_wilcoxon.csv"))


def test_counts_example_by_hand_and_critical_gamma():
    # 12 of 15 discordant pairs favour treatment: P(Bin(15, 1/2) >= 12) = 576 / 32768
    result = rosenbaum_binary_counts(12, 3)
    _assert_bounds(result, pd.read_csv(GOLDEN / "counts_12_3_binary.csv"))
    assert result.p_upper[0] == pytest.approx(576 / 32768, rel=1e-12)
    from scipy.stats import binom

    g = result.gamma_critical
    assert 1.25 < g < 1.5
    assert binom.sf(11, 15, g / (1 + g)) == pytest.approx(0.05, abs=1e-9)
    assert f"Gamma = {g:.3f} or more" in result.conclusion()
    assert result.first_gamma_on_grid == 1.5  # p_upper(1.25) = 0.046 <= 0.05 < p_upper(1.5)


def test_wilcoxon_at_gamma_one_equals_scipy():
    rng = np.random.default_rng(5)
    d = np.round(rng.normal(0.3, 1, 80), 1)  # rounded: ties and zeros
    result = rosenbaum_wilcoxon_differences(d, gammas=[1.0])
    expected = wilcoxon(d, alternative="greater", correction=False, method="approx",
                        zero_method="wilcox").pvalue
    assert result.p_upper[0] == pytest.approx(expected, rel=1e-10)
    assert result.p_lower[0] == result.p_upper[0]


def test_bounds_are_monotone_in_gamma():
    d = np.random.default_rng(1).normal(0.5, 1, 60)
    result = rosenbaum_wilcoxon_differences(d, gammas=np.linspace(1, 4, 13))
    assert np.all(np.diff(result.p_upper) > 0) and np.all(np.diff(result.p_lower) < 0)
    assert result.significant_without_bias and result.gamma_critical > 1


def test_alternative_less_mirrors_greater():
    d = np.random.default_rng(2).normal(0.4, 1, 50)
    a = rosenbaum_wilcoxon_differences(d, alternative="greater")
    b = rosenbaum_wilcoxon_differences(-d, alternative="less")
    assert a.p_upper == b.p_upper and a.gamma_critical == b.gamma_critical


def test_no_discordant_pairs_has_no_information():
    result = rosenbaum_binary_counts(0, 0)
    assert set(result.p_upper) == {1.0} and math.isnan(result.gamma_critical)


def test_k_to_one_sets_are_refused_by_the_pair_tests():
    """Treated-minus-mean-of-controls differences are not sign-symmetric under the null;
    k:1 sets go to rosenbaum_mstatistic (tests/estimation/test_mstatistic.py)."""
    sample, frame = golden.sample("lalonde_nn3_exact")
    with pytest.raises(EstimationError, match="needs 1:1 matched pairs"):
        rosenbaum_binary(sample, (frame["re78"] > 0).astype(int))
    with pytest.raises(EstimationError, match="needs 1:1 matched pairs.*rosenbaum_mstatistic"):
        rosenbaum_wilcoxon(sample, frame["re78"])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"gammas": [0.5]}, "'gammas' parameter of rosenbaum_binary must be a non-empty"),
        ({"alpha": 1.5}, "'alpha' parameter of rosenbaum_binary must be a float in \\(0, 1\\)"),
        ({"alternative": "two"}, "'alternative' parameter of rosenbaum_binary"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(EstimationError, match=message):
        rosenbaum_binary_counts(3, 1, **kwargs)


def test_e_value_published_examples():
    # VanderWeele & Ding (2017): RR 3.9 (95% CI 1.8 to 8.7) -> 7.26 and 3.0
    ev = e_value(3.9, 1.8, 8.7)
    assert ev.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)
    assert round(ev.point, 2) == 7.26 and ev.ci == pytest.approx(3.0, rel=1e-12)
    # EValue package documentation: RR 0.80 (0.71 to 0.91) -> 1.81 and 1.43
    ev = e_value(0.80, 0.71, 0.91)
    assert round(ev.point, 2) == 1.81 and round(ev.ci, 2) == 1.43


def test_e_value_interval_crossing_null_is_one_and_conversions():
    assert e_value(1.3, 0.9, 1.8).ci == 1.0
    assert e_value(1.0).point == 1.0
    smd = e_value(0.5, 0.2, 0.8, scale="smd")
    assert smd.risk_ratio == pytest.approx(math.exp(0.91 * 0.5))
    diff = e_value(5.0, 2.0, 8.0, scale="difference", sd=10.0)
    assert diff.point == pytest.approx(smd.point) and diff.ci == pytest.approx(smd.ci)
    common = e_value(4.0, scale="odds_ratio", rare_outcome=False)
    assert common.risk_ratio == pytest.approx(2.0)
    with pytest.raises(EstimationError, match="'sd' parameter of e_value"):
        e_value(5.0, scale="difference")
    with pytest.raises(EstimationError, match="'estimate' parameter of e_value"):
        e_value(-1.0)


def test_e_value_of_a_binary_effect_uses_its_risk_ratio():
    sample, frame = golden.sample("lalonde_nn1")
    effect = estimate_att(sample, (frame["re78"] > 0).astype(int))
    rr = effect.ratios[0]
    ev = e_value(effect)
    assert ev.risk_ratio == pytest.approx(rr.estimate) and ev.ci == 1.0
    assert "E-value" in ev.as_text()
