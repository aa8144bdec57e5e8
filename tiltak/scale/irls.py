"""The propensity score by distributed IRLS: gradients and Hessians summed over partitions.

R's ``glm.fit`` for the binomial family with the logit link: start from mu = (y + 1/2) / 2,
then repeat Fisher scoring, ``(X'WX) step = X'(y - mu)`` (the canonical link makes the
working weights mu (1 - mu)), until the deviance changes by less than ``tol`` relatively
(R: 1e-8; the default here, 1e-12, as :func:`estimation.glm.fit_binomial`, so that the
estimates agree with R's to 1e-8 and better). Each iteration is one pass over the data on
the engine: every partition returns its ``X'WX`` (p x p), ``X'W(y - mu)`` and deviance; the
driver adds them *in partition order* (so the result does not depend on which executor
finished first), solves the p x p system and broadcasts the new coefficients. Only these
sums leave the partitions, never a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from tiltak.scale.errors import ScaleError


@dataclass(frozen=True)
class DistributedLogit:
    """The fitted coefficients (intercept first), iterations, convergence and deviance."""

    coefficients: np.ndarray
    names: tuple[str, ...]
    iterations: int
    converged: bool
    deviance: float
    n: int


def _partition_sums(beta: np.ndarray, first: bool):
    """The function each partition runs: its Gram matrix, score and deviance at ``beta``."""

    def run(index: int, rows) -> list:
        data = np.asarray([tuple(r) for r in rows], dtype=np.float64)
        p = beta.shape[0]
        if data.size == 0:
            return [(index, np.zeros((p, p)), np.zeros(p), 0.0, 0)]
        y, X = data[:, 0], np.column_stack([np.ones(len(data)), data[:, 1:]])
        if first:
            mu = (y + 0.5) / 2.0
            eta = np.log(mu / (1.0 - mu))
            w = mu * (1.0 - mu)
            score = w * (eta + (y - mu) / w)  # the working response: the first step is least squares
        else:
            eta = X @ beta
            mu = 1.0 / (1.0 + np.exp(-eta))
            w = mu * (1.0 - mu)
            score = y - mu
        gram = (X * w[:, None]).T @ X
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = -2.0 * float(np.sum(np.where(y > 0.5, np.log(mu), np.log1p(-mu))))
        return [(index, gram, X.T @ score, dev, len(data))]

    return run


def _summed(frame: Any, beta: np.ndarray, first: bool) -> tuple[np.ndarray, np.ndarray, float, int]:
    parts = sorted(frame.rdd.mapPartitionsWithIndex(_partition_sums(beta, first)).collect(), key=lambda t: t[0])
    gram = np.zeros_like(parts[0][1])
    score = np.zeros_like(parts[0][2])
    dev, n = 0.0, 0
    for _index, g, s, d, k in parts:  # in partition order: deterministic
        gram += g
        score += s
        dev += d
        n += k
    return gram, score, dev, n


def fit_logit(frame: Any, treatment: str, covariates: Sequence[str], max_iter: int = 50,
              tol: float = 1e-12) -> DistributedLogit:
    """Fit ``treatment ~ 1 + covariates`` on a Spark DataFrame of numeric columns."""
    columns = [treatment, *covariates]
    data = frame.select(*columns).na.drop()
    if data.count() == 0:
        raise ScaleError(f"no row without missing values in {', '.join(columns)}")
    data = data.cache()
    p = len(covariates) + 1
    gram, score, _dev, n = _summed(data, np.zeros(p), first=True)
    beta = _solve(gram, score, covariates)
    dev_old, converged, iterations, dev = np.inf, False, 0, np.inf
    for iterations in range(1, max_iter + 1):
        gram, score, dev, n = _summed(data, beta, first=False)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
        beta = beta + _solve(gram, score, covariates)
    data.unpersist()
    return DistributedLogit(beta, ("(Intercept)", *covariates), iterations, converged, float(dev), int(n))


def _solve(gram: np.ndarray, score: np.ndarray, covariates: Sequence[str]) -> np.ndarray:
    try:
        return np.linalg.solve(gram, score)
    except np.linalg.LinAlgError:
        raise ScaleError(f"the covariates {', '.join(covariates)} are collinear (or one is constant); "
                         "drop one before fitting the propensity score") from None
