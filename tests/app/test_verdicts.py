"""Verdict rules on constructed estimates, including every boundary."""

import dataclasses

import pytest

from tiltak.errors import TiltakError
from tiltak.evaluation.evidence import EffectEvidence
from tiltak.evaluation.verdicts import ChangeSpec, VerdictKind, VerdictRules, judge
from tiltak.evaluation.wording import describe_reason

UP = ChangeSpec("return_up", "increase", 0.05, node="return", outcome="assisted_return_12m")
DOWN = ChangeSpec("hscl_down", "decrease", 0.10, node="health", outcome="hscl10_change_6m")


def ev(att, low, high, mde=0.03, smd=0.05, n=200, gamma=2.0, e_value=1.8, overlap=True):
    return EffectEvidence(
        outcome="x", att=att, ci_low=low, ci_high=high, mde=mde, n_treated=n, n_control=5 * n,
        n_treated_matched=n, n_control_matched=n, max_abs_smd=smd, gamma=gamma, e_value=e_value,
        period_start="2012-01", period_end="2013-12", overlap_ok=overlap,
    )


def codes(verdict):
    return [r.code for r in verdict.reasons]


@pytest.mark.parametrize(
    "change, evidence, expected",
    [
        # increase, min 0.05
        (UP, ev(0.08, 0.02, 0.14), VerdictKind.CONFIRMED),
        (UP, ev(0.05, 0.01, 0.09), VerdictKind.CONFIRMED),  # effect == min_change reaches it
        (UP, ev(0.0499, 0.01, 0.09), VerdictKind.NOT_CONFIRMED),  # significant but too small
        (UP, ev(0.08, 0.0, 0.16), VerdictKind.NOT_CONFIRMED),  # interval touching zero includes it
        (UP, ev(0.01, -0.02, 0.04, mde=0.05), VerdictKind.NOT_CONFIRMED),  # mde == min: could have seen
        (UP, ev(0.01, -0.02, 0.04, mde=0.0501), VerdictKind.INCONCLUSIVE),
        (UP, ev(0.01, -0.02, 0.04, mde=None), VerdictKind.INCONCLUSIVE),
        (UP, ev(-0.05, -0.09, -0.01), VerdictKind.CONTRADICTED),
        (UP, ev(-0.05, -0.09, 0.0), VerdictKind.NOT_CONFIRMED),  # touching zero is not contradicted
        (UP, ev(-0.05, -0.09, 0.0, mde=0.2), VerdictKind.INCONCLUSIVE),
        # decrease, min 0.10: negative effects are on the expected side
        (DOWN, ev(-0.15, -0.25, -0.05), VerdictKind.CONFIRMED),
        (DOWN, ev(-0.10, -0.18, -0.02), VerdictKind.CONFIRMED),
        (DOWN, ev(-0.09, -0.18, -0.02), VerdictKind.NOT_CONFIRMED),
        (DOWN, ev(0.12, 0.02, 0.22), VerdictKind.CONTRADICTED),
        (DOWN, ev(0.0, -0.05, 0.05, mde=0.08), VerdictKind.NOT_CONFIRMED),
        (DOWN, ev(0.0, -0.05, 0.05, mde=0.12), VerdictKind.INCONCLUSIVE),
    ],
)
def test_directional_verdicts(change, evidence, expected):
    assert judge(change, evidence).kind is expected


def test_interval_given_in_either_order_is_the_same():
    a = judge(DOWN, ev(-0.15, -0.25, -0.05))
    b = judge(DOWN, ev(-0.15, -0.05, -0.25))
    assert a.kind is b.kind is VerdictKind.CONFIRMED


@pytest.mark.parametrize(
    "evidence, reason",
    [
        (ev(0.08, 0.02, 0.14, smd=0.1001), "imbalance"),
        (ev(0.08, 0.02, 0.14, smd=None), "balance_unknown"),
        (ev(0.08, 0.02, 0.14, n=9), "too_few_matched"),
        (ev(0.08, 0.02, 0.14, overlap=False), "no_overlap"),
        (ev(None, None, None), "no_interval"),
        (ev(0.08, float("nan"), 0.14), "no_interval"),
    ],
)
def test_not_testable(evidence, reason):
    verdict = judge(UP, evidence)
    assert verdict.kind is VerdictKind.NOT_TESTABLE
    assert reason in codes(verdict)


