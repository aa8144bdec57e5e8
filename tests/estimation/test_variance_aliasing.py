"""Aliased columns in the outcome regression: R's rule, also when X'WX cannot tell.

A regression-adjusted estimate on a small matched sample (a survey outcome with a few dozen
comparison persons) can have a dummy level that is an exact combination of other columns.
Read from X'WX alone, the test of the residual norm squares the condition number and kept
such a column next to age in years: the treatment coefficient came out as 1e41. The
reference here is independent of the code: column j is aliased exactly when it does not
raise the numerical rank (SVD) of the kept columns before it.
"""

from __future__ import annotations

import numpy as np
import pytest

from estimation.variance import fit_wls, kept_columns


def _design(rng: np.random.Generator, n: int) -> np.ndarray:
    age = rng.normal(35, 10, n).round()
    months = rng.integers(1, 60, n).astype(float)
    level = rng.integers(0, 6, n)
    dummies = (level[:, None] == np.arange(1, 6)).astype(float)
    group = rng.integers(0, 3, n)
    more = (group[:, None] == np.arange(1, 3)).astype(float)
    treat = rng.integers(0, 2, n).astype(float)
    X = np.column_stack([np.ones(n), treat, age, dummies, months, more])
    j = int(rng.integers(2, X.shape[1]))
    alias = X[:, :j] @ rng.integers(-2, 3, j).astype(float)
    return np.column_stack([X[:, :j], alias, X[:, j:]])


def _reference_kept(X: np.ndarray, w: np.ndarray) -> list[int]:
    Z = X * np.sqrt(w)[:, None]
    kept: list[int] = []
    for j in range(Z.shape[1]):
        if not Z[:, j].any():
            continue
        cols = Z[:, kept + [j]] / np.linalg.norm(Z[:, kept + [j]], axis=0)
        if np.linalg.matrix_rank(cols, tol=1e-9) == len(kept) + 1:
            kept.append(j)
    return kept


def test_aliased_columns_are_dropped_as_r_does_on_small_designs_with_large_scales():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(20, 80))
        X = _design(rng, n)
        w = rng.choice([1.0, 1 / 2, 1 / 3], n)
        kept, _ = kept_columns(X, w)
        assert kept.tolist() == _reference_kept(X, w)


def test_the_fit_on_an_aliased_design_is_the_least_squares_fit_on_the_kept_columns():
    rng = np.random.default_rng(5)
    for _ in range(100):
        n = int(rng.integers(20, 80))
        X = _design(rng, n)
        w = rng.choice([1.0, 1 / 3], n)
        y = rng.normal(size=n) + 0.2 * X[:, 1]
        fit = fit_wls(X, y, w)
        sw = np.sqrt(w)
        expected = np.linalg.lstsq(X[:, fit.kept] * sw[:, None], y * sw, rcond=None)[0]
        assert np.all(np.isfinite(fit.coef))
        assert fit.coef == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_well_conditioned_designs_keep_every_column():
    rng = np.random.default_rng(9)
    X = np.column_stack([np.ones(500), rng.integers(0, 2, 500), rng.normal(40, 12, 500), rng.normal(size=500)])
    kept, gram = kept_columns(X, np.ones(500))
    assert kept.tolist() == [0, 1, 2, 3]
    assert gram == pytest.approx(X.T @ X)
