"""The propensity score: the probability of treatment given the covariates.

``PropensityScore()`` fits an unpenalised logistic regression that gives R ``glm``'s
fitted probabilities (MatchIt's ``distance = "glm"``); ``estimator=`` accepts any
classifier with ``fit`` and ``predict_proba`` (scikit-learn style) instead. The score is
used as a probability (``"glm"``) or on the logit scale (``"logit"``, MatchIt's
``distance = "glm", link = "linear.logit"``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from estimation.design import DesignMatrix, design_matrix
from estimation.glm import fit_binomial
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    Parameters,
    check_choice,
)

DISTANCES = ("glm", "logit")
LINKS = ("logit", "probit")


def treatment_vector(treatment: Any, n: int) -> np.ndarray:
    """A boolean treatment array of length ``n`` from 0/1, bool or two-valued input."""
    t = np.asarray(treatment)
    if t.ndim != 1 or t.shape[0] != n:
        raise InvalidInputError(
            f"The treatment must be one value per row: expected {n} values, got shape "
            f"{t.shape}.")
    if t.dtype == bool:
        return t.copy()
    if t.dtype.kind in "iu":  # whole numbers: no missing values, one comparison each
        ones = t == 1
        if bool(np.all(ones | (t == 0))):
            return ones
        numeric = None
    else:
        try:
            numeric = t.astype(np.float64)
        except (TypeError, ValueError):
            numeric = None
    if numeric is None or np.isnan(numeric).any() or not np.isin(numeric, (0.0, 1.0)).all():
        seen = sorted({str(v) for v in t.tolist()})[:5]
        raise InvalidInputError(
            "The treatment must be 0/1 or True/False with no missing values; got values "
            f"{', '.join(seen)}.")
    return numeric == 1.0


def check_two_groups(treat: np.ndarray) -> None:
    """Both treated and control units must be present."""
    n1 = int(treat.sum())
    if n1 == 0 or n1 == treat.shape[0]:
        group = "control" if n1 else "treated"
        raise InvalidInputError(
            f"The treatment has no {group} units: {n1} treated of {treat.shape[0]}; "
            "both groups are needed.")


class PropensityScore(Parameters):
    """Propensity score model (scikit-learn style).

    Parameters
    ----------
    estimator : classifier or None
        Any object with ``fit(X, y)`` and ``predict_proba(X)``; None fits an unpenalised
        logistic regression equal to R's ``glm(treat ~ ., family = binomial(link))``.
    link : {"logit", "probit"}
        Link of the default GLM (ignored when ``estimator`` is given).
    missing : {"error", "indicator"}
        What to do with missing covariate values (see :func:`design_matrix`).

    Attributes after ``fit``: ``scores_`` (probabilities), ``linear_predictor_`` (logit of
    the score, or the GLM's linear predictor), ``design_`` (the expanded covariates),
    ``coef_`` (default GLM only: intercept first, NaN for aliased terms), ``n_iter_``.

    >>> from estimation import PropensityScore, example_data
    >>> X, treat, y = example_data()
    >>> ps = PropensityScore().fit(X, treat)
    >>> ps.converged_, ps.scores_.shape, ps.coef_.round(2).tolist()
    (True, (200,), [-7.59, 0.17, -0.13])
    """

    def __init__(self, estimator: Any = None, link: str = "logit", missing: str = "error"):
        self.estimator = estimator
        self.link = link
        self.missing = missing

    def _check_params(self) -> None:
        check_choice("PropensityScore", "link", self.link, LINKS)
        check_choice("PropensityScore", "missing", self.missing, ("error", "indicator"))
        est = self.estimator
        if est is not None and not (hasattr(est, "fit") and hasattr(est, "predict_proba")):
            raise InvalidParameterError("PropensityScore", "estimator",
                                        "None or a classifier with fit and predict_proba",
                                        type(est).__name__)

    def fit(self, X: Any, treatment: Any) -> PropensityScore:
        """Expand the covariates, fit the model and store the scores."""
        self._check_params()
        design = X if isinstance(X, DesignMatrix) else design_matrix(X, missing=self.missing)
        treat = treatment_vector(treatment, design.shape[0])
        check_two_groups(treat)
        self.design_ = design
        if self.estimator is None:
            fit = fit_binomial(design.columns, treat, link=self.link)
            self.coef_, self.n_iter_ = fit.coef, fit.iterations
            self.converged_ = fit.converged
            self.scores_, self.linear_predictor_ = fit.fitted, fit.linear_predictor
            return self
        self.estimator_ = self.estimator.fit(design.matrix, treat.astype(int))
        self.scores_ = self._proba(design.matrix)
        with np.errstate(divide="ignore"):
            self.linear_predictor_ = np.log(self.scores_) - np.log1p(-self.scores_)
        return self

    def _proba(self, matrix: np.ndarray) -> np.ndarray:
        proba = np.asarray(self.estimator_.predict_proba(matrix), dtype=np.float64)
        classes = list(getattr(self.estimator_, "classes_", [0, 1]))
        column = classes.index(1) if 1 in classes else proba.shape[1] - 1
        return proba[:, column]

    def distance(self, kind: str = "glm") -> np.ndarray:
        """The fitted score as a probability ("glm") or on the logit scale ("logit")."""
        check_choice("PropensityScore.distance", "kind", kind, DISTANCES)
        if not hasattr(self, "scores_"):
            raise NotFittedError("PropensityScore")
        values = self.scores_ if kind == "glm" else self.linear_predictor_
        if not np.isfinite(values).all():
            raise InvalidInputError(
                "The propensity score on the logit scale is infinite for some units (the "
                "classifier predicted a probability of exactly 0 or 1); use distance='glm'.")
        return values
