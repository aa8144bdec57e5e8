"""Distances on the covariates for nearest-neighbour matching, as MatchIt defines them.

``covariate_space(frame, treat, discarded, method)`` returns the covariates transformed so
that the Euclidean distance between two rows of ``space.values`` is the requested distance
(MatchIt's ``transform_covariates``, 4.5.1 and 4.7.2 alike):

* the covariate matrix has one column per numeric covariate, one 0/1 column for a logical
  one and, for a categorical covariate, one 0/1 column per level divided by sqrt(2) (so that
  two units with different levels are as far apart as two values of a binary variable, as
  optmatch's ``contr.match_on``); columns whose range is below sqrt(machine epsilon) are
  dropped (all of them: Euclidean on the first);
* ``"mahalanobis"``: the columns are standardised (mean 0, SD 1 over all units) and
  multiplied by a factor of the inverse of the *pooled within-group* covariance matrix of
  the units not discarded (Rubin 1980; optmatch); a covariance whose determinant is at most
  1e-8 is inverted by the singular value decomposition, dropping singular values below 1e-8
  of the largest (MatchIt's ``generalized_inverse``);
* ``"robust_mahalanobis"``: the same on the ranks of each column among the units not
  discarded (average ranks for ties), with the rank covariance rescaled so that every
  variance is that of untied ranks (Rosenbaum 2010, section 8.3);
* ``"scaled_euclidean"``: each column divided by its pooled within-group SD (for a 0/1
  column, the pooled binomial variance);
* ``"euclidean"``: the columns as they are.

The transformed columns are MatchIt's own (the same pivoted Cholesky factor), because
MatchIt 4.6 and later walk through the candidates in the order of one of them (the first,
or one that a covariate caliper is placed on), which decides which of equally distant
controls it takes (``ties="matchit"``; :func:`search_variable`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from estimation.design import MissingValuesError, _encode, _kind, as_frame
from estimation.parameters import InvalidInputError

COVARIATE_DISTANCES = ("mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean")
NO_VARIANCE = math.sqrt(np.finfo(float).eps)
DETERMINANT_FLOOR = 1e-8


@dataclass(frozen=True, eq=False)
class CovariateSpace:
    """Transformed covariates: Euclidean distance between rows = the chosen distance."""

    values: np.ndarray  # (n, q): MatchIt's transformed covariates
    method: str
    columns: tuple[str, ...]  # the covariate columns before the transformation


def distance_matrix_columns(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """MatchIt's ``get_covs_matrix_for_dist``: numbers as they are, logicals as one 0/1
    column, categories as one 0/1 column per level divided by sqrt(2)."""
    frame = as_frame(frame)
    columns, names, missing = [], [], {}
    for column in frame.columns:
        name, series = str(column), frame[column]
        kind = _kind(series)
        if kind == "numeric":
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            gaps = int(np.isnan(values).sum())
            columns.append(values)
            names.append(name)
        else:
            codes, levels = _encode(series, kind)
            gaps = int((codes < 0).sum())
            if kind == "bool":
                columns.append((codes == 1).astype(np.float64))
                names.append(f"{name}TRUE")
            else:
                for code, level in enumerate(levels):
                    columns.append((codes == code) / math.sqrt(2.0))
                    names.append(f"{name}{level}")
        if gaps:
            missing[name] = gaps
    if missing:
        raise MissingValuesError(missing)
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    if not np.isfinite(matrix).all():
        bad = [n for n, c in zip(names, columns) if not np.isfinite(c).all()]
        raise InvalidInputError(f"Covariates of a distance must be finite numbers; infinite "
                                f"values in: {', '.join(bad)}.")
    return matrix, names


def covariate_space(frame: pd.DataFrame, treat: np.ndarray, discarded: np.ndarray,
                    method: str) -> CovariateSpace:
    """The covariates transformed for ``method`` (one of ``COVARIATE_DISTANCES``)."""
    X, names = distance_matrix_columns(frame)
    if X.shape[1] == 0:
        raise InvalidInputError(f"A {method} distance needs covariates; none were given.")
    spread = X.max(axis=0) - X.min(axis=0)
    flat = spread < NO_VARIANCE
    if flat.all():
        method, X, names = "euclidean", X[:, :1], names[:1]
    elif flat.any():
        X, names = X[:, ~flat], [n for n, f in zip(names, flat) if not f]
    kept = ~discarded
    if method == "mahalanobis":
        Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
        values = _mahalanobize(Xs, _pooled_cov(Xs[kept], treat[kept]))
    elif method == "robust_mahalanobis":
        ranks = np.zeros_like(X)
        ranks[kept] = np.column_stack([average_ranks(X[kept, j]) for j in range(X.shape[1])])
        var_r = np.cov(ranks[kept], rowvar=False).reshape(X.shape[1], X.shape[1])
        untied = np.std(np.arange(1, kept.sum() + 1), ddof=1)
        scale = untied / np.sqrt(np.diag(var_r))
        values = _mahalanobize(ranks, var_r * np.outer(scale, scale))
    elif method == "scaled_euclidean":
        values = X / _pooled_sd(X[kept], treat[kept])
    else:
        values = X
    return CovariateSpace(np.ascontiguousarray(values), method, tuple(names))


def _pooled_cov(X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Pooled within-group covariance (MatchIt's ``pooled_cov`` without weights)."""
    centred = X.copy()
    for group in (True, False):
        rows = t == group
        if rows.any():
            centred[rows] -= X[rows].mean(axis=0)
    n, groups = X.shape[0], len(np.unique(t))
    cov = np.cov(centred, rowvar=False).reshape(X.shape[1], X.shape[1])
    return cov * (n - 1) / (n - groups)


