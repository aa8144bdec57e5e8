"""Work of the in-memory task moved onto the second thread (issue 14, round 9): the design's
column checks and means over the columns, the matcher's sort of the distance beside its
other preparations and the subclasses beside the weights, the balance table's costliest
columns first. Every result and every error must be the one-thread code's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import estimation.threads as side_threads
from estimation import NearestNeighborMatching, balance, design_columns, matching, nearest
from estimation.balance import balance_table
from estimation.design import design_matrix
from estimation.glm import fit_binomial
from estimation.parameters import InvalidInputError
from estimation.threads import ContextPool

N = 60_011  # above the 50,000 units from which the parts run on threads


def _frame(n: int = N, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.normal(40, 9, n), "income": rng.gamma(2.0, 3.0, n),
        "kids": rng.integers(0, 4, n).astype(np.int8), "female": rng.random(n) < 0.5,
        "region": pd.Categorical(rng.choice(["n", "s", "e", "w", "c", "x"], n)),
    })
    treat = (rng.random(n) < 0.2 + 0.1 * (X["age"] > 40)).astype(int).to_numpy()
    return X, treat


@pytest.fixture(scope="module")
def data():
    return _frame()


def _both(monkeypatch, call):
    out = []
    for cpus in ("1", "2"):
        monkeypatch.setenv("TILTAK_THREADS", cpus)
        out.append(call())
    return out


class Recording(ContextPool):
    """A thread pool (the estimators' context pool) that records what is submitted to it
    (the functions, in order)."""

    submitted: list = []

    def submit(self, fn, /, *args, **kwargs):
        Recording.submitted.append((fn, args))
        return super().submit(fn, *args, **kwargs)


def _record(monkeypatch, module, recording):
    """``module``'s pools made by ``recording``."""
    monkeypatch.setattr(module, "context_pool", lambda workers: recording(max_workers=workers))


@pytest.fixture
def recording(monkeypatch):
    Recording.submitted = []
    monkeypatch.setenv("TILTAK_THREADS", "2")
    return Recording


# --- the design ------------------------------------------------------------------------


def test_design_and_fit_are_the_same_on_one_and_two_threads(monkeypatch, data):
    X, treat = data
    one, two = _both(monkeypatch, lambda: design_matrix(X))
    assert one.names == two.names and one.levels == two.levels
    assert np.array_equal(one.matrix, two.matrix)
    assert np.array_equal(one.columns.dense_means(), two.columns.dense_means())
    a, b = _both(monkeypatch, lambda: fit_binomial(design_matrix(X).columns, treat))
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.fitted, b.fitted)


def test_design_checks_run_over_the_columns_on_a_pool(monkeypatch, data, recording):
    """Fails before round 9: the columns were checked one after the other on this thread."""
    _record(monkeypatch, design_columns, recording)
    X, _ = data
    built = design_matrix(X)
    assert len(recording.submitted) == X.shape[1]
    built.columns.dense_means()
    assert len(recording.submitted) == X.shape[1] + len(built.columns.dense)


def test_design_errors_on_threads_name_the_first_column_in_order(monkeypatch, data):
    X, _ = data
    bad = X.copy()
    bad["income"] = np.where(bad.index == 3, np.inf, bad["income"])
    bad["when"] = pd.Timestamp("2024-01-01")  # a later column that fails too
    bad["age"] = bad["age"].where(bad.index % 100 != 1)
    one, two = _both(monkeypatch, lambda: _error(lambda: design_matrix(bad)))
    assert type(one) is type(two) and str(one) == str(two)
    assert "when" in str(one)  # dates refused before the missing values are reported
    bad = bad.drop(columns="when")
    one, two = _both(monkeypatch, lambda: _error(lambda: design_matrix(bad)))
    count = int(bad["age"].isna().sum())
    assert str(one) == str(two) and f"'age' ({count} rows)" in str(one)


