"""Multi-way cluster-robust standard errors of estimate_att, and the robust SE after matching
with replacement, against R's sandwich::vcovCL (tests/golden/multiway/make_golden.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from estimation.effects import estimate_att
from estimation.errors import EstimationError
from estimation.matched import MatchedSample

GOLDEN = Path(__file__).parents[1] / "golden" / "multiway"


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "results.csv").set_index(["scenario", "model", "clustering"])


def _riskset() -> tuple[MatchedSample, pd.DataFrame]:
    frame = pd.read_csv(GOLDEN / "riskset.csv")
    treat = frame["treat"].to_numpy() == 1
    sets = frame["set"].to_numpy()
    treated_sets = sets[treat]
    ratio = int(pd.Series(sets[~treat]).value_counts().max())
    mm = np.full((treat.sum(), ratio), -1, dtype=np.int64)
    for row, s in enumerate(treated_sets):
        controls = np.flatnonzero(~treat & (sets == s))
        mm[row, :controls.size] = controls
    sample = MatchedSample(
        treat=treat, distance=np.zeros(len(frame)), weights=frame["weight"].to_numpy(),
        subclass=sets, match_matrix=mm, discarded=np.zeros(len(frame), bool),
        covariates=frame[["x1", "g"]], settings={"replace": False},
    )
    return sample, frame


def _replace() -> tuple[MatchedSample, pd.DataFrame]:
    units = pd.read_csv(GOLDEN / "replace_units.csv")
    mm = pd.read_csv(GOLDEN / "replace_match_matrix.csv")[["control_1", "control_2"]].to_numpy()
    treat = units["treat"].to_numpy() == 1
    weights = np.zeros(len(units))
    np.add.at(weights, mm.ravel(), 0.5)
    weights[treat] = 1.0
    sample = MatchedSample(
        treat=treat, distance=np.zeros(len(units)), weights=weights,
        subclass=np.full(len(units), -1), match_matrix=mm.astype(np.int64),
        discarded=np.zeros(len(units), bool), covariates=units[["x1"]],
        settings={"replace": True},
    )
    return sample, units


@pytest.mark.parametrize("model", ["difference", "adjusted"])
@pytest.mark.parametrize("clustering", ["person", "set", "person+set", "hc1"])
def test_riskset_clusterings_equal_vcovcl(expected, model, clustering):
    sample, frame = _riskset()
    person = frame["person"].to_numpy()
    cluster = {"person": person, "set": "subclass", "person+set": [person, "subclass"],
               "hc1": None}[clustering]
    result = estimate_att(sample, frame["y"], covariates=["x1", "g"] if model == "adjusted"
                          else None, cluster=cluster, binary=False)
    row = expected.loc[("riskset", model, clustering)]
    assert result.estimate == pytest.approx(row["estimate"], rel=1e-9)
    assert result.std_error == pytest.approx(row["std_error"], rel=1e-8)
    if clustering == "person+set":
        assert result.se_type == "cluster"
        assert result.cluster_counts == (frame["person"].nunique(), frame["set"].nunique())
        assert "multi-way" in result.as_text()
        assert result.to_dict()["cluster_counts"] == list(result.cluster_counts)


def test_riskset_two_way_with_two_arrays_equals_array_and_subclass():
    sample, frame = _riskset()
    person, sets = frame["person"].to_numpy(), frame["set"].to_numpy()
    a = estimate_att(sample, frame["y"], cluster=[person, "subclass"])
    b = estimate_att(sample, frame["y"], cluster=(person, sets.astype(str)))
    assert a.std_error == pytest.approx(b.std_error, rel=1e-12)


@pytest.mark.parametrize("model", ["difference", "adjusted"])
def test_robust_after_replacement_clusters_on_the_unit(expected, model):
    """HC1 on the stacked rows treated a reused control's rows as independent; the unit is
    the independent observation, so 'robust' is one-way on units: vcovCL(~ id)."""
    sample, units = _replace()
    covariates = ["x1"] if model == "adjusted" else None
    robust = estimate_att(sample, units["y"], covariates=covariates, se_type="robust",
                          binary=False)
    row = expected.loc[("replace", model, "id")]
    assert robust.se_type == "robust"
    assert robust.estimate == pytest.approx(row["estimate"], rel=1e-9)
    assert robust.std_error == pytest.approx(row["std_error"], rel=1e-8)
    two_way = estimate_att(sample, units["y"], covariates=covariates, se_type="cluster",
                           binary=False)
    row = expected.loc[("replace", model, "subclass+id")]
    assert two_way.std_error == pytest.approx(row["std_error"], rel=1e-8)
    assert two_way.cluster_counts == (50, int((sample.weights > 0).sum()))


def test_robust_after_replacement_is_larger_than_hc1_on_rows():
    """The class of the defect: rows of one control are not independent. With every row its
    own cluster the SE would be smaller; the unit-clustered SE is what R gives for ~ id."""
    sample, units = _replace()
    robust = estimate_att(sample, units["y"], se_type="robust", binary=False)
    from estimation.variance import fit_wls, sandwich_vcov, stacked_pairs

    rows, _, weights = stacked_pairs(sample.match_matrix, sample.treat)
    X = np.column_stack([np.ones(rows.size), sample.treat[rows]]).astype(float)
    per_row = np.sqrt(sandwich_vcov(fit_wls(X, units["y"].to_numpy()[rows], weights), None)[0][1, 1])
    assert robust.std_error > per_row * 1.02


@pytest.mark.parametrize("se_type,clustering", [("robust", "id"), ("cluster", "subclass+id")])
def test_risk_ratio_after_replacement_equals_delta_method_in_r(expected, se_type, clustering):
    sample, units = _replace()
    result = estimate_att(sample, units["yb"], se_type=se_type)
    rr = result.ratios[0]
    row = expected.loc[("replace", "log_risk_ratio", clustering)]
    assert np.log(rr.estimate) == pytest.approx(row["estimate"], rel=1e-9)
    assert rr.std_error == pytest.approx(row["std_error"], rel=1e-8)


@pytest.mark.parametrize(
    "cluster,message",
    [
        ([np.arange(3), "subclass"], "'cluster' must give one non-missing id per unit"),
        (["subclass", "centre"], "The 'cluster' parameter of estimate_att must be"),
        (5, "The 'cluster' parameter of estimate_att must be"),
    ],
)
def test_bad_cluster_dimensions_are_named(cluster, message):
    sample, frame = _riskset()
    with pytest.raises(EstimationError, match=message):
        estimate_att(sample, frame["y"], cluster=cluster)
