"""Effects after weighting, with standard errors that account for the estimated weights.

The outcome model is the weighted least squares of the outcome on an intercept, the
treatment and (optionally) covariates, as WeightIt's ``lm_weightit``; the effect is the
treatment's coefficient. Its standard error stacks the estimating equations of the weight
model (``WeightModel``: the propensity score's logistic scores, or entropy balancing's
balance conditions) with the outcome's (Stefanski and Boos 2002; WeightIt's ``vcov =
"asympt"``). With ``theta`` the weight model's parameters and ``beta`` the outcome's,

    phi_theta,i = -H_tt^-1 psi_theta,i
    phi_beta,i  = -H_bb^-1 (w_i z_i r_i + H_bt phi_theta,i)
    V(beta)     = sum_i phi_beta,i phi_beta,i'          (HC0, as WeightIt)

where ``H_tt`` is the weight model's Jacobian, ``H_bb = -sum w_i z_i z_i'`` and ``H_bt = sum
z_i r_i (dw_i / dtheta)'`` (r the residuals). With ``cluster`` ids the influence functions
are summed within clusters first (times G / (G - 1)). Weights from a model without
estimating equations (given scores, another classifier) are treated as known: the
sandwich is then the plain HC0 one, and a note says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from estimation.design import design_matrix
from estimation.effect_estimate import RATIO_NOTE, EffectEstimate, normal_inference, ratio_inference
from estimation.matched import MatchedSample
from estimation.outcome import _check_outcome, _outcome
from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.variance import fit_wls

ASSUMPTIONS = (
    "No unmeasured confounding: given the covariates, participation is independent of the "
    "potential outcomes (conditional ignorability).",
    "Overlap: every unit has a chance of being in either group; extreme weights signal "
    "its failure.",
    "No interference: one person's participation does not change another's outcome (SUTVA).",
    "The weight model is estimated; its uncertainty is carried into the standard error by "
    "M-estimation (stacked estimating equations).",
)


def influence(Z: np.ndarray, y: np.ndarray, w: np.ndarray, model) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients, n x k influence functions) of the WLS of y on Z with weights w."""

    fit = fit_wls(Z, y, w)
    Zk = Z[:, fit.kept]
    r = y - Zk @ fit.coef
    h_bb = -(Zk * w[:, None]).T @ Zk
    psi_b = Zk * (w * r)[:, None]
    if model is not None and model.propagated:
        phi_t = -np.linalg.solve(model.jacobian, model.scores.T).T
        h_bt = (Zk * r[:, None]).T @ model.weight_gradient
        psi_b = psi_b + phi_t @ h_bt.T
    phi_b = -np.linalg.solve(h_bb, psi_b.T).T
    return fit.coef, phi_b, fit.kept


def vcov_from(phi: np.ndarray, cluster: np.ndarray | None) -> tuple[np.ndarray, int]:
    """sum phi phi' (HC0), or over cluster sums times G/(G-1); and the number of clusters."""
    if cluster is None:
        return phi.T @ phi, phi.shape[0]
    codes = pd.factorize(cluster)[0]
    groups = int(codes.max()) + 1
    if groups < 2:
        raise InvalidInputError("A cluster-robust standard error needs at least 2 clusters.")
    sums = np.column_stack([np.bincount(codes, weights=phi[:, j], minlength=groups)
                            for j in range(phi.shape[1])])
    return groups / (groups - 1) * sums.T @ sums, groups


def _outcome_design(sample: MatchedSample, covariates, keep: np.ndarray):
    """[1, T, expanded covariates] for every unit (rows of weight 0 carry zeros)."""

    n = sample.n
    treat = np.asarray(sample.treat, bool).astype(np.float64)
    if covariates is None:
        return np.column_stack([np.ones(n), treat]), "difference_in_means"
    frame = covariates if isinstance(covariates, pd.DataFrame) else sample.covariates[
        [covariates] if isinstance(covariates, str) else list(covariates)]
    if len(frame) != n:
        raise InvalidInputError(f"estimate_att: 'covariates' has {len(frame)} rows; expected {n}.")
    design = design_matrix(frame.iloc[np.flatnonzero(keep)].reset_index(drop=True))
    Z = np.zeros((n, 2 + design.matrix.shape[1]))
    Z[:, 0], Z[:, 1] = 1.0, treat
    Z[keep, 2:] = design.matrix
    return Z, "regression"


def _unknown_covariates(sample: MatchedSample, covariates) -> None:
    if covariates is None or isinstance(covariates, pd.DataFrame):
        return
    names = [covariates] if isinstance(covariates, str) else [str(c) for c in covariates]
    unknown = [c for c in names if c not in sample.covariates.columns]
    if unknown:
        listed = ", ".join(repr(str(c)) for c in sample.covariates.columns)
        raise InvalidInputError(f"estimate_att: unknown covariate(s) {', '.join(map(repr, unknown))}; "
                                f"expected names among {listed}.")


