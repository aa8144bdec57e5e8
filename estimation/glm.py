"""Binomial generalised linear model fitted by iteratively reweighted least squares.

It reproduces R's ``glm(family = binomial(link))`` (``glm.fit``): the same starting values,
the same link functions, Fisher scoring, aliased columns dropped in column order as R's
pivoted QR does (tolerance 1e-7, judged on centred and scaled columns), and R's warnings
("fitted probabilities numerically 0 or 1 occurred", non-convergence). It iterates further
than R (relative deviance change below 1e-12 rather than 1e-8), so its fitted probabilities
agree with R's to about 1e-8 (tests/golden/matching).

Speed and memory: the steps are taken in gradient form (``H step = score``) so that the
solution is exact even though ``H`` is formed from the raw columns; ``H`` is accumulated in
row blocks that stay in the CPU cache (one BLAS ``dsyrk`` per block), and no copy of the
design is made, so 10 million rows need little beyond the design itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

try:  # the compiled loops (estimation/_core.c); the Python functions are the same
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

EPS = np.finfo(float).eps
_BLOCK = 1 << 14  # rows per block of the Hessian: the buffer stays in cache


class PropensityWarning(UserWarning):
    """The propensity model fit is suspect (separation, non-convergence, aliased terms)."""


@dataclass(frozen=True, eq=False)
class BinomialFit:
    """Result of :func:`fit_binomial`: coefficients on the original scale, linear predictor."""

    coef: np.ndarray  # intercept first; NaN for aliased columns (as R's NA)
    linear_predictor: np.ndarray
    fitted: np.ndarray
    iterations: int
    converged: bool
    deviance: float


def _linkinv(eta: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        with np.errstate(over="ignore"):
            mu = 1.0 / (1.0 + np.exp(-eta))
        if np.abs(eta).max(initial=0.0) > 30:  # R's clamping of the logistic
            mu = np.where(eta < -30, EPS, np.where(eta > 30, 1 - EPS, mu))
        return mu
    from scipy import special  # only the probit link needs scipy

    thresh = -special.ndtri(EPS)
    return special.ndtr(np.clip(eta, -thresh, thresh))


def _mu_eta(eta: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        e = np.exp(-np.abs(eta))
        out = e / np.square(1 + e)
        if np.abs(eta).max(initial=0.0) > 30:
            out = np.where(np.abs(eta) > 30, EPS, out)
        return out
    return np.maximum(np.exp(-0.5 * eta * eta) / np.sqrt(2 * np.pi), EPS)


def _linkfun(mu: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        return np.log(mu / (1.0 - mu))
    from scipy import special

    return special.ndtri(mu)


def _deviance(treated: np.ndarray, mu: np.ndarray) -> float:
    """-2 log-likelihood; ``treated`` is boolean."""
    p = np.where(treated, mu, 1.0 - mu)
    return float(-2.0 * np.log(p, out=p).sum())


def _centred_gram(X: np.ndarray) -> np.ndarray:
    """Gram matrix of ``[1, (X - mean) / sd]`` (constant columns stay 0), for rank checks."""
    from scipy.linalg.blas import dsyrk

    n, p = X.shape
    centre = X.mean(axis=0) if n else np.zeros(p)
    gram = np.zeros((p + 1, p + 1))
    gram[0, 0] = n
    buffer = np.empty((min(_BLOCK, max(n, 1)), p), order="F")
    for start in range(0, n, _BLOCK):
        block = buffer[: min(start + _BLOCK, n) - start]
        np.subtract(X[start : start + block.shape[0]], centre, out=block)
        gram[1:, 1:] += dsyrk(1.0, block, trans=1)
    gram[1:, 1:] = np.triu(gram[1:, 1:]) + np.triu(gram[1:, 1:], 1).T
    scale = np.sqrt(np.diag(gram)[1:] / max(n, 1))
    scale = np.where(scale > 0, scale, 1.0)
    gram[1:, 1:] /= np.outer(scale, scale)
    return gram


def _hessian(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``[1, X]' W [1, X]``: per block of rows, ``Z = sqrt(w) [1, X]`` in a cache-sized
    buffer and one BLAS ``dsyrk`` (``Z'Z``, half the work of a general product)."""
    from scipy.linalg.blas import dsyrk

    n, p = X.shape
    hess = np.zeros((p + 1, p + 1))
    buffer = np.empty((min(_BLOCK, max(n, 1)), p + 1), order="F")
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        z = buffer[: stop - start]
        np.sqrt(w[start:stop], out=z[:, 0])
        np.multiply(X[start:stop], z[:, :1], out=z[:, 1:])
        hess += dsyrk(1.0, z, trans=1)  # upper triangle of z'z
    return np.triu(hess) + np.triu(hess, 1).T


