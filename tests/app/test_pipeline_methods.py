"""Every ``evaluation.matching.method`` in the register pipeline: one synthetic store, each method.

The replicated known-truth run is ``benchmarks/validate_pipeline.py --methods all`` (its table
is in docs/estimation.md); here one seed per method checks that the pipeline runs each method
within the target trials, that the verdict's evidence has its structure (estimate, interval,
E-value, Gamma wherever there are matched sets, full matching's included, the method in the
design line) and, pooled over the
methods, that no estimate of a null effect is grossly off (|estimate - truth| < 4 SE: with
calibrated standard errors the chance that one of the 16 estimates fails is about 0.001).
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest

from tiltak import pipeline
from tiltak.evaluation.estimate import design_settings, estimate_model
from logicmodel.model import Matching
from tiltak.evaluation.model_reads import change_spec, with_design
from tiltak.evaluation.multiplicity import holm_adjust
from tiltak.evaluation.verdicts import VerdictKind, VerdictRules, judge
from tiltak.report.labels import LABELS
from tiltak.report.render import _design_line

BOTH = ("enrol_vs_not", "enrol_now_vs_later")
METHODS = {
    "optimal": {"method": "optimal", "ratio": 1},
    "full": {"method": "full"},
    "subclass": {"method": "subclass"},
    "cem": {"method": "cem"},
    "cem_k2k": {"method": "cem", "k2k": True},
    "ipw": {"method": "weighting", "weights": "ipw"},
    "ebal": {"method": "weighting", "weights": "ebal"},
    "mahalanobis": {"distance": "mahalanobis", "order": "data", "caliper": None},
}
NO_SETS = {"subclass", "cem", "ipw", "ebal"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = tmp_path_factory.mktemp("methods") / "registers.duckdb"
    pipeline.write_synthetic_store(db, 5)
    item = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])[0]
    con = duckdb.connect(str(db), read_only=True)
    truth = {(o, e): t for o, e, t in con.execute(
        "SELECT outcome, estimand, true_att_followed_up FROM truth_effects WHERE measure = 'VV'").fetchall()}
    yield con, item, truth
    con.close()


def _run(store, name):
    from logicmodel.model import METHOD_KEYS

    con, item, truth = store
    override = METHODS[name]
    method = override.get("method", "nearest")
    own = item.model.evaluation.matching.model_dump(exclude_unset=True)
    matching = {k: v for k, v in own.items() if k in METHOD_KEYS[method]}
    model = with_design(item.model, tests=("return_up",), matching={**matching, **override})
    return model, holm_adjust(estimate_model(con, model, item.outcomes, 5, VerdictRules(), estimands=BOTH,
                                            curves=False))


_results: dict[str, tuple] = {}


def _cached(store, name):
    if name not in _results:
        _results[name] = _run(store, name)
    return _results[name]


@pytest.mark.parametrize("name", list(METHODS))
def test_the_pipeline_runs_the_method_with_the_verdict_structure(store, name):
    model, estimates = _cached(store, name)
    method = METHODS[name].get("method", "nearest")
    assert [(e.change_id, e.estimand) for e in estimates] == [("return_up", e) for e in BOTH]
    for e in estimates:
        assert e.error is None, e.error
        ev = e.evidence
        assert e.design["method"] == method
        assert ev.ci_low < ev.att < ev.ci_high and ev.se > 0 and ev.n_treated_matched > 0
        assert ev.e_value is not None and ev.e_value >= 1
        assert ev.max_abs_smd is not None and 0 <= ev.p_value <= ev.p_value_holm + 1e-12 <= 1 + 1e-12
        if name in NO_SETS:
            assert ev.gamma is None
            assert any(n.startswith("Rosenbaum bounds not available for ") for n in e.notes)
        else:  # matched pairs and sets, full matching's included: the bounds are computed
            assert not any("not available" in n for n in e.notes), e.notes
        verdict = judge(change_spec(model.change("return_up")), ev, VerdictRules())
        assert isinstance(verdict.kind, VerdictKind)
        for lang in ("en", "nb"):
            line = _design_line(e.design, LABELS[lang], lang)
            assert line.startswith(LABELS[lang][f"method_{method}" if method != "weighting"
                                                else f"method_weighting_{METHODS[name]['weights']}"])


def test_pooled_over_the_methods_no_null_estimate_is_far_from_the_truth(store):
    _, _, truth = store
    z = []
    for name in METHODS:
        _, estimates = _cached(store, name)
        for e in estimates:
            t = truth[("assisted_return_12m", e.estimand)]
            assert t == 0
            z.append((e.evidence.att - t) / e.evidence.se)
    assert len(z) == 2 * len(METHODS) and all(math.isfinite(v) for v in z)
    assert max(abs(v) for v in z) < 4, z


def test_the_design_settings_carry_only_the_methods_keys(store):
    _, item, _ = store
    covariates = tuple(item.model.evaluation.covariates)
    for name, override in METHODS.items():
        settings = design_settings(Matching.model_validate(override), covariates)
        method = override.get("method", "nearest")
        assert settings["method"] == method
        assert ("subclasses" in settings) == (method == "subclass")
        assert ("weights" in settings) == (method == "weighting")
    nearest = design_settings(Matching(), covariates)
    assert (nearest["ratio"], nearest["caliper"], nearest["order"], nearest["replace"]) == (1, 0.2, "largest", False)
    mahalanobis = design_settings(Matching.model_validate({"distance": "mahalanobis"}), covariates)
    assert (mahalanobis["caliper"], mahalanobis["order"]) == (None, "data")


def test_a_survey_outcome_after_subclassification_uses_the_control_outcome_regression(store):
    con, item, truth = store
    model = with_design(item.model, tests=("hscl_down",), matching={"method": "subclass"})
    (estimate,) = estimate_model(con, model, item.outcomes, 5, VerdictRules(), estimands=("enrol_vs_not",),
                                 curves=False)
    assert estimate.error is None, estimate.error
    assert estimate.trials["covariate_adjustment"] == "regression of the comparison outcome on the covariates"
    ev = estimate.evidence
    assert ev.ci_low < ev.att < ev.ci_high and ev.gamma is None
    t = truth[("hscl10_change_6m", "enrol_vs_not")]
    assert abs(ev.att - t) < 4 * ev.se


def test_full_matching_gets_gamma_from_sets_of_both_shapes(store):
    """Full matching's sets (one participant and several comparison persons, several participants
    and one) give Rosenbaum's Gamma on the register outcome, deterministically given the seed."""
    from tiltak.evaluation import design_run

    seen = []
    original = design_run.register_set_outcomes

    def spy(trials, y_unit, usable, seed):
        sample, y = original(trials, y_unit, usable, seed)
        seen.append(sample)
        return sample, y

    design_run.register_set_outcomes = spy
    try:
        _, estimates = _run(store, "full")
        _, again = _run(store, "full")
    finally:
        design_run.register_set_outcomes = original
    from estimation.mstatistic import several_treated

    assert seen and all(s.structure == "sets" for s in seen)
    assert any(several_treated(s) for s in seen)  # sets of several participants and one comparison person
    shapes = set()
    for s in seen[:1]:
        sub, treat = np.asarray(s.subclass), np.asarray(s.treat)
        for k in np.unique(sub[sub >= 0]):
            shapes.add((int((treat & (sub == k)).sum()) > 1, int((~treat & (sub == k)).sum()) > 1))
    assert {(True, False), (False, True)} <= shapes
    assert [e.evidence.gamma for e in estimates] == [e.evidence.gamma for e in again]
    assert any(e.evidence.gamma is not None for e in estimates)  # the store's estimates reject at Gamma = 1
