"""Weighted least squares and the standard errors of matched-sample effect estimates.

* ``fit_wls``: weighted least squares with R's rule for aliased columns (a column that is a
  linear combination of the columns before it, to a relative tolerance of 1e-7, is dropped,
  as ``lm`` reports an ``NA`` coefficient).
* ``sandwich_vcov``: cluster-robust CR1 exactly as ``sandwich::vcovCL(fit, cluster, type =
  "HC1", cadjust = TRUE)``: G/(G-1) * (n-1)/(n-k) * B (sum_g u_g u_g') B with B = (X'WX)^-1
  and u_g = sum over the cluster of w_i e_i x_i; with every unit its own cluster this is HC1.
* ``abadie_imbens_variance``: the variance of the matching estimator of the ATT of Abadie
  and Imbens (2006, Theorem 7), with the conditional outcome variance of each control
  estimated by matching it to its J nearest controls.

See docs/effects.md for the formulas.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from estimation.design_columns import product, weighted_gram
from estimation.ordering import factorize_ints, stable_argsort
from estimation.parameters import InvalidInputError
from estimation.sums import r_sum_of

ALIAS_TOLERANCE = 1e-7


@dataclass(frozen=True, eq=False)
class WlsFit:
    """A weighted least-squares fit on the kept (non-aliased) columns."""

    coef: np.ndarray
    residuals: np.ndarray
    X: np.ndarray
    weights: np.ndarray
    kept: np.ndarray
    bread: np.ndarray

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def k(self) -> int:
        return int(self.X.shape[1])


def kept_columns(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns of X that are not (weighted) linear combinations of earlier ones, and X'WX.

    R's rule (``lm``'s pivoting QR, ``dqrdc2``): a column whose residual norm, after
    projection on the kept columns before it, is below ``ALIAS_TOLERANCE`` times its own
    norm (in the weighted metric) is aliased. The fast path reads this from X'WX; the
    Gram matrix squares the condition number, so its answer is trusted only when it drops
    nothing but empty columns and the kept columns are well conditioned. Otherwise the
    columns are decided on sqrt(w) X itself by Gram-Schmidt with re-orthogonalisation
    (seen: a dummy level equal to a combination of others, next to age in years, was kept
    and gave a treatment coefficient of 1e41).
    """
    gram = weighted_gram(X, w)
    kept, dropped = _gram_kept(gram)
    if dropped or not _well_conditioned(gram, kept):
        kept = _projection_kept(X, w)
    return kept, gram


def _gram_kept(gram: np.ndarray) -> tuple[np.ndarray, bool]:
    """Kept columns read from X'WX, and whether a non-empty column was dropped."""
    kept: list[int] = []
    dropped = False
    for j in range(gram.shape[0]):
        norm2 = gram[j, j]
        if norm2 <= 0:
            continue
        if kept:
            g = gram[np.ix_(kept, [j])]
            coef = np.linalg.lstsq(gram[np.ix_(kept, kept)], g, rcond=None)[0]
            resid2 = norm2 - float((g.T @ coef)[0, 0])
        else:
            resid2 = norm2
        if resid2 > (ALIAS_TOLERANCE**2) * norm2:
            kept.append(j)
        else:
            dropped = True
    return np.asarray(kept, dtype=np.int64), dropped


WELL_CONDITIONED = 1e-8
"""Smallest eigenvalue / largest of the kept columns' Gram matrix scaled to unit diagonal
for which the fast path is trusted: the smallest singular value of the scaled columns is
then >= 1e-4, far above the alias tolerance."""


def _well_conditioned(gram: np.ndarray, kept: np.ndarray) -> bool:
    if kept.size <= 1:
        return True
    sub = gram[np.ix_(kept, kept)]
    d = np.sqrt(np.diag(sub))
    values = np.linalg.eigvalsh(sub / np.outer(d, d))
    return bool(values[0] > WELL_CONDITIONED * values[-1])


