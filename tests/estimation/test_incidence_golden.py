"""aalen_johansen against R: survival's multi-state survfit (weights, id, cluster, influence)
and cmprsk::cuminc (tests/golden/incidence/make_golden.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.incidence import aalen_johansen

GOLDEN = Path(__file__).parents[1] / "golden" / "incidence"
HORIZONS = [-1, 0, 30, 182, 365, 900]


def _cr(weighted: bool, clusters=None):
    cr = pd.read_csv(GOLDEN / "cr.csv")
    return aalen_johansen(cr["time"], cr["state"], cause="assisted_return",
                          censored="censored", weights=cr["weight"] if weighted else None,
                          unit=cr["unit"], horizons=HORIZONS, clusters=clusters), cr


def _cp():
    cp = pd.read_csv(GOLDEN / "cp.csv")
    return aalen_johansen(cp["exit"], cp["state"], cause="assisted_return", censored="censored",
                          weights=cp["weight"], entry=cp["entry"], unit=cp["unit"],
                          horizons=HORIZONS), cp


def _expected(dataset: str, variant: str) -> pd.DataFrame:
    curves = pd.read_csv(GOLDEN / "curves.csv")
    return curves[(curves["dataset"] == dataset) & (curves["variant"] == variant)]


CASES = {
    ("cr", "unweighted"): lambda: _cr(False)[0],
    ("cr", "weighted"): lambda: _cr(True)[0],
    ("cp", "weighted"): lambda: _cp()[0],
}


@pytest.mark.parametrize("case", list(CASES))
def test_curve_equals_survfit(case):
    curve = CASES[case]()
    expected = _expected(*case)
    np.testing.assert_array_equal(curve.times, expected["time"])
    np.testing.assert_array_equal(curve.n_risk, expected["n_risk"])
    np.testing.assert_allclose(curve.n_risk_weighted, expected["n_risk_weighted"], rtol=1e-12)
    np.testing.assert_allclose(curve.estimate, expected["estimate"], rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(curve.survival, expected["survival"], rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("case", list(CASES))
def test_influence_and_robust_se_equal_survfit(case):
    curve = CASES[case]()
    influence = pd.read_csv(GOLDEN / "influence.csv")
    influence = influence[(influence["dataset"] == case[0]) & (influence["variant"] == case[1])]
    for j, h in enumerate(HORIZONS):
        expected = influence[influence["horizon"] == h].set_index("unit")["influence"]
        got = pd.Series(curve.influence[:, j], index=curve.units.astype(int))
        np.testing.assert_allclose(got.loc[expected.index], expected, rtol=1e-9, atol=1e-13)
    expected = _expected(*case)
    se = expected.set_index("time")["std_error"]
    for h, value in zip(HORIZONS, curve.std_error):
        earlier = se.index[se.index <= h]
        assert value == pytest.approx(se.loc[earlier.max()] if earlier.size else 0.0,
                                      rel=1e-9, abs=1e-14)


def test_clustered_se_equals_survfit_with_cluster():
    """survfit(..., id = unit, cluster = cluster): the IF summed within clusters."""
    curve, cr = _cr(True, clusters={"cluster": pd.read_csv(GOLDEN / "cr.csv")["cluster"]})
    expected = _expected("cr", "weighted_clustered").set_index("time")["std_error"]
    labels = curve.clusters["cluster"]
    for j, h in enumerate(HORIZONS[2:], start=2):
        summed = pd.Series(curve.influence[:, j]).groupby(labels).sum()
        earlier = expected.index[expected.index <= h]
        assert np.sqrt((summed**2).sum()) == pytest.approx(expected.loc[earlier.max()], rel=1e-9)


def test_unweighted_estimate_equals_cuminc():
    curve, cr = _cr(False)
    expected = pd.read_csv(GOLDEN / "cr_cuminc.csv")
    np.testing.assert_allclose(curve.at(expected["time"]), expected["estimate"], rtol=1e-11,
                               atol=1e-14)
    other = aalen_johansen(cr["time"], cr["state"], cause="forced_return", censored="censored")
    np.testing.assert_allclose(other.at(expected["time"]), expected["forced_return"],
                               rtol=1e-11, atol=1e-14)
