"""incidence_effect: differences of curves at horizons over strata, with the variance
clustered over the whole stack of influence functions; known truth (small version of
benchmarks/validate_trials.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from estimation.errors import EstimationError
from estimation.incidence import aalen_johansen
import estimation.incidence_effects as inc
from estimation.incidence_effects import cif_difference, incidence_effect

from script_loader import load_benchmark

HORIZONS = [30, 90]


def _curve(seed: int, n: int, persons, horizons=HORIZONS, end=None, shift=0.0):
    rng = np.random.default_rng(seed)
    time = np.floor(rng.exponential(60, n)) + 1
    event = rng.choice(["return", "other"], n)
    if end is not None:
        event = np.where(time > end, "none", event)
        time = np.minimum(time, end)
    return aalen_johansen(time + shift, event, cause="return", censored="none",
                          horizons=horizons, clusters={"person": persons,
                                                       "set": np.arange(n) % 5})


def test_one_stratum_with_independent_units_adds_the_two_variances():
    t, c = _curve(1, 40, np.arange(40)), _curve(2, 60, np.arange(100, 160))
    effect = cif_difference(t, c, cluster=None, adjust=False, small_sample=False)
    np.testing.assert_allclose(effect.estimate, t.at_horizons - c.at_horizons, rtol=1e-14)
    np.testing.assert_allclose(effect.std_error, np.sqrt(t.std_error**2 + c.std_error**2),
                               rtol=1e-12)
    np.testing.assert_allclose(effect.treated_se, t.std_error, rtol=1e-12)
    assert effect.n_treated == 40 and effect.n_control == 60


def test_small_sample_factor_is_m_over_m_minus_one_per_curve():
    t, c = _curve(1, 40, np.arange(40)), _curve(2, 60, np.arange(100, 160))
    effect = cif_difference(t, c, cluster=None, adjust=False)
    expected = np.sqrt(t.std_error**2 * 40 / 39 + c.std_error**2 * 60 / 59)
    np.testing.assert_allclose(effect.std_error, expected, rtol=1e-12)


def test_fixed_weights_are_persons_clustered_over_the_stack():
    persons_a, persons_b = np.arange(30), np.arange(20, 50)  # persons 20-29 in both strata
    pairs = [(_curve(1, 30, persons_a), _curve(2, 45, np.arange(100, 145))),
             (_curve(3, 30, persons_b), _curve(4, 40, np.arange(120, 160)))]
    effect = incidence_effect(pairs, weights=[30, 30], cluster="person", adjust=False,
                              small_sample=False)
    v = np.array([0.5, 0.5])
    expected = sum(v[k] * (t.at_horizons - c.at_horizons) for k, (t, c) in enumerate(pairs))
    np.testing.assert_allclose(effect.estimate, expected, rtol=1e-13)
    rows = pd.concat([
        pd.DataFrame(sign * v[k] * curve.influence, index=curve.clusters["person"])
        for k, pair in enumerate(pairs) for sign, curve in zip((1, -1), pair)])
    by_person = rows.groupby(level=0).sum()
    np.testing.assert_allclose(effect.std_error, np.sqrt((by_person**2).sum()), rtol=1e-12)
    assert effect.cluster_counts == (by_person.shape[0],)


def _no_censoring(seed: int, n: int, persons, cause_share: float):
    """A curve without censoring before the horizons: F(h) is the share with the cause by h."""
    rng = np.random.default_rng(seed)
    time = np.floor(rng.exponential(60, n)) + 1
    event = np.where(rng.random(n) < cause_share, "return", "other")
    curve = aalen_johansen(time, event, cause="return", horizons=HORIZONS,
                           clusters={"person": persons, "set": np.arange(n)})
    return curve, (event == "return")[:, None] & (time[:, None] <= np.array(HORIZONS))


def test_default_weights_are_estimated_with_the_stack_so_one_participant_counts():
    """Strata of 1, 2 and 5 treated units against comparisons without the cause (their curves
    and influence are 0): with the trials' weights estimated, each treated unit's influence
    is (Y_i(h) - T(h)) / N, T the treated average, so the variance is that of the pooled
    treated outcomes (a stratum of one treated unit included), times N / (N - 1) with the
    small-sample factor."""
    sizes, start, pairs, outcomes = (1, 2, 5), 0, [], []
    for k, n in enumerate(sizes):
        treated, y = _no_censoring(10 + k, n, np.arange(start, start + n), 0.6)
        control, _ = _no_censoring(20 + k, 8, np.arange(100 + 8 * k, 108 + 8 * k), 0.0)
        pairs.append((treated, control))
        outcomes.append(y)
        start += n
    y = np.concatenate(outcomes).astype(float)
    deviation = ((y - y.mean(axis=0)) ** 2).sum(axis=0) / y.shape[0] ** 2
    plain = incidence_effect(pairs, cluster=None, adjust=False, small_sample=False)
    np.testing.assert_allclose(plain.estimate, y.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(plain.std_error, np.sqrt(deviation), rtol=1e-12)
    corrected = incidence_effect(pairs, cluster=None, adjust=False)
    np.testing.assert_allclose(corrected.std_error, np.sqrt(deviation * 8 / 7), rtol=1e-12)
    fixed = incidence_effect(pairs, weights=list(sizes), cluster=None, adjust=False,
                             small_sample=False)
    within = sum(((o - o.mean(axis=0)) ** 2).sum(axis=0) for o in outcomes) / y.shape[0] ** 2
    np.testing.assert_allclose(fixed.std_error, np.sqrt(within), rtol=1e-12)


def test_the_control_curves_noise_is_counted_once():
    """One treated unit per stratum and noisy comparison curves: the treated rows' weights'
    term holds each comparison curve's noise, which the comparison rows carry already; the
    covariance subtracts it, so the variance is the treated outcomes' plus the comparison
    curves' own (about), not plus twice theirs."""
    pairs = [(_no_censoring(30 + k, 1, np.array([k]), 0.5)[0],
              _curve(40 + k, 12, np.arange(100 + 12 * k, 112 + 12 * k))) for k in range(6)]
    effect = incidence_effect(pairs, cluster=None, adjust=False, small_sample=False)
    stack = inc._estimated_stack(pairs, np.ones(6), False)
    scores = stack.treated - stack.control
    np.testing.assert_allclose(effect.std_error**2, (scores**2).sum(axis=0) - np.diag(stack.overlap),
                               rtol=1e-12)
    v = 1 / 6
    control_own = sum(v**2 * (c.influence**2).sum(axis=0) for _, c in pairs)
    # E of the overlap: sum_s n_s a_s^2 C_s (1 - 2 v_s) + (sum_s n_s a_s^2) sum_r v_r^2 C_r
    expected = sum(v**2 * (c.influence**2).sum(axis=0) * (1 - 2 * v) for _, c in pairs) + \
        6 * v**2 * control_own
    np.testing.assert_allclose(np.diag(stack.overlap), expected, rtol=1e-12)
    assert (np.diag(stack.overlap) < control_own).all()


