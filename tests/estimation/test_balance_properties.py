"""Property tests: balance statistics against brute-force definitions on random inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation.balance import ecdf_stats, effective_sample_size, weighted_variance


@st.composite
def groups(draw):
    n = draw(st.integers(4, 40))
    x = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float)
    treat = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    treat[0], treat[1] = True, False
    w = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), min_size=n,
                               max_size=n)))
    w[0], w[1] = 1.0, 1.0
    return x, treat, w


def _brute_ecdf(x, treat, w):
    diffs = []
    for value in np.unique(x):
        f1 = w[treat & (x <= value)].sum() / w[treat].sum()
        f0 = w[~treat & (x <= value)].sum() / w[~treat].sum()
        diffs.append(abs(f1 - f0))
    return float(np.mean(diffs)), float(np.max(diffs))


@settings(max_examples=100, deadline=None)
@given(groups())
def test_ecdf_statistics_equal_the_definition(data):
    x, treat, w = data
    mean, maximum = ecdf_stats(x, treat, w)
    expected_mean, expected_max = _brute_ecdf(x, treat, w)
    assert abs(mean - expected_mean) < 1e-12 and abs(maximum - expected_max) < 1e-12


@settings(max_examples=100, deadline=None)
@given(groups())
def test_ecdf_is_invariant_to_row_order(data):
    x, treat, w = data
    perm = np.random.default_rng(len(x)).permutation(len(x))
    a = ecdf_stats(x, treat, w)
    b = ecdf_stats(x[perm], treat[perm], w[perm])
    assert np.allclose(a, b, rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(groups())
def test_weighted_variance_with_equal_weights_is_the_sample_variance(data):
    x, _, _ = data
    assert np.isclose(weighted_variance(x, np.ones_like(x), False), np.var(x, ddof=1),
                      rtol=1e-10, atol=1e-12)
    assert np.isclose(effective_sample_size(np.ones_like(x)), len(x))
