"""NearestNeighborMatching: scikit-learn conventions, every error message, MatchIt definitions."""

import numpy as np
import pandas as pd
import pytest

from estimation import MatchedSample, NearestNeighborMatching
from estimation.matching import MatchingWarning, NoMatchesError, matching_weights, pair_subclass
from estimation.parameters import InvalidInputError, InvalidParameterError, NotFittedError


def data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], size=n)})
    treat = (rng.random(n) < 0.3).astype(int)
    return X, treat


def test_constructor_stores_parameters_only():
    m = NearestNeighborMatching(ratio=-3, caliper="wide", order="sideways")
    assert (m.ratio, m.caliper, m.order) == (-3, "wide", "sideways")
    assert not hasattr(m, "result_")


def test_fit_returns_self_and_frozen_result():
    X, t = data()
    m = NearestNeighborMatching()
    assert m.fit(X, t) is m
    assert isinstance(m.result_, MatchedSample)
    with pytest.raises(AttributeError):
        m.result_.weights = None
    assert m.result_.settings["ratio"] == 1 and m.result_.estimand == "ATT"


def test_not_fitted():
    with pytest.raises(NotFittedError) as info:
        NearestNeighborMatching().matched_sample
    assert str(info.value) == ("This NearestNeighborMatching instance is not fitted yet. Call "
                               "'fit' with appropriate arguments before using this estimator.")


@pytest.mark.parametrize("kwargs, message", [
    ({"caliper": -0.2}, "The 'caliper' parameter of NearestNeighborMatching must be a float > 0 or None. Got -0.2 instead."),
    ({"caliper": 0}, "The 'caliper' parameter of NearestNeighborMatching must be a float > 0 or None. Got 0 instead."),
    ({"caliper": "0.2"}, "The 'caliper' parameter of NearestNeighborMatching must be a float > 0 or None. Got '0.2' instead."),
    ({"ratio": 0}, "The 'ratio' parameter of NearestNeighborMatching must be an int >= 1. Got 0 instead."),
    ({"ratio": 1.5}, "The 'ratio' parameter of NearestNeighborMatching must be an int >= 1. Got 1.5 instead."),
    ({"replace": "yes"}, "The 'replace' parameter of NearestNeighborMatching must be a bool (True or False). Got 'yes' instead."),
    ({"std_caliper": 1}, "The 'std_caliper' parameter of NearestNeighborMatching must be a bool (True or False). Got 1 instead."),
    ({"order": "biggest"}, "The 'order' parameter of NearestNeighborMatching must be a str among {'largest', 'smallest', 'data', 'random', 'closest', 'farthest'}. Got 'biggest' instead."),
    ({"discard": "all"}, "The 'discard' parameter of NearestNeighborMatching must be a str among {'none', 'treated', 'control', 'both'}. Got 'all' instead."),
    ({"distance": "mahalanobs"}, "The 'distance' parameter of NearestNeighborMatching must be a str among {'glm', 'logit', 'mahalanobis', 'robust_mahalanobis', 'euclidean', 'scaled_euclidean'}. Got 'mahalanobs' instead."),
    ({"distance": [0.1, 0.2]}, "The 'distance' parameter of NearestNeighborMatching must be one of 'glm', 'logit', 'mahalanobis', 'robust_mahalanobis', 'euclidean', 'scaled_euclidean', an array of 60 scores or a (17, 43) distance matrix. Got 'array of shape (2,)' instead."),
    ({"random_state": -1}, "The 'random_state' parameter of NearestNeighborMatching must be an int >= 0 or None. Got -1 instead."),
    ({"exact": ["nope"]}, "The 'exact' parameter of NearestNeighborMatching must be columns of X (one of 'x', 'g'). Got 'nope' instead."),
    ({"exact": [1]}, "The 'exact' parameter of NearestNeighborMatching must be None or a list of column names. Got [1] instead."),
])
def test_parameter_errors(kwargs, message):
    X, t = data()
    with pytest.raises(InvalidParameterError) as info:
        NearestNeighborMatching(**kwargs).fit(X, t)
    assert str(info.value) == message
    assert info.value.exit_code == 2


def test_no_matches_within_caliper():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(NoMatchesError) as info:
        NearestNeighborMatching(distance=np.array([0.1, 0.2, 0.9, 0.95]), caliper=0.05,
                                std_caliper=False).fit(X, [1, 1, 0, 0])
    assert str(info.value) == ("No units were matched: no treated unit has an available control "
                               "within the caliper (0.05 in distance units).")


def test_no_controls_after_discard():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(NoMatchesError, match="No control units are left to match with after discarding."):
        NearestNeighborMatching(distance=np.array([0.5, 0.6, 0.1, 0.2]), discard="control").fit(X, [1, 1, 0, 0])


def test_user_distance_must_be_finite():
    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(InvalidParameterError, match="must be finite scores"):
        NearestNeighborMatching(distance=np.array([0.5, np.nan, 0.1, 0.2])).fit(X, [1, 1, 0, 0])


def test_warns_when_too_few_controls():
    X = pd.DataFrame({"x": np.arange(5.0)})
    with pytest.warns(MatchingWarning, match="Fewer control units than treated units"):
        NearestNeighborMatching(distance=np.array([0.1, 0.2, 0.3, 0.4, 0.5])).fit(X, [1, 1, 1, 0, 0])
    with pytest.warns(MatchingWarning, match="Not all treated units will get 2 matches."):
        NearestNeighborMatching(ratio=2, distance=np.array([0.1, 0.2, 0.3, 0.4, 0.5])).fit(X, [1, 1, 0, 0, 0])