def test_balance_exactly_at_threshold_and_matched_exactly_at_minimum_are_testable():
    assert judge(UP, ev(0.08, 0.02, 0.14, smd=0.1, n=10)).kind is VerdictKind.CONFIRMED


def test_all_failing_testability_rules_are_reported():
    verdict = judge(UP, ev(0.08, 0.02, 0.14, smd=0.3, n=3, overlap=False))
    assert codes(verdict) == ["no_overlap", "too_few_matched", "imbalance"]


def test_balance_threshold_is_configurable():
    rules = VerdictRules(balance_threshold=0.25)
    assert judge(UP, ev(0.08, 0.02, 0.14, smd=0.2), rules).kind is VerdictKind.CONFIRMED
    assert judge(UP, ev(0.08, 0.02, 0.14, smd=0.2)).kind is VerdictKind.NOT_TESTABLE


def test_missing_estimate_and_missing_outcome_are_not_testable():
    assert codes(judge(UP, None)) == ["no_estimate"]
    indicator_only = dataclasses.replace(UP, outcome=None, indicator="assisted_returns_per_100")
    assert codes(judge(indicator_only, ev(0.08, 0.02, 0.14))) == ["no_outcome"]


def test_sensitivity_is_reported_with_gamma_and_e_value():
    robust = judge(UP, ev(0.08, 0.02, 0.14, gamma=2.0))
    fragile = judge(UP, ev(0.08, 0.02, 0.14, gamma=1.99))
    assert [r.code for r in robust.sensitivity] == ["robust", "e_value"]
    assert [r.code for r in fragile.sensitivity] == ["fragile", "e_value"]
    assert robust.gamma == 2.0 and robust.e_value == 1.8 and robust.period == "2012-01–2013-12"


def test_gamma_at_the_robustness_threshold_counts_as_robust():
    assert judge(UP, ev(0.08, 0.02, 0.14, gamma=2.0)).sensitivity[0].code == "robust"


@pytest.mark.parametrize("direction, min_change", [("up", 0.1), ("increase", -0.1), ("decrease", float("nan"))])
def test_bad_change_specs_are_refused_with_the_key_named(direction, min_change):
    with pytest.raises(TiltakError, match="expected change 'c'"):
        ChangeSpec("c", direction, min_change)


def test_reasons_read_as_sentences_in_both_languages():
    verdict = judge(UP, ev(0.08, 0.02, 0.14))
    en = describe_reason(verdict.reasons[0].code, verdict.reasons[0].values, "share", "en")
    nb = describe_reason(verdict.reasons[0].code, verdict.reasons[0].values, "share", "nb")
    assert en == ("The effect is +8.0 pp (unadjusted 95 % CI 2.0 pp to 14.0 pp): significantly on the "
                  "expected side of zero.")
    assert nb.startswith("Effekten er +8,0 %-poeng (ujustert 95 % KI 2,0 %-poeng til 14,0 %-poeng)")


def test_a_change_may_set_its_own_balance_threshold():
    tolerant = ChangeSpec("hscl_down", "decrease", 0.10, node="health", outcome="hscl10_change_6m",
                          balance_threshold=0.2)
    evidence = ev(-0.2, -0.3, -0.15, smd=0.15)
    assert judge(DOWN, evidence, VerdictRules()).kind is VerdictKind.NOT_TESTABLE
    assert judge(tolerant, evidence, VerdictRules()).kind is VerdictKind.CONFIRMED
    assert judge(tolerant, ev(-0.2, -0.3, -0.15, smd=0.21), VerdictRules()).kind is VerdictKind.NOT_TESTABLE



