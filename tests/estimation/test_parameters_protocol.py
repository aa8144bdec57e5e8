"""scikit-learn's parameter protocol for every matcher and weighter, and the one display of
every result (issue 12: one parameter list; issue 11: readable repr and HTML)."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import estimation
from estimation import (
    CoarsenedExactMatching,
    EntropyBalancing,
    FullMatching,
    InvalidParameterError,
    NearestNeighborMatching,
    OptimalMatching,
    PropensityScore,
    PropensityWeighting,
    RiskSetMatching,
    Subclassification,
    clone,
)
from estimation.summary import SummaryMethods

ESTIMATORS = [NearestNeighborMatching, OptimalMatching, FullMatching, Subclassification,
              CoarsenedExactMatching, PropensityWeighting, EntropyBalancing, PropensityScore,
              RiskSetMatching]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_params_come_from_the_signature(cls):
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    est = cls()
    assert list(est.get_params(deep=False)) == names
    assert repr(est) == f"{cls.__name__}()"  # defaults are not shown


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_set_params_and_clone(cls):
    est = cls()
    name = next(n for n in est.get_params() if n not in ("estimator",))
    est.set_params(**{name: "changed"})
    assert est.get_params()[name] == "changed"
    copy = clone(est)
    assert copy is not est and type(copy) is cls
    assert copy.get_params() == est.get_params()
    assert f"{name}='changed'" in repr(copy)


def test_clone_copies_mutable_parameters_and_drops_the_fit():
    exact = ["g"]
    m = NearestNeighborMatching(exact=exact, caliper={"distance": 0.2, "x": 1.0})
    X = pd.DataFrame({"x": np.arange(20.0), "g": np.tile([0, 1], 10)})
    t = np.tile([True, False, False, False], 5)
    m.fit(X, t)
    copy = clone(m)
    assert copy.exact == ["g"] and copy.exact is not exact
    assert copy.caliper == m.caliper and copy.caliper is not m.caliper
    assert not hasattr(copy, "result_")


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(InvalidParameterError) as info:
        NearestNeighborMatching().set_params(ratoi=2)
    assert "The 'ratoi' parameter of NearestNeighborMatching must be one of its parameters" in str(info.value)
    assert "'ratio'" in str(info.value) and "'reuse_max'" in str(info.value)


def test_nested_parameters_reach_the_estimator():
    from sklearn.linear_model import LogisticRegression

    ps = PropensityScore(estimator=LogisticRegression(C=1.0))
    assert ps.get_params()["estimator__C"] == 1.0
    ps.set_params(estimator__C=0.5)
    assert ps.estimator.C == 0.5
    assert clone(ps).estimator.C == 0.5 and clone(ps).estimator is not ps.estimator


def test_arrays_are_shown_by_shape():
    m = NearestNeighborMatching(distance=np.zeros(30))
    assert repr(m) == "NearestNeighborMatching(distance=<ndarray of shape (30,)>)"


# --- display ------------------------------------------------------------------------


def _sample():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["a", "b"], 200)})
    t = rng.random(200) < 1 / (1 + np.exp(-X["x"]))
    y = 2 * t + X["x"] + rng.normal(size=200)
    return NearestNeighborMatching(caliper=0.2).fit(X, t).result_, y


def results():
    sample, y = _sample()
    effect = estimation.estimate_att(sample, y)
    return [sample, effect, estimation.balance_table(sample),
            estimation.rosenbaum_bounds(sample, y), estimation.e_value(effect, sd=float(np.std(y))),
            estimation.minimum_detectable_effect(sample, outcome=y)]


def test_every_result_has_one_short_repr_and_html():
    for result in results():
        assert isinstance(result, SummaryMethods)
        text = repr(result)
        assert text.startswith(f"<{type(result).__name__}: ") and "\n" not in text
        assert len(text) < 300 and "array(" not in text
        page = result._repr_html_()
        assert page.startswith("<div class=\"tiltak-result\">") and "<table" in page
        assert str(result) == result.as_text() == result.summary().as_text()


def test_repr_says_what_matters():
    sample, effect, balance, bounds, evalue, mde = results()
    assert "Nearest-neighbour matching, ATT;" in repr(sample) and "treated" in repr(sample)
    assert repr(effect).startswith("<EffectEstimate: ATT on 'x' = ")
    assert "largest |SMD|" in repr(balance)
    assert "Rosenbaum bounds" in repr(bounds) and "E-value" in repr(evalue)
    assert repr(mde).startswith("<MinimumDetectableEffect: MDE ")


def test_no_result_class_restates_the_display_methods():
    """One shared implementation: no results class defines as_text/as_html/__str__ itself."""
    import estimation.balance, estimation.effects, estimation.incidence, estimation.matched  # noqa: E401
    import estimation.power, estimation.sensitivity, estimation.censoring, estimation.calibration  # noqa: E401
    import estimation.effect_estimate, estimation.incidence_effects, estimation.sensitivity_result  # noqa: E401

    for module in (estimation.balance, estimation.effects, estimation.incidence,
                   estimation.matched, estimation.power, estimation.sensitivity,
                   estimation.censoring, estimation.calibration, estimation.incidence_effects,
                   estimation.effect_estimate, estimation.sensitivity_result):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not hasattr(cls, "summary"):
                continue
            assert issubclass(cls, SummaryMethods), cls
            for name in ("as_text", "as_html", "__str__", "_repr_html_", "__repr__"):
                assert name not in cls.__dict__, (cls, name)
