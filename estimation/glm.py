"""Binomial generalised linear model fitted by iteratively reweighted least squares.

It reproduces R's ``glm(family = binomial(link))`` (``glm.fit``): the same starting values,
the same link functions, Fisher scoring, aliased columns dropped in column order as R's
pivoted QR does (tolerance 1e-7, judged on centred and scaled columns), and R's warnings
("fitted probabilities numerically 0 or 1 occurred", non-convergence). It iterates further
than R (relative deviance change below 1e-12 rather than 1e-8), so its fitted probabilities
agree with R's to about 1e-8 (tests/golden/matching).

Speed and memory: the steps are taken in gradient form (``H step = score``) so that the
solution is exact even though ``H`` is formed from the raw columns. The design is read in
parts (:class:`~estimation.design_columns.DesignColumns`: numeric columns as they are,
factors as codes): the linear predictor, ``H`` and the score of each step are one pass
over those columns each (compiled, on all CPUs, the same bits for any number of threads),
and no n x p matrix is formed, so 10 million rows need little beyond the data and a few
vectors of n.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from estimation.design_columns import DesignColumns
from estimation.threads import context_pool, threads

try:  # the compiled loops of the Newton steps; NumPy's expressions give the same bits
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

EPS = np.finfo(float).eps


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


def _linkinv(eta: np.ndarray, link: str, largest: float | None = None,
             out: np.ndarray | None = None) -> np.ndarray:
    """The inverse link; ``largest`` is max |eta| if known; ``out`` receives the logistic."""
    if link == "logit":
        with np.errstate(over="ignore"):  # 1 / (1 + exp(-eta)), in place
            mu = np.negative(eta, out=out)
            np.exp(mu, out=mu)
            np.add(1.0, mu, out=mu)
            np.divide(1.0, mu, out=mu)
        if largest is None:
            largest = float(np.abs(eta).max(initial=0.0))
        if largest > 30:  # R's clamping of the logistic
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


def _deviance(treated: np.ndarray, mu: np.ndarray, work: np.ndarray | None = None) -> float:
    """-2 log-likelihood; ``treated`` is boolean; ``work`` a scratch array like ``mu``."""
    p = np.subtract(1.0, mu, out=work)  # np.where(treated, mu, 1 - mu)
    np.copyto(p, mu, where=treated)
    return float(-2.0 * np.log(p, out=p).sum())


def _centred_gram(design: DesignColumns) -> np.ndarray:
    """Gram matrix of ``[1, (X - mean) / sd]`` (constant columns stay 0), for rank checks."""
    n, p = design.shape
    gram = np.zeros((p + 1, p + 1))
    gram[0, 0] = n
    gram[1:, 1:] = design.centred_cross(threads())
    scale = np.sqrt(np.diag(gram)[1:] / max(n, 1))
    scale = np.where(scale > 0, scale, 1.0)
    gram[1:, 1:] /= np.outer(scale, scale)
    return gram


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


def _weights(eta: np.ndarray, mu: np.ndarray, link: str,
             out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fisher weights and d mu / d eta (R's glm.fit working weights)."""
    if link == "logit":  # canonical link: both equal mu (1 - mu)
        w = np.subtract(1.0, mu, out=out)
        np.multiply(mu, w, out=w)
        return w, w
    mu_eta = _mu_eta(eta, link)
    return mu_eta**2 / (mu * (1 - mu)), mu_eta


