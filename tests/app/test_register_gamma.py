"""Rosenbaum's Gamma for full matching in the register design (tiltak.evaluation.sensitivity).

A full-matching set holds one participant and several comparison persons, or several
participants and one comparison person; that person then has one unit (index date) per
participant, and ``register_set_outcomes`` keeps one of them, drawn with the seed. Checked
here: the draw (one unit per comparison person, every participant kept, deterministic, each
unit equally likely), the sets handed to the bounds, and the bound at Gamma = 1 against the
exact randomisation distribution of the M-statistic written out independently (the bounds
themselves equal sensitivityfull::senfm: tests/estimation/test_mstatistic.py). The level
under no effect: benchmarks/validate_register_gamma.py (small here, full in the slow test).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from estimation import MatchedSample, rosenbaum_bounds
from tiltak.evaluation.sensitivity import bounds_for, gamma_for, register_set_outcomes
from tiltak.evaluation.trials import matched_units, one_unit_per_comparison

from script_loader import load_benchmark

MONTH = pd.Timestamp(2024, 3, 1)
#: (participants' start days, comparison persons) per set; a comparison person listed as
#: "gone" left on day 2, before every start date of its set.
LAYOUT = [((3, 10, 20), ("c",)), ((5,), ("c", "c")), ((1, 25), ("c",)), ((12,), ("c",)),
          ((8,), ("c", "c", "gone")), ((2, 9, 15, 27), ("c",))]


def _trials():
    treat, subclass, days, exits = [], [], [], []
    for s, (starts, controls) in enumerate(LAYOUT):
        for d in starts:
            treat.append(True), subclass.append(s), days.append(d), exits.append(None)
        for c in controls:
            treat.append(False), subclass.append(s), days.append(0), exits.append(2 if c == "gone" else None)
    n = len(treat)
    data = pd.DataFrame({
        "person_id": [f"p{i}" for i in range(n)], "month": MONTH, "treated": treat,
        "index_date": MONTH + pd.to_timedelta(days, unit="D"),
        "exit_date": pd.to_datetime([MONTH + pd.Timedelta(days=e) if e is not None else pd.NaT for e in exits])})
    sample = MatchedSample(treat=np.array(treat), distance=np.zeros(n), weights=np.ones(n),
                           subclass=np.array(subclass), match_matrix=np.empty((sum(treat), 0), dtype=np.int64),
                           discarded=np.zeros(n, bool), covariates=pd.DataFrame(index=range(n)), structure="sets")
    return matched_units(data, sample, np.arange(n))


def test_one_unit_per_comparison_person_every_participant_and_a_seeded_draw():
    trials = _trials()
    units = trials.units
    treated = units["treated"].to_numpy()
    assert (~treated).sum() == 3 + 2 + 2 + 1 + 2 + 4  # a shared comparison person: one unit per participant
    picks = {}
    for seed in range(400):
        keep = one_unit_per_comparison(units, seed)
        assert keep[treated].all()
        kept_rows = units.loc[keep & ~treated, "row"]
        assert kept_rows.is_unique and set(kept_rows) == set(units.loc[~treated, "row"])
        np.testing.assert_array_equal(keep, one_unit_per_comparison(units, seed))  # deterministic
        for row, owner in units.loc[keep & ~treated, ["row", "owner"]].itertuples(index=False):
            picks.setdefault(row, []).append(owner)
    for row, owners in picks.items():  # each of the comparison person's units equally likely
        counts = pd.Series(owners).value_counts()
        k = len(set(units.loc[units["row"] == row, "owner"]))
        assert len(counts) == k
        expected = 400 / k
        assert all(abs(c - expected) <= 4.5 * math.sqrt(expected * (1 - 1 / k)) for c in counts), (row, counts)


def _outcomes(trials, rng):
    return rng.normal(size=len(trials.units)).round(1)


def test_the_sets_get_one_outcome_per_person_and_keep_their_shape():
    trials = _trials()
    units = trials.units
    y_unit = _outcomes(trials, np.random.default_rng(2))
    sample, y = register_set_outcomes(trials, y_unit, np.ones(len(units), bool), seed=7)
    keep = one_unit_per_comparison(units, 7)
    for (row, value) in units.loc[keep, ["row"]].assign(y=y_unit[keep]).itertuples(index=False):
        assert y[row] == value
    subclass, treat = np.asarray(sample.subclass), np.asarray(sample.treat)
    shapes = sorted((int((treat & (subclass == s)).sum()), int((~treat & (subclass == s)).sum()))
                    for s in np.unique(subclass[subclass >= 0]))
    assert shapes == sorted([(3, 1), (1, 2), (2, 1), (1, 1), (1, 2), (4, 1)])  # the gone control is out
    result = bounds_for(sample, y, True, 1.0)
    assert result.method == "mstatistic" and "senfm" in result.notes[0] and result.n_pairs == 6


def test_a_comparison_person_whose_drawn_outcome_is_unknown_leaves_the_set():
    trials = _trials()
    units = trials.units
    keep = one_unit_per_comparison(units, 3)
    usable = np.ones(len(units), bool)
    first_set = units["set"] == units.loc[units["treated"], "set"].iloc[0]
    drawn = np.flatnonzero(keep & ~units["treated"].to_numpy() & first_set.to_numpy())
    usable[drawn] = False
    sample, y = register_set_outcomes(trials, _outcomes(trials, np.random.default_rng(1)), usable, seed=3)
    assert (np.asarray(sample.subclass)[units.loc[drawn, "row"]] == -1).all()
    assert bounds_for(sample, y, True, 1.0).n_pairs == 5


def _exact_z(sample, y):
    """(T - E) / sqrt(V) of the M-statistic (senfm's defaults) under the randomisation at
    Gamma = 1, written out: per set the single unit (the participant, or the comparison
    person of a set of several participants) is any of the set's units with equal chance."""
    subclass, treat = np.asarray(sample.subclass), np.asarray(sample.treat)
    sets = [np.flatnonzero(subclass == s) for s in np.unique(subclass[subclass >= 0])]
    sets = [m for m in sets if treat[m].any() and (~treat[m]).any()]
    diffs = [abs(y[j] - y[k]) for m in sets for j in m for k in m if j != k]
    h = float(np.quantile(diffs, 0.5))
    total = mean = var = 0.0
    enumeration = []
    for m in sets:
        scores = {}
        for j in m:
            d = np.array([(y[j] - y[k]) for k in m if k != j])
            psi = np.sign(d) * np.minimum(1.0, np.abs(d / h) / 2.5) if h > 0 else d
            scores[j] = psi.sum() / len(m)
        single_treated = treat[m].sum() == 1
        single = m[treat[m]][0] if single_treated else m[~treat[m]][0]
        sign = 1.0 if single_treated else -1.0  # a single comparison person: minus its score
        values = np.array([sign * scores[j] for j in m])
        total += sign * scores[single]
        mean += values.mean()
        var += values.var()
        enumeration.append(values)
    return (total - mean) / math.sqrt(var), total, enumeration


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("binary", [True, False])
def test_the_bound_at_gamma_one_is_the_exact_randomisation_test(seed, binary):
    trials = _trials()
    rng = np.random.default_rng(seed)
    y_unit = (rng.random(len(trials.units)) < 0.5).astype(float) if binary else _outcomes(trials, rng)
    sample, y = register_set_outcomes(trials, y_unit, np.ones(len(trials.units), bool), seed=seed)
    result = bounds_for(sample, y, binary, 1.0)
    z, total, enumeration = _exact_z(sample, y)
    p_one = result.p_upper[result.gammas.index(1.0)]
    if math.isfinite(z):
        assert p_one == pytest.approx(norm.sf(z), rel=1e-9, abs=1e-12)
    # the exact permutation p-value is close to the normal approximation on these 6 sets
    null = np.array([sum(c) for c in itertools.product(*enumeration)])
    exact = float(np.mean(null >= total - 1e-12))
    assert abs(exact - p_one) < 0.2, (exact, p_one)
    # limits and monotonicity: one p-value at Gamma = 1, the upper bound rises and the lower falls
    assert result.p_lower[0] == pytest.approx(result.p_upper[0], abs=1e-12)
    assert all(np.diff(result.p_upper) >= -1e-12) and all(np.diff(result.p_lower) <= 1e-12)
    far = rosenbaum_bounds(sample, y, gammas=[1e4], alternative="greater")
    assert far.p_upper[-1] >= max(result.p_upper) and far.p_upper[-1] >= 0.5
    assert far.p_lower[-1] <= min(result.p_lower) + 1e-12


def test_gamma_is_reported_only_when_the_test_rejects_at_gamma_one():
    trials = _trials()
    units = trials.units
    y_unit = np.where(units["treated"], 1.0, 0.0)  # every participant has the event, no comparison person
    sample, y = register_set_outcomes(trials, y_unit, np.ones(len(units), bool), seed=0)
    gamma, notes = gamma_for(sample, y, True, 0.5)
    assert notes == [] and gamma is not None and gamma > 1
    assert gamma_for(sample, y, True, -0.5) == (None, [])  # the other direction is not significant


def _check_level(table, lower: bool):
    for row in table.itertuples(index=False):
        rate, se = row[table.columns.get_loc("rejection at 5%")], row[table.columns.get_loc("mc_se")]
        assert rate <= 0.05 + 3 * se, row
        if lower:
            assert rate >= 0.05 - 3 * se, row


def test_no_effect_full_matching_rejects_at_about_the_nominal_level_small():
    table = load_benchmark("validate_register_gamma").run(reps=40, seed=3, methods=("full",))
    assert (table["samples with several-treated sets"] > 0.5).all() and (table["bounds"] == "mstatistic").all()
    _check_level(table, lower=False)


@pytest.mark.slow
def test_no_effect_full_matching_rejects_at_about_the_nominal_level():
    table = load_benchmark("validate_register_gamma").run(reps=600, seed=5, methods=("full", "nearest"))
    _check_level(table, lower=True)