def _error(call) -> Exception:
    with pytest.raises(InvalidInputError) as caught:
        call()
    return caught.value


# --- the matcher -----------------------------------------------------------------------


@pytest.mark.parametrize("settings", [dict(caliper=0.2), dict(caliper=0.2, ratio=3),
                                      dict(caliper=0.2, replace=True), dict(ratio=2, replace=True),
                                      dict(caliper=0.2, exact=["region"]),
                                      dict(caliper=0.2, ties="matchit-4.5")])
def test_matches_are_the_same_on_one_and_two_threads(monkeypatch, data, settings):
    X, treat = data
    one, two = _both(monkeypatch, lambda: NearestNeighborMatching(**settings).fit(X, treat).result_)
    for field in ("match_matrix", "weights", "subclass", "distance", "discarded"):
        assert np.array_equal(getattr(one, field), getattr(two, field)), field


def test_the_sort_of_the_distance_and_the_subclasses_go_to_the_second_thread(
        monkeypatch, data, recording):
    """Fails before round 9: the matcher ran on this thread only."""
    _record(monkeypatch, side_threads, recording)  # matching's side thread
    X, treat = data
    NearestNeighborMatching(caliper=0.2).fit(X, treat)
    functions = [fn for fn, _ in recording.submitted]
    assert functions == [nearest.stable_sort, matching.pair_subclass]


def test_ladder_from_a_sort_under_way_is_the_ladder(data):
    rng = np.random.default_rng(2)
    n = 5_000
    distance = np.round(rng.random(n), 3)  # many ties
    treat = rng.random(n) < 0.3
    for stratum in (np.zeros(n, dtype=np.int64), rng.integers(0, 3, n)):
        treated, controls = np.flatnonzero(treat), np.flatnonzero(~treat)
        plain = nearest.ControlLadder.of(distance, stratum, controls, treated)
        with ThreadPoolExecutor(max_workers=1) as pool:
            early = nearest.ControlLadder.of(distance, stratum, controls, treated,
                                             nearest.distance_order(distance, pool))
        for field in ("values", "rows", "gpos", "lo", "hi", "split", "gpos_treated"):
            assert np.array_equal(getattr(plain, field), getattr(early, field)), field


def test_no_controls_left_is_reported_on_threads(monkeypatch, data):
    X, treat = data
    score = np.where(treat == 1, 0.9, 0.1)
    one, two = _both(monkeypatch, lambda: _error(
        lambda: NearestNeighborMatching(distance=score, discard="control").fit(X, treat)))
    assert str(one) == str(two) and "No control units" in str(one)


# --- the balance table -----------------------------------------------------------------


def test_costliest_columns_are_submitted_first_and_rows_keep_their_order(
        monkeypatch, data, recording):
    """Fails before round 9: the columns were submitted in their order (the factor last)."""
    X, treat = data
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    _record(monkeypatch, balance, recording)
    table = balance_table(sample)
    rows = [args[0] for fn, args in recording.submitted if getattr(fn, "__name__", "") == "rows"]
    names = [c.term if isinstance(c, balance.BalanceTerm) else c[0] for c in rows]
    assert names == ["region", "distance", "age", "income", "kids", "female"]
    assert list(table.frame["term"]) == ["distance", "age", "income", "kids", "femaleTRUE",
                                         *(f"region{c}" for c in "censwx")]
    monkeypatch.setenv("TILTAK_THREADS", "1")
    serial = balance_table(sample)
    pd.testing.assert_frame_equal(table.frame, serial.frame, check_exact=True)


