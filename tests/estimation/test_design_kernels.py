"""The design in parts (estimation/design_columns.py): the compiled passes give the bits of
their NumPy versions, for any number of threads, and the sums of the dense matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import design_columns
from estimation.design import design_matrix

core = pytest.importorskip("estimation._core")


def _frame(rng, n, factors=2):
    frame = pd.DataFrame({
        "x": rng.normal(size=n) * 1e3,
        "small": rng.normal(size=n).astype(np.float32),
        "count": rng.integers(-5, 50, size=n).astype(np.int8),
        "wide": rng.integers(0, 60000, size=n).astype(np.uint16),
        "flag": rng.random(n) < 0.3,
    })
    for f in range(factors):
        frame[f"f{f}"] = pd.Categorical(rng.integers(0, 3 + 4 * f, size=n))
    frame["x2"] = rng.gamma(2.0, size=n)
    return frame


def _numpy(monkeypatch_target, call):
    saved, design_columns._core = design_columns._core, None
    try:
        return call()
    finally:
        design_columns._core = saved


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 3000), st.integers(0, 3), st.sampled_from([8, 40, 1 << 15]))
def test_passes_have_the_bits_of_numpy(seed, n, factors, chunk):
    rng = np.random.default_rng(seed)
    design = design_matrix(_frame(rng, n, factors)).columns
    beta = rng.normal(size=design.p + 1)
    w, s = rng.random(n), rng.normal(size=n)
    centre = rng.normal(size=len(design.dense))
    saved = design_columns._CHUNK
    design_columns._CHUNK = chunk
    try:
        for threads in (1, 3):
            eta, largest = design.linear_predictor(beta, threads)
            ref_eta, ref_largest = _numpy(None, lambda: design.linear_predictor(beta))
            assert eta.tobytes() == ref_eta.tobytes() and largest == ref_largest
            for args in ((w, s, None), (None, None, centre), (w, None, centre)):
                got = design.cross(*args, threads=threads)
                ref = _numpy(None, lambda: design.cross(*args))
                for name in ("A", "D", "F", "g", "h"):
                    assert getattr(got, name).tobytes() == getattr(ref, name).tobytes(), name
    finally:
        design_columns._CHUNK = saved


@pytest.mark.parametrize("levels", [(5,), (40, 30), (100,), (3, 4, 5)])
@pytest.mark.parametrize("scores_only", [False, True])
def test_dummy_sums_have_the_bits_of_numpy(levels, scores_only):
    # a factor's sums are taken by dummy (its rows gathered first) up to 64 dummies and
    # row by row above, or with products of two factors: both as NumPy sums them
    rng = np.random.default_rng(sum(levels))
    n = 5_000
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(9)})  # 8 + 2 sums a dummy
    frame["k"] = rng.integers(0, 3, n).astype(np.int8)
    for j, count in enumerate(levels):
        frame[f"f{j}"] = pd.Categorical(rng.integers(0, count, size=n))
    design = design_matrix(frame).columns
    w, s = rng.random(n), rng.normal(size=n)
    for args in ((w, s, None), (None, s, None), (w, None, rng.normal(size=len(design.dense)))):
        got = design.cross(*args, threads=2, scores_only=scores_only)
        ref = _numpy(None, lambda: design.cross(*args, scores_only=scores_only))
        for name in ("A", "D", "F", "g", "h"):
            assert getattr(got, name).tobytes() == getattr(ref, name).tobytes(), name


def test_results_do_not_depend_on_the_threads():
    rng = np.random.default_rng(7)
    design = design_matrix(_frame(rng, 200_003, 2)).columns
    w, s = rng.random(design.n), rng.normal(size=design.n)
    one = design.hessian_and_score(w, s, 1)
    for threads in (2, 3, 5):
        other = design.hessian_and_score(w, s, threads)
        assert one[0].tobytes() == other[0].tobytes() and one[1].tobytes() == other[1].tobytes()


def test_sums_are_the_dense_matrix_products():
    rng = np.random.default_rng(3)
    dm = design_matrix(_frame(rng, 5000, 3))
    X = np.column_stack([np.ones(dm.shape[0]), dm.matrix])
    w, s = rng.random(dm.shape[0]), rng.normal(size=dm.shape[0])
    H, g = dm.columns.hessian_and_score(w, s)
    np.testing.assert_allclose(H, X.T @ (w[:, None] * X), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g, X.T @ s, rtol=1e-12, atol=1e-9)
    centred = dm.matrix - dm.matrix.mean(axis=0)
    np.testing.assert_allclose(dm.columns.centred_cross(), centred.T @ centred, rtol=1e-10, atol=1e-6)


def test_linear_predictor_is_the_column_loop():
    """The same bits as adding the dense matrix's columns one by one (dummies 0 or 1)."""
    rng = np.random.default_rng(11)
    dm = design_matrix(_frame(rng, 120_000, 2))
    beta = rng.normal(size=dm.shape[1] + 1)
    loop = np.full(dm.shape[0], beta[0])
    for j in range(dm.shape[1]):
        loop += dm.matrix[:, j] * beta[j + 1]
    eta, _ = dm.columns.linear_predictor(beta, 2)
    assert eta.tobytes() == loop.tobytes()


def test_selected_columns():
    rng = np.random.default_rng(5)
    dm = design_matrix(_frame(rng, 3000, 2))
    keep = [0, 2, 5, 6, dm.shape[1] - 1]
    sub = dm.columns.select(keep)
    np.testing.assert_array_equal(sub.matrix(), dm.matrix[:, keep])
    beta = rng.normal(size=len(keep) + 1)
    eta, _ = sub.linear_predictor(beta)
    np.testing.assert_allclose(eta, beta[0] + dm.matrix[:, keep] @ beta[1:], rtol=1e-12)


def test_bad_parts_are_refused():
    codes = (np.array([0, 1, 5], dtype=np.int8),)
    tables = (np.array([-1, 0], dtype=np.int64),)
    with pytest.raises(ValueError, match="code out of range"):
        core.design_eta(3, (), codes, tables, 1, np.array([-1]), np.array([], dtype=np.int64),
                        np.array([1]), np.zeros(2), np.zeros(3), 1)
    with pytest.raises(TypeError, match="not supported"):
        core.design_cross(2, (np.array(["a", "b"]),), (), (), 0, None, None, None, 8,
                          np.zeros(4), 1)
