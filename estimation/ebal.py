"""Entropy balancing (Hainmueller 2012), as WeightIt's ``method = "ebal"``.

The weights of each reweighted group are as close as possible to uniform (smallest
Kullback-Leibler divergence) under the constraint that the group's weighted covariate means
equal the target's exactly: the treated units' means for the ATT (controls reweighted), the
controls' for the ATC, the whole sample's for the ATE (both groups reweighted). The
solution has the form ``w_i = exp(-c_i' z)`` with ``c_i = (1, x_i)``; ``z`` minimises the
convex dual

    f(z) = (1/N) sum_{i in group} exp(-c_i' z) + m' z,

``m`` the target means of ``c`` and ``N`` the target's size, so that each reweighted group's
weights sum to ``N``. tiltak minimises it by Newton's method with a backtracking line search
on standardised covariates (the constraints, and so the weights, do not depend on that
affine change). Covariates are expanded as for the propensity model (``design_matrix``);
columns collinear with earlier ones are dropped; ``moments=2`` adds the squares of the
numeric columns (balancing variances too).

The sample's ``weight_model`` holds WeightIt's estimating equations
``psi_i(z) = c_i (a_i - 1[i in group] w_i)`` (``a_i`` = 1 when unit i is in the target), so
that effect standard errors account for the estimated weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from estimation.design import design_matrix
from estimation.matched import MatchedSample
from estimation.matching import NoMatchesError
from estimation.parameters import InvalidParameterError, NotFittedError, Parameters
from estimation.score import check_estimand, scored_data
from estimation.weighting import WeightModel

NAME = "EntropyBalancing"
TOLERANCE = 1e-10
MAX_ITER = 200


class BalanceInfeasibleError(NoMatchesError):
    """No weights balance the covariates exactly (the target lies outside the group's hull)."""


@dataclass(frozen=True, eq=False)
class DualSolution:
    """The dual coefficients on the standardised constraints and the weights they give."""

    z: np.ndarray
    weights: np.ndarray
    iterations: int
    max_imbalance: float


def constraint_matrix(frame: pd.DataFrame, moments: int) -> tuple[np.ndarray, list[str]]:
    """(1, covariates[, squares]) standardised, collinear columns removed; and their names."""
    design = design_matrix(frame)
    X, names = design.matrix, list(design.names)
    if moments == 2:
        numeric = [j for j in range(X.shape[1]) if not np.isin(X[:, j], (0.0, 1.0)).all()]
        X = np.column_stack([X, X[:, numeric] ** 2])
        names += [f"{names[j]}^2" for j in numeric]
    sd = X.std(axis=0)
    keep = sd > 0
    X = (X[:, keep] - X[:, keep].mean(axis=0)) / sd[keep]
    names = [n for n, k in zip(names, keep) if k]
    C = np.column_stack([np.ones(X.shape[0]), X])
    kept = _independent_columns(C)
    labels = ["(Intercept)", *names]
    return C[:, kept], [labels[k] for k in kept]


def _independent_columns(C: np.ndarray, tol: float = 1e-9) -> list[int]:
    """Columns not (numerically) linear combinations of earlier ones (pivot-free QR rule)."""
    kept: list[int] = []
    basis = np.zeros((C.shape[0], 0))
    for j in range(C.shape[1]):
        column = C[:, j]
        residual = column - basis @ (basis.T @ column) if basis.shape[1] else column
        norm = float(np.linalg.norm(residual))
        if norm > tol * max(float(np.linalg.norm(column)), 1.0):
            kept.append(j)
            basis = np.column_stack([basis, residual / norm])
    return kept


def solve_dual(C: np.ndarray, target: np.ndarray, n_target: float) -> DualSolution:
    """Newton's method on f(z) = sum exp(-C z) / N + target' z (see the module docstring)."""
    z = np.zeros(C.shape[1])
    value = _dual(C, z, target, n_target)
    for iteration in range(1, MAX_ITER + 1):
        w = np.exp(-C @ z)
        gradient = target - (w @ C) / n_target
        if np.max(np.abs(gradient)) < TOLERANCE:
            return DualSolution(z, w, iteration - 1, float(np.max(np.abs(gradient))))
        hessian = (C * w[:, None]).T @ C / n_target
        step = np.linalg.lstsq(hessian, -gradient, rcond=None)[0]
        z, value = _line_search(C, z, step, gradient, value, target, n_target)
    w = np.exp(-C @ z)
    return DualSolution(z, w, MAX_ITER, float(np.max(np.abs(target - (w @ C) / n_target))))


def _dual(C: np.ndarray, z: np.ndarray, target: np.ndarray, n_target: float) -> float:
    with np.errstate(over="ignore"):
        return float(np.sum(np.exp(-C @ z)) / n_target + target @ z)


def _line_search(C, z, step, gradient, value, target, n_target):
    t, slope = 1.0, float(gradient @ step)
    while t > 1e-12:
        candidate = z + t * step
        new = _dual(C, candidate, target, n_target)
        if np.isfinite(new) and new <= value + 1e-4 * t * slope:
            return candidate, new
        t /= 2
    return z, value


def ebal_model(C: np.ndarray, treat: np.ndarray, groups: list[bool], in_target: np.ndarray,
               weights: np.ndarray) -> WeightModel:
    """WeightIt's stacked estimating equations of entropy balancing, one block per group."""
    blocks, jacobians, slopes = [], [], []
    for group in groups:
        member = (treat == group).astype(np.float64)
        blocks.append(C * (in_target - member * weights)[:, None])
        jacobians.append((C * (member * weights)[:, None]).T @ C)
        slopes.append(-C * (member * weights)[:, None])
    q = C.shape[1]
    jacobian = np.zeros((q * len(groups), q * len(groups)))
    for k, block in enumerate(jacobians):
        jacobian[k * q:(k + 1) * q, k * q:(k + 1) * q] = block
    return WeightModel("entropy balancing", np.column_stack(blocks), jacobian,
                       np.column_stack(slopes))


class EntropyBalancing(Parameters):
    """Entropy balancing weights with exact mean balance.

    Parameters
    ----------
    estimand : "ATT", "ATC" or "ATE".
    moments : 1 (means) or 2 (means and the squares of numeric covariates).
    distance : None (default; entropy balancing needs no propensity score), or "glm",
        "logit" or an array of scores kept for balance tables and plots.
    estimator : propensity classifier for ``distance``.

    >>> from estimation import EntropyBalancing, example_data
    >>> X, treat, y = example_data()
    >>> sample = EntropyBalancing().fit(X, treat).result_
    >>> import numpy as np
    >>> w = sample.weights[~treat] / sample.weights[~treat].sum()
    >>> bool(np.isclose(w @ X["age"][~treat], X["age"][treat].mean()))
    True
    """

    def __init__(self, estimand: str = "ATT", moments: int = 1, distance: Any = None,
                 estimator: Any = None):
        self.estimand = estimand
        self.moments = moments
        self.distance = distance
        self.estimator = estimator

    def fit(self, X: Any, treatment: Any) -> EntropyBalancing:
        """Solve the dual for each reweighted group; the result is in ``result_``."""
        estimand = check_estimand(NAME, self.estimand, ("ATT", "ATC", "ATE"))
        if self.moments not in (1, 2) or isinstance(self.moments, bool):
            raise InvalidParameterError(NAME, "moments", "1 or 2", self.moments)
        data = scored_data(NAME, X, treatment, self.distance, self.estimator, required=False)
        self.propensity_ = data.propensity
        C, names = constraint_matrix(data.frame, int(self.moments))
        t = data.treat
        in_target = {"ATT": t, "ATC": ~t}.get(estimand, np.ones(data.n, bool)).astype(np.float64)
        groups = {"ATT": [False], "ATC": [True]}.get(estimand, [True, False])
        weights = np.ones(data.n)
        self.solutions_ = {}
        for group in groups:
            weights[t == group] = self._solve(C, t == group, in_target, names, group)
        settings = {"method": "weighting", "weights": "ebal", "estimand": estimand,
                    "moments": int(self.moments), "distance": data.kind,
                    "constraints": names[1:], "propagated": True}
        self.result_ = MatchedSample(
            treat=t, distance=data.distance, weights=weights, subclass=np.full(data.n, -1, np.int64),
            match_matrix=np.empty((int(t.sum()), 0), dtype=np.int64),
            discarded=np.zeros(data.n, bool), covariates=data.frame, estimand=estimand,
            settings=settings, structure="weights",
            weight_model=ebal_model(C, t, groups, in_target, weights))
        return self

    def _solve(self, C, member, in_target, names, group) -> np.ndarray:
        n_target = float(in_target.sum())
        target = (in_target @ C) / n_target
        solution = solve_dual(C[member], target, n_target)
        self.solutions_[bool(group)] = solution
        scale = np.max(np.abs(C), axis=0)
        if not solution.max_imbalance < 1e-6 * max(1.0, float(scale.max())):
            label = "treated" if group else "control"
            raise BalanceInfeasibleError(
                f"Entropy balancing found no {label} weights that balance the covariates "
                f"exactly (largest remaining standardised imbalance "
                f"{solution.max_imbalance:.3g} after {solution.iterations} Newton steps): the "
                f"target means lie outside what the {label} units can reach, e.g. a category "
                "they do not have. Drop or merge such covariates, or use another method.")
        return solution.weights

    @property
    def matched_sample(self) -> MatchedSample:
        """The fitted result (raises NotFittedError before ``fit``)."""
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_
