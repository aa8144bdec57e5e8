"""Inverse probability weighting and entropy balancing, and their M-estimation standard
errors, against formulations written out independently here.

* IPW weights: WeightIt's formulas from the propensity score (ATT, ATC, ATE, ATO),
  stabilisation, trimming.
* Entropy balancing: its dual minimised by scipy's BFGS on the raw covariates (not
  tiltak's Newton steps on standardised ones), and its primal (minimum entropy subject to
  the balance constraints) by SLSQP; exact balance of the weighted means.
* Standard errors: the sandwich A^-1 B A^-T of the stacked estimating equations, with the
  Jacobian A by central finite differences of the stacked functions written from their
  definitions (logistic score or balance conditions, then the weighted least squares).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from estimation.ebal import BalanceInfeasibleError, EntropyBalancing
from estimation.effects import estimate_att
from estimation.propensity import PropensityScore
from estimation.sensitivity import e_value, rosenbaum_wilcoxon
from estimation.weighting import PropensityWeighting


def data(seed: int = 1, n: int = 400):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "g": rng.choice(["a", "b", "c"], n)})
    lp = -0.7 + 0.8 * X.x1 - 0.5 * X.x2 + 0.6 * (X.g == "b")
    treat = rng.random(n) < 1 / (1 + np.exp(-lp))
    y = 1 + (2 + X.x1) * treat + X.x1 + 0.5 * X.x2 + rng.normal(size=n)
    return X, treat.to_numpy(), y.to_numpy()


def design(X: pd.DataFrame) -> np.ndarray:
    """[1, x1, x2, g=b, g=c] written out by hand."""
    return np.column_stack([np.ones(len(X)), X.x1, X.x2, X.g == "b", X.g == "c"]).astype(float)


def weights_from_ps(e, t, estimand):
    return {"ATT": np.where(t, 1, e / (1 - e)), "ATC": np.where(t, (1 - e) / e, 1),
            "ATE": np.where(t, 1 / e, 1 / (1 - e)), "ATO": np.where(t, 1 - e, e)}[estimand]


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE", "ATO"])
def test_ipw_weights_follow_weightit(estimand):
    X, t, _ = data()
    sample = PropensityWeighting(estimand=estimand).fit(X, t).result_
    e = PropensityScore().fit(X, t).scores_
    np.testing.assert_allclose(sample.weights, weights_from_ps(e, t, estimand), rtol=1e-12)
    assert sample.estimand == estimand and sample.structure == "weights"


def test_stabilised_and_trimmed_weights():
    X, t, _ = data()
    e = PropensityScore().fit(X, t).scores_
    stable = PropensityWeighting(estimand="ATE", stabilize=True).fit(X, t).result_
    share = t.mean()
    np.testing.assert_allclose(stable.weights, np.where(t, share / e, (1 - share) / (1 - e)))
    trimmed = PropensityWeighting(estimand="ATE", trim=0.1).fit(X, t).result_
    out = (e < 0.1) | (e > 0.9)
    assert out.any()
    np.testing.assert_array_equal(trimmed.weights == 0, out)
    np.testing.assert_array_equal(trimmed.discarded, out)


def test_overlap_weights_balance_the_model_covariates_exactly():
    X, t, _ = data()
    w = PropensityWeighting(estimand="ATO").fit(X, t).result_.weights
    Z = design(X)
    means = lambda g: (w[g] @ Z[g]) / w[g].sum()  # noqa: E731
    np.testing.assert_allclose(means(t), means(~t), atol=1e-8)


def _dual_bfgs(C, target, n_target):
    """Entropy balancing's dual, written out again and minimised by BFGS."""
    def f(z):
        return np.exp(-C @ z).sum() / n_target + target @ z

    def grad(z):
        return -(np.exp(-C @ z) @ C) / n_target + target

    res = minimize(f, np.zeros(C.shape[1]), jac=grad, method="BFGS",
                   options={"gtol": 1e-12, "maxiter": 10000})
    return np.exp(-C @ res.x)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
def test_entropy_balancing_equals_its_dual_minimised_independently(estimand):
    X, t, _ = data(2, 300)
    sample = EntropyBalancing(estimand=estimand).fit(X, t).result_
    Z = design(X)
    target_rows = {"ATT": t, "ATC": ~t, "ATE": np.ones(t.size, bool)}[estimand]
    groups = {"ATT": [False], "ATC": [True], "ATE": [True, False]}[estimand]
    expected = np.ones(t.size)
    for group in groups:
        member = t == group
        # rescaled covariates only help BFGS converge; the constraints are the same
        scale = np.r_[1.0, np.abs(Z[:, 1:]).max(axis=0)]
        expected[member] = _dual_bfgs(Z[member] / scale, (Z[target_rows] / scale).mean(axis=0),
                                      target_rows.sum())
    np.testing.assert_allclose(sample.weights, expected, rtol=1e-6)
    for group in groups:
        member = t == group
        np.testing.assert_allclose(sample.weights[member] @ Z[member] / target_rows.sum(),
                                   Z[target_rows].mean(axis=0), atol=1e-9)


