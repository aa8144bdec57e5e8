"""aalen_johansen: invariances, a finite-difference check of the influence functions,
properties of the curves and pinned error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estimation.errors import EstimationError
from estimation.incidence import aalen_johansen


def _data(n: int = 120, seed: int = 3):
    rng = np.random.default_rng(seed)
    time = np.floor(rng.exponential(90, n))  # whole days: many ties
    state = rng.choice([0, 1, 2], n, p=[0.3, 0.45, 0.25])
    weight = np.round(rng.uniform(0.2, 3, n), 3)
    return time, state, weight


def test_row_order_does_not_change_the_curve_or_the_unit_influence():
    time, state, weight = _data()
    units = np.arange(time.size)
    a = aalen_johansen(time, state, cause=1, weights=weight, unit=units, horizons=[30, 120])
    perm = np.random.default_rng(0).permutation(time.size)
    b = aalen_johansen(time[perm], state[perm], cause=1, weights=weight[perm], unit=units[perm],
                       horizons=[30, 120])
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-13)
    got = pd.DataFrame(b.influence, index=b.units.astype(int)).loc[a.units.astype(int)]
    np.testing.assert_allclose(got.to_numpy(), a.influence, rtol=1e-10, atol=1e-15)


def test_splitting_follow_up_into_rows_changes_nothing():
    time, state, weight = _data()
    time = time + 1
    whole = aalen_johansen(time, state, cause=1, weights=weight, horizons=[20, 60, 200])
    entry, exit_, event, w, unit = [], [], [], [], []
    for i, (t, s, wi) in enumerate(zip(time, state, weight)):
        cuts = np.unique(np.r_[np.arange(0, t, 25.0), t])
        for j, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
            entry.append(a), exit_.append(b), w.append(wi), unit.append(i)
            event.append(s if j == len(cuts) - 2 else 0)
    split = aalen_johansen(exit_, event, cause=1, weights=w, entry=entry, unit=unit,
                           horizons=[20, 60, 200])
    np.testing.assert_allclose(split.estimate, whole.estimate, rtol=1e-12)
    np.testing.assert_array_equal(split.times, whole.times)
    np.testing.assert_allclose(split.influence, whole.influence, rtol=1e-9, atol=1e-15)


def test_integer_weight_equals_duplicated_rows():
    time, state, _ = _data(60)
    weight = np.where(np.arange(60) % 4 == 0, 2.0, 1.0)
    weighted = aalen_johansen(time, state, cause=2, weights=weight, horizons=[50])
    copies = np.repeat(np.arange(60), weight.astype(int))
    duplicated = aalen_johansen(time[copies], state[copies], cause=2, horizons=[50])
    np.testing.assert_allclose(weighted.estimate, duplicated.estimate, rtol=1e-13)
    summed = np.bincount(copies, weights=duplicated.influence[:, 0])
    np.testing.assert_allclose(weighted.influence[:, 0], summed, rtol=1e-10, atol=1e-15)


def test_rescaling_the_weights_changes_nothing():
    time, state, weight = _data()
    a = aalen_johansen(time, state, cause=1, weights=weight, horizons=[40])
    b = aalen_johansen(time, state, cause=1, weights=weight * 7.5, horizons=[40])
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-13)
    np.testing.assert_allclose(a.influence, b.influence, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(a.n_risk_weighted * 7.5, b.n_risk_weighted, rtol=1e-13)


def test_influence_is_the_derivative_of_the_estimate_in_each_units_weights():
    """Finite differences: F(h) with unit i's weights times (1 + eps), for units with
    several rows and time-varying weights, entering late."""
    rng = np.random.default_rng(11)
    entry, exit_, event, w, unit = [], [], [], [], []
    for i in range(40):
        start = float(rng.choice([0, 0, 0, 15]))
        end = start + 1 + np.floor(rng.exponential(60))
        cuts = np.unique(np.r_[np.arange(start, end, 20.0), end])
        weight = 1.0
        for j, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
            last = j == len(cuts) - 2
            entry.append(a), exit_.append(b), w.append(weight), unit.append(i)
            event.append(int(rng.choice([0, 1, 2])) if last else 0)
            weight *= rng.uniform(0.9, 1.3)
    entry, exit_, event, w, unit = map(np.asarray, (entry, exit_, event, w, unit))
    horizons = [10, 45, 90]
    base = aalen_johansen(exit_, event, cause=1, weights=w, entry=entry, unit=unit,
                          horizons=horizons)
    eps = 1e-6
    for i in range(40):
        bumped = np.where(unit == i, w * (1 + eps), w)
        moved = aalen_johansen(exit_, event, cause=1, weights=bumped, entry=entry, unit=unit,
                               horizons=horizons)
        numeric = (moved.at_horizons - base.at_horizons) / eps
        np.testing.assert_allclose(base.influence[i], numeric, rtol=1e-4, atol=1e-8)


def test_without_competing_events_the_incidence_is_one_minus_kaplan_meier():
    time = np.array([2, 3, 3, 5, 8, 8, 9, 12.0])
    state = np.array([1, 0, 1, 1, 0, 1, 1, 0])
    curve = aalen_johansen(time, state, cause=1)
    km, at_risk = 1.0, 8
    expected = []
    for t in np.unique(time):
        d = int(((time == t) & (state == 1)).sum())
        km *= 1 - d / at_risk
        at_risk -= int((time == t).sum())
        expected.append(1 - km)
    np.testing.assert_allclose(curve.estimate, expected, rtol=1e-14)
    np.testing.assert_allclose(curve.survival, 1 - np.asarray(expected), rtol=1e-14)


def test_zero_weight_unit_has_no_influence_but_is_counted():
    time, state, weight = _data()
    weight[5] = 0.0
    curve = aalen_johansen(time, state, cause=1, weights=weight, horizons=[100])
    assert curve.influence[5, 0] == 0.0
    assert curve.n_risk[0] == time.size


def test_horizon_beyond_follow_up_is_flagged_and_ties_are_deterministic():
    time, state, weight = _data()
    state[time == time.max()] = 0  # the longest follow-up ends without an event
    curve = aalen_johansen(time, state, cause=1, weights=weight, horizons=[10, 1e4])
    assert curve.defined.tolist() == [True, False] and any("not known" in n for n in curve.notes)
    again = aalen_johansen(time, state, cause=1, weights=weight, horizons=[10, 1e4])
    assert curve.estimate.tobytes() == again.estimate.tobytes()
    assert curve.influence.tobytes() == again.influence.tobytes()
    assert "Cumulative incidence of '1'" in curve.as_text() and "<table" in curve.as_html()


def test_everyone_has_an_event_before_the_horizon_so_the_curve_is_known():
    curve = aalen_johansen([1, 2, 2, 3], [1, 2, 1, 1], cause=1, horizons=[10])
    assert curve.defined.tolist() == [True] and curve.at_horizons[0] == pytest.approx(0.75)
    assert curve.influence[:, 0].sum() == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3),
                          st.floats(0.1, 5, allow_nan=False)), min_size=1, max_size=40))
def test_the_state_probabilities_add_to_one(rows):
    time, state, weight = (np.asarray(v) for v in zip(*rows))
    if not (state > 0).any():
        return
    curves = [aalen_johansen(time, state, cause=c, weights=weight) for c in (1, 2, 3)]
    total = sum(c.estimate for c in curves) + curves[0].survival
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    assert np.all(np.diff(curves[0].estimate) >= -1e-15)
    assert np.all((curves[0].estimate >= 0) & (curves[0].estimate <= 1 + 1e-12))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"weights": [1, -1, 1]}, "'weights' must be >= 0; 1 row\\(s\\) are negative"),
        ({"weights": [1, np.nan, 1]}, "'weights' is missing or not finite in 1 row"),
        ({"time": [1, 2], "event": [1, 0, 2]}, "'event' has 3 values; expected 2"),
        ({"entry": [0, 2, 0]}, "every row needs entry < time"),
        ({"event": [1, None, 0]}, "'event' is missing in 1 row"),
        ({"cause": 0}, "The 'cause' parameter of aalen_johansen must be an event value"),
        ({"unit": [1, 1, 2]}, "a unit has several rows but no 'entry' was given"),
        ({"unit": [1, 1, 2], "entry": [0, 1, 0], "time": [2, 4, 3]},
         "overlap an earlier row of the same unit"),
        ({"unit": [1, 1, 2], "entry": [0, 2, 0], "time": [2, 4, 3], "event": [1, 0, 0]},
         "1 unit\\(s\\) have an event before their last row"),
        ({"clusters": {"person": [1, 2, 3]}, "unit": [7, 7, 8], "entry": [0, 2, 0],
          "time": [2, 4, 3], "event": [0, 1, 2]}, "clusters\\['person'\\] changes within a unit"),
        ({"clusters": [1, 2, 3]}, "The 'clusters' parameter of aalen_johansen must be a mapping"),
        ({"horizons": [1, np.inf]}, "'horizons' is missing or not finite"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"time": [1.0, 2.0, 3.0], "event": [1, 0, 2], "cause": 1, **kwargs}
    with pytest.raises(EstimationError, match=message):
        aalen_johansen(args.pop("time"), args.pop("event"), **args)


def test_exported():
    import estimation

    assert estimation.aalen_johansen is aalen_johansen
