"""Nearest-neighbour options beyond the score: their messages, their guarantees, and checks
against independent formulations (brute-force greedy matching on a distance matrix
computed here with numpy), plus ``MatchedSample.restrict``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import (
    FullMatching,
    InvalidInputError,
    InvalidParameterError,
    NearestNeighborMatching,
    PropensityWeighting,
    Subclassification,
)
from estimation.flow import ProblemTooLargeError

warnings.simplefilter("ignore")


def data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "age": rng.integers(20, 60, n).astype(float),
                      "b": rng.integers(0, 2, n), "g": rng.choice(["u", "v"], n)})
    t = rng.random(n) < 1 / (1 + np.exp(-(X["x1"] - 0.8)))
    return X, t.to_numpy() if hasattr(t, "to_numpy") else t


@pytest.mark.parametrize("kwargs, message", [
    ({"distance": "mahalanobis", "caliper": 0.2}, "The 'caliper' parameter of NearestNeighborMatching must be calipers on named covariates only with a distance on the covariates (there is no propensity score to put a caliper on). Got 0.2 instead."),
    ({"distance": "mahalanobis", "discard": "both"}, "The 'discard' parameter of NearestNeighborMatching must be 'none' with a distance on the covariates (common support is defined on a propensity score). Got 'both' instead."),
    ({"distance": "euclidean", "order": "largest"}, "The 'order' parameter of NearestNeighborMatching must be a str among {'data', 'random', 'closest', 'farthest'}. Got 'largest' instead."),
    ({"distance": "mahalanobis", "ratio": 2, "max_controls": 3}, "The 'max_controls' parameter of NearestNeighborMatching must be None with a distance on the covariates (variable-ratio matching orders the treated units by the score). Got 3 instead."),
    ({"ratio": 3, "max_controls": 3}, "The 'ratio' parameter of NearestNeighborMatching must be a number between min_controls (1) and max_controls (3), exclusive, for variable-ratio matching. Got 3 instead."),
    ({"min_controls": 2}, "The 'min_controls' parameter of NearestNeighborMatching must be None unless max_controls is given. Got 2 instead."),
    ({"reuse_max": 0}, "The 'reuse_max' parameter of NearestNeighborMatching must be an int >= 1. Got 0 instead."),
    ({"caliper": {"age": -1}}, "The 'caliper['age']' parameter of NearestNeighborMatching must be a float > 0. Got -1 instead."),
    ({"caliper": {"age": 2}, "std_caliper": {"x1": False}}, "The 'std_caliper' parameter of NearestNeighborMatching must be flags for the names in caliper ('age'). Got 'x1' instead."),
    ({"caliper": {"g": 1.0}}, "The 'caliper' parameter of NearestNeighborMatching must be calipers on numeric columns (not on categories). Got 'g' instead."),
    ({"caliper": {"nope": 1.0}}, "The 'caliper' parameter of NearestNeighborMatching must be columns of X (one of 'x1', 'x2', 'age', 'b', 'g'). Got 'nope' instead."),
    ({"antiexact": ["g"], "exact": ["g"]}, "The 'antiexact' parameter of NearestNeighborMatching must be columns not also in exact. Got 'g' instead."),
    ({"mahvars": ["zz"]}, "The 'mahvars' parameter of NearestNeighborMatching must be columns of X (one of 'x1', 'x2', 'age', 'b', 'g'). Got 'zz' instead."),
])
def test_option_errors(kwargs, message):
    X, t = data()
    with pytest.raises(InvalidParameterError) as info:
        NearestNeighborMatching(**kwargs).fit(X, t)
    assert str(info.value) == message


def test_distance_matrix_caliper_must_be_raw():
    X, t = data()
    matrix = np.ones((int(t.sum()), int((~t).sum())))
    with pytest.raises(InvalidParameterError, match="False for the caliper on a distance matrix"):
        NearestNeighborMatching(distance=matrix, caliper=0.5).fit(X, t)


def test_too_many_pairs_is_refused_before_any_distance():
    X, t = data()
    with pytest.raises(ProblemTooLargeError) as info:
        NearestNeighborMatching(distance="mahalanobis", max_pairs=1000).fit(X, t)
    text = str(info.value)
    pairs = int(t.sum()) * int((~t).sum())
    assert f"would compare {pairs:,} treated-control pairs" in text
    assert "more than max_pairs (1,000)" in text and "MB for one block" in text


def test_guarantees_of_the_constraints():
    X, t = data(400, 3)
    m = NearestNeighborMatching(ratio=2, antiexact=["b"], caliper={"distance": 0.3, "age": 4},
                                std_caliper={"age": False}).fit(X, t).result_
    rows = np.flatnonzero(t)
    width = m.settings["caliper_width"]
    for i, r in enumerate(rows):
        for c in m.match_matrix[i][m.match_matrix[i] >= 0]:
            assert X["b"][c] != X["b"][r]
            assert abs(X["age"][c] - X["age"][r]) <= 4
            assert abs(m.distance[c] - m.distance[r]) <= width
    reuse = NearestNeighborMatching(reuse_max=2, ratio=3).fit(X, t).result_
    used = np.bincount(reuse.match_matrix[reuse.match_matrix >= 0])
    assert used.max() <= 2 and reuse.settings["replace"] is True
    for row in reuse.match_matrix:  # never the same control twice for one treated unit
        assert len(set(row[row >= 0])) == int((row >= 0).sum())


def test_variable_ratio_gives_each_treated_unit_its_share():
    X, t = data(600, 4)
    m = NearestNeighborMatching(ratio=2, min_controls=1, max_controls=4).fit(X, t).result_
    counts = (m.match_matrix >= 0).sum(axis=1)
    assert counts.min() >= 1 and counts.max() <= 4
    assert counts.sum() == round(2 * t.sum())  # enough controls for everyone
    # the treated units with the highest scores (the hardest to match) get the fewest
    scores = m.distance[t]
    assert counts[np.argmax(scores)] == 1 and counts[np.argmin(scores)] == 4


def test_weights_of_reused_controls_and_variable_ratio():
    X, t = data(300, 5)
    m = NearestNeighborMatching(ratio=2, reuse_max=2).fit(X, t).result_
    k = (m.match_matrix >= 0).sum(axis=1)
    expected = np.zeros(len(t))
    for i, r in enumerate(np.flatnonzero(t)):
        if k[i]:
            expected[r] = 1
            expected[m.match_matrix[i][:k[i]]] += 1 / k[i]
    controls = (~t) & (expected > 0)
    expected[controls] *= controls.sum() / expected[controls].sum()
    np.testing.assert_allclose(m.weights, expected, atol=1e-12)


# --- independent formulations ----------------------------------------------------------


def mahalanobis_matrix(X: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Mahalanobis distances treated x control with the pooled within-group covariance of
    the standardised covariates (Rubin 1980), written out directly."""
    Z = (X - X.mean()) / X.std(ddof=1)
    Z = Z.to_numpy()
    centred = Z.copy()
    for g in (t, ~t):
        centred[g] -= Z[g].mean(axis=0)
    cov = centred.T @ centred / (len(Z) - 2)
    inv = np.linalg.inv(cov)
    diff = Z[t][:, None, :] - Z[~t][None, :, :]
    return np.sqrt(np.einsum("ijk,kl,ijl->ij", diff, inv, diff))