def test_explicit_weights_and_labels_nested_within_strata():
    pairs = [(_curve(1, 30, np.arange(30)), _curve(2, 45, np.arange(100, 145))),
             (_curve(3, 30, np.arange(20, 50)), _curve(4, 40, np.arange(120, 160)))]
    a = incidence_effect(pairs, weights=[3, 1])
    expected = sum(w * (t.at_horizons - c.at_horizons) for w, (t, c) in
                   zip((0.75, 0.25), pairs))
    np.testing.assert_allclose(a.estimate, expected, rtol=1e-13)
    assert a.cluster == ("person", "set") and len(a.cluster_counts) == 2
    nested = incidence_effect(pairs, weights=[3, 1], within_stratum=["set"])
    assert nested.cluster_counts[1] == 10  # 5 sets per stratum (shared by its two curves) x 2
    assert a.cluster_counts[1] == 5


def test_a_stratum_without_follow_up_to_a_horizon_is_left_out_there():
    pairs = [(_curve(1, 30, np.arange(30)), _curve(2, 45, np.arange(100, 145))),
             (_curve(3, 30, np.arange(30, 60), end=60), _curve(4, 40, np.arange(200, 240)))]
    effect = incidence_effect(pairs, cluster="person")
    assert effect.n_strata.tolist() == [2, 1]
    assert effect.weight_share.tolist() == [1.0, 0.5]
    t, c = pairs[0]
    assert effect.estimate[1] == pytest.approx(t.at_horizons[1] - c.at_horizons[1], rel=1e-13)
    assert any("left out" in note for note in effect.notes)
    assert np.isnan(effect.strata["treated at 90"].iloc[1])