def test_entropy_balancing_equals_the_primal_minimum_entropy_weights():
    X, t, _ = data(7, 80)  # (with seed 3 and 60 units no such weights exist: see below)
    sample = EntropyBalancing().fit(X, t).result_
    Z = design(X)
    Zc, goal = Z[~t], Z[t].sum(axis=0)
    res = minimize(lambda w: np.sum(w * np.log(w)), np.full(Zc.shape[0], t.sum() / Zc.shape[0]),
                   jac=lambda w: np.log(w) + 1, method="SLSQP",
                   constraints=[{"type": "eq", "fun": lambda w: w @ Zc - goal,
                                 "jac": lambda w: Zc.T}],
                   bounds=[(1e-10, None)] * Zc.shape[0], options={"ftol": 1e-14, "maxiter": 2000})
    assert res.success
    np.testing.assert_allclose(sample.weights[~t], res.x, rtol=1e-4, atol=1e-6)


def test_entropy_balancing_balances_squares_with_moments_2():
    X, t, _ = data(4, 500)
    w = EntropyBalancing(moments=2).fit(X, t).result_.weights
    for column in ("x1", "x2"):
        sq = X[column].to_numpy() ** 2
        assert (w[~t] @ sq[~t]) / w[~t].sum() == pytest.approx(sq[t].mean(), rel=1e-8)


def test_entropy_balancing_refuses_targets_out_of_reach():
    # no positive control weights reach the treated means here (a linear program says so)
    with pytest.raises(BalanceInfeasibleError, match="no control weights that balance"):
        EntropyBalancing().fit(*data(3, 60)[:2])
    X, t, _ = data(5, 200)
    X = X.assign(g=np.where(t, X.g, "a"))  # levels b and c only among the treated
    with pytest.raises(BalanceInfeasibleError, match="no control weights that balance"):
        EntropyBalancing().fit(X, t)


# ------------------------------------------------------------ M-estimation standard errors


def stacked_ipw(theta, Z, t, y, estimand, k):
    """Stacked estimating functions (n x p) of the logistic model and the weighted LS."""
    gamma, beta = theta[:k], theta[k:]
    e = 1 / (1 + np.exp(-Z @ gamma))
    w = weights_from_ps(e, t, estimand)
    D = np.column_stack([np.ones(t.size), t.astype(float)])
    return np.column_stack([Z * (t - e)[:, None], D * (w * (y - D @ beta))[:, None]])


def stacked_ebal(theta, Z, t, y, k):
    lam, beta = theta[:k], theta[k:]
    w = np.where(t, 1.0, np.exp(-Z @ lam))
    D = np.column_stack([np.ones(t.size), t.astype(float)])
    psi_l = Z * (t.astype(float) - (~t) * w)[:, None]
    return np.column_stack([psi_l, D * (w * (y - D @ beta))[:, None]])


def sandwich_se(fun, theta, args):
    """SE of the last parameter from a numerical Jacobian of sum psi."""
    p = theta.size
    A = np.zeros((p, p))
    for j in range(p):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        A[:, j] = (fun(up, *args).sum(axis=0) - fun(down, *args).sum(axis=0)) / (2 * h)
    psi = fun(theta, *args)
    inv = np.linalg.inv(A)
    V = inv @ (psi.T @ psi) @ inv.T
    return float(np.sqrt(V[-1, -1]))


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE", "ATO"])
def test_ipw_standard_error_equals_the_numerical_sandwich(estimand):
    X, t, y = data(6, 500)
    sample = PropensityWeighting(estimand=estimand).fit(X, t).result_
    effect = estimate_att(sample, y)
    assert effect.se_type == "m_estimation"
    Z = design(X)
    gamma = PropensityScore().fit(X, t).coef_
    w = sample.weights
    m1 = np.average(y[t], weights=w[t])
    m0 = np.average(y[~t], weights=w[~t])
    assert effect.estimate == pytest.approx(m1 - m0, rel=1e-10)
    theta = np.r_[gamma, m0, m1 - m0]
    expected = sandwich_se(stacked_ipw, theta, (Z, t, y, estimand, Z.shape[1]))
    assert effect.std_error == pytest.approx(expected, rel=1e-5)


