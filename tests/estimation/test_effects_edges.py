"""estimate_att: boundary cases, invariances, rendering and pinned error messages."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from estimation.effects import EffectEstimate, estimate_att
from estimation.errors import EstimationError
from estimation.matched import MatchedSample


def _pairs(n_pairs: int = 30, extra_controls: int = 10, seed: int = 0):
    """1:1 pairs: treated i (rows 0..n-1) with control n+i; extra unmatched controls."""
    rng = np.random.default_rng(seed)
    n = 2 * n_pairs + extra_controls
    treat = np.r_[np.ones(n_pairs, bool), np.zeros(n - n_pairs, bool)]
    weights = np.r_[np.ones(2 * n_pairs), np.zeros(extra_controls)]
    subclass = np.r_[np.arange(n_pairs), np.arange(n_pairs), np.full(extra_controls, -1)]
    mm = (np.arange(n_pairs) + n_pairs).reshape(-1, 1)
    covariates = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    sample = MatchedSample(treat=treat, distance=rng.random(n), weights=weights,
                           subclass=subclass, match_matrix=mm, discarded=np.zeros(n, bool),
                           covariates=covariates)
    y = 1 + covariates["x"].to_numpy() + 0.5 * treat + rng.normal(size=n)
    return sample, y


def test_paired_difference_se_is_the_paired_formula():
    sample, y = _pairs()
    result = estimate_att(sample, y)
    d = y[:30] - y[30:60]
    # CR1 with pairs as clusters: G/(G-1) * (n-1)/(n-k) * sum(u_g^2) / (n/2)^2 form
    expected = math.sqrt(30 / 29 * 59 / 58 * np.sum((d - d.mean()) ** 2) / 30**2)
    assert result.estimate == pytest.approx(d.mean(), rel=1e-12)
    assert result.std_error == pytest.approx(expected, rel=1e-10)
    assert result.se_type == "cluster" and result.n_clusters == 30
    assert result.p_value == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(
        abs(result.estimate / result.std_error))), rel=1e-9)


def test_binary_outcome_all_zero():
    sample, _ = _pairs()
    result = estimate_att(sample, np.zeros(sample.n))
    assert result.scale == "risk_difference"
    assert result.estimate == 0 and result.std_error == 0
    assert math.isnan(result.p_value) and (result.ci_low, result.ci_high) == (0.0, 0.0)
    assert result.ratios == ()
    assert any("undefined" in note for note in result.notes)
    assert any("single value" in note for note in result.notes)


def test_row_order_invariance():
    sample, y = _pairs()
    perm = np.random.default_rng(1).permutation(sample.n)
    inverse = np.argsort(perm)
    treated_new = np.flatnonzero(sample.treat[perm])
    old_of_new = perm[treated_new]
    shuffled = MatchedSample(
        treat=sample.treat[perm], distance=sample.distance[perm], weights=sample.weights[perm],
        subclass=sample.subclass[perm], match_matrix=inverse[sample.match_matrix[old_of_new]],
        discarded=sample.discarded[perm], covariates=sample.covariates.iloc[perm],
    )
    a = estimate_att(sample, y, covariates=["x", "g"])
    b = estimate_att(shuffled, y[perm], covariates=["x", "g"])
    assert b.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)


def test_summary_states_estimand_and_assumptions_and_serialises():
    sample, y = _pairs()
    result = estimate_att(sample, pd.Series(y, name="hscl10_change"), covariates=["x"])
    text = result.as_text()
    assert "Estimand: ATT" in text and "hscl10_change" in text and "regression-adjusted" in text
    assert "No unmeasured confounding" in text and "cluster-robust CR1" in text
    assert "<caption>Estimates</caption>" in result.as_html()
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["method"] == "regression" and payload["n_clusters"] == 30
    with pytest.raises(Exception):
        result.estimate = 0  # frozen


def test_custom_clusters_and_robust():
    sample, y = _pairs()
    centres = np.arange(sample.n) % 5
    by_centre = estimate_att(sample, y, cluster=centres)
    assert by_centre.se_type == "cluster" and by_centre.n_clusters == 5
    robust = estimate_att(sample, y, cluster=None)
    assert robust.se_type == "robust" and robust.n_clusters is None


@pytest.mark.parametrize(
    "kwargs,outcome,message",
    [
        ({}, np.ones(5), "outcome 'outcome' has 5 values; expected one per unit of the matched "
                         "sample \\(70\\)"),
        ({}, "y", "outcome 'y' is not a column of the sample's covariates"),
        ({"binary": True}, None, "binary=True but outcome 'outcome' has values other than 0 and 1"),
        ({"se_type": "bootstrap"}, None, "The 'se_type' parameter of estimate_att must be a str "
                                         "among"),
        ({"se_type": "abadie_imbens", "covariates": ["x"]}, None,
         "The 'se_type' parameter of estimate_att must be 'cluster' or 'robust' for a "
         "regression-adjusted estimate"),
        ({"alpha": 0}, None, "The 'alpha' parameter of estimate_att must be a float in \\(0, 1\\)"),
        ({"covariates": ["x", "age"]}, None, "unknown covariate\\(s\\) 'age'; expected names "
                                             "among 'x', 'g'"),
        ({"cluster": "centre"}, None, "The 'cluster' parameter of estimate_att must be "
                                      "'subclass', None, an array of cluster ids"),
        ({"cluster": [1, 2]}, None, "'cluster' must give one non-missing id per unit \\(70\\)"),
    ],
)
def test_errors_name_the_problem(kwargs, outcome, message):
    sample, y = _pairs()
    with pytest.raises(EstimationError, match=message):
        estimate_att(sample, y if outcome is None else outcome, **kwargs)


def test_missing_outcome_among_matched_units_is_counted():
    sample, y = _pairs()
    y = y.copy()
    y[[0, 31, 65]] = np.nan  # row 65 is an unmatched control: ignored
    with pytest.raises(EstimationError, match="missing or not finite for 2 matched unit"):
        estimate_att(sample, y)


def test_no_matched_controls_and_single_pair():
    sample, y = _pairs()
    empty = MatchedSample(**{**sample.__dict__, "weights": np.r_[np.ones(30), np.zeros(40)]})
    with pytest.raises(EstimationError, match="got 30 matched treated and 0 matched control"):
        estimate_att(empty, y)
    one = MatchedSample(**{**sample.__dict__,
                           "weights": np.r_[1.0, np.zeros(29), 1.0, np.zeros(39)]})
    with pytest.raises(EstimationError, match="Too few matched units for the standard error: 2 units for 2 coefficients"):
        estimate_att(one, y)


def test_replacement_uses_abadie_imbens_or_two_way_clusters():
    sample, y = _pairs()
    reused = MatchedSample(**{**sample.__dict__, "subclass": np.full(sample.n, -1),
                              "settings": {"replace": True}})
    auto = estimate_att(reused, y)
    assert auto.se_type == "abadie_imbens"
    two_way = estimate_att(reused, y, se_type="cluster")
    assert two_way.se_type == "cluster" and two_way.estimate == pytest.approx(auto.estimate)
    regression = estimate_att(reused, y, covariates=["x"])
    assert regression.se_type == "cluster" and any("two-way" in n for n in regression.notes)
    robust = estimate_att(reused, y, covariates=["x"], se_type="robust")
    assert any("clustered on the unit" in n for n in robust.notes)


def test_unmatched_subclass_without_reuse_is_an_error():
    sample, y = _pairs()
    broken = MatchedSample(**{**sample.__dict__, "subclass": np.full(sample.n, -1)})
    with pytest.raises(EstimationError, match="some matched units have no subclass"):
        estimate_att(broken, y)


def test_effect_estimate_is_exported():
    import estimation

    assert estimation.estimate_att is estimate_att
    assert estimation.EffectEstimate is EffectEstimate


def test_binary_outcome_with_replacement_gives_ratios_on_the_stacked_rows():
    sample, y = _pairs()
    reused = MatchedSample(**{**sample.__dict__, "subclass": np.full(sample.n, -1),
                              "settings": {"replace": True}})
    yb = (y > np.median(y)).astype(int)
    for se_type, ratio_type in (("auto", "cluster"), ("cluster", "cluster"),
                                ("robust", "robust")):
        result = estimate_att(reused, yb, se_type=se_type)
        assert [r.scale for r in result.ratios] == ["risk_ratio", "odds_ratio"]
        assert {r.se_type for r in result.ratios} == {ratio_type}
        assert all(r.std_error > 0 and r.ci_low < r.estimate < r.ci_high for r in result.ratios)


def test_outcome_types_bool_nullable_and_text():
    sample, y = _pairs()
    as_bool = pd.Series(y > 1.0)
    a = estimate_att(sample, as_bool)
    b = estimate_att(sample, as_bool.astype(int))
    assert a.scale == "risk_difference" and a.estimate == pytest.approx(b.estimate)
    nullable = pd.array(np.r_[np.ones(60, int), [None] * 10], dtype="Int64")
    c = estimate_att(sample, nullable)  # missing only among unmatched controls
    assert c.estimate == pytest.approx(0, abs=1e-12) and c.n_control == 30
    with pytest.raises(EstimationError, match="outcome 'outcome' must be numeric"):
        estimate_att(sample, ["yes"] * sample.n)
