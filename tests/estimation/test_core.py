"""The compiled loops (estimation/_core.c) give the same bits as their Python versions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import glm, nearest

core = pytest.importorskip("estimation._core")


@st.composite
def problems(draw):
    n = draw(st.integers(2, 300))
    grid = draw(st.sampled_from([8, 32, 10_000]))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    d = rng.integers(0, grid, size=n) / grid
    treat = rng.random(n) < draw(st.floats(0.1, 0.7))
    treat[0], treat[1] = True, False
    stratum = rng.integers(0, draw(st.integers(1, 3)), size=n)
    ratio = draw(st.integers(1, 4))
    caliper = draw(st.sampled_from([None, 0.01, 0.1, 0.3]))
    ties = draw(st.sampled_from(["matchit", "matchit-4.5"]))
    return d, treat, stratum, ratio, caliper, ties, rng


@settings(max_examples=300, deadline=None)
@given(problems(), st.booleans())
def test_matcher_same_as_python(monkeypatch_problem, replace):
    d, treat, stratum, ratio, caliper, ties, rng = monkeypatch_problem
    treated = rng.permutation(np.flatnonzero(treat))
    controls = np.flatnonzero(~treat)
    match = nearest.match_with_replacement if replace else nearest.match_without_replacement
    compiled = match(d, treated, stratum, controls, ratio, caliper, ties=ties)
    saved, nearest._core = nearest._core, None
    try:
        python = match(d, treated, stratum, controls, ratio, caliper, ties=ties)
    finally:
        nearest._core = saved
    np.testing.assert_array_equal(compiled, python)


@pytest.mark.parametrize("n, p", [(100_000, 1), (250_001, 7), (300_000, 27)])
def test_linear_predictor_same_bits(n, p):
    rng = np.random.default_rng(n)
    X = np.asfortranarray(rng.normal(size=(n, p)) * rng.choice([1e-3, 1.0, 1e3], size=p))
    X[n // 2] = X[3]  # identical rows get identical values
    beta = rng.normal(size=p + 1)
    compiled = glm._linear_predictor(X, beta)
    saved, glm._core = glm._core, None
    try:
        python = glm._linear_predictor(X, beta)
    finally:
        glm._core = saved
    assert compiled.tobytes() == python.tobytes()
    assert compiled[n // 2] == compiled[3]


def test_bad_buffers_are_refused():
    with pytest.raises(TypeError, match="float64"):
        core.linear_predictor(np.zeros(4, dtype=np.float32), np.zeros(2), np.zeros(4), 1)
    with pytest.raises(ValueError, match="shapes"):
        core.linear_predictor(np.zeros(5), np.zeros(2), np.zeros(4), 1)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 400), st.integers(1, 400))
def test_count_le_is_searchsorted_right(seed, n_values, n_grid):
    rng = np.random.default_rng(seed)
    values = np.sort(rng.integers(-5, 6, size=n_values) / 4.0)
    grid = np.unique(np.concatenate([rng.integers(-7, 8, size=n_grid) / 4.0, [-0.0]]))
    out = np.empty(grid.size, dtype=np.int64)
    core.count_le(values, grid, out)
    np.testing.assert_array_equal(out, np.searchsorted(values, grid, side="right"))
