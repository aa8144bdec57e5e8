"""estimate_att against R: lm(..., weights) with sandwich::vcovCL/vcovHC, and Matching::Match."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.effects import estimate_att
from estimation.matched import MatchedSample

from script_loader import load_script

golden = load_script("tests/golden/balance_extra/golden_samples.py")

SCENARIOS = ["lalonde_nn1", "lalonde_nn1_caliper", "lalonde_nn3_exact", "synthetic_nn2"]


def _covariates(scenario: str) -> list[str]:
    _, covs, _ = golden.SCENARIOS[scenario]
    return [c for c in covs if c != "const"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("adjusted", [True, False])
@pytest.mark.parametrize("se_type", ["cluster", "robust"])
def test_estimate_and_se_equal_r(scenario, adjusted, se_type):
    sample, frame = golden.sample(scenario)
    outcome = golden.SCENARIOS[scenario][2]
    expected = golden.effects(scenario)
    key = f"{'adjusted' if adjusted else 'difference'}_{'cr1' if se_type == 'cluster' else 'hc1'}"
    result = estimate_att(
        sample, frame[outcome], covariates=_covariates(scenario) if adjusted else None,
        se_type=se_type, binary=False,
    )
    assert result.estimate == pytest.approx(expected.loc[key, "estimate"], rel=1e-9)
    assert result.std_error == pytest.approx(expected.loc[key, "std_error"], rel=1e-7)


def test_lalonde_published_regression_adjusted_effect():
    """MatchIt's vignette: lm(re78 ~ treat + covariates, weights) on the 1:1 match: 1344.94."""
    sample, frame = golden.sample("lalonde_nn1")
    result = estimate_att(sample, frame["re78"], covariates=golden.LALONDE_COVARIATES)
    assert round(result.estimate, 2) == 1344.94
    assert result.se_type == "cluster" and result.n_clusters == 185
    assert (result.n_treated, result.n_control) == (185, 185)


@pytest.mark.parametrize("scenario", ["lalonde_nn1", "lalonde_nn3_exact"])
def test_binary_risk_difference_and_ratios_equal_r(scenario):
    sample, frame = golden.sample(scenario)
    expected = golden.effects(scenario)
    result = estimate_att(sample, (frame["re78"] > 0).astype(int))
    assert result.scale == "risk_difference"
    assert result.estimate == pytest.approx(expected.loc["binary_rd", "estimate"], rel=1e-9)
    assert result.std_error == pytest.approx(expected.loc["binary_rd", "std_error"], rel=1e-7)
    rr, odds = result.ratios
    assert (rr.scale, odds.scale) == ("risk_ratio", "odds_ratio")
    assert np.log(rr.estimate) == pytest.approx(expected.loc["binary_log_rr", "estimate"], rel=1e-9)
    assert rr.std_error == pytest.approx(expected.loc["binary_log_rr", "std_error"], rel=1e-7)
    assert np.log(odds.estimate) == pytest.approx(expected.loc["binary_log_or", "estimate"],
                                                  rel=1e-9)
    assert odds.std_error == pytest.approx(expected.loc["binary_log_or", "std_error"], rel=1e-7)
    z = 1.959963984540054
    assert rr.ci_low == pytest.approx(np.exp(np.log(rr.estimate) - z * rr.std_error), rel=1e-9)


def _match_sample(M: int, J: int) -> tuple[MatchedSample, np.ndarray]:
    syn = golden.data("synthetic")
    ps = pd.read_csv(golden.HERE / "synthetic_ps.csv")["ps"].to_numpy()
    pairs = pd.read_csv(golden.HERE / f"synthetic_match_M{M}_J{J}_pairs.csv")
    treat = syn["treat"].to_numpy() == 1
    treated = np.flatnonzero(treat)
    mm = np.full((treated.size, M), -1, dtype=np.int64)
    slot = {t: 0 for t in treated}
    index = {t: i for i, t in enumerate(treated)}
    weights = np.zeros(treat.size)
    for t, c in zip(pairs["treated_row"], pairs["control_row"]):
        mm[index[t], slot[t]] = c
        slot[t] += 1
        weights[c] += 1.0 / M
    weights[treated[(mm >= 0).any(axis=1)]] = 1.0
    controls = ~treat & (weights > 0)
    weights[controls] *= controls.sum() / weights[controls].sum()
    sample = MatchedSample(
        treat=treat, distance=ps, weights=weights, subclass=np.full(treat.size, -1),
        match_matrix=mm, discarded=np.zeros(treat.size, bool),
        covariates=syn[golden.SYNTHETIC_COVARIATES], settings={"replace": True},
    )
    return sample, syn["y"].to_numpy()


@pytest.mark.parametrize("M", [1, 2])
def test_abadie_imbens_equals_matching_package(M):
    expected = pd.read_csv(golden.HERE / "synthetic_abadie_imbens.csv")
    row = expected[(expected["M"] == M) & (expected["J"] == 1)].iloc[0]
    sample, y = _match_sample(M, 1)
    result = estimate_att(sample, y)
    assert result.se_type == "abadie_imbens"
    assert result.estimate == pytest.approx(row["estimate"], rel=1e-9)
    assert result.std_error == pytest.approx(row["se_ai"], rel=1e-8)


@pytest.mark.parametrize("M", [1, 2])
def test_abadie_imbens_with_two_variance_matches_is_close_to_matching(M):
    """J = 2: Matching's C code picks neighbours slightly differently; within 3 %."""
    expected = pd.read_csv(golden.HERE / "synthetic_abadie_imbens.csv")
    row = expected[(expected["M"] == M) & (expected["J"] == 2)].iloc[0]
    sample, y = _match_sample(M, 2)
    result = estimate_att(sample, y, variance_matches=2)
    assert result.std_error == pytest.approx(row["se_ai"], rel=0.03)