def estimate_weighted(sample: MatchedSample, outcome, *, covariates=None, binary=None,
                      cluster=None, alpha: float = 0.05):
    """The effect of a weighted sample (see the module docstring) as an EffectEstimate.

    >>> from estimation import PropensityWeighting, estimate_weighted, example_data
    >>> X, treat, y = example_data()
    >>> sample = PropensityWeighting().fit(X, treat).result_
    >>> effect = estimate_weighted(sample, y)
    >>> round(effect.estimate, 2), effect.method
    (1.79, 'difference_in_means')
    """
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InvalidParameterError("estimate_att", "alpha", "a float in (0, 1)", alpha)
    y, name = _outcome(sample, outcome)
    treat = np.asarray(sample.treat, bool)
    w = np.asarray(sample.weights, dtype=np.float64)
    keep = w > 0
    is_binary = _check_outcome(y, keep, name, binary)
    _unknown_covariates(sample, covariates)
    clusters = _cluster_ids(sample, cluster)
    Z, method = _outcome_design(sample, covariates, keep)
    y0 = np.where(keep, y, 0.0)
    coef, phi, kept = influence(Z, y0, w, sample.weight_model)
    if 1 not in set(kept.tolist()):
        raise InvalidInputError("estimate_att: the covariates predict treatment perfectly in the "
                                "weighted sample; the treatment effect is not identified.")
    j = int(np.flatnonzero(kept == 1)[0])
    vcov, groups = vcov_from(phi, clusters)
    estimate, se = float(coef[j]), float(math.sqrt(max(vcov[j, j], 0.0)))
    low, high, p = normal_inference(estimate, se, alpha)
    notes = _notes(sample, y, keep)
    ratios = _ratios(sample, y0, w, clusters, alpha, name) if is_binary else ()
    if is_binary and not ratios:
        notes += ("Risk and odds ratios are undefined: a proportion is 0 or 1.",)
    return EffectEstimate(
        estimate, se, low, high, p, int((treat & keep).sum()), int((~treat & keep).sum()),
        method, "m_estimation", sample.estimand, "risk_difference" if is_binary else "difference",
        name, float(alpha), groups if clusters is not None else None,
        _ess(w[~treat & keep]), ASSUMPTIONS, notes, tuple(ratios))


def _cluster_ids(sample: MatchedSample, cluster):
    if cluster is None or (isinstance(cluster, str) and cluster == "subclass"):
        return None
    ids = pd.Series(np.asarray(cluster, dtype=object))
    if ids.shape[0] != sample.n or ids.isna().any():
        raise InvalidInputError(f"estimate_att: 'cluster' must give one non-missing id per unit "
                                f"({sample.n}); got {ids.shape[0]} values with "
                                f"{int(ids.isna().sum())} missing.")
    return ids.to_numpy()


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2)) if w.size else float("nan")


def _notes(sample: MatchedSample, y: np.ndarray, keep: np.ndarray) -> tuple[str, ...]:
    notes = []
    model = sample.weight_model
    if model is None or not model.propagated:
        notes.append("The weights are treated as known (scores given or another classifier): "
                     "the standard error does not carry the weight model's uncertainty.")
    values = y[keep]
    if values.size and values.min() == values.max():
        notes.append("The outcome takes a single value in the weighted sample: no variation, "
                     "so the standard error is 0 and no p-value is given.")
    return tuple(notes)


def _ratios(sample, y0, w, clusters, alpha, name) -> list:
    """Risk and odds ratios of a binary outcome, delta method on the stacked covariance."""
    treat = np.asarray(sample.treat, bool).astype(np.float64)
    Z = np.column_stack([treat, 1 - treat])
    coef, phi, kept = influence(Z, y0, w, sample.weight_model)
    if kept.size < 2:
        return []
    p1, p0 = float(coef[0]), float(coef[1])
    if not (0 < p1 < 1 and 0 < p0 < 1):
        return []
    vcov, groups = vcov_from(phi, clusters)
    keep = w > 0
    out = []
    for scale, ratio, se, low, high, p in ratio_inference(p1, p0, vcov, alpha):
        out.append(EffectEstimate(
            ratio, se, low, high, p,
            int((treat.astype(bool) & keep).sum()), int((~treat.astype(bool) & keep).sum()),
            "difference_in_means", "m_estimation", sample.estimand, scale, name, float(alpha),
            groups if clusters is not None else None, float("nan"), ASSUMPTIONS, (RATIO_NOTE,)))
    return out