def test_a_change_with_its_own_threshold_says_so_in_the_document():
    from tiltak.evaluation.document import verdict_entry
    from logicmodel.model import LogicModel

    model = LogicModel.model_validate({"id": "m", "title": "M", "version": "1", "measure": "M", "period": {"start": "2012-01"},
                                       "nodes": [{"id": "health", "level": "outcome", "title": "H"}]})
    tolerant = ChangeSpec("hscl_down", "decrease", 0.10, node="health", outcome="hscl10_change_6m", balance_threshold=0.2)
    entry = verdict_entry(model, judge(tolerant, ev(-0.2, -0.3, -0.15, smd=0.15)), None, 5)
    assert entry["verdict"] == "confirmed"
    assert entry["reasons"][-1]["code"] == "own_threshold"
    from tiltak.evaluation.wording import reason_entry_text

    assert "0.150 against 0.20" in reason_entry_text(entry["reasons"][-1], None, "en")
    assert "0,150 mot 0,20" in reason_entry_text(entry["reasons"][-1], None, "nn")


# --- multiplicity: Holm within the model's tested changes ---------------------------------

from tiltak.evaluation.multiplicity import holm  # noqa: E402


def test_holm_matches_r_p_adjust():
    # R: p.adjust(c(0.001, 0.04, 0.03, 0.2, 0.012, 0.5), "holm")
    got = holm([0.001, 0.04, 0.03, 0.2, 0.012, 0.5])
    assert got == pytest.approx([0.006, 0.12, 0.12, 0.4, 0.06, 0.5], abs=1e-12)


def test_holm_counts_missing_p_values_in_the_family():
    assert holm([0.02, None]) == [0.04, None]
    assert holm([]) == []


def held(att, low, high, p, p_holm, n_tests=4, **kw):
    return dataclasses.replace(ev(att, low, high, **kw), p_value=p, p_value_holm=p_holm, n_tests=n_tests)


@pytest.mark.parametrize("evidence, expected, code", [
    (held(0.08, 0.02, 0.14, 0.01, 0.04), VerdictKind.CONFIRMED, "holm"),
    (held(0.08, 0.02, 0.14, 0.01, 0.05), VerdictKind.INCONCLUSIVE, "significant_before_adjustment"),
    (held(0.08, 0.02, 0.14, 0.02, 0.08), VerdictKind.INCONCLUSIVE, "significant_before_adjustment"),
    (held(-0.05, -0.09, -0.01, 0.01, 0.03), VerdictKind.CONTRADICTED, "holm"),
    (held(-0.05, -0.09, -0.01, 0.01, 0.2), VerdictKind.INCONCLUSIVE, "significant_before_adjustment"),
    (held(0.03, 0.01, 0.05, 0.001, 0.004), VerdictKind.NOT_CONFIRMED, "below_min_change"),
    (held(0.01, -0.02, 0.04, 0.5, 1.0, mde=0.05), VerdictKind.NOT_CONFIRMED, "powered"),
    (held(0.01, -0.02, 0.04, 0.5, 1.0, mde=0.06), VerdictKind.INCONCLUSIVE, "underpowered"),
    (held(0.08, 0.0, 0.16, 0.05, 0.05), VerdictKind.NOT_CONFIRMED, "includes_zero"),  # p = 0.05: not significant
])
def test_verdicts_use_holm_adjusted_p_values(evidence, expected, code):
    verdict = judge(UP, evidence)
    assert verdict.kind is expected
    assert code in codes(verdict)


def test_significant_only_before_adjustment_is_said_so():
    verdict = judge(UP, held(0.08, 0.02, 0.14, 0.012, 0.048 * 2, n_tests=4))
    text = describe_reason(verdict.reasons[0].code, verdict.reasons[0].values, "share", "en")
    assert "significant only before adjusting for the 4 changes this model tests" in text
    assert "Holm-adjusted p = 0.096" in text and "p = 0.012" in text
    assert "fragile" in [r.code for r in verdict.sensitivity] or verdict.gamma >= 2