def test_ebal_standard_error_equals_the_numerical_sandwich():
    X, t, y = data(7, 500)
    sample = EntropyBalancing().fit(X, t).result_
    effect = estimate_att(sample, y)
    Z = design(X)
    w = sample.weights
    # the dual coefficients on the raw covariates: w = exp(-Z lam) for the controls
    lam = np.linalg.lstsq(Z[~t], -np.log(w[~t]), rcond=None)[0]
    m1, m0 = y[t].mean(), np.average(y[~t], weights=w[~t])
    expected = sandwich_se(stacked_ebal, np.r_[lam, m0, m1 - m0], (Z, t, y, Z.shape[1]))
    assert effect.std_error == pytest.approx(expected, rel=1e-5)


def test_stabilised_ate_standard_error_equals_the_numerical_sandwich():
    X, t, y = data(8, 500)
    effect = estimate_att(PropensityWeighting(estimand="ATE", stabilize=True).fit(X, t).result_, y)
    Z = design(X)

    def stacked(theta):
        gamma, share, beta = theta[:5], theta[5], theta[6:]
        e = 1 / (1 + np.exp(-Z @ gamma))
        w = np.where(t, share / e, (1 - share) / (1 - e))
        D = np.column_stack([np.ones(t.size), t.astype(float)])
        return np.column_stack([Z * (t - e)[:, None], t - share, D * (w * (y - D @ beta))[:, None]])

    gamma = PropensityScore().fit(X, t).coef_
    theta = np.r_[gamma, t.mean(), 0.0, 0.0]
    e = 1 / (1 + np.exp(-Z @ gamma))
    w = np.where(t, t.mean() / e, (1 - t.mean()) / (1 - e))
    m1, m0 = np.average(y[t], weights=w[t]), np.average(y[~t], weights=w[~t])
    theta[6:] = [m0, m1 - m0]
    expected = sandwich_se(lambda th: stacked(th), theta, ())
    assert effect.std_error == pytest.approx(expected, rel=1e-5)


def test_regression_adjustment_and_binary_outcomes_after_weighting():
    X, t, y = data(9, 600)
    sample = PropensityWeighting(estimand="ATE").fit(X, t).result_
    adjusted = estimate_att(sample, y, covariates=["x1", "x2", "g"])
    assert adjusted.method == "regression" and adjusted.se_type == "m_estimation"
    binary = (y > 2).astype(float)
    effect = estimate_att(sample, binary)
    assert effect.scale == "risk_difference"
    assert [r.scale for r in effect.ratios] == ["risk_ratio", "odds_ratio"]
    rr = effect.ratios[0]
    p1 = np.average(binary[t], weights=sample.weights[t])
    p0 = np.average(binary[~t], weights=sample.weights[~t])
    assert rr.estimate == pytest.approx(p1 / p0, rel=1e-10)
    assert e_value(effect).point > 1


def test_known_weights_say_so_and_robust_se_is_still_available():
    X, t, y = data(10, 400)
    e = PropensityScore().fit(X, t).scores_
    given = PropensityWeighting(distance=e).fit(X, t).result_
    effect = estimate_att(given, y)
    assert any("treated as known" in n for n in effect.notes)
    fitted = PropensityWeighting().fit(X, t).result_
    robust = estimate_att(fitted, y, se_type="robust")
    assert robust.se_type == "robust" and robust.estimate == pytest.approx(effect.estimate)


def test_rosenbaum_bounds_are_not_available_for_weighting():
    X, t, y = data(11, 300)
    with pytest.raises(Exception, match="not available for weighting"):
        rosenbaum_wilcoxon(PropensityWeighting().fit(X, t).result_, y)


def test_clustered_m_estimation_standard_error():
    X, t, y = data(12, 600)
    sample = PropensityWeighting(estimand="ATE").fit(X, t).result_
    plain = estimate_att(sample, y)
    ids = np.arange(t.size)  # every unit its own cluster: HC0 times G/(G-1)
    clustered = estimate_att(sample, y, cluster=ids)
    assert clustered.n_clusters == t.size
    assert clustered.std_error == pytest.approx(plain.std_error * np.sqrt(t.size / (t.size - 1)),
                                                rel=1e-10)


@pytest.mark.parametrize("model,pattern", [
    (PropensityWeighting(estimand="ATM"), "estimand"),
    (PropensityWeighting(stabilize=True), "stabilize"),
    (PropensityWeighting(trim=0.5), "trim"),
    (PropensityWeighting(distance="logit"), "distance"),
    (EntropyBalancing(moments=3), "moments"),
])
def test_weighting_parameters_are_checked(model, pattern):
    X, t, _ = data()
    with pytest.raises(Exception, match=pattern):
        model.fit(X, t)
