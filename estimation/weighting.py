"""Inverse probability weighting on the propensity score (WeightIt's ``method = "glm"``).

``PropensityWeighting(estimand="ATT").fit(X, treatment).result_`` is a
:class:`estimation.MatchedSample` whose weights are, with ``e`` the fitted propensity score
(WeightIt's ``get_w_from_ps``):

| estimand | treated | controls |
|---|---|---|
| ATT (effect on the treated) | 1 | e / (1 - e) |
| ATC (effect on the controls) | (1 - e) / e | 1 |
| ATE (effect in the whole sample) | 1 / e | 1 / (1 - e) |
| ATO (effect in the overlap population) | 1 - e | e |

``stabilize=True`` (ATE only) multiplies each group's weights by its share of the sample.
``trim=a`` gives weight 0 to every unit whose score lies outside ``[a, 1 - a]`` (Crump,
Hotz, Imbens and Mitnik 2009): the estimand becomes the effect in the units that remain,
and says so. The weights are not rescaled: only their ratios within a group matter to a
weighted mean, and a regression adjustment uses them as WeightIt's ``lm_weightit`` does.

The sample carries the fitted weight model (``weight_model``): its estimating equations,
their Jacobian and the derivatives of the weights, so that ``estimate_att`` can give
standard errors that account for the estimated weights (``estimation.mestimation``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from estimation.matched import MatchedSample
from estimation.matching import NoMatchesError
from estimation.parameters import InvalidParameterError, NotFittedError, Parameters, check_bool
from estimation.score import check_estimand, scored_data

NAME = "PropensityWeighting"
ESTIMANDS = ("ATT", "ATC", "ATE", "ATO")


@dataclass(frozen=True, eq=False)
class WeightModel:
    """What the M-estimation of an effect needs from a weight model.

    ``scores`` (n x q): each unit's estimating function of the model's parameters, zero in
    sum at the estimate; ``jacobian`` (q x q): the sum over units of their derivatives;
    ``weight_gradient`` (n x q): the derivative of each unit's weight. ``None`` for all three
    means the weights are treated as known (a model without estimating equations).
    """

    name: str
    scores: np.ndarray | None
    jacobian: np.ndarray | None
    weight_gradient: np.ndarray | None

    @property
    def propagated(self) -> bool:
        return self.scores is not None


def ps_weights(e: np.ndarray, treat: np.ndarray, estimand: str) -> np.ndarray:
    """The weights of the table in the module docstring."""
    t = treat.astype(np.float64)
    if estimand == "ATT":
        return t + (1 - t) * e / (1 - e)
    if estimand == "ATC":
        return t * (1 - e) / e + (1 - t)
    if estimand == "ATE":
        return t / e + (1 - t) / (1 - e)
    return t * (1 - e) + (1 - t) * e


def ps_weight_slope(e: np.ndarray, treat: np.ndarray, estimand: str) -> np.ndarray:
    """d weight / d linear predictor of the logistic model (de/deta = e(1 - e))."""
    t = treat.astype(np.float64)
    if estimand == "ATT":
        return (1 - t) * e / (1 - e)
    if estimand == "ATC":
        return -t * (1 - e) / e
    if estimand == "ATE":
        return -t * (1 - e) / e + (1 - t) * e / (1 - e)
    return (-t + (1 - t)) * e * (1 - e)


def logistic_parts(X: np.ndarray, treat: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores X_i (T_i - e_i) and their summed Jacobian -X' diag(e(1-e)) X."""
    scores = X * (treat.astype(np.float64) - e)[:, None]
    jacobian = -(X * (e * (1 - e))[:, None]).T @ X
    return scores, jacobian


def _model_matrix(propensity) -> np.ndarray:
    """The propensity model's design with its intercept, aliased columns left out."""
    coef = propensity.coef_
    kept = np.flatnonzero(~np.isnan(coef))
    X = np.column_stack([np.ones(propensity.design_.shape[0]), propensity.design_.matrix])
    return X[:, kept]


def ipw_model(propensity, treat: np.ndarray, e: np.ndarray, estimand: str, stabilize: bool,
              keep: np.ndarray) -> WeightModel:
    """The stacked logistic model (and the group shares when stabilised)."""
    X = _model_matrix(propensity)
    scores, jacobian = logistic_parts(X, treat, e)
    slope = ps_weight_slope(e, treat, estimand)[:, None] * X
    if stabilize:
        share = float(np.mean(treat))
        t = treat.astype(np.float64)
        slope = slope * (t * share + (1 - t) * (1 - share))[:, None]
        d_share = t / e - (1 - t) / (1 - e)
        scores = np.column_stack([scores, t - share])
        jacobian = np.block([[jacobian, np.zeros((X.shape[1], 1))],
                             [np.zeros((1, X.shape[1])), -np.full((1, 1), treat.shape[0])]])
        slope = np.column_stack([slope, d_share])
    slope[~keep] = 0.0
    return WeightModel("logistic propensity score", scores, jacobian, slope)