def test_counts_for_disclosure_and_rendering():
    t, c = _curve(1, 40, np.arange(40)), _curve(2, 60, np.arange(100, 160))
    effect = cif_difference(t, c)
    assert effect.n_risk_treated.tolist() == t.n_risk_at_horizons.tolist()
    cumulative = [int(t.n_event[t.times <= h].sum()) for h in HORIZONS]
    assert effect.events_treated.tolist() == [cumulative[0], cumulative[1] - cumulative[0]]
    payload = json.loads(json.dumps(effect.to_dict()))
    assert [row["horizon"] for row in payload["horizons"]] == HORIZONS
    assert payload["cluster"] == ["person", "set"]
    text = effect.as_text()
    assert "treated minus control" in text and "person (" in text and "unadjusted" in text
    assert "<table" in effect.as_html()
    low, high = effect.ci_low[0], effect.ci_high[0]
    assert low == pytest.approx(effect.estimate[0] - 1.959963984540054 * effect.std_error[0])
    assert effect.p_value[0] == pytest.approx(
        math.erfc(abs(effect.estimate[0] / effect.std_error[0]) / math.sqrt(2)))
    assert low < effect.estimate[0] < high


@pytest.mark.parametrize(
    "strata,kwargs,message",
    [
        ([], {}, "no strata"),
        (["x"], {}, "stratum 0 must be a \\(treated, control\\) pair"),
        (None, {"weights": [1, 2]}, "'weights' parameter of incidence_effect must be 1 finite"),
        (None, {"cluster": ("country",)}, "has no cluster labels 'country'"),
        (None, {"cluster": [1]}, "'cluster' parameter of incidence_effect"),
        (None, {"alpha": 2}, "'alpha' parameter of incidence_effect"),
    ],
)
def test_bad_input_is_named(strata, kwargs, message):
    if strata is None:
        strata = [(_curve(1, 20, np.arange(20)), _curve(2, 20, np.arange(20, 40)))]
    with pytest.raises(EstimationError, match=message):
        incidence_effect(strata, **kwargs)


def test_curves_with_other_horizons_are_refused():
    t = _curve(1, 20, np.arange(20))
    c = _curve(2, 20, np.arange(20, 40), horizons=[30, 60])
    with pytest.raises(EstimationError, match="same cause and horizons as the first"):
        cif_difference(t, c)


@pytest.fixture(scope="module")
def trials_table():
    return load_benchmark("validate_trials").run(reps=80, seed=3, designs=["24 monthly trials, 3:1"]) \
        .set_index(["horizon", "clustering"])


@pytest.mark.slow
def test_two_way_intervals_cover_the_truth_over_target_trials(trials_table):
    """No effect; persons are comparisons in several trials and enrol later. 80 replications:
    coverage of the default two-way intervals near 95 % at both horizons."""
    for h in (180.0, 365.0):
        row = trials_table.loc[(h, "person+set")]
        assert 0.88 <= row["coverage"] <= 0.99, f"horizon {h}: coverage {row['coverage']:.3f}"
        assert abs(row["bias"]) < 3 * row["sd"] / math.sqrt(80)
        assert 0.8 <= row["mean_se"] / row["sd"] <= 1.25


@pytest.mark.slow
def test_reusing_a_person_across_trials_widens_the_comparison_curve(trials_table):
    """The comparison curve alone: a person's one exit counts in every trial they are in, so
    clustering on the person must give a clearly larger SE than treating rows as independent."""
    for h in (180.0, 365.0):
        assert trials_table.loc[(h, "person"), "control_se"] > \
            1.3 * trials_table.loc[(h, "independent"), "control_se"]
        assert trials_table.loc[(h, "person"), "trials_per_comparison"] > 2
