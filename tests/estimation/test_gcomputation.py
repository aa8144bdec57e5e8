"""The ATT by the control-outcome regression (treatment-covariate interactions), written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import Subclassification, att_interactions
from estimation.errors import EstimationError


def _data(n=3000, seed=5, het=0.5):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.8 * x1 - 0.5 * x2)))
    y = 1 + x1 + 0.5 * x2 + (1 + het * x1) * t + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2}), t, y, 1 + het * x1


def test_equals_the_treated_mean_minus_the_control_fit_and_its_sandwich():
    X, t, y, _ = _data()
    sample = Subclassification(subclasses=4).fit(X, t).result_
    est, se = att_interactions(sample, y, X)
    w = np.asarray(sample.weights)
    Z = np.column_stack([np.ones(len(y)), X.to_numpy()])
    c, tr = (w > 0) & ~t, (w > 0) & t
    b0 = np.linalg.solve(Z[c].T @ (Z[c] * w[c][:, None]), Z[c].T @ (w[c] * y[c]))
    assert est == pytest.approx(np.average(y[tr] - Z[tr] @ b0, weights=w[tr]), rel=1e-12)
    # the sandwich by finite differences of the stacked estimating equations (b0, att)
    def equations(theta):
        b, a = theta[:-1], theta[-1]
        g = np.zeros((len(y), len(theta)))
        g[c, :-1] = (Z[c] * (w[c] * (y[c] - Z[c] @ b))[:, None])
        g[tr, -1] = w[tr] * (y[tr] - Z[tr] @ b - a)
        return g
    theta = np.r_[b0, est]
    G = equations(theta)
    J = np.zeros((len(theta), len(theta)))
    for k in range(len(theta)):
        h = np.zeros(len(theta))
        h[k] = 1e-6
        J[:, k] = (equations(theta + h).sum(0) - equations(theta - h).sum(0)) / 2e-6
    inv = np.linalg.inv(J)
    V = inv @ (G.T @ G) @ inv.T
    assert se == pytest.approx(np.sqrt(V[-1, -1]), rel=1e-6)


def test_removes_the_common_slope_bias_under_effect_heterogeneity():
    """With 2 subclasses the within-subclass imbalance is large; the common-slope regression is
    biased by (b_common - b_control) x imbalance, the interaction model is not."""
    from estimation import estimate_att

    errors_common, errors_inter = [], []
    for seed in range(30):
        X, t, y, tau = _data(seed=seed, het=1.5)
        sample = Subclassification(subclasses=2).fit(X, t).result_
        truth = tau[t].mean()
        errors_common.append(estimate_att(sample, y, covariates=X).estimate - truth)
        errors_inter.append(att_interactions(sample, y, X)[0] - truth)
    mc = np.std(errors_inter, ddof=1) / np.sqrt(30)
    assert abs(np.mean(errors_inter)) < 3 * mc
    assert abs(np.mean(errors_common)) > 5 * np.std(errors_common, ddof=1) / np.sqrt(30)


def test_too_few_comparison_units_are_refused():
    X, t, y, _ = _data(n=40)
    sample = Subclassification(subclasses=2).fit(X, t).result_
    w = np.asarray(sample.weights).copy()
    w[~t] = 0
    w[np.flatnonzero(~t)[:2]] = 1
    import dataclasses
    with pytest.raises(EstimationError, match="Too few matched units"):
        att_interactions(dataclasses.replace(sample, weights=w), y, X)