def _first_weights(y: np.ndarray, treated: np.ndarray, link: str,
                   out: tuple[np.ndarray, np.ndarray] | None = None,
                   blocks: "Blockwise | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """The first step's weights ``w`` and ``w z`` from R's start (mu = (y + 0.5) / 2).

    Each is a function of y alone, element by element, so for a 0/1 response they are
    computed on the two values and looked up (the same bits as on every element: NumPy's
    vectorised functions give the same result for a value wherever it stands). ``out``:
    two float64 vectors of n that receive them (the lookups block by block on ``blocks``;
    fresh vectors of this size cost more in page faults than the lookups themselves).
    """
    def of(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = (values + 0.5) / 2.0
        eta = _linkfun(mu, link)
        w, mu_eta = _weights(eta, mu, link)
        z = eta + (values - mu) / mu_eta
        return w, w * z

    n_treated = int(np.count_nonzero(treated))
    if n_treated + int(np.count_nonzero(y == 0.0)) != y.shape[0] or \
            n_treated != int(np.count_nonzero(y == 1.0)):
        return of(y)
    w, wz = of(np.array([0.0, 1.0]))
    index = treated.view(np.uint8)
    if out is None:
        return w[index], wz[index]
    w_out, wz_out = out

    def look_up(rows: slice) -> None:  # np.take copies the table's values: w[index]'s bits
        np.take(w, index[rows], out=w_out[rows])
        np.take(wz, index[rows], out=wz_out[rows])

    if blocks is None:
        look_up(slice(0, y.shape[0]))
    else:
        blocks.run(look_up)
    return w_out, wz_out


BLOCK = 1 << 17  # rows per block of the Newton steps' element-wise arithmetic


def block_slices(n: int) -> list[slice]:
    """The fixed blocks of ``BLOCK`` rows (the last one shorter): the same for any number
    of threads."""
    return [slice(start, min(start + BLOCK, n)) for start in range(0, n, BLOCK)]


class Blockwise:
    """Runs a function on each fixed block of rows, on up to ``cpus`` threads.

    NumPy's ufuncs release the interpreter lock, so the blocks of an element-wise step run
    on both cores; each element is computed by the same ufunc as on the whole array (its
    value does not depend on where it stands), so the bits are the same for any number of
    threads and any block size. Sums are not taken here: their order is NumPy's over the
    whole array. ``run`` returns the function's results in block order and raises the first
    block's error in order, as a loop would.
    """

    def __init__(self, n: int, cpus: int):
        self.blocks = block_slices(n)
        workers = min(cpus, len(self.blocks))
        self._pool = context_pool(workers) if workers > 1 else None

    def run(self, function) -> list:
        if self._pool is None:
            return [function(block) for block in self.blocks]
        return list(self._pool.map(function, self.blocks))

    def __enter__(self) -> "Blockwise":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _logit_mu_and_log_p(eta: np.ndarray, treated: np.ndarray, largest: float, mu: np.ndarray,
                        log_p: np.ndarray, rows: slice) -> None:
    """One block of ``mu = linkinv(eta)`` and ``log(where(treated, mu, 1 - mu))``: the bits
    of :func:`_linkinv` and :func:`_deviance` on the whole arrays (NumPy's exp and log; the
    additions, divisions and the choice in one compiled loop, ``_core.logit_mu``)."""
    e, m, p = eta[rows], mu[rows], log_p[rows]
    with np.errstate(over="ignore"):  # the error state is per thread: set in the worker
        np.negative(e, out=m)
        np.exp(m, out=m)
    if _core is not None:
        if largest > 30:  # R's clamping of the logistic, as _linkinv
            _core.logit_mu(treated.y[rows], m, p, True, e)
        else:
            _core.logit_mu(treated.y[rows], m, p, False)
    else:  # built without a C compiler
        np.add(1.0, m, out=m)
        np.divide(1.0, m, out=m)
        if largest > 30:
            m[...] = np.where(e < -30, EPS, np.where(e > 30, 1 - EPS, m))
        np.subtract(1.0, m, out=p)
        np.copyto(p, m, where=treated.mask[rows])
    np.log(p, out=p)


def _logit_weights_and_score(y: np.ndarray, mu: np.ndarray, w: np.ndarray, score: np.ndarray,
                             rows: slice) -> None:
    """One block of the Fisher weights ``w = mu (1 - mu)`` and ``w (y - mu) / mu_eta`` (the
    canonical link: ``mu_eta`` is ``w``): the bits of :func:`_weights` and the loop of
    :func:`_irls` on the whole arrays (``_core.logit_step``)."""
    m, ws, s = mu[rows], w[rows], score[rows]
    if _core is not None:
        _core.logit_step(y[rows], m, ws, s)
        return
    np.subtract(1.0, m, out=ws)  # built without a C compiler
    np.multiply(m, ws, out=ws)
    np.subtract(y[rows], m, out=s)
    np.multiply(ws, s, out=s)
    np.divide(s, ws, out=s)


@dataclass(frozen=True)
class _Treated:
    """The 0/1 response as float64 ``y`` (read by the compiled loops: treated where
    ``y > 0.5``) and as the boolean ``mask``."""

    y: np.ndarray
    mask: np.ndarray


def _irls(design: DesignColumns, y: np.ndarray, link: str, max_iter: int, tol: float):
    """Fisher scoring in gradient form, started from R's values (mu = (y + 0.5) / 2).

    Each step solves ``H step = X'(W (y - mu) / mu_eta)``; the fixed point (the score equal
    to zero) is computed exactly, so the Hessian's rounding only affects the speed. With the
    logit link the element-wise arithmetic of a step runs in fixed blocks of rows on all
    CPUs (:class:`Blockwise`), the deviance summed over the whole array as before.
    """
    cpus = threads()
    y = np.ascontiguousarray(y, dtype=np.float64)  # the compiled loops read it in blocks
    treated = y > 0.5
    dev_old, converged, it, dev = np.inf, False, 1, np.inf
    n = y.shape[0]
    # the vectors of each step, reused (fresh memory of this size costs more than the
    # arithmetic); the last eta and mu are returned
    eta, mu, w, score = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    response = _Treated(y, treated)
    with Blockwise(n, cpus if link == "logit" else 1) as blocks:
        # first step from eta: least squares of the working response on [1, X]
        first = _first_weights(y, treated, link, out=(w, score), blocks=blocks)
        beta = _newton_step(*design.hessian_and_score(*first, cpus))
        for it in range(1, max_iter + 1):
            eta, largest = design.linear_predictor(beta, cpus, out=eta)
            if link == "logit":  # mu and the deviance's logs (into score) block by block
                blocks.run(lambda rows: _logit_mu_and_log_p(eta, response, largest, mu, score,
                                                            rows))
                dev = float(-2.0 * score.sum())
            else:
                mu = _linkinv(eta, link, largest, out=mu)
                dev = _deviance(treated, mu, work=score)
            if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
                converged = True
                break
            dev_old = dev
            if link == "logit":
                blocks.run(lambda rows: _logit_weights_and_score(y, mu, w, score, rows))
            else:
                w, mu_eta = _weights(eta, mu, link, out=w)
                np.subtract(y, mu, out=score)  # w (y - mu) / mu_eta
                np.multiply(w, score, out=score)
                np.divide(score, mu_eta, out=score)
            beta = beta + _newton_step(*design.hessian_and_score(w, score, cpus))
    return beta, eta, mu, it, converged, dev


def fit_binomial(X, y: np.ndarray, link: str = "logit", max_iter: int = 100,
                 tol: float = 1e-12) -> BinomialFit:
    """Fit ``y ~ 1 + X`` by maximum likelihood; warn as R does on separation.

    ``X`` is a 2-d array or a :class:`~estimation.design_columns.DesignColumns`.
    """
    design = X if isinstance(X, DesignColumns) else DesignColumns.of_matrix(X)
    y = np.asarray(y, dtype=np.float64)
    p = design.p
    kept = _kept_columns(_centred_gram(design))  # includes 0, the intercept
    if len(kept) < p + 1:
        warnings.warn(
            f"{p + 1 - len(kept)} covariate column(s) are constant or collinear with "
            "earlier ones and were dropped from the propensity model (R reports their "
            "coefficients as NA).", PropensityWarning, stacklevel=3)
    columns = [k - 1 for k in kept if k > 0]
    model = design if len(columns) == p else design.select(columns)
    if 0 not in kept:  # only possible with no rows; keep R's intercept regardless
        kept = [0, *kept]
    beta, eta, mu, it, converged, dev = _irls(model, y, link, max_iter, tol)
    if not converged:
        warnings.warn(f"The propensity model did not converge in {max_iter} iterations.",
                      PropensityWarning, stacklevel=3)
    if np.any(mu > 1 - 10 * EPS) or np.any(mu < 10 * EPS):
        warnings.warn("Fitted probabilities numerically 0 or 1 occurred (separation): some "
                      "covariate pattern predicts treatment perfectly.", PropensityWarning,
                      stacklevel=3)
    coef = np.full(p + 1, np.nan)
    coef[kept] = beta
    return BinomialFit(coef, eta, mu, it, converged, dev)