def _linear_predictor(X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``beta[0] + X @ beta[1:]`` column by column, so that every row goes through the same
    floating-point operations: identical covariates give bit-identical scores (a BLAS
    product may round rows differently, which would break ties that R keeps). The compiled
    version does the same operations row by row, in blocks, on several threads."""
    if _core is not None and X.flags.f_contiguous and X.shape[0] >= 100_000:
        eta = np.empty(X.shape[0])
        _core.linear_predictor(X.reshape(-1, order="F"), np.ascontiguousarray(beta, dtype=np.float64),
                               eta, threads())
        return eta
    eta = np.full(X.shape[0], beta[0])
    for j in range(X.shape[1]):
        eta += X[:, j] * beta[j + 1]
    return eta


def threads() -> int:
    """Threads for the compiled loops: the CPUs this process may use (TILTAK_THREADS caps it)."""
    import os

    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    cap = os.environ.get("TILTAK_THREADS", "")
    return max(1, min(available, int(cap))) if cap.isdigit() and int(cap) > 0 else available


def _newton_step(hess: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Solve ``hess @ step = grad`` after scaling to unit diagonal (Jacobi)."""
    d = 1.0 / np.sqrt(np.where(np.diag(hess) > 0, np.diag(hess), 1.0))
    return d * np.linalg.solve(hess * np.outer(d, d), grad * d)


def _kept_columns(gram: np.ndarray, tol: float = 1e-7) -> list[int]:
    """Columns kept in order, dropping each whose residual on the kept ones is ~0 (R's QR)."""
    kept: list[int] = []
    for j in range(gram.shape[0]):
        if gram[j, j] <= 0:
            continue
        if kept:
            g_kk = gram[np.ix_(kept, kept)]
            g_kj = gram[kept, j]
            resid = gram[j, j] - g_kj @ np.linalg.solve(g_kk, g_kj)
        else:
            resid = gram[j, j]
        if resid > (tol**2) * gram[j, j]:
            kept.append(j)
    return kept


def _weights(eta: np.ndarray, mu: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray]:
    """Fisher weights and d mu / d eta (R's glm.fit working weights)."""
    if link == "logit":  # canonical link: both equal mu (1 - mu)
        w = mu * (1.0 - mu)
        return w, w
    mu_eta = _mu_eta(eta, link)
    return mu_eta**2 / (mu * (1 - mu)), mu_eta


def _irls(X: np.ndarray, y: np.ndarray, link: str, max_iter: int, tol: float):
    """Fisher scoring in gradient form, started from R's values (mu = (y + 0.5) / 2).

    Each step solves ``H step = X'(W (y - mu) / mu_eta)``; the fixed point (the score equal
    to zero) is computed exactly, so the Hessian's rounding only affects the speed.
    """
    treated = y > 0.5
    mu = (y + 0.5) / 2.0
    eta = _linkfun(mu, link)
    w, mu_eta = _weights(eta, mu, link)
    # first step from eta: least squares of the working response on [1, X]
    z = eta + (y - mu) / mu_eta
    hess = _hessian(X, w)
    wz = w * z
    beta = _newton_step(hess, np.concatenate([[wz.sum()], X.T @ wz]))
    dev_old, converged, it, dev = np.inf, False, 1, np.inf
    for it in range(1, max_iter + 1):
        eta = _linear_predictor(X, beta)
        mu = _linkinv(eta, link)
        dev = _deviance(treated, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
        w, mu_eta = _weights(eta, mu, link)
        score = w * (y - mu) / mu_eta
        beta = beta + _newton_step(_hessian(X, w), np.concatenate([[score.sum()], X.T @ score]))
    return beta, eta, mu, it, converged, dev


def fit_binomial(X: np.ndarray, y: np.ndarray, link: str = "logit", max_iter: int = 100,
                 tol: float = 1e-12) -> BinomialFit:
    """Fit ``y ~ 1 + X`` by maximum likelihood; warn as R does on separation."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    kept = _kept_columns(_centred_gram(X))  # includes 0, the intercept
    if len(kept) < X.shape[1] + 1:
        warnings.warn(
            f"{X.shape[1] + 1 - len(kept)} covariate column(s) are constant or collinear with "
            "earlier ones and were dropped from the propensity model (R reports their "
            "coefficients as NA).", PropensityWarning, stacklevel=3)
    columns = [k - 1 for k in kept if k > 0]
    model_X = X if len(columns) == X.shape[1] else np.asfortranarray(X[:, columns])
    if 0 not in kept:  # only possible with no rows; keep R's intercept regardless
        kept = [0, *kept]
    beta, eta, mu, it, converged, dev = _irls(model_X, y, link, max_iter, tol)
    if not converged:
        warnings.warn(f"The propensity model did not converge in {max_iter} iterations.",
                      PropensityWarning, stacklevel=3)
    if np.any(mu > 1 - 10 * EPS) or np.any(mu < 10 * EPS):
        warnings.warn("Fitted probabilities numerically 0 or 1 occurred (separation): some "
                      "covariate pattern predicts treatment perfectly.", PropensityWarning,
                      stacklevel=3)
    coef = np.full(X.shape[1] + 1, np.nan)
    coef[kept] = beta
    return BinomialFit(coef, eta, mu, it, converged, dev)