def _pooled_sd(X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Pooled within-group SDs (MatchIt's ``pooled_sd``, proportional contributions)."""
    n, groups = X.shape[0], [t == g for g in (True, False) if (t == g).any()]
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        x = X[:, j]
        if np.all((x == 0) | (x == 1)):
            out[j] = sum(x[g].sum() * (1 - x[g].sum() / g.sum()) / n for g in groups)
        else:
            centred = x.copy()
            for g in groups:
                centred[g] -= x[g].mean()
            out[j] = np.sum(centred ** 2) / (n - len(groups))
    return np.sqrt(out)


def _inverse(var: np.ndarray) -> np.ndarray:
    """MatchIt's inverse: ``solve`` when the determinant exceeds 1e-8 and R's ``solve``
    accepts the matrix (reciprocal condition number at least machine epsilon), else the
    SVD inverse."""
    if np.linalg.det(var) > DETERMINANT_FLOOR:
        try:
            if 1.0 / np.linalg.cond(var, 1) >= np.finfo(float).eps:
                return np.linalg.solve(var, np.eye(var.shape[0]))
        except np.linalg.LinAlgError:
            pass
    u, d, vt = np.linalg.svd(var)
    keep = d > max(DETERMINANT_FLOOR * d[0], 0.0)
    return (vt[keep].T / d[keep]) @ u[:, keep].T


def _mahalanobize(X: np.ndarray, var: np.ndarray) -> np.ndarray:
    """MatchIt's ``mahalanobize``: ``X t(R[, order(pivot)])`` with ``R`` the pivoted
    Cholesky factor of the inverse covariance (R's ``chol(pivot = TRUE)``), so that
    Euclidean distances between rows are Mahalanobis distances."""
    factor, pivot = pivoted_cholesky(_inverse(var))
    return X @ factor[:, np.argsort(pivot)].T


def pivoted_cholesky(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangular ``R`` and pivot with ``R' R = a[pivot][:, pivot]`` for a symmetric
    positive semi-definite ``a`` (LAPACK ``dpstf2``, as R's ``chol(pivot = TRUE)``): at
    each step the largest remaining diagonal element is the pivot; once it falls below
    ``n * eps * max(diag(a))`` the rest of the factor is 0 (the rank is reached)."""
    n = a.shape[0]
    work = np.array(a, dtype=np.float64)
    pivot = np.arange(n)
    factor = np.zeros((n, n))
    tol = n * np.finfo(float).eps * float(np.max(np.diag(work))) if n else 0.0
    for j in range(n):
        rest = np.diag(work)[j:] - np.sum(factor[:j, j:] ** 2, axis=0)
        k = j + int(np.argmax(rest))
        if rest[k - j] <= tol:
            break
        if k != j:  # swap rows/columns j and k of the work matrix and the factor so far
            work[[j, k]] = work[[k, j]]
            work[:, [j, k]] = work[:, [k, j]]
            factor[:j, [j, k]] = factor[:j, [k, j]]
            pivot[[j, k]] = pivot[[k, j]]
        factor[j, j] = np.sqrt(rest[k - j])
        factor[j, j + 1:] = (work[j, j + 1:] - factor[:j, j] @ factor[:j, j + 1:]) / factor[j, j]
    return factor, pivot


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (R's ``rank``)."""
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    starts = np.concatenate([[True], ranked[1:] != ranked[:-1]])
    first = np.flatnonzero(starts)
    last = np.append(first[1:], ranked.size) - 1
    group = np.cumsum(starts) - 1
    out = np.empty(values.size)
    out[order] = (first[group] + last[group]) / 2.0 + 1.0
    return out


def affine_slope(x: np.ndarray, y: np.ndarray, tol: float = 1e-9) -> float:
    """MatchIt's ``get_affine_transformation``: ``a`` when ``y = a x + b`` within ``tol``
    for every unit (and neither is nearly constant), else 0."""
    if x.size != y.size or x.size < 2:
        return 0.0
    dx, dy = x - x.mean(), y - y.mean()
    num, den = float(np.sum(dx * dy)), float(np.sum(dx * dx))
    if abs(den) < tol or abs(num) < tol:
        return 0.0
    a = num / den
    b = float(y.mean()) - a * float(x.mean())
    return a if bool(np.all(np.abs(a * x + b - y) <= tol)) else 0.0


def search_variable(space: CovariateSpace, caliper_values: np.ndarray | None) -> np.ndarray:
    """The variable MatchIt 4.6+ sorts the units by to search for controls on covariates:
    the first transformed column that is an affine function of a covariate with a caliper
    (transformed columns first, then calipers, in order), else the first column."""
    if caliper_values is not None:
        for j in range(space.values.shape[1]):
            for k in range(caliper_values.shape[1]):
                if abs(affine_slope(caliper_values[:, k], space.values[:, j])) > 1e-10:
                    return space.values[:, j]
    return space.values[:, 0]
