"""The shortcuts taken for speed (issue 14) give the bits of the computation they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import glm
from estimation.balance import _rows_in_parallel, balance_table, column_terms, expand_terms
from estimation.design import float_stats
from estimation.incidence_effects import _text
from estimation.parameters import InvalidInputError


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 63, 1000, 100_003])
def test_first_weights_of_a_01_response_are_those_of_every_row(link, n):
    y = (np.random.default_rng(n).random(n) < 0.3).astype(np.float64)
    mu = (y + 0.5) / 2.0
    eta = glm._linkfun(mu, link)
    w, mu_eta = glm._weights(eta, mu, link)
    z = eta + (y - mu) / mu_eta
    got_w, got_wz = glm._first_weights(y, y > 0.5, link)
    assert np.array_equal(_bits(got_w), _bits(w))
    assert np.array_equal(_bits(got_wz), _bits(w * z))


def test_first_weights_of_other_responses_are_computed_row_by_row():
    y = np.array([0.0, 0.25, 1.0, 1.0])
    w, wz = glm._first_weights(y, y > 0.5, "logit")
    mu = (y + 0.5) / 2.0
    eta = glm._linkfun(mu, "logit")
    assert np.array_equal(_bits(w), _bits(mu * (1 - mu)))
    assert wz.shape == (4,) and np.isfinite(wz).all() and eta.shape == (4,)


@pytest.mark.parametrize("values", [
    np.array([-128, 5, 3], dtype=np.int8), np.array([2**63 - 1, -2**63], dtype=np.int64),
    np.array([2**64 - 1, 0], dtype=np.uint64), np.array([3, -9007199254740993], dtype=np.int64),
    np.array([True, False]), np.array([], dtype=np.int32),
])
def test_integer_magnitude_is_that_of_the_float_copy(values):
    expected = float(np.abs(values.astype(np.float64)).max()) if values.size else 0.0
    assert float_stats(values) == (0, 0, expected)


def test_cluster_text_is_pandas_string_conversion():
    labels = np.array(["p1", "p2", 7, 3.5, True], dtype=object)
    for prefix in ("", "3:"):
        expected = (prefix + pd.Series(labels).astype(str)).to_numpy()
        got = _text(labels, prefix)
        assert got.dtype == object and list(got) == list(expected)
    assert _text(np.array([], dtype=object), "1:").shape == (0,)


def _sample(n: int):
    from estimation import NearestNeighborMatching

    rng = np.random.default_rng(5)
    X = pd.DataFrame({
        "age": rng.normal(40, 9, n), "kids": rng.integers(0, 4, n).astype(np.int8),
        "female": rng.random(n) < 0.5, "region": pd.Categorical(rng.choice(["n", "s", "w"], n)),
        "text": rng.choice(["a", "b"], n),
    })
    treat = (rng.random(n) < 0.2 + 0.1 * (X["age"] > 40)).astype(int)
    return NearestNeighborMatching(caliper=0.2).fit(X, treat).result_


def test_balance_rows_expanded_per_column_in_threads_equal_the_serial_table(monkeypatch):
    sample = _sample(60_000)  # above the size from which the columns run on threads
    monkeypatch.setenv("TILTAK_THREADS", "2")
    threaded = balance_table(sample).frame
    monkeypatch.setenv("TILTAK_THREADS", "1")
    serial = balance_table(sample).frame
    pd.testing.assert_frame_equal(threaded, serial, check_exact=True)
    terms = expand_terms(sample.covariates)
    assert list(threaded["term"]) == ["distance", *(t.term for t in terms)]


def test_the_first_failing_column_raises_as_without_threads(monkeypatch):
    sample = _sample(60_000)
    frame = sample.covariates.copy()
    frame["age"] = frame["age"].where(frame.index != 3, np.inf)
    frame["later"] = np.where(frame.index == 9, -np.inf, 1.0)
    monkeypatch.setenv("TILTAK_THREADS", "2")
    with pytest.raises(InvalidInputError, match="Covariate 'age' must hold finite numbers; got 1"):
        balance_table(sample, covariates=frame)
    with pytest.raises(InvalidInputError, match="Covariate 'age'"):
        expand_terms(frame)
    assert [t.term for t in column_terms("region", frame["region"])] == ["regionn", "regions", "regionw"]
    assert _rows_in_parallel([], None, "treated", "std") == []


def _whole_task(n: int, seed: int = 11):
    """Propensity score, 1:1 matching with a 0.2 SD caliper, balance and ATT: every float."""
    from estimation import NearestNeighborMatching, PropensityScore
    from estimation.effects import estimate_att

    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.normal(40, 9, n), "income": np.round(rng.normal(0, 1, n), 1),
        "kids": rng.integers(0, 4, n).astype(np.int8), "female": rng.random(n) < 0.5,
        "region": pd.Categorical(rng.choice(["n", "s", "w"], n)),
    })
    X.loc[X["income"] == 0, "income"] = -0.0  # both zeros: equal, in either arrangement
    treat = (rng.random(n) < 0.15 + 0.2 * (X["age"] > 45)).astype(int)
    y = rng.normal(size=n) + treat
    score = PropensityScore().fit(X, treat)
    sample = NearestNeighborMatching(distance=score.distance(), caliper=0.2).fit(X, treat).result_
    table = balance_table(sample)
    effect = estimate_att(sample, y)
    return (score.coef_, score.scores_, sample.weights, sample.match_matrix,
            table.frame.select_dtypes("number").to_numpy(dtype=float),
            np.array([effect.estimate, effect.std_error]))


def _same(a, b) -> None:
    for x, y in zip(a, b):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


def test_whole_task_is_the_same_bits_on_one_and_two_threads(monkeypatch):
    # above the sizes from which the compiled passes and the balance rows use threads
    monkeypatch.setenv("TILTAK_THREADS", "1")
    one = _whole_task(70_000)
    monkeypatch.setenv("TILTAK_THREADS", "2")
    _same(one, _whole_task(70_000))


def test_balance_is_the_same_bits_with_either_sort(monkeypatch):
    # the eCDFs sort each term's groups by NumPy's sort where it is vectorised (AVX-512)
    # and by the radix sort elsewhere: they differ only in how equal values are arranged
    from estimation import ordering

    monkeypatch.setattr(ordering, "_NUMPY_SORT_FAST", False)
    radix = _whole_task(60_000, seed=3)
    monkeypatch.setattr(ordering, "_NUMPY_SORT_FAST", True)
    _same(radix, _whole_task(60_000, seed=3))


@pytest.mark.parametrize("kwargs", [dict(caliper=0.2), dict(ratio=3), dict(replace=True)])
def test_a_factor_level_has_the_row_of_the_same_0_1_numbers(kwargs):
    # a factor's levels (bools) are summed by the compiled loops as float64 0/1 values:
    # their rows have the bits of a numeric 0/1 column, and of NumPy's sums of the bools
    from estimation import NearestNeighborMatching, sums

    rng = np.random.default_rng(9)
    n = 60_000
    region = rng.choice(["n", "s", "w"], n, p=[0.2, 0.3, 0.5])
    X = pd.DataFrame({"age": rng.normal(40, 9, n), "region": pd.Categorical(region)})
    X["is_s"] = (region == "s").astype(np.float64)
    treat = (rng.random(n) < 0.2 + 0.2 * (region == "s")).astype(int)
    sample = NearestNeighborMatching(**kwargs).fit(X, treat).result_
    frame = balance_table(sample).frame.set_index("term")
    numbers = frame.columns[frame.dtypes == np.float64]
    level, column = frame.loc["regions", numbers], frame.loc["is_s", numbers]
    assert level.to_numpy().tobytes() == column.to_numpy().tobytes()
    w = sample.weights[treat == 0]
    x = (region == "s")[treat == 0]
    assert sums.r_sum_of(1, x.astype(np.float64), w) == np.float64(
        np.sum(x * w, dtype=np.longdouble))
