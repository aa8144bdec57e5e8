"""balance_table and estimate_att against the matching engineer's MatchIt references
(tests/golden/balance and tests/golden/effects, written by tests/golden/matching/make_reference.R).

The matched sample is rebuilt from R's match.data() output (weights, subclasses); the
propensity score enters as the extra variable ``ps`` as in the R script.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.balance import balance_table
from estimation.effects import estimate_att
from estimation.matched import MatchedSample

GOLDEN = Path(__file__).parents[1] / "golden"
CASES = {
    "lalonde_nn1": ("lalonde", ["age", "educ", "race", "married", "nodegree", "re74", "re75"],
                    "re78"),
    "sim_c_nn3_caliper_exact": ("sim_c", ["x1", "x2", "x3", "f", "g"], "y"),
}
R_COLUMNS = {
    "Means Treated": "mean_treated", "Means Control": "mean_control",
    "Std. Mean Diff.": "smd", "Var. Ratio": "var_ratio",
    "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
}


def _sample(case: str) -> tuple[MatchedSample, pd.DataFrame]:
    data_name, covariates, _ = CASES[case]
    data = pd.read_csv(GOLDEN / "balance" / f"{data_name}.csv")
    matched = pd.read_csv(GOLDEN / "effects" / f"{case}_matched.csv")
    position = {str(i): k for k, i in enumerate(data["id"].astype(str))}
    rows = matched["id"].astype(str).map(position).to_numpy()
    n = len(data)
    weights, subclass, ps = np.zeros(n), np.full(n, -1), np.full(n, np.nan)
    weights[rows] = matched["weights"].to_numpy()
    subclass[rows] = matched["subclass"].to_numpy() - 1
    ps[rows] = matched["ps"].to_numpy()
    treat = data["treat"].to_numpy() == 1
    treated = np.flatnonzero(treat)
    width = max(1, int(pd.Series(subclass[~treat & (subclass >= 0)]).value_counts().max()))
    mm = np.full((treated.size, width), -1, dtype=np.int64)
    by_subclass = {}
    for unit in np.flatnonzero(~treat & (subclass >= 0)):
        by_subclass.setdefault(subclass[unit], []).append(unit)
    for r, unit in enumerate(treated):
        controls = by_subclass.get(subclass[unit], []) if subclass[unit] >= 0 else []
        mm[r, : len(controls)] = controls
    frame = data[covariates].copy()
    sample = MatchedSample(treat=treat, distance=np.nan_to_num(ps), weights=weights,
                           subclass=subclass, match_matrix=mm, discarded=np.zeros(n, bool),
                           covariates=frame)
    return sample, data


def _ps_all(case: str, data: pd.DataFrame) -> np.ndarray:
    """The propensity score of every unit, from the matching golden JSON."""
    name = CASES[case][0]
    ps = json.loads((GOLDEN / "matching" / f"{name}.json").read_text())["ps"]
    return np.asarray(ps, dtype=float)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("part,suffix", [("before", "before"), ("after", "after")])
def test_balance_equals_reference(case, part, suffix):
    sample, data = _sample(case)
    extra = data[CASES[case][1]].copy()
    extra["ps"] = _ps_all(case, data)
    table = balance_table(sample, covariates=extra, include_distance=False)
    expected = pd.read_csv(GOLDEN / "balance" / f"{case}_{part}.csv").set_index("term")
    frame = table.frame.set_index("term")
    assert list(frame.index) == list(expected.index)
    for r_name, ours in R_COLUMNS.items():
        a = frame[f"{ours}_{suffix}"].to_numpy(float)
        b = expected[r_name].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), r_name
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-6, atol=1e-9,
                                   err_msg=f"{case} {r_name} {suffix}")
    if suffix == "after":
        np.testing.assert_allclose(frame["pair_dist_after"], expected["Std. Pair Dist."],
                                   rtol=1e-6)
    sizes = pd.read_csv(GOLDEN / "balance" / f"{case}_sample_sizes.csv").set_index("row")
    np.testing.assert_allclose(table.sample_sizes[["Control", "Treated"]], sizes, rtol=1e-9)


@pytest.mark.parametrize("case", sorted(CASES))
def test_effects_equal_reference(case):
    sample, data = _sample(case)
    _, covariates, outcome = CASES[case]
    expected = json.loads((GOLDEN / "effects" / f"{case}.json").read_text())
    adjusted = estimate_att(sample, data[outcome], covariates=covariates)
    difference = estimate_att(sample, data[outcome])
    assert adjusted.estimate == pytest.approx(expected["att_regression"], rel=1e-9)
    assert adjusted.std_error == pytest.approx(expected["se_regression"], rel=1e-7)
    assert difference.estimate == pytest.approx(expected["att_difference"], rel=1e-9)
    assert difference.std_error == pytest.approx(expected["se_difference"], rel=1e-7)


def _stacked_sample() -> tuple[MatchedSample, pd.DataFrame]:
    """lalonde 2:1 with replacement, rebuilt from R's get_matches() output."""
    data = pd.read_csv(GOLDEN / "balance" / "lalonde.csv")
    stacked = pd.read_csv(GOLDEN / "effects" / "lalonde_nn2_replace_matched.csv")
    position = {str(i): k for k, i in enumerate(data["id"].astype(str))}
    stacked["row"] = stacked["id"].astype(str).map(position)
    treat = data["treat"].to_numpy() == 1
    treated = np.flatnonzero(treat)
    slot = {t: r for r, t in enumerate(treated)}
    mm = np.full((treated.size, 2), -1, dtype=np.int64)
    for _, group in stacked.groupby("subclass", sort=False):
        t_row = int(group.loc[group["treat"] == 1, "row"].iloc[0])
        controls = group.loc[group["treat"] == 0, "row"].to_numpy()
        mm[slot[t_row], : controls.size] = controls
    weights = np.zeros(len(data))
    weights[treated[(mm >= 0).any(axis=1)]] = 1.0
    for row in mm:
        used = row[row >= 0]
        weights[used] += 1.0 / max(used.size, 1)
    sample = MatchedSample(treat=treat, distance=np.zeros(len(data)), weights=weights,
                           subclass=np.full(len(data), -1), match_matrix=mm,
                           discarded=np.zeros(len(data), bool),
                           covariates=data[CASES["lalonde_nn1"][1]], settings={"replace": True})
    return sample, data


def test_replacement_two_way_cluster_equals_matchit_get_matches_reference():
    """vcovCL(lm(..., data = get_matches(m)), cluster = ~subclass + id), as MatchIt advises."""
    sample, data = _stacked_sample()
    expected = json.loads((GOLDEN / "effects" / "lalonde_nn2_replace.json").read_text())
    adjusted = estimate_att(sample, data["re78"], covariates=CASES["lalonde_nn1"][1])
    assert adjusted.se_type == "cluster"
    assert adjusted.estimate == pytest.approx(expected["att_regression"], rel=1e-9)
    assert adjusted.std_error == pytest.approx(expected["se_regression"], rel=1e-7)
    difference = estimate_att(sample, data["re78"], se_type="cluster")
    assert difference.estimate == pytest.approx(expected["att_difference"], rel=1e-9)
    assert difference.std_error == pytest.approx(expected["se_difference"], rel=1e-7)
