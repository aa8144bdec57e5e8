"""The regression-adjusted ATT holds its design once: no second n x p copy of the matched
design, no n x k matrix of scores for the cluster sums (these were the peak of `tiltak match
--outcome` at 10 million rows). The shortcuts give the same bits as the copies they replace."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from estimation import NearestNeighborMatching
from estimation.design import design_matrix
from estimation.design_columns import weighted_gram
from estimation.effects import estimate_att
from estimation.variance import _cluster_meat, _codes, fit_wls, sandwich_vcov


def _data(n: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(12)})
    X["b"] = rng.integers(0, 2, n).astype(np.int8)
    X["r"] = pd.Categorical(rng.choice(list("abcde"), n))
    treat = (rng.random(n) < 1 / (1 + np.exp(-(X.x0 - 1.5)))).to_numpy()
    y = X.x1.to_numpy() + treat + rng.normal(size=n)
    return X, treat, y


def test_the_regression_adjusted_att_holds_the_design_about_once():
    X, treat, y = _data(200_000)
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    matched = int((sample.weights > 0).sum())
    design = matched * (2 + 12 + 1 + 4) * 8  # intercept, treatment, 13 numeric, 4 dummies
    tracemalloc.start()
    try:
        estimate_att(sample, y, covariates=list(X.columns))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # measured 2.3 designs (the design, the matched rows of the covariates, the float
    # binaries, the cluster sums); with the copies it was 3.2
    assert peak < 2.7 * design, f"peak {peak / design:.2f} x the matched design"


def test_the_design_written_into_a_view_is_the_matrix():
    X, _, _ = _data(1_000, seed=5)
    design = design_matrix(X)
    out = np.full((len(X), 2 + design.shape[1]), np.nan, order="F")
    design.columns.matrix(out=out[:, 2:])
    assert np.isnan(out[:, :2]).all()
    assert np.array_equal(out[:, 2:], design.columns.matrix())


@pytest.mark.parametrize("dimensions", [1, 2])
def test_cluster_sums_of_column_products_are_the_scores_sums(dimensions):
    rng = np.random.default_rng(11)
    n = 5_000
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=(n, 4))]))
    y, w = rng.normal(size=n), rng.uniform(0.2, 3.0, n)
    fit = fit_wls(X, y, w)
    ids = [rng.integers(0, 700, n), rng.integers(0, 40, n)][:dimensions]
    # the covariance from the n x k scores, as sandwich_vcov formed it before
    scores = np.asfortranarray((fit.weights * fit.residuals)[:, None] * fit.X)
    codes = [_codes(d) for d in ids]
    total = np.zeros((fit.k, fit.k))
    first = 0
    for size in range(1, dimensions + 1):
        for combo in itertools.combinations(range(dimensions), size):
            group = codes[combo[0]]
            for j in combo[1:]:
                group = group * (int(codes[j].max()) + 1) + codes[j]
            meat, g = _cluster_meat(scores, group)
            first = first or g
            total += (-1) ** (size + 1) * g / (g - 1) * meat
    expected = (fit.n - 1) / (fit.n - fit.k) * fit.bread @ total @ fit.bread
    got, clusters = sandwich_vcov(fit, ids if dimensions > 1 else ids[0])
    assert clusters == first
    assert np.array_equal(got, expected)
    # HC1 still from the scores
    hc1, _ = sandwich_vcov(fit, None)
    assert np.array_equal(hc1, fit.n / (fit.n - fit.k) * fit.bread @ weighted_gram(scores) @ fit.bread)