def brute_greedy(matrix: np.ndarray, order: list[int], ratio: int = 1) -> np.ndarray:
    """Greedy matching in passes on a full matrix: the nearest unused control, lowest column
    on ties."""
    out = np.full((matrix.shape[0], ratio), -1)
    used = np.zeros(matrix.shape[1], bool)
    active = list(order)
    for r in range(ratio):
        still = []
        for i in active:
            d = np.where(used, np.inf, matrix[i])
            if np.isfinite(d).any():
                j = int(np.argmin(d))
                out[i, r], used[j] = j, True
                still.append(i)
        active = still
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.sampled_from(["data", "closest"]))
def test_mahalanobis_equals_a_brute_force_greedy(seed, ratio, order):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 90))
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    t = rng.random(n) < 0.3
    if t.sum() < 2 or (~t).sum() < ratio * t.sum():
        return
    matrix = mahalanobis_matrix(X, t)
    controls = np.flatnonzero(~t)
    ours = NearestNeighborMatching(distance="mahalanobis", ratio=ratio, order=order,
                                   ties="row").fit(X, t).result_.match_matrix
    if order == "data":
        expected = brute_greedy(matrix, list(range(int(t.sum()))), ratio)
    else:
        expected = closest_first(matrix, ratio)
    np.testing.assert_array_equal(ours, np.where(expected >= 0, controls[np.maximum(expected, 0)], -1))


