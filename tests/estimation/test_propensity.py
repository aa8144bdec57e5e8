"""The propensity score equals R glm's fitted values (golden files from make_golden.R)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from estimation import PropensityScore, PropensityWarning
from estimation.parameters import InvalidInputError, InvalidParameterError, NotFittedError

GOLDEN = Path(__file__).parents[1] / "golden" / "matching"
CASES = ["sim_a", "sim_b", "sim_c", "lalonde"]


def load(name):
    data = pd.read_csv(GOLDEN / f"{name}.csv")
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    covs = [c for c in data.columns if c not in ("treat", "y", "re78", "id")]
    return data[covs], data["treat"], golden


@pytest.mark.parametrize("name", CASES)
def test_scores_equal_r_glm(name):
    X, treat, golden = load(name)
    model = PropensityScore().fit(X, treat)
    np.testing.assert_allclose(model.scores_, golden["ps"], atol=1e-8, rtol=0)
    np.testing.assert_allclose(model.distance("logit"), golden["linear_predictor"], atol=1e-6)
    assert model.converged_


def test_invariant_to_covariate_order():
    X, treat, _ = load("lalonde")
    a = PropensityScore().fit(X, treat).scores_
    b = PropensityScore().fit(X[X.columns[::-1]], treat).scores_
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_collinear_column_dropped_with_warning():
    X, treat, golden = load("sim_a")
    X = X.assign(x1_copy=X["x1"] * 2.0)
    with pytest.warns(PropensityWarning, match="constant or collinear"):
        model = PropensityScore().fit(X, treat)
    np.testing.assert_allclose(model.scores_, golden["ps"], atol=1e-8)
    assert np.isnan(model.coef_[-1])


def test_separation_warns():
    X = pd.DataFrame({"x": np.arange(20.0)})
    treat = (X["x"] > 9).astype(int)
    with pytest.warns(PropensityWarning, match="numerically 0 or 1"):
        PropensityScore().fit(X, treat)


def test_any_classifier_accepted():
    X, treat, _ = load("sim_a")
    clf = RandomForestClassifier(n_estimators=20, random_state=0, min_samples_leaf=20)
    model = PropensityScore(estimator=clf).fit(X, treat)
    assert model.scores_.shape == (len(X),)
    assert ((model.scores_ > 0) & (model.scores_ < 1)).all()


def test_parameters_and_not_fitted():
    model = PropensityScore(link="cauchit")
    assert model.link == "cauchit"  # constructor stores only
    with pytest.raises(InvalidParameterError) as info:
        model.fit(pd.DataFrame({"x": [1.0, 2.0]}), [0, 1])
    assert str(info.value) == ("The 'link' parameter of PropensityScore must be a str among "
                               "{'logit', 'probit'}. Got 'cauchit' instead.")
    with pytest.raises(NotFittedError, match="This PropensityScore instance is not fitted yet"):
        PropensityScore().distance()
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of PropensityScore"):
        PropensityScore(estimator=object()).fit(pd.DataFrame({"x": [1.0, 2.0]}), [0, 1])


@pytest.mark.parametrize("treat, message", [
    ([0, 1, 2, 1], "must be 0/1 or True/False with no missing values; got values 0, 1, 2"),
    ([1, 1, 1, 1], "The treatment has no control units: 4 treated of 4"),
    ([0, 0, 0, 0], "The treatment has no treated units: 0 treated of 4"),
    ([0, 1, 1], "expected 4 values, got shape (3,)"),
    ([0, 1, np.nan, 1], "with no missing values"),
])
def test_bad_treatment(treat, message):
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InvalidInputError) as info:
        PropensityScore().fit(X, treat)
    assert message in str(info.value)


def test_probit_link_fits():
    X, treat, _ = load("sim_a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = PropensityScore(link="probit").fit(X, treat)
    logit = PropensityScore().fit(X, treat)
    assert np.corrcoef(model.scores_, logit.scores_)[0, 1] > 0.99
