"""calibrate_weights and the covariate-adjusted curves: exact balance, the influence
functions including the calibration step against finite differences, and known truth
(residual imbalance after matching removed from the curves)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation.calibration import calibrate_weights
from estimation.errors import EstimationError
from estimation.incidence import aalen_johansen
from estimation.incidence_effects import incidence_effect

HORIZONS = [120.0, 240.0]


def _strata(rng, n_strata=4, n_treated=25, n_control=60, shift=0.5):
    """Strata whose comparisons have lower x than the participants (imbalance left by the
    matching); the exit hazard rises with x; no effect of participation."""
    rows = []
    for s in range(n_strata):
        for treated, n in ((1, n_treated), (0, n_control)):
            x = rng.normal(shift * treated, 1, n)
            g = rng.choice(["a", "b"], n, p=[0.6 - 0.1 * treated, 0.4 + 0.1 * treated])
            rate = np.log(2) / 200 * np.exp(0.7 * x + 0.4 * (g == "b"))
            t = np.ceil(rng.exponential(1 / rate))
            event = np.where(t > 300, "none", rng.choice(["return", "other"], n, p=[0.6, 0.4]))
            rows.append(pd.DataFrame({
                "stratum": f"trial {s}", "unit": [f"{s}-{treated}-{i}" for i in range(n)],
                "treated": treated, "x": x, "g": g, "time": np.minimum(t, 300), "event": event,
                "weight": 1.0 if treated else rng.choice([0.5, 1.0, 2.0], n)}))
    return pd.concat(rows, ignore_index=True)


def _effect(frame, weights, calibration=None, small_sample=True, trial_weights=None):
    pairs = []
    for label in frame["stratum"].unique():
        pair = []
        for treated in (1, 0):
            rows = (frame["stratum"] == label).to_numpy() & (frame["treated"] == treated).to_numpy()
            part = frame[rows]
            pair.append(aalen_johansen(part["time"], part["event"], cause="return",
                                       censored="none", weights=weights[rows], unit=part["unit"],
                                       horizons=HORIZONS, clusters={"person": part["unit"]}))
        pairs.append(tuple(pair))
    return incidence_effect(pairs, cluster="person", calibration=calibration,
                            small_sample=small_sample, adjust=False, weights=trial_weights)


def _calibrate(frame, weights):
    return calibrate_weights(frame[["x", "g"]], frame["treated"] == 1, weights,
                             stratum=frame["stratum"], unit=frame["unit"])


def test_balance_is_exact_and_each_strata_keeps_its_comparison_total():
    frame = _strata(np.random.default_rng(1))
    result = _calibrate(frame, frame["weight"].to_numpy())
    assert np.abs(result.balance["before"]).max() > 0.1
    assert np.abs(result.balance["after"]).max() < 1e-9
    treated = frame["treated"].to_numpy() == 1
    np.testing.assert_array_equal(result.weights[treated], frame["weight"][treated])
    totals = pd.DataFrame({"s": frame["stratum"], "w": result.weights, "b": frame["weight"]})[
        ~treated].groupby("s").sum()
    np.testing.assert_allclose(totals["w"], totals["b"], rtol=1e-12)
    assert result.strata == tuple(frame["stratum"].unique())
    assert "Calibrated comparison weights" in result.summary().as_text()


def test_influence_includes_the_calibration_step():
    """Finite differences: change one unit's base weight, recalibrate, re-estimate (the trials'
    weights given, so fixed: a base weight does not change a trial's count of participants)."""
    frame = _strata(np.random.default_rng(2), n_strata=2, n_treated=12, n_control=25)
    base = frame["weight"].to_numpy()
    cal = _calibrate(frame, base)
    fixed = {"small_sample": False, "trial_weights": [12, 12]}
    effect = _effect(frame, cal.weights, cal, **fixed)
    plain = _effect(frame, cal.weights, None, **fixed)
    order = np.concatenate(  # the stacked rows: treated units by stratum, then comparisons
        [np.flatnonzero(((frame["stratum"] == s) & (frame["treated"] == g)).to_numpy())
         for g in (1, 0) for s in cal.strata])
    eps = 1e-6
    differs = 0
    for position, row in enumerate(order[::3]):
        bumped = base.copy()
        bumped[row] *= 1 + eps
        moved = _effect(frame, _calibrate(frame, bumped).weights, None, **fixed)
        numeric = (moved.estimate - plain.estimate) / eps
        stacked = effect.influence[position * 3]
        np.testing.assert_allclose(stacked, numeric, rtol=2e-4, atol=1e-7)
        differs += not np.allclose(plain.influence[position * 3], numeric, atol=1e-5)
    assert differs > 0  # without the correction the influence would be wrong


def test_calibration_removes_residual_imbalance_from_the_curves():
    """No effect; comparisons have lower x. Over 40 replications the unadjusted difference
    is biased upward, the calibrated one is not, and its intervals cover 0."""
    rng = np.random.default_rng(3)
    plain, adjusted, covered = [], [], []
    for _ in range(40):
        frame = _strata(rng)
        base = frame["weight"].to_numpy()
        cal = _calibrate(frame, base)
        plain.append(_effect(frame, base).estimate)
        effect = _effect(frame, cal.weights, cal)
        adjusted.append(effect.estimate)
        covered.append((effect.ci_low <= 0) & (0 <= effect.ci_high))
    plain, adjusted = np.array(plain), np.array(adjusted)
    se_mean = plain.std(axis=0, ddof=1) / np.sqrt(40)
    assert (plain.mean(axis=0) > 4 * se_mean).all()
    assert (np.abs(adjusted.mean(axis=0)) < 3 * adjusted.std(axis=0, ddof=1) / np.sqrt(40)).all()
    assert np.mean(covered) >= 0.85


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"treated": [1, 0]}, "'treated' has 2 values; expected 6"),
        ({"weights": [1, 1, 1, -1, 1, 1]}, "'weights' must be 6 finite numbers >= 0"),
        ({"stratum_weights": [1, 2]}, "'stratum_weights' parameter of calibrate_weights"),
        ({"treated": [1, 1, 1, 1, 1, 1]}, "no comparison rows with positive weight"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"covariates": pd.DataFrame({"x": [1.0, 2, 3, 1, 2, 4]}),
            "treated": [1, 1, 0, 0, 0, 0], **kwargs}
    with pytest.raises(EstimationError, match=message):
        calibrate_weights(args.pop("covariates"), args.pop("treated"), **args)


def test_impossible_balance_is_refused_with_a_message():
    frame = pd.DataFrame({"x": [5.0, 6.0, 1.0, 2.0, 1.5]})
    with pytest.raises(EstimationError, match="cannot be balanced exactly"):
        calibrate_weights(frame, [1, 1, 0, 0, 0])


def test_curves_must_match_the_calibration():
    frame = _strata(np.random.default_rng(4), n_strata=2, n_treated=10, n_control=20)
    cal = _calibrate(frame, frame["weight"].to_numpy())
    other = frame.assign(unit=frame["unit"] + "x")
    with pytest.raises(EstimationError, match="are not among the calibrated rows"):
        _effect(other, cal.weights, cal)
