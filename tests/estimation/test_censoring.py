"""censoring_weights: the stabilised weights by hand, known truth for a weighted curve
under censoring that depends on a time-varying covariate, and pinned error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.censoring import censoring_weights
from estimation.errors import EstimationError
from estimation.incidence import aalen_johansen

MONTHS = 12
RETURN_SHARE = 0.6


def _hazard(z):
    return 0.03 + 0.05 * z


def _censor(z):
    return 0.02 + 0.25 * z


def _simulate(n: int, seed: int) -> pd.DataFrame:
    """One row per unit-month at risk: z at the start of the month, the event (if any,
    mid-month) and censoring at the month's end (when no event); z switches on at 10 % a
    month and raises both the event hazard and the censoring hazard."""
    rng = np.random.default_rng(seed)
    rows = []
    z = (rng.random(n) < 0.3).astype(int)
    alive = np.ones(n, dtype=bool)
    for k in range(MONTHS):
        idx = np.flatnonzero(alive)
        event = rng.random(idx.size) < _hazard(z[idx])
        cause = np.where(rng.random(idx.size) < RETURN_SHARE, "return", "other")
        censor = ~event & (rng.random(idx.size) < _censor(z[idx]))
        if k == MONTHS - 1:
            censor = censor & False
        rows.append(pd.DataFrame({
            "unit": idx, "interval": k, "z": z[idx], "z0": 0, "censored": censor.astype(int),
            "entry": float(k), "exit": np.where(event, k + 0.5, k + 1.0),
            "event": np.where(event, cause, "none")}))
        alive[idx[event | censor]] = False
        z = np.where(rng.random(n) < 0.1, 1, z)
    frame = pd.concat(rows, ignore_index=True)
    first = frame.groupby("unit")["z"].transform("first")
    frame["z0"] = first
    return frame


def _truth() -> float:
    """P(return within 12 months) without censoring, exactly (dynamic programming on z)."""
    p = np.array([0.7, 0.3])  # alive, by z
    total = 0.0
    for _ in range(MONTHS):
        h = _hazard(np.array([0, 1]))
        total += RETURN_SHARE * float((p * h).sum())
        p = p * (1 - h)
        p = np.array([p[0] * 0.9, p[1] + p[0] * 0.1])
    return total


def _curve(frame: pd.DataFrame, weights) -> float:
    curve = aalen_johansen(frame["exit"], frame["event"], cause="return", censored="none",
                           weights=weights, entry=frame["entry"], unit=frame["unit"],
                           horizons=[MONTHS])
    return float(curve.at_horizons[0]), float(curve.std_error[0])


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return _simulate(30_000, seed=4)


def test_weights_correct_censoring_that_depends_on_a_time_varying_covariate(cohort):
    frame = cohort
    truth = _truth()
    naive, se = _curve(frame, None)
    assert naive < truth - 6 * se  # censoring removes the high-risk units
    marginal = censoring_weights(frame["unit"], frame["interval"], frame["censored"],
                                 covariates=frame[["z"]])
    weighted, se_w = _curve(frame, marginal.weights)
    assert abs(weighted - truth) < 3 * se_w
    assert 0.85 < marginal.weights.mean() < 1.15
    described = marginal.describe()
    assert described.loc["ESS", "weights"] <= described.loc["n", "weights"]


def test_baseline_numerator_needs_the_baseline_covariate_adjusted_for(cohort):
    """Numerator on z0: the weighted curve is right within levels of z0 (standardised to the
    baseline distribution), as the docs say."""
    frame = cohort
    result = censoring_weights(frame["unit"], frame["interval"], frame["censored"],
                               covariates=frame[["z"]], baseline=frame[["z0"]])
    shares = frame.groupby("unit")["z0"].first().value_counts(normalize=True)
    standardised, variance = 0.0, 0.0
    for z0, share in shares.items():
        rows = (frame["z0"] == z0).to_numpy()
        estimate, se = _curve(frame[rows], result.weights[rows])
        standardised += share * estimate
        variance += (share * se) ** 2
    assert abs(standardised - _truth()) < 3 * variance**0.5
    assert np.isfinite(result.coefficients.loc["z0", "numerator"])


def test_weight_is_the_product_over_earlier_intervals():
    frame = _simulate(3000, seed=2)
    result = censoring_weights(frame["unit"], frame["interval"], frame["censored"],
                               covariates=frame[["z"]])
    factor = (1 - result.p_numerator) / (1 - result.p_denominator)
    frame = frame.assign(factor=factor, w=result.weights)
    for _, rows in list(frame.groupby("unit"))[:50]:
        rows = rows.sort_values("interval")
        expected = np.r_[1.0, np.cumprod(rows["factor"].to_numpy())[:-1]]
        np.testing.assert_allclose(rows["w"], expected, rtol=1e-12)
    shuffled = frame.sample(frac=1.0, random_state=1)
    again = censoring_weights(shuffled["unit"], shuffled["interval"], shuffled["censored"],
                              covariates=shuffled[["z"]])
    np.testing.assert_allclose(pd.Series(again.weights, index=shuffled.index).sort_index(),
                               result.weights, rtol=1e-10)


def test_truncation_at_quantiles_is_reported():
    frame = _simulate(3000, seed=5)
    result = censoring_weights(frame["unit"], frame["interval"], frame["censored"],
                               covariates=frame[["z"]], truncate=(0.01, 0.99))
    low, high = result.truncation
    assert result.weights.min() >= low and result.weights.max() <= high
    assert result.n_truncated == int((result.weights != result.untruncated).sum()) > 0
    text = result.as_text()
    assert "truncated to" in text and "Censoring models" in text
    assert "z" in result.coefficients.index


def test_no_censoring_gives_weight_one_with_a_note():
    result = censoring_weights([1, 1, 2], [0, 1, 0], [0, 0, 0])
    assert result.weights.tolist() == [1.0, 1.0, 1.0]
    assert any("No unit is censored" in n for n in result.notes)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"interval": [0, 2, 0]}, "one row per interval, numbered without gaps"),
        ({"interval": [0, 0, 0]}, "one row per interval, numbered without gaps"),
        ({"censored": [1, 0, 0]}, "rows after the row on which they are censored"),
        ({"censored": [0, 2, 0]}, "'censored' must be 0/1"),
        ({"interval": [0, 1.5, 0]}, "'interval' must be whole numbers >= 0"),
        ({"unit": [1, None, 2]}, "'unit' is missing in 1 row"),
        ({"censored": [0, 1]}, "'censored' has 2 values; expected 3"),
        ({"truncate": (0.9, 0.1)}, "'truncate' parameter of censoring_weights"),
        ({"covariates": pd.DataFrame({"z": [1.0, 2.0]})}, "'covariates' has 2 rows"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"unit": [1, 1, 2], "interval": [0, 1, 0], "censored": [0, 1, 0], **kwargs}
    with pytest.raises(EstimationError, match=message):
        censoring_weights(args.pop("unit"), args.pop("interval"), args.pop("censored"), **args)
