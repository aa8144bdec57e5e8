"""Known truth end to end: synthetic registers with set effects, the design, the verdicts.

The shipped Veien Videre model is evaluated on registers whose true effects are known
(``tiltak.synth``): the default (no effect on return, HSCL-10 -0.15 for VV), a strong true
effect on assisted return (odds ratio 3), and strong hidden bias (an unobserved
motivation drives both participation and return, no true effect). Both estimands are
estimated from one matching and compared with the truth for that estimand on the same
clock (participants of the trials that reach the horizon). One seed proves little; the
replicated version with the issue's pass criteria is ``benchmarks/validate_pipeline.py``
(its result is in docs/evaluation.md) and a small replicated version is
``test_a_few_seeds_are_on_target`` below.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from tiltak import pipeline
from tiltak.evaluation.estimate import estimate_model
from tiltak.evaluation.model_reads import change_spec, with_design
from tiltak.evaluation.multiplicity import holm_adjust
from tiltak.evaluation.verdicts import VerdictKind, VerdictRules, judge

RULES = VerdictRules()
BOTH = ("enrol_vs_not", "enrol_now_vs_later")


def evaluate_vv(tmp_path, tests, matching=None, rules=RULES, seed=11, **synth):
    db = tmp_path / f"registers-{seed}.duckdb"
    pipeline.write_synthetic_store(db, seed, **synth)
    item = pipeline.load_inputs([pipeline.shipped_models_dir() / "veien-videre.yaml"])[0]
    own = item.model.evaluation.matching.model_dump(exclude_unset=True)
    model = with_design(item.model, tests=tests, matching={**own, **(matching or {})})
    con = duckdb.connect(str(db), read_only=True)
    try:
        estimates = holm_adjust(estimate_model(con, model, item.outcomes, seed, rules, estimands=BOTH, curves=False))
        truth = {(o, e): t for o, e, t in con.execute(
            "SELECT outcome, estimand, true_att_followed_up FROM truth_effects WHERE measure = 'VV'").fetchall()}
    finally:
        con.close()
    by_key = {(e.change_id, e.estimand): e for e in estimates}
    verdicts = {k: judge(change_spec(model.change(k[0])), e.evidence, rules) for k, e in by_key.items()}
    return by_key, verdicts, truth


@pytest.mark.slow
def test_default_no_return_effect_is_not_confirmed(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up", "absconding_down"))
    for estimand in BOTH:
        for change, outcome in (("return_up", "assisted_return_12m"), ("absconding_down", "unknown_address_12m")):
            assert truth[(outcome, estimand)] == 0
            assert verdicts[(change, estimand)].kind not in (VerdictKind.CONFIRMED, VerdictKind.CONTRADICTED)
            ev = estimates[(change, estimand)].evidence
            assert ev.ci_low <= 0 <= ev.ci_high


@pytest.mark.slow
def test_default_hscl_improvement_is_estimated_near_the_truth(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("hscl_down",), {"exact": []})
    hscl = estimates[("hscl_down", "enrol_vs_not")].evidence
    assert hscl.att < 0 and hscl.ci_low <= truth[("hscl10_change_6m", "enrol_vs_not")] <= hscl.ci_high
    assert hscl.adjusted  # regression-adjusted difference in means
    # the surveyed control sample never starts a measure: no truth for 'now against later'
    later = truth[("hscl10_change_6m", "enrol_now_vs_later")]
    assert later is None or later != later


@pytest.mark.slow
def test_strong_true_return_effect_is_confirmed_under_both_estimands(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up",), effect_return={"VV": 3.0})
    for estimand in BOTH:
        true = truth[("assisted_return_12m", estimand)]
        assert true > 0.1
        ev = estimates[("return_up", estimand)].evidence
        assert verdicts[("return_up", estimand)].kind is VerdictKind.CONFIRMED, verdicts[("return_up", estimand)].reasons
        assert ev.ci_low <= true <= ev.ci_high  # not diluted: the truth of its own estimand
        assert ev.gamma is not None and ev.gamma > 1.3
    # starting later gets some of the effect too: the 'not yet' comparison is the smaller one
    assert truth[("assisted_return_12m", "enrol_now_vs_later")] < truth[("assisted_return_12m", "enrol_vs_not")]


@pytest.mark.slow
def test_strong_hidden_bias_shows_as_a_fragile_result(tmp_path):
    estimates, verdicts, truth = evaluate_vv(tmp_path, ("return_up",), hidden_bias=1.5, scale=0.8)
    assert truth[("assisted_return_12m", "enrol_vs_not")] == pytest.approx(0.0, abs=1e-9)
    ev = estimates[("return_up", "enrol_vs_not")].evidence
    assert ev.att > 0  # the hidden motivation makes participants look more likely to return
    assert ev.ci_low > 0  # a spurious significant effect ...
    assert ev.gamma is not None and ev.gamma < RULES.min_gamma_robust  # ... that hidden bias could explain
    if verdicts[("return_up", "enrol_vs_not")].kind is not VerdictKind.NOT_TESTABLE:
        assert "fragile" in [r.code for r in verdicts[("return_up", "enrol_vs_not")].sensitivity]


@pytest.mark.slow
def test_a_few_seeds_are_on_target(tmp_path):
    """The fast version of benchmarks/validate_pipeline.py: 3 seeds at half size, VV, null truth.

    Over three seeds the mean error of each register estimate stays within 3.5 of its own
    standard errors divided by sqrt(3), and the intervals cover the truth in most cases.
    """
    errors, covered, ses = {}, [], {}
    for seed in (21, 22, 23):
        estimates, _, truth = evaluate_vv(tmp_path, ("return_up", "applications_up"), seed=seed, scale=0.5)
        for (change, estimand), e in estimates.items():
            ev = e.evidence
            t = truth[(e.outcome.id, estimand)]
            errors.setdefault((change, estimand), []).append(ev.att - t)
            ses.setdefault((change, estimand), []).append(ev.se)
            covered.append(ev.ci_low <= t <= ev.ci_high)
    for key, errs in errors.items():
        assert abs(np.mean(errs)) <= 3.5 * np.mean(ses[key]) / np.sqrt(len(errs)), key
    assert np.mean(covered) >= 0.75
