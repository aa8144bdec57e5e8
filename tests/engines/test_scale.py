"""Matching at scale on Spark: distributed IRLS against R's glm, strata matched in parallel
against the single-machine matching, balance from engine sums, too-large strata refused."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation import NearestNeighborMatching
from tiltak.scale import ScaleError
from tiltak.scale.irls import fit_logit
from tiltak.scale.strata import balance_from_moments, match_in_strata

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "scale"


@pytest.fixture(scope="module")
def logit_data(spark_session):
    frame = pd.read_csv(GOLDEN / "logit_data.csv")
    return frame, spark_session.createDataFrame(frame).repartition(4)


def test_distributed_irls_gives_rs_glm_estimates_to_1e_8(logit_data):
    _frame, sdf = logit_data
    fit = fit_logit(sdf, "treat", ["age", "male", "months", "dublin"])
    with open(GOLDEN / "logit_coefficients.csv") as f:
        expected = {r["term"]: float(r["estimate"]) for r in csv.DictReader(f)}
    assert fit.converged and fit.n == 4000
    assert fit.names == tuple(expected)
    np.testing.assert_allclose(fit.coefficients, list(expected.values()), rtol=0, atol=1e-8)


def test_the_partition_count_does_not_change_the_estimates(logit_data):
    _frame, sdf = logit_data
    one = fit_logit(sdf.coalesce(1), "treat", ["age", "male", "months", "dublin"])
    many = fit_logit(sdf.repartition(7), "treat", ["age", "male", "months", "dublin"])
    np.testing.assert_allclose(one.coefficients, many.coefficients, rtol=0, atol=1e-12)


def _trials(seed: int = 5, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "row": np.arange(n), "trial": rng.integers(0, 6, n), "nationality": rng.choice(["AFG", "IRQ", "SOM"], n),
        "score": rng.beta(2, 5, n).round(3),  # rounded: ties between controls, broken as MatchIt does
    })
    frame["treat"] = rng.random(n) < 0.2 + 0.3 * frame.score
    return frame


@pytest.mark.parametrize("settings", [
    {"ratio": 1, "replace": False, "caliper": None},
    {"ratio": 2, "replace": False, "caliper": 0.2},
    {"ratio": 1, "replace": True, "caliper": 0.1},
])
def test_strata_matched_in_parallel_equal_the_single_machine_matching(spark_session, settings):
    frame = _trials()
    sdf = spark_session.createDataFrame(frame).repartition(5)
    got = match_in_strata(sdf, ["trial", "nationality"], "treat", "score", "row", **settings)
    expected = []
    for (trial, nationality), part in frame.groupby(["trial", "nationality"], sort=True):
        # one machine, one trial at a time (trials are independent problems), exact on nationality
        part = part.sort_values("row")
        caliper = settings["caliper"] and settings["caliper"] * frame.score.std()
        sample = NearestNeighborMatching(ratio=settings["ratio"], replace=settings["replace"], caliper=caliper,
                                         std_caliper=False, distance=part.score.to_numpy(),
                                         exact=None).fit(None, part.treat.to_numpy()).result_
        rows = part.row.to_numpy()
        treated = rows[sample.treat]
        for i, matches in enumerate(sample.match_matrix):
            expected += [(trial, nationality, treated[i], rows[c], k) for k, c in enumerate(matches) if c >= 0]
    want = pd.DataFrame(expected, columns=["trial", "nationality", "treated", "control", "pass"])
    want = want.sort_values(["trial", "nationality", "pass", "treated"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got.pairs, want, check_dtype=False)
    assert got.strata == 18 and len(got.pairs) > 300


@pytest.mark.parametrize("ties", ["row", "matchit"])
def test_exact_strata_inside_a_trial_equal_matching_with_exact_on_one_machine(spark_session, ties):
    frame = _trials(seed=9)
    one_trial = frame[frame.trial == 2].reset_index(drop=True)
    if ties == "matchit":  # MatchIt breaks exact ties by positions among all units of the trial (docs/scale.md)
        one_trial["score"] = one_trial.score + np.random.default_rng(1).uniform(0, 1e-6, len(one_trial))
    sdf = spark_session.createDataFrame(one_trial)
    got = match_in_strata(sdf, ["nationality"], "treat", "score", "row", caliper=None, ties=ties)
    sample = NearestNeighborMatching(distance=one_trial.score.to_numpy(), exact=["nationality"], ties=ties).fit(
        one_trial[["nationality"]], one_trial.treat.to_numpy()).result_
    rows = one_trial.row.to_numpy()
    treated = rows[sample.treat]
    pairs = {(treated[i], rows[c]) for i, m in enumerate(sample.match_matrix) for c in m if c >= 0}
    assert set(zip(got.pairs.treated, got.pairs.control)) == pairs


def test_a_stratum_too_large_for_one_executor_is_refused_with_its_size(spark_session):
    sdf = spark_session.createDataFrame(_trials())
    with pytest.raises(ScaleError) as err:
        match_in_strata(sdf, ["trial"], "treat", "score", "row", max_rows=100)
    message = str(err.value)
    assert "a stratum of trial has" in message and "at most 100 (max_rows)" in message
    with pytest.raises(ScaleError, match="order='random'"):
        match_in_strata(sdf, ["trial"], "treat", "score", "row", order="random")


def test_balance_and_effect_from_engine_sums_equal_those_from_the_rows():
    rng = np.random.default_rng(2)
    x_t, x_c = rng.normal(1, 2, 50), rng.normal(0.8, 2, 80)
    w_c = rng.integers(0, 3, 80).astype(float)
    y_t, y_c = rng.normal(3, 1, 50), rng.normal(2.5, 1, 80)
    moments = {"x": (50.0, x_t.sum(), (x_t ** 2).sum(), w_c.sum(), (w_c * x_c).sum(), (w_c * x_c ** 2).sum())}
    got = balance_from_moments(moments, (50.0, y_t.sum(), w_c.sum(), (w_c * y_c).sum()))
    assert got.smd["x"] == pytest.approx((x_t.mean() - np.average(x_c, weights=w_c)) / x_t.std(ddof=1), rel=1e-12)
    assert got.effect == pytest.approx(y_t.mean() - np.average(y_c, weights=w_c), rel=1e-12)
