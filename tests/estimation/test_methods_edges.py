"""Edge cases of the methods beyond nearest neighbour: invariances, refusals, the seam."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from estimation import (CoarsenedExactMatching, EntropyBalancing, FullMatching, NoMatchesError,
                        OptimalMatching, PropensityWeighting, Subclassification,
                        describe_estimand, describe_method)
from estimation.balance import balance_table
from estimation.effects import estimate_att
from estimation.power import minimum_detectable_effect
from estimation.sensitivity import (matched_pairs, rosenbaum_binary, rosenbaum_bounds,
                                   rosenbaum_wilcoxon)
from estimation.mstatistic import rosenbaum_mstatistic_sets


def data(seed: int = 0, n: int = 600):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"age": rng.integers(18, 65, n).astype(float), "x": rng.normal(size=n),
                      "sex": rng.choice(["female", "male"], n), "flag": rng.random(n) < 0.3})
    lp = -1 + 0.03 * (X.age - 40) + 0.6 * X.x + 0.4 * (X.sex == "female")
    t = rng.random(n) < 1 / (1 + np.exp(-lp))
    y = 1 + t + 0.02 * X.age + X.x + rng.normal(size=n)
    return X, t, y.to_numpy()


@pytest.mark.parametrize("model", [
    CoarsenedExactMatching(), Subclassification(subclasses=5), FullMatching(),
    OptimalMatching(), PropensityWeighting(estimand="ATE"), EntropyBalancing(),
])
def test_rows_in_another_order_give_the_same_unit_weights(model):
    X, t, _ = data()
    first = model.fit(X, t).result_.weights
    order = np.random.default_rng(5).permutation(len(X))
    second = model.fit(X.iloc[order].reset_index(drop=True), t[order]).result_.weights
    np.testing.assert_allclose(second, first[order], rtol=1e-9, atol=1e-12)


def test_cem_and_ebal_have_no_distance_row_and_cem_drops_treated():
    X, t, _ = data(1)
    cem = CoarsenedExactMatching(cutpoints={"age": 10, "x": 8}).fit(X, t).result_
    table = balance_table(cem)
    assert "distance" not in set(table.frame["term"])
    kept, total = int((cem.weights[t] > 0).sum()), int(t.sum())
    assert kept < total and f"{kept} of the {total} treated units" in describe_estimand(cem)
    assert cem.settings["treated_dropped"] == total - kept
    ebal = EntropyBalancing().fit(X, t).result_
    assert balance_table(ebal).max_abs_smd_after < 1e-8


def test_cem_with_explicit_distance_keeps_it_for_the_balance_table():
    X, t, _ = data(2)
    sample = CoarsenedExactMatching(distance="glm").fit(X, t).result_
    assert balance_table(sample).frame["term"].iloc[0] == "distance"


def test_cem_refuses_when_no_stratum_has_both_groups():
    X, t, _ = data(3, 60)
    with pytest.raises(NoMatchesError, match="no coarsened stratum holds both"):
        CoarsenedExactMatching(cutpoints=0).fit(X.assign(id=np.arange(60.0)), t)


def test_cem_checks_its_inputs():
    X, t, _ = data(4, 100)
    with pytest.raises(Exception, match="must be a mapping of columns of X"):
        CoarsenedExactMatching(cutpoints={"nope": 3}).fit(X, t)
    with pytest.raises(Exception, match="cutpoints"):
        CoarsenedExactMatching(cutpoints=-2).fit(X, t)
    with pytest.raises(Exception, match="Missing values in covariates: 'x'"):
        CoarsenedExactMatching().fit(X.assign(x=np.where(np.arange(100) < 3, np.nan, X.x)), t)


def test_subclassification_refusals():
    X, t, _ = data(5, 30)
    with pytest.raises(Exception, match="subclasses"):
        Subclassification(subclasses=1).fit(X, t)
    with pytest.raises(Exception, match="Not enough units to fit 3 treated and 3 control"):
        Subclassification(subclasses=10, min_n=3).fit(X, t)
    with pytest.raises(Exception, match="min_n"):
        Subclassification(min_n=-1).fit(X, t)


def test_full_matching_leaves_strata_without_controls_unmatched():
    X, t, _ = data(6)
    X = X.assign(site=np.where(np.arange(len(X)) < 40, "lonely", "main"))
    t = np.where(np.arange(len(X)) < 40, True, t)
    sample = FullMatching(exact=["site"]).fit(X, t).result_
    assert (sample.weights[:40] == 0).all() and (sample.weights[40:] > 0).all()
    assert "lonely" not in describe_method(sample)


def test_full_matching_with_a_caliper_too_narrow_matches_nobody():
    X, t, _ = data(7, 40)
    d = np.where(t, 0.0, 10.0)
    with pytest.raises(NoMatchesError, match="within the caliper"):
        FullMatching(distance=d + np.arange(40) * 1e-3, caliper=0.5, std_caliper=False).fit(X, t)


def test_rosenbaum_bounds_where_defined_and_why_not_elsewhere():
    X, t, y = data(8)
    pairs = OptimalMatching().fit(X, t).result_
    assert rosenbaum_wilcoxon(pairs, y).n_pairs == int(t.sum())
    binary = (y > np.median(y)).astype(float)
    assert rosenbaum_binary(pairs, binary).method == "mcnemar"
    for model, reason in ((Subclassification(), "subclassification or coarsened exact"),
                          (CoarsenedExactMatching(), "subclassification or coarsened exact"),
                          (FullMatching(), "hold several treated units and one control"),
                          (EntropyBalancing(), "weighting")):
        with pytest.raises(Exception, match=reason):
            rosenbaum_wilcoxon(model.fit(X, t).result_, y)


def test_full_matching_with_one_treated_unit_per_set_gets_the_bounds_of_its_sets():
    X, t, y = data(8)
    sample = FullMatching(min_controls=1).fit(X, t).result_
    treated_rows = np.flatnonzero(t)
    subclass = np.asarray(sample.subclass)
    treated_y, control_y = matched_pairs(sample, y)
    # each treated unit's controls are exactly the controls of its set, once each
    expected = []
    for i in treated_rows[subclass[treated_rows] >= 0]:
        members = np.flatnonzero((subclass == subclass[i]) & ~np.asarray(t, bool))
        expected.append((y[i], sorted(y[members])))
    assert sorted((a, sorted(b)) for a, b in zip(treated_y, control_y)) == sorted(expected)
    bounds = rosenbaum_bounds(sample, y)
    assert bounds.n_pairs == len(expected) == int(subclass.max()) + 1
    # the same as senmv's matrix (treated first, controls after, NA-padded) built by hand
    width = 1 + max(len(c) for _, c in expected)
    matrix = np.full((len(expected), width), np.nan)
    for row, (treated_value, controls) in enumerate(expected):
        matrix[row, 0], matrix[row, 1:1 + len(controls)] = treated_value, controls
    direction = "greater" if np.mean([a - np.mean(b) for a, b in expected]) > 0 else "less"
    by_hand = rosenbaum_mstatistic_sets(matrix, alternative=direction)
    np.testing.assert_allclose(bounds.p_upper, by_hand.p_upper, rtol=1e-12)


def test_power_and_effects_work_through_the_seam():
    X, t, y = data(9)
    for model in (FullMatching(), Subclassification(), PropensityWeighting(), EntropyBalancing(),
                  CoarsenedExactMatching()):
        sample = model.fit(X, t).result_
        effect = estimate_att(sample, y, covariates=["age", "x", "sex"])
        assert np.isfinite(effect.std_error) and effect.std_error > 0
        assert "Estimand: ATT, the average effect of the measure on those who took part" in effect.as_text()
        mde = minimum_detectable_effect(sample, outcome=y)
        assert mde.increase > 0


def test_a_weighted_outcome_with_gaps_is_refused_by_name():
    X, t, y = data(10, 200)
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(Exception, match="outcome 'outcome' is missing or not finite for 1"):
        estimate_att(PropensityWeighting().fit(X, t).result_, y)


def test_trimming_is_named_in_the_estimand():
    X, t, _ = data(11)
    sample = PropensityWeighting(estimand="ATE", trim=0.1).fit(X, t).result_
    label = describe_estimand(sample)
    assert "between 0.1 and 0.9" in label and f"({sample.settings['trimmed']} unit(s) trimmed)" in label


def test_ebal_drops_collinear_and_constant_columns():
    X, t, _ = data(12)
    wider = X.assign(age2=X.age * 2, one=1.0)
    np.testing.assert_allclose(EntropyBalancing().fit(wider, t).result_.weights,
                               EntropyBalancing().fit(X, t).result_.weights, rtol=1e-8)


def test_same_inputs_same_bytes():
    X, t, _ = data(13)
    for model in (FullMatching(caliper=0.2), OptimalMatching(ratio=2), CoarsenedExactMatching()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a, b = model.fit(X, t).result_, model.fit(X, t).result_
        assert a.weights.tobytes() == b.weights.tobytes()
        assert a.subclass.tobytes() == b.subclass.tobytes()
