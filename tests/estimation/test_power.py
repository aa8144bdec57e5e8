"""Minimum detectable effect: closed form, known-power simulation, effective sample sizes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from estimation.errors import EstimationError
from estimation.matched import MatchedSample
from estimation.power import minimum_detectable_effect


def test_continuous_mde_closed_form():
    result = minimum_detectable_effect((100, 100), sd=1.0)
    assert result.increase == pytest.approx(
        (norm.ppf(0.975) + norm.ppf(0.8)) * math.sqrt(0.02), rel=1e-12
    )
    assert round(result.mde, 4) == 0.3962
    assert result.detectable(0.4) and not result.detectable(-0.39)


def test_binary_mde_reaches_the_stated_power_in_simulation():
    n, p0 = 400, 0.3
    result = minimum_detectable_effect((n, n), p0=p0)
    rng = np.random.default_rng(11)
    reps = 4000
    x1 = rng.binomial(n, p0 + result.increase, reps) / n
    x0 = rng.binomial(n, p0, reps) / n
    se = np.sqrt(x1 * (1 - x1) / n + x0 * (1 - x0) / n)
    power = np.mean(np.abs(x1 - x0) / se > norm.ppf(0.975))
    assert 0.775 <= power <= 0.825
    assert result.decrease < result.increase  # p(1-p) shrinks towards 0 from 0.3


def test_matched_sample_uses_effective_sizes_and_outcome_moments():
    treat = np.array([True] * 4 + [False] * 6)
    weights = np.array([1, 1, 1, 1, 2, 1, 1, 0, 0, 0], dtype=float)
    weights[4:7] *= 3 / weights[4:7].sum()
    sample = MatchedSample(
        treat=treat, distance=np.linspace(0.1, 0.9, 10), weights=weights,
        subclass=np.full(10, -1), match_matrix=np.array([[4], [4], [5], [6]]),
        discarded=np.zeros(10, bool), covariates=pd.DataFrame({"x": np.arange(10)}),
        settings={"replace": True},
    )
    y = np.array([1.0, 2, 3, 4, 0.5, 1.5, 2.5, 9, 9, 9])
    result = minimum_detectable_effect(sample, outcome=y)
    w = weights[4:7]
    ess = w.sum() ** 2 / np.sum(w**2)
    assert result.n_control == pytest.approx(ess) and result.n_treated == 4
    mean = np.average(y[4:7], weights=w)
    sd = math.sqrt(np.average((y[4:7] - mean) ** 2, weights=w))
    assert result.sd == pytest.approx(sd)
    binary = minimum_detectable_effect(sample, outcome=(y > 1).astype(int))
    assert binary.scale == "risk_difference" and binary.p0 == pytest.approx(np.average(
        [0, 1, 1], weights=w))


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        ((100, 100), {}, "needs the outcome's 'sd'"),
        ((100, 0), {"sd": 1.0}, "effective sizes 100 treated and 0 control"),
        ((100, 100), {"sd": -1.0}, "'sd' parameter of minimum_detectable_effect must be a float > 0"),
        ((100, 100), {"p0": 1.0}, "'p0' parameter"),
        ((100, 100), {"sd": 1.0, "power": 1.2}, "'power' parameter"),
        ("abc", {"sd": 1.0}, "'design' parameter"),
    ],
)
def test_errors_are_named(args, kwargs, message):
    design = args if not isinstance(args, str) else args
    with pytest.raises(EstimationError, match=message):
        minimum_detectable_effect(design, **kwargs)


def test_tiny_design_cannot_detect_any_binary_change():
    result = minimum_detectable_effect((2, 2), p0=0.5)
    assert math.isinf(result.increase) and math.isinf(result.mde)
    assert "could not have been seen" in result.as_text()


def test_mde_from_a_standard_error():
    result = minimum_detectable_effect(se=0.1)
    assert result.mde == pytest.approx(0.1 * (norm.ppf(0.975) + norm.ppf(0.8)), rel=1e-12)
    assert "from the standard error" in result.as_text()
    with pytest.raises(EstimationError, match="'se' parameter of minimum_detectable_effect"):
        minimum_detectable_effect()