def test_first_failing_column_in_order_raises_on_threads(monkeypatch, data):
    X, treat = data
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    extra = pd.DataFrame({  # the factor is computed first, then big, then worse
        "big": np.where(np.arange(N) == 9, np.inf, 1.5),
        "levels": pd.Series(list("abcdefghij") * (N // 10) + ["a"]).astype("category"),
        "worse": np.where(np.arange(N) == 1, -np.inf, 2.5)})
    one, two = _both(monkeypatch, lambda: _error(lambda: balance_table(sample, covariates=extra)))
    assert str(one) == str(two) and "'big'" in str(one)


def test_row_costs_rank_factors_and_numbers_first():
    term = balance.BalanceTerm("distance", "distance", None, np.zeros(3))
    costs = {name: balance._row_cost((name, series)) for name, series in {
        "factor": pd.Series(pd.Categorical(list("abcdefghij"))), "float": pd.Series([1.5] * 10),
        "flag": pd.Series([True] * 10), "small": pd.Series(np.zeros(10, np.int8)),
        "count": pd.Series(np.zeros(10, np.int64)), "text": pd.Series(list("abcdefghij")),
    }.items()}
    assert balance._row_cost(term) == costs["float"] == 1.0
    assert costs["factor"] > costs["float"] > costs["count"] > costs["flag"] == costs["small"]
    assert costs["text"] > costs["float"]


def test_below_the_threshold_nothing_is_threaded(monkeypatch, recording):
    X, treat = _frame(2_000)
    for module in (design_columns, side_threads, balance):
        _record(monkeypatch, module, recording)
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    balance_table(sample)
    assert recording.submitted == []


def test_factor_codes_with_every_category_present_are_the_remapped_codes():
    from estimation.design import _encode

    values = pd.Categorical(["b", None, "a", "c", "b"], categories=["c", "a", "b"])
    codes, levels = _encode(pd.Series(values), "category")
    assert codes.dtype == np.int64 and codes.tolist() == [2, -1, 1, 0, 2]
    assert levels == ["c", "a", "b"]
    flags = pd.Categorical([True, False, True])
    assert design_matrix(pd.DataFrame({"x": flags})).names == ("xTRUE",)


# --- the ATT ---------------------------------------------------------------------------


def test_att_is_the_same_on_one_and_two_threads(monkeypatch, data):
    from estimation.effects import estimate_att

    X, treat = data
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    y = X["age"].to_numpy() * 0.1 + treat
    for outcome in (y, np.full(N, 3.0), (X["age"] > 40).astype(float).to_numpy()):
        one, two = _both(monkeypatch, lambda: estimate_att(sample, outcome).to_dict())
        assert one == two
    constant = _both(monkeypatch, lambda: estimate_att(sample, np.full(N, 3.0)))
    assert all(any("single value" in note for note in e.notes) for e in constant)


def test_att_side_figures_go_to_a_second_thread(monkeypatch, data, recording):
    """Fails before round 9: the ATT ran on this thread only."""
    from estimation import effects

    X, treat = data
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    _record(monkeypatch, side_threads, recording)  # estimate_att's side thread
    effect = effects.estimate_att(sample, X["age"].to_numpy())
    assert [fn for fn, _ in recording.submitted] == [effects._side_figures]
    matched = sample.weights > 0
    w = sample.weights[matched & (sample.treat == 0)]
    assert effect.ess_control == float(w.sum() ** 2 / np.sum(w ** 2))


def test_att_errors_on_threads_are_the_serial_ones(monkeypatch, data):
    from estimation.effects import estimate_att

    X, treat = data
    sample = NearestNeighborMatching(caliper=0.2).fit(X, treat).result_
    y = np.where(np.arange(N) == int(np.flatnonzero(sample.weights > 0)[0]), np.nan, 1.0)
    one, two = _both(monkeypatch, lambda: _error(lambda: estimate_att(sample, y)))
    assert str(one) == str(two) and "missing or not finite" in str(one)
    with pytest.raises(ValueError) as one:
        estimate_att(sample, X["age"].to_numpy(), se_type="x")
    monkeypatch.setenv("TILTAK_THREADS", "1")
    with pytest.raises(ValueError) as two:
        estimate_att(sample, X["age"].to_numpy(), se_type="x")
    assert str(one.value) == str(two.value) and "se_type" in str(one.value)