def test_tie_rule_lowest_row_index():
    # controls at rows 1, 2, 4 are equally far from the treated unit at row 3 (two below, one above)
    d = np.array([0.9, 0.4, 0.4, 0.5, 0.6])
    res = NearestNeighborMatching(distance=d, ties="row").fit(None, [0, 0, 0, 1, 0]).result_
    assert res.match_matrix.tolist() == [[1]]
    d2 = np.array([0.9, 0.6, 0.4, 0.5, 0.4])
    res2 = NearestNeighborMatching(distance=d2, ties="row").fit(None, [0, 0, 0, 1, 0]).result_
    assert res2.match_matrix.tolist() == [[1]]


@pytest.mark.parametrize("ties", ["matchit", "matchit-4.5"])
def test_tie_rule_of_matchit_nearest_in_sorted_order(ties):
    # MatchIt's candidates are the nearest controls on either side in (score, row) order:
    # of rows 1 and 2 (score 0.4) row 2 is next to the treated unit; it beats row 4 (0.6)
    d = np.array([0.9, 0.4, 0.4, 0.5, 0.6])
    res = NearestNeighborMatching(distance=d, ties=ties).fit(None, [0, 0, 0, 1, 0]).result_
    assert res.match_matrix.tolist() == [[2]]
    assert res.settings["ties"] == ties


def test_tie_rules_of_the_two_matchit_releases_differ():
    # rows 1 (0.25) and 2 (0.75) are equally far from row 0 (0.5); the treated row 3 (0.375)
    # lies between row 0 and row 1, so 4.6+'s alternating search reaches row 2 first
    d, t = np.array([0.5, 0.25, 0.75, 0.375]), [1, 0, 0, 1]
    new = NearestNeighborMatching(distance=d).fit(None, t).result_
    old = NearestNeighborMatching(distance=d, ties="matchit-4.5").fit(None, t).result_
    assert new.match_matrix.tolist() == [[2], [1]]
    assert old.match_matrix.tolist() == [[1], [2]]


def test_ties_parameter_checked():
    with pytest.raises(InvalidParameterError, match="'ties' parameter of NearestNeighborMatching"):
        NearestNeighborMatching(distance=np.array([0.1, 0.2]), ties="lowest").fit(None, [1, 0])


def test_ratio_passes_match_matchit_order():
    # MatchIt fills ratio in passes: the first pass gives every treated unit its nearest
    # control before anyone gets a second one (taking both of row 0's nearest at once would
    # give [[2, 3], [4, 5]]).
    d = np.array([0.50, 0.52, 0.49, 0.51, 0.80, 0.10])
    t = [1, 1, 0, 0, 0, 0]
    res = NearestNeighborMatching(ratio=2, distance=d, order="data").fit(None, t).result_
    assert res.match_matrix.tolist() == [[2, 4], [3, 5]]


def test_weights_and_subclass_definitions():
    mm = np.array([[3, 4], [4, -1], [-1, -1]])
    treated = np.array([0, 1, 2])
    w = matching_weights(mm, treated, 6)
    # raw control weights: row 3: 1/2, row 4: 1/2 + 1 = 1.5; scaled to sum to 2 matched controls
    np.testing.assert_allclose(w, [1, 1, 0, 0.5, 1.5, 0])
    sub = pair_subclass(mm, treated, 6)
    assert sub.tolist() == [0, 1, -1, 0, -1, -1]


def test_random_order_is_seeded():
    X, t = data(200, 3)
    a = NearestNeighborMatching(order="random", random_state=7, caliper=0.1).fit(X, t).result_
    b = NearestNeighborMatching(order="random", random_state=7, caliper=0.1).fit(X, t).result_
    np.testing.assert_array_equal(a.match_matrix, b.match_matrix)


def test_exact_matching_keeps_strata():
    X, t = data(300, 4)
    with pytest.warns(MatchingWarning):
        res = NearestNeighborMatching(exact=["g"], ratio=2).fit(X, t).result_
    g = X["g"].to_numpy()
    for tr, row in zip(np.flatnonzero(t), res.match_matrix):
        assert all(g[c] == g[tr] for c in row if c >= 0)


def test_missing_exact_values_with_user_distance():
    X = pd.DataFrame({"g": ["a", None, "a", "b"]})
    with pytest.raises(InvalidInputError, match=r"Missing values in exact-matching column 'g' \(1 row\)"):
        NearestNeighborMatching(distance=np.array([0.1, 0.2, 0.3, 0.4]), exact="g").fit(X, [1, 0, 0, 1])


def test_caliper_on_constant_or_binary_distance_as_matchit():
    X = pd.DataFrame({"x": np.arange(6.0)})
    t = [1, 0, 0, 1, 0, 0]
    res = NearestNeighborMatching(distance=np.full(6, 0.3), caliper=0.1).fit(X, t).result_
    assert res.settings["caliper_width"] is None and (res.match_matrix >= 0).all()
    with pytest.raises(InvalidInputError, match="A caliper cannot be used when the distance takes only two values"):
        NearestNeighborMatching(distance=np.array([0.2, 0.4] * 3), caliper=0.1).fit(X, t)
