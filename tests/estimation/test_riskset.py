"""Risk-set matching: golden comparison with MatchIt (trials exact on the period), design rules, errors."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation import RiskSetMatching
from estimation.nearest import match_without_replacement
from estimation.parameters import InvalidInputError, InvalidParameterError, NotFittedError

GOLDEN = Path(__file__).parents[1] / "golden" / "matching"


def golden():
    return pd.read_csv(GOLDEN / "riskset.csv"), json.loads((GOLDEN / "riskset_trials.json").read_text())


@pytest.mark.parametrize("case", [0, 1])
def test_same_as_matchit_exact_on_the_period(case):
    """make_riskset_trials.R: matchit(exact = ~period) on the pooled score, no unit.id."""
    data, expected = golden()
    r = expected["results"][case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RiskSetMatching(covariates=["age", "x", "sex"], caliper=r["caliper"],
                            ratio=r["ratio"]).fit(data)
    res = m.result_
    assert m.n_dropped_ == 0
    np.testing.assert_allclose(m.propensity_.scores_, expected["ps"], atol=1e-8)
    mm_r = np.array(r["match_matrix"]).reshape(len(r["treated_rows"]), -1) - 1
    assert (np.array(r["treated_rows"]) - 1).tolist() == np.flatnonzero(res.treat).tolist()
    for a, b in zip(res.match_matrix, mm_r):
        assert sorted(a[a >= 0]) == sorted(b[b >= 0])
    np.testing.assert_allclose(res.weights, r["weights"], atol=1e-12)


def panel():
    """Two periods; p1 enrols in period 2 and is a control candidate in period 1."""
    return pd.DataFrame({
        "person_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p5", "p5"],
        "period": ["2024-01", "2024-02", "2024-01", "2024-02", "2024-01", "2024-02",
                   "2024-01", "2024-01", "2024-02"],
        "age": [30, 30, 41, 41, 29, 29, 35, 50, 50],
        "x": [0.1, 0.3, -0.5, 0.2, 1.2, 0.9, 0.4, -1.0, -0.8],
        "enrolled": [False, True, False, False, True, False, False, False, False],
    })


@pytest.mark.filterwarnings("ignore:Fitted probabilities")
def test_rows_after_enrolment_dropped_and_rows_reported():
    m = RiskSetMatching(covariates=["age", "x"]).fit(panel())
    assert m.n_dropped_ == 1  # p3 in 2024-02, after enrolling in 2024-01
    assert list(m.rows_.columns) == ["person_id", "period", "row"]
    assert 5 not in m.rows_["row"].tolist()
    res, rows = m.result_, m.rows_
    periods = rows["period"].to_numpy()
    persons = rows["person_id"].to_numpy()
    for t, row in zip(np.flatnonzero(res.treat), res.match_matrix):
        for c in row[row >= 0]:
            assert periods[c] == periods[t] and persons[c] != persons[t]


def test_a_control_person_is_used_at_most_once_per_trial_and_in_several_trials():
    rng = np.random.default_rng(2)
    rows = []
    for i in range(300):
        for t in range(1, 7):
            enrol = rng.random() < 0.08
            rows.append({"person_id": f"p{i}", "period": t, "x": rng.normal(), "enrolled": enrol})
            if enrol:
                break
    frame = pd.DataFrame(rows)
    res = RiskSetMatching(covariates=["x"], ratio=2).fit(frame)
    persons = res.rows_["person_id"].to_numpy()
    periods = res.rows_["period"].to_numpy()
    used = res.result_.match_matrix[res.result_.match_matrix >= 0]
    pairs = set(zip(persons[used], periods[used]))
    assert len(pairs) == used.size  # once per trial
    assert len(set(persons[used])) < used.size  # several trials
    again = RiskSetMatching(covariates=["x"], ratio=2, replace=True).fit(frame)
    used_r = again.result_.match_matrix[again.result_.match_matrix >= 0]
    # with replacement a control may serve several participants of the same trial
    assert len(set(zip(persons[used_r], periods[used_r]))) < used_r.size


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f.drop(columns="enrolled"), "Column 'enrolled' is not in the person-period frame"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), "duplicate rows: 1, first: person_id='p1', period='2024-01'"),
    (lambda f: f.assign(enrolled=f["enrolled"].astype(object).where(f.index != 0, "maybe")),
     "The treatment must be 0/1 or True/False"),
    (lambda f: f.assign(period=f["period"].where(f.index != 2, None)), "Missing values in 'period' (1 row)."),
])
@pytest.mark.filterwarnings("ignore:Fitted probabilities")
def test_bad_frames(mutate, message):
    with pytest.raises(InvalidInputError) as info:
        RiskSetMatching(covariates=["age", "x"]).fit(mutate(panel()))
    assert message in str(info.value)


def test_parameter_errors_and_not_fitted():
    with pytest.raises(InvalidParameterError) as info:
        RiskSetMatching(caliper=-1).fit(panel())
    assert str(info.value) == ("The 'caliper' parameter of RiskSetMatching must be a float > 0 "
                               "or None. Got -1 instead.")
    with pytest.raises(NotFittedError):
        RiskSetMatching().matched_sample


@st.composite
def unit_problems(draw):
    n = draw(st.integers(4, 30))
    d = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), dtype=float) / 20
    treat = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    unit = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)))
    stratum = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return d, treat, unit, stratum, draw(st.integers(1, 2)), draw(st.sampled_from([None, 0.1]))


@settings(max_examples=200, deadline=None)
@given(unit_problems())
def test_unit_constraint_matches_brute_force(problem):
    """The greedy core with units: a unit is one control, whichever of its rows is taken."""
    d, treat, unit, stratum, ratio, caliper = problem
    treated = np.flatnonzero(treat)
    controls = np.flatnonzero(~treat)
    got = match_without_replacement(d, treated, stratum, controls, ratio, caliper, unit)
    used_units: set = set()
    expected = {t: [] for t in treated}
    cal = np.inf if caliper is None else caliper
    for k in range(ratio):
        for t in treated:
            if len(expected[t]) < k:
                continue
            ok = [c for c in controls if unit[c] not in used_units and stratum[c] == stratum[t]
                  and abs(d[t] - d[c]) <= cal]
            if ok:
                best = min(ok, key=lambda c: (abs(d[t] - d[c]), c))
                expected[t].append(best)
                used_units.add(unit[best])
    for t, row in zip(treated, got):
        assert [c for c in row if c >= 0] == expected[t]


def _staggered(n=300, seed=3):
    rng = np.random.default_rng(seed)
    people = pd.DataFrame({"person_id": np.arange(n), "age": rng.normal(40, 10, n).round(), "x": rng.normal(size=n)})
    frame = people.merge(pd.DataFrame({"period": [1, 2, 3]}), how="cross")
    frame["enrolled"] = rng.random(len(frame)) < 0.05 + 0.08 * (frame["x"] > 0)
    return frame


@pytest.mark.parametrize("method, extra, structure", [
    ("optimal", {"ratio": 2}, "pairs"), ("full", {}, "sets"), ("subclass", {"subclasses": 3}, "strata"),
    ("cem", {}, "strata"), ("weighting", {}, "weights"), ("weighting", {"weights": "ebal"}, "weights"),
])
def test_every_method_stays_within_the_risk_sets(method, extra, structure):
    frame = _staggered()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = RiskSetMatching(covariates=["age", "x"], method=method, **extra).fit(frame)
    s = m.result_
    assert s.structure == structure and s.settings["method"] == method and s.estimand == "ATT"
    period = m.rows_["period"].to_numpy()
    strata = m.strata_
    assert all(len(set(period[strata == k])) == 1 for k in np.unique(strata))
    used = np.asarray(s.weights) > 0
    assert used[s.treat].mean() > 0.5
    if structure in ("sets", "strata"):  # a subclass never spans two risk sets
        sub = np.asarray(s.subclass)
        assert all(len(set(strata[sub == k])) == 1 for k in np.unique(sub[sub >= 0]))
    if structure == "pairs":
        mm = np.asarray(s.match_matrix)
        treated = np.flatnonzero(s.treat)
        for i, row in enumerate(mm):
            assert all(strata[c] == strata[treated[i]] for c in row[row >= 0])
    if method == "weighting" and extra.get("weights") == "ebal":  # exact balance of the means in each risk set
        X = frame.iloc[m.rows_["row"]][["age", "x"]].to_numpy()
        w = np.asarray(s.weights)
        for k in np.unique(strata):
            r = strata == k
            t, c = r & s.treat & used, r & ~s.treat & used
            if t.any() and c.any():
                np.testing.assert_allclose(X[t].mean(0), np.average(X[c], axis=0, weights=w[c]), atol=1e-6)


def test_small_risk_sets_get_fewer_subclasses_and_say_so():
    frame = _staggered(n=60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = RiskSetMatching(covariates=["age", "x"], method="subclass", subclasses=8).fit(frame).result_
    assert any("cut into fewer" in str(w.message) for w in caught)
    assert (np.asarray(s.weights)[s.treat] > 0).all()


@pytest.mark.parametrize("kwargs, parameter", [
    ({"method": "kernel"}, "method"), ({"weights": "cbps"}, "weights"),
    ({"method": "full", "distance": "mahalanobis"}, "distance"), ({"distance": "manhattan"}, "distance"),
])
def test_bad_method_settings_are_refused(kwargs, parameter):
    with pytest.raises(InvalidParameterError, match=f"'{parameter}' parameter of RiskSetMatching"):
        RiskSetMatching(covariates=["age"], **kwargs).fit(_staggered(n=40))


def test_covariate_distances_and_options_reach_nearest_neighbour():
    frame = _staggered()
    base = dict(covariates=["age", "x"], random_state=1)
    a = RiskSetMatching(distance="mahalanobis", **base).fit(frame).result_
    b = RiskSetMatching(mahvars=["age", "x"], caliper=0.5, **base).fit(frame).result_
    c = RiskSetMatching(caliper={"age": 2.0}, std_caliper=False, **base).fit(frame).result_
    for s in (a, b, c):
        assert (np.asarray(s.weights)[s.treat] > 0).any()
    X = frame.iloc[RiskSetMatching(**base).fit(frame).rows_["row"]]["age"].to_numpy()
    treated = np.flatnonzero(c.treat)
    for i, row in enumerate(np.asarray(c.match_matrix)):
        for ctl in row[row >= 0]:
            assert abs(X[ctl] - X[treated[i]]) <= 2.0