class PropensityWeighting(Parameters):
    """Inverse probability (or overlap) weights from a propensity score.

    Parameters
    ----------
    estimand : "ATT", "ATC", "ATE" or "ATO".
    stabilize : bool (ATE only): multiply the weights by the group shares.
    trim : float in (0, 0.5) or None: weight 0 outside ``trim <= e <= 1 - trim``.
    distance : "glm" (default) or an array of propensity scores in (0, 1) computed
        elsewhere (their estimation is then not propagated into standard errors).
    estimator : propensity classifier passed to PropensityScore (None: R's glm logit, whose
        estimating equations are stacked with the outcome's).

    >>> from estimation import PropensityWeighting, example_data
    >>> X, treat, y = example_data()
    >>> sample = PropensityWeighting(estimand="ATT").fit(X, treat).result_
    >>> bool((sample.weights[sample.treat] == 1).all()), round(float(sample.weights[~sample.treat].sum()), 1)
    (True, 65.4)
    """

    def __init__(self, estimand: str = "ATT", stabilize: bool = False, trim: float | None = None,
                 distance: Any = "glm", estimator: Any = None):
        self.estimand = estimand
        self.stabilize = stabilize
        self.trim = trim
        self.distance = distance
        self.estimator = estimator

    def _checked(self) -> dict[str, Any]:
        estimand = check_estimand(NAME, self.estimand, ESTIMANDS)
        stabilize = check_bool(NAME, "stabilize", self.stabilize)
        if stabilize and estimand != "ATE":
            raise InvalidParameterError(NAME, "stabilize", "False unless estimand='ATE' "
                                        "(stabilised weights are defined for the ATE)", stabilize)
        trim = self.trim
        ok = trim is None or (isinstance(trim, numbers.Real) and not isinstance(trim, bool)
                              and 0 < float(trim) < 0.5)
        if not ok:
            raise InvalidParameterError(NAME, "trim", "a float in (0, 0.5) or None", trim)
        if isinstance(self.distance, str) and self.distance != "glm":
            raise InvalidParameterError(NAME, "distance", "'glm' or an array of propensity "
                                        "scores in (0, 1)", self.distance)
        return {"estimand": estimand, "stabilize": stabilize,
                "trim": None if trim is None else float(trim)}

    def fit(self, X: Any, treatment: Any) -> PropensityWeighting:
        """Fit the propensity score and compute the weights."""
        p = self._checked()
        data = scored_data(NAME, X, treatment, self.distance, self.estimator)
        e = data.distance
        if not np.all((e > 0) & (e < 1)):
            raise InvalidParameterError(NAME, "distance", "propensity scores strictly between "
                                        "0 and 1", "scores of 0 or 1")
        self.propensity_ = data.propensity
        keep = np.ones(data.n, bool) if p["trim"] is None else (e >= p["trim"]) & (e <= 1 - p["trim"])
        weights = ps_weights(e, data.treat, p["estimand"])
        if p["stabilize"]:
            share = float(np.mean(data.treat))
            weights = weights * np.where(data.treat, share, 1 - share)
        weights = np.where(keep, weights, 0.0)
        _check_groups(weights, data.treat, p["trim"])
        model = self._model(data, e, p, keep)
        settings = {"method": "weighting", "weights": "ipw", **p, "distance": data.kind,
                    "trimmed": int(np.sum(~keep)), "propagated": model.propagated}
        self.result_ = MatchedSample(
            treat=data.treat, distance=e, weights=weights, subclass=np.full(data.n, -1, np.int64),
            match_matrix=np.empty((int(data.treat.sum()), 0), dtype=np.int64),
            discarded=~keep, covariates=data.frame, estimand=p["estimand"], settings=settings,
            structure="weights", weight_model=model)
        return self

    def _model(self, data, e, p, keep) -> WeightModel:
        if data.propensity is None or self.estimator is not None:
            return WeightModel("propensity score (not re-estimated)", None, None, None)
        return ipw_model(data.propensity, data.treat, e, p["estimand"], p["stabilize"], keep)

    @property
    def matched_sample(self) -> MatchedSample:
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def _check_groups(weights: np.ndarray, treat: np.ndarray, trim: float | None) -> None:

    for group, label in ((True, "treated"), (False, "control")):
        if not (weights[treat == group] > 0).any():
            raise NoMatchesError(f"No {label} unit keeps a positive weight"
                                 + (f" after trimming at {trim:g}" if trim else "") + ".")