def closest_first(matrix: np.ndarray, ratio: int) -> np.ndarray:
    """m.order = "closest" written out: in each pass, repeatedly pair the treated unit and
    control that are closest among those still free (no ties in continuous data)."""
    n1, n0 = matrix.shape
    out = np.full((n1, ratio), -1)
    used = np.zeros(n0, bool)
    for r in range(ratio):
        waiting = np.ones(n1, bool)
        while waiting.any() and not used.all():
            d = np.where(used[None, :] | ~waiting[:, None], np.inf, matrix)
            i, j = np.unravel_index(np.argmin(d), d.shape)
            out[i, r], used[j], waiting[i] = j, True, False
    return out


def test_a_distance_matrix_of_score_differences_is_the_score_path():
    X, t = data(300, 6)
    score = NearestNeighborMatching().fit(X, t).result_.distance
    matrix = np.abs(score[t][:, None] - score[~t][None, :])
    for kwargs in ({"ratio": 2}, {"ratio": 2, "replace": True}):
        a = NearestNeighborMatching(distance=score, ties="row", order="data", **kwargs).fit(X, t)
        b = NearestNeighborMatching(distance=matrix, ties="row", order="data", **kwargs).fit(X, t)
        np.testing.assert_array_equal(a.result_.match_matrix, b.result_.match_matrix)


def test_row_order_does_not_change_covariate_matching():
    X, t = data(200, 7)
    X = X[["x1", "x2", "age"]]
    perm = np.random.default_rng(1).permutation(len(t))
    a = NearestNeighborMatching(distance="mahalanobis", ties="row").fit(X, t).result_
    b = NearestNeighborMatching(distance="mahalanobis", ties="row", order="closest").fit(X, t).result_
    c = NearestNeighborMatching(distance="mahalanobis", ties="row", order="closest").fit(
        X.iloc[perm].reset_index(drop=True), t[perm]).result_
    pairs = lambda s, rows: {(rows[r], rows[c]) for r, c in zip(np.flatnonzero(s.treat), s.match_matrix[:, 0]) if c >= 0}  # noqa: E731
    assert pairs(b, np.arange(len(t))) == pairs(c, perm)
    assert a.settings["order"] == "data" and a.settings["distance_columns"] == ["x1", "x2", "age"]


# --- restrict ------------------------------------------------------------------------


def test_restrict_pairs_keeps_the_other_controls():
    X, t = data(300, 8)
    s = NearestNeighborMatching(ratio=2).fit(X, t).result_
    treated = np.flatnonzero(t)
    first_pair = s.match_matrix[0]
    keep = np.ones(len(t), bool)
    keep[first_pair[0]] = False          # one control of the first treated unit
    keep[treated[1]] = False             # the second treated unit, with its controls unused
    r = s.restrict(keep)
    new = np.cumsum(keep) - 1
    assert r.n == keep.sum() and r.match_matrix.shape[0] == t.sum() - 1
    assert list(r.match_matrix[0]) == [new[first_pair[1]], -1]
    assert r.weights[new[s.match_matrix[1][0]]] == 0  # its controls are unmatched now
    assert r.settings["restricted_from"] == len(t)
    np.testing.assert_array_equal(s.restrict(np.ones(len(t), bool)).weights, s.weights)


@pytest.mark.parametrize("method", [FullMatching(), Subclassification(subclasses=4)])
def test_restrict_sets_and_strata(method):
    X, t = data(300, 9)
    s = method.fit(X[["x1", "x2", "age"]], t).result_
    keep = np.asarray(X["age"] < 45)
    r = s.restrict(keep)
    sub = r.subclass
    for code in np.unique(sub[sub >= 0]):  # every subclass left has both groups
        members = sub == code
        assert r.treat[members].any() and (~r.treat[members]).any()
    assert (r.weights[sub < 0] == 0).all() and r.structure == s.structure


def test_restrict_refuses_weights_and_bad_masks():
    X, t = data(200, 10)
    w = PropensityWeighting().fit(X[["x1", "x2"]], t).result_
    with pytest.raises(InvalidInputError, match="A weighted sample cannot be restricted"):
        w.restrict(np.ones(len(t), bool))
    s = NearestNeighborMatching().fit(X[["x1", "x2"]], t).result_
    with pytest.raises(InvalidInputError, match="restrict\\(keep\\) needs 200 true/false values"):
        s.restrict([1, 0])