def _projection_kept(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """R's alias rule on sqrt(w) X directly (classical Gram-Schmidt, twice per column)."""
    Z = X * np.sqrt(w)[:, None]
    basis = np.empty((Z.shape[0], 0))
    kept: list[int] = []
    for j in range(Z.shape[1]):
        v = Z[:, j]
        norm = float(np.linalg.norm(v))
        if norm == 0:
            continue
        r = v - basis @ (basis.T @ v)
        r = r - basis @ (basis.T @ r)
        rest = float(np.linalg.norm(r))
        if rest > ALIAS_TOLERANCE * norm:
            kept.append(j)
            basis = np.column_stack([basis, r / rest])
    return np.asarray(kept, dtype=np.int64)


def fit_wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> WlsFit:
    """Weighted least squares of y on X (which carries its own intercept column).

    Solves the normal equations on a column-scaled design and refines the solution twice
    with the residuals (iterative refinement), which brings it to the accuracy of a QR
    solve at a fraction of the cost for large n. The refinement's ``X'W r`` is summed in
    long double: with residuals near zero, its rounding is what limits the accuracy.
    """
    X = np.asfortranarray(X, dtype=np.float64)  # columns contiguous (views, not copies)
    kept, gram = kept_columns(X, w)
    Xk = X if kept.size == X.shape[1] else np.asfortranarray(X[:, kept])
    scale = np.sqrt(np.diag(gram)[kept])
    scaled = gram[np.ix_(kept, kept)] / np.outer(scale, scale)
    inverse = np.linalg.inv(scaled)
    coef = np.zeros(kept.size)
    residuals = y.astype(np.float64)
    for _ in range(3):
        wr = w * residuals
        step = inverse @ (np.array([r_sum_of(1, Xk[:, j], wr) for j in range(kept.size)]) / scale)
        coef = coef + step / scale
        residuals = y - product(Xk, coef)
    bread = inverse / np.outer(scale, scale)
    return WlsFit(coef, residuals, Xk, w, kept, bread)


def _codes(ids: np.ndarray) -> np.ndarray:
    """Cluster ids as codes 0..G-1 in order of first appearance (O(n))."""
    return factorize_ints(ids)[0]


def _cluster_meat(scores: np.ndarray, ids: np.ndarray,
                  row_factor: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """sum_g u_g u_g' over the clusters of ``ids``, and the number of clusters; with
    ``row_factor`` the scores are ``row_factor[:, None] * scores``, formed a column at a
    time (the same products, without an n x k copy)."""
    codes, n_clusters = factorize_ints(ids)
    if n_clusters < 2:
        raise InvalidInputError(
            "A cluster-robust standard error needs at least 2 clusters (matched pairs or "
            f"subclasses); got {n_clusters}."
        )
    sums = np.empty((n_clusters, scores.shape[1]), order="F")
    for j in range(scores.shape[1]):
        column = scores[:, j] if row_factor is None else row_factor * scores[:, j]
        sums[:, j] = np.bincount(codes, weights=column, minlength=n_clusters)
    return weighted_gram(sums), n_clusters


def sandwich_vcov(fit: WlsFit, clusters) -> tuple[np.ndarray, int]:
    """CR1 covariance and the number of clusters (of the first dimension).

    ``clusters`` is None (HC1), one array of ids, or a list of arrays for multiway
    clustering (Cameron, Gelbach and Miller 2011, as sandwich::vcovCL): the sum over every
    non-empty combination of dimensions of (-1)^(size+1) G/(G-1) B M B, with the
    combination's clusters the intersections, times (n-1)/(n-k).
    """
    n, k = fit.n, fit.k
    if n - k <= 0:
        raise InvalidInputError(
            f"Too few matched units for the standard error: {n} units for {k} coefficients."
        )
    u = fit.weights * fit.residuals
    if clusters is None:
        scores = np.asfortranarray(u[:, None] * fit.X)
        return n / (n - k) * fit.bread @ weighted_gram(scores) @ fit.bread, n
    dimensions = list(clusters) if isinstance(clusters, list) else [clusters]
    codes = [_codes(np.asarray(d)) for d in dimensions]
    total = np.zeros((k, k))
    first = 0
    for size in range(1, len(codes) + 1):
        for combo in itertools.combinations(range(len(codes)), size):
            ids = codes[combo[0]]
            for j in combo[1:]:
                ids = ids * (int(codes[j].max()) + 1) + codes[j]
            meat, g = _cluster_meat(fit.X, ids, u)  # the scores u x X, a column at a time
            first = first or g
            total += (-1) ** (size + 1) * g / (g - 1) * meat
    return (n - 1) / (n - k) * fit.bread @ total @ fit.bread, first


def stacked_pairs(match_matrix: np.ndarray, treat: np.ndarray):
    """MatchIt's ``get_matches()`` layout: one row per unit per matched set.

    Returns (unit, pair, weight): each matched treated unit with weight 1, each of its m
    controls with weight 1/m, ``pair`` numbering the matched sets.
    """
    treated = np.flatnonzero(treat)
    filled = match_matrix >= 0
    m = filled.sum(axis=1)
    rows = np.flatnonzero(m > 0)
    control_row, slot = np.nonzero(filled)
    units = np.concatenate([treated[rows], match_matrix[control_row, slot]])
    pairs = np.concatenate([rows, control_row])
    weights = np.concatenate([np.ones(rows.size), 1.0 / m[control_row]])
    is_control = np.r_[np.zeros(rows.size, bool), np.ones(control_row.size, bool)]
    order = np.lexsort((is_control, pairs))
    return units[order], pairs[order], weights[order]


def nearest_same_group(distance: np.ndarray, rows: np.ndarray, pool: np.ndarray, J: int):
    """For each unit in ``rows``, its J nearest units of ``pool`` by |distance| (itself out).

    Ties are broken by position in the pool sorted by distance (then input order), nearer
    positions first and lower before higher. Returns indices into the input, shape (rows, J).
    """
    order = pool[stable_argsort(distance[pool])]
    sorted_d = distance[order]
    rank = np.empty(distance.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    at = rank[rows][:, None]
    offsets = np.concatenate([np.arange(-J, 0), np.arange(1, J + 1)])
    offsets = offsets[np.argsort(np.abs(offsets) * 2 + (offsets > 0), kind="stable")]
    candidates = at + offsets[None, :]
    valid = (candidates >= 0) & (candidates < order.shape[0])
    clipped = np.clip(candidates, 0, order.shape[0] - 1)
    gaps = np.where(valid, np.abs(sorted_d[clipped] - sorted_d[at]), np.inf)
    return order[np.take_along_axis(clipped, _nearest_columns(gaps, J), axis=1)]


def _nearest_columns(gaps: np.ndarray, J: int) -> np.ndarray:
    """``np.argsort(gaps, axis=1, kind="stable")[:, :J]``; for J = 1 by one comparison of the
    two candidates (the later one only if strictly nearer, or if the first is NaN and it is
    not: where a stable sort puts it)."""
    if J != 1:
        return np.argsort(gaps, axis=1, kind="stable")[:, :J]
    first, second = gaps[:, 0], gaps[:, 1]
    later = (second < first) | (np.isnan(first) & ~np.isnan(second))
    return later.astype(np.int64)[:, None]


def conditional_variance(
    y: np.ndarray, distance: np.ndarray, rows: np.ndarray, pool: np.ndarray, J: int
) -> np.ndarray:
    """sigma^2(X_i) = J/(J+1) (Y_i - mean of its J nearest same-group outcomes)^2."""
    if pool.shape[0] <= J:
        raise InvalidInputError(
            f"The Abadie-Imbens standard error needs more than J = {J} control units to "
            f"estimate the conditional variance; got {pool.shape[0]}."
        )
    neighbours = nearest_same_group(distance, rows, pool, J)
    return J / (J + 1.0) * (y[rows] - y[neighbours].mean(axis=1)) ** 2


def abadie_imbens_variance(
    y: np.ndarray,
    treat: np.ndarray,
    distance: np.ndarray,
    match_matrix: np.ndarray,
    pool: np.ndarray,
    J: int = 1,
) -> tuple[float, float, int]:
    """(estimate, variance, matched treated) of the ATT matching estimator (AI 2006).

    V = 1/N1^2 [ sum_treated (Y_i - Yhat_i(0) - tau)^2
                 + sum_controls (K_j^2 - sum_{i: j in J(i)} 1/M_i^2) sigma^2_j ],
    with M_i the number of controls matched to treated i and K_j = sum 1/M_i over the
    treated units control j is matched to. ``pool`` are the units eligible as neighbours
    for the conditional variance (not discarded).
    """
    treated_rows = np.flatnonzero(treat)
    filled = match_matrix >= 0
    m_i = filled.sum(axis=1)
    matched = m_i > 0
    safe = np.where(filled, match_matrix, 0)
    y0_hat = np.where(filled, y[safe], 0.0).sum(axis=1)[matched] / m_i[matched]
    y1 = y[treated_rows[matched]]
    tau = float(np.mean(y1 - y0_hat))
    share = np.where(filled, 1.0 / np.maximum(m_i, 1)[:, None], 0.0)
    controls = match_matrix[filled]
    k = np.bincount(controls, weights=share[filled], minlength=y.shape[0])
    k2 = np.bincount(controls, weights=share[filled] ** 2, minlength=y.shape[0])
    used = np.flatnonzero(k > 0)
    control_pool = pool[~treat[pool]]
    sigma2 = conditional_variance(y, distance, used, control_pool, J)
    n1 = int(matched.sum())
    total = np.sum((y1 - y0_hat - tau) ** 2) + np.sum((k[used] ** 2 - k2[used]) * sigma2)
    return tau, float(total / n1**2), n1


def cluster_covariance(scores: np.ndarray, dimensions=None, *,
                       adjust: bool = True) -> tuple[np.ndarray, tuple[int, ...]]:
    """Multi-way cluster-robust covariance of a sum of per-row influence contributions.

    ``scores`` is (n, p): row i's contribution to the estimate's deviation (an influence
    function already divided by n, or survfit's weighted influence), so that the variance
    with independent rows is ``scores' scores``. ``dimensions`` is None (rows independent),
    one array of cluster labels per row, or a list of such arrays. With several dimensions
    the covariance is Cameron, Gelbach and Miller's (2011) inclusion-exclusion

        V = sum over non-empty sets D of dimensions of (-1)^(|D|+1) c_D sum_g u_g u_g',

    with u_g the sum of the scores of the rows in cluster g of the intersection of D's
    dimensions and c_D = G_D / (G_D - 1) when ``adjust`` (the small-sample factor of
    sandwich::vcovCL, ``cadjust = TRUE``), 1 otherwise. Returns V and the number of clusters
    of each dimension.

    >>> import numpy as np
    >>> scores = np.array([[1.0], [-1.0], [2.0], [-2.0]])
    >>> cov, counts = cluster_covariance(scores, [np.array([0, 0, 1, 1])], adjust=False)
    >>> float(cov[0, 0]), counts
    (0.0, (2,))
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    n = scores.shape[0]
    if dimensions is None:
        factor = n / (n - 1) if adjust and n > 1 else 1.0
        return factor * scores.T @ scores, (n,)
    dims = list(dimensions) if isinstance(dimensions, (list, tuple)) else [dimensions]
    codes = [_codes(np.asarray(d)) for d in dims]
    if any(c.shape[0] != n for c in codes):
        raise InvalidInputError(
            f"Cluster labels must give one label per row ({n}); got "
            f"{[c.shape[0] for c in codes]}.")
    total = np.zeros((scores.shape[1], scores.shape[1]))
    for size in range(1, len(codes) + 1):
        for combo in itertools.combinations(range(len(codes)), size):
            ids = codes[combo[0]]
            for j in combo[1:]:
                ids = _codes(ids * (int(codes[j].max()) + 1) + codes[j])
            meat, g = _cluster_meat(scores, ids)
            total += (-1) ** (size + 1) * (g / (g - 1) if adjust else 1.0) * meat
    return total, tuple(int(c.max()) + 1 for c in codes)
