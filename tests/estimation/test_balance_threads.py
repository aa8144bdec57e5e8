"""The balance table's parts on threads (issue 14, round 8): the covariates' checks and the
sample sizes run beside the layout, and every result and error is the serial code's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estimation import NearestNeighborMatching, balance
from estimation.balance import balance_table
from estimation.design import MissingValuesError
from estimation.parameters import InvalidInputError
from estimation.threads import soon


def _sample(n: int):
    rng = np.random.default_rng(8)
    X = pd.DataFrame({
        "age": rng.normal(40, 9, n), "kids": rng.integers(0, 4, n).astype(np.int8),
        "female": rng.random(n) < 0.5, "region": pd.Categorical(rng.choice(["n", "s"], n)),
    })
    treat = (rng.random(n) < 0.25 + 0.1 * (X["age"] > 40)).astype(int)
    return NearestNeighborMatching(caliper=0.2).fit(X, treat).result_


@pytest.fixture(scope="module")
def sample():
    return _sample(balance._THREADED_FROM + 11)  # on threads with two CPUs


def _both(monkeypatch, call):
    """``call()`` with one and two threads: (result or error) each."""
    out = []
    for cpus in ("1", "2"):
        monkeypatch.setenv("TILTAK_THREADS", cpus)
        try:
            out.append(call())
        except Exception as error:  # compared below
            out.append(error)
    return out


def test_table_and_sample_sizes_are_the_same_on_one_and_two_threads(monkeypatch, sample):
    one, two = _both(monkeypatch, lambda: balance_table(sample))
    pd.testing.assert_frame_equal(one.frame, two.frame, check_exact=True)
    pd.testing.assert_frame_equal(one.sample_sizes, two.sample_sizes, check_exact=True)
    pd.testing.assert_frame_equal(one.sample_sizes, balance.sample_sizes(sample), check_exact=True)


def test_missing_values_reported_alike_on_threads(monkeypatch, sample):
    frame = sample.covariates.copy()
    frame["age"] = frame["age"].where(frame.index % 1000 != 7)
    frame["more"] = np.where(frame.index == 5, np.nan, 1.0)
    one, two = _both(monkeypatch, lambda: balance_table(sample, covariates=frame))
    assert isinstance(one, MissingValuesError) and type(two) is type(one)
    assert str(one) == str(two) and one.counts == two.counts
    assert one.counts == {"age": int(frame["age"].isna().sum()), "more": 1}


def test_unknown_covariate_reported_alike_on_threads(monkeypatch, sample):
    one, two = _both(monkeypatch, lambda: balance_table(sample, covariates=["age", "nope"]))
    assert isinstance(one, InvalidInputError) and str(one) == str(two)
    assert "unknown covariate(s) 'nope'" in str(one)


def test_the_layout_error_comes_before_the_covariates_error(monkeypatch, sample):
    """In the serial order the layout is built first: its error wins on threads too."""
    def broken(cls, s):
        raise RuntimeError("layout")

    monkeypatch.setattr(balance.Layout, "of", classmethod(broken))
    one, two = _both(monkeypatch, lambda: balance_table(sample, covariates=["nope"]))
    assert isinstance(one, RuntimeError) and isinstance(two, RuntimeError)


def test_soon_without_a_pool_raises_when_asked():
    calls = []

    def fails():
        calls.append(1)
        raise ValueError("later")

    result = soon(None, fails)
    assert calls == [1]
    with pytest.raises(ValueError, match="later"):
        result()
    assert soon(None, lambda a: a + 1, 2)() == 3
