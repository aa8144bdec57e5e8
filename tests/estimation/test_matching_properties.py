"""Invariants of the matching on random inputs (hypothesis), checked against a brute force
of the lowest-row tie rule (``ties="row"``; the MatchIt rules are in test_matching_ties.py)."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from estimation import NearestNeighborMatching


@st.composite
def problems(draw):
    n = draw(st.integers(4, 40))
    # a coarse grid of scores so that ties occur often
    d = np.array(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)), dtype=float) / 30
    treat = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    treat[0], treat[1] = True, False
    g = np.array(draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)))
    params = dict(
        ratio=draw(st.integers(1, 3)), replace=draw(st.booleans()),
        caliper=draw(st.one_of(st.none(), st.sampled_from([0.05, 0.1, 0.3]))),
        order=draw(st.sampled_from(["largest", "smallest", "data", "random"])),
        exact=draw(st.sampled_from([None, ["g"]])))
    return d, treat, g, params


def brute_force(d, treat, g, p, order):
    """MatchIt's nearest-neighbour algorithm written plainly, O(n^2)."""
    controls = np.flatnonzero(~treat)
    used = np.zeros(d.size, dtype=bool)
    out = {t: [] for t in np.flatnonzero(treat)}
    cal = np.inf if p["caliper"] is None else p["caliper"]
    passes = 1 if p["replace"] else p["ratio"]
    for _ in range(passes):
        for t in order:
            if not p["replace"] and len(out[t]) < _:
                continue
            ok = [c for c in controls if (p["replace"] or not used[c]) and c not in out[t]
                  and abs(d[t] - d[c]) <= cal and (p["exact"] is None or g[c] == g[t])]
            ok.sort(key=lambda c: (abs(d[t] - d[c]), c))
            take = ok[: p["ratio"]] if p["replace"] else ok[:1]
            out[t].extend(take)
            used[take] = True
    return out


@settings(max_examples=300, deadline=None)
@given(problems())
def test_matches_brute_force_and_invariants(problem):
    d, treat, g, p = problem
    # MatchIt ignores a caliper on a one-valued distance and refuses one on a two-valued one
    assume(p["caliper"] is None or np.unique(d).size > 2)
    X = pd.DataFrame({"g": g})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = NearestNeighborMatching(distance=d, std_caliper=False, random_state=3, ties="row",
                                        **p).fit(X, treat)
        except Exception as exc:  # only "no matches" is allowed
            assert type(exc).__name__ == "NoMatchesError"
            assert all(not v for v in brute_force(d, treat, g, p, np.flatnonzero(treat)).values())
            return
    res = m.result_
    tr = np.flatnonzero(treat)
    rng_order = {"largest": tr[np.argsort(-d[tr], kind="stable")],
                 "smallest": tr[np.argsort(d[tr], kind="stable")], "data": tr,
                 "random": tr[np.random.default_rng(3).permutation(tr.size)]}[p["order"]]
    expected = brute_force(d, treat, g, p, rng_order)
    for t, row in zip(tr, res.match_matrix):
        got = [c for c in row if c >= 0]
        assert sorted(got) == sorted(expected[t])
        for c in got:  # within the caliper and the exact stratum
            assert not treat[c]
            assert p["caliper"] is None or abs(d[t] - d[c]) <= p["caliper"]
            assert p["exact"] is None or g[c] == g[t]
    used = res.match_matrix[res.match_matrix >= 0]
    if not p["replace"]:
        assert used.size == np.unique(used).size  # no control used twice
    # weights: matched treated 1; controls sum to the number of distinct matched controls
    matched_t = (res.match_matrix >= 0).any(axis=1)
    np.testing.assert_array_equal(res.weights[tr], matched_t.astype(float))
    assert np.isclose(res.weights[~treat].sum(), np.unique(used).size)
    assert ((res.weights > 0) == np.isin(np.arange(d.size), np.concatenate([tr[matched_t], used]))).all()
