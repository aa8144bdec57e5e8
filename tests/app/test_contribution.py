"""Contribution analysis: link ratings from the evidence at both ends, pathways, story."""

import pytest

from tiltak.evaluation.contribution import IndicatorEvidence, analyse, rate_link
from tiltak.evaluation.evidence import EffectEvidence
from logicmodel.model import Link, LogicModel
from tiltak.evaluation.model_reads import change_spec
from tiltak.evaluation.story import contribution_story, headline_kind
from tiltak.evaluation.verdicts import judge

MODEL = LogicModel.model_validate({
    "id": "m", "title": {"nb": "Tiltak", "en": "Measure"}, "measure": "VV", "version": "1", "period": {"start": "2012-01"},
    "nodes": [
        {"id": "act", "level": "activity", "title": "Counselling", "indicators": ["participants"]},
        {"id": "out", "level": "output", "title": "Sessions", "indicators": ["sessions"]},
        {"id": "health", "level": "outcome", "horizon": "short", "title": "Health"},
        {"id": "motiv", "level": "outcome", "horizon": "medium", "title": "Motivation"},
        {"id": "ret", "level": "impact", "title": "Return"},
    ],
    "links": [
        {"from": "act", "to": "out"},
        {"from": "out", "to": ["health", "motiv"], "assumptions": [{"statement": "They attend", "indicator": "attendance"}]},
        {"from": "health", "to": "ret"},
        {"from": "motiv", "to": "ret"},
    ],
    "expected_changes": [
        {"id": "h", "node": "health", "outcome": "hscl", "direction": "decrease", "min_change": 0.1, "horizon_months": 6},
        {"id": "r", "node": "ret", "outcome": "ret12", "direction": "increase", "min_change": 0.05, "horizon_months": 12},
    ],
})


def ev(att, low, high, mde=0.03):
    return EffectEvidence("x", att, low, high, mde=mde, n_treated_matched=100, n_control_matched=100, max_abs_smd=0.05)


def verdicts(health, ret):
    return [judge(change_spec(MODEL.change("h")), health), judge(change_spec(MODEL.change("r")), ret)]


DELIVERED = {"participants": IndicatorEvidence("participants", True), "sessions": IndicatorEvidence("sessions", True)}


@pytest.mark.parametrize(
    "source, target, off, rating, reason",
    [
        ("unknown", "achieved", False, "untested", "no_evidence_source"),
        ("not_achieved", "achieved", False, "untested", "cause_not_achieved"),
        ("contrary", "achieved", False, "untested", "cause_not_achieved"),
        ("achieved", "unknown", False, "untested", "no_evidence_target"),
        ("achieved", "contrary", False, "refuted", "effect_contrary"),
        ("achieved", "not_achieved", False, "weakened", "effect_not_achieved"),
        ("achieved", "achieved", True, "weakened", "assumption_off_track"),
        ("achieved", "achieved", False, "supported", "both_achieved"),
    ],
)
def test_link_rating_table(source, target, off, rating, reason):
    link = Link.model_validate({"from": "a", "to": "b", "assumptions": [{"statement": "holds", "indicator": "ind"}]})
    status = "off_track" if off else "on_track"
    result = rate_link(("a", "b", link), source, target, {"ind": IndicatorEvidence("ind", True, status)})
    assert (result.rating, result.reason) == (rating, reason)
    assert result.assumptions_off_track == (("holds",) if off else ())


def test_confirmed_chain_supports_its_pathway_and_the_other_stays_untested():
    analysis = analyse(MODEL, verdicts(ev(-0.2, -0.3, -0.1), ev(0.08, 0.02, 0.14)), DELIVERED)
    assert analysis.link_rating("act", "out") == "supported"
    assert analysis.link_rating("out", "health") == "supported"
    assert analysis.link_rating("health", "ret") == "supported"
    assert analysis.link_rating("motiv", "ret") == "untested"  # no evidence on motivation
    ratings = {p.nodes: p.rating for p in analysis.pathways}
    assert ratings == {("act", "out", "health", "ret"): "supported", ("act", "out", "motiv", "ret"): "untested"}


def test_health_found_but_return_not_confirmed_weakens_the_last_link():
    analysis = analyse(MODEL, verdicts(ev(-0.2, -0.3, -0.1), ev(0.0, -0.02, 0.02, mde=0.03)), DELIVERED)
    assert analysis.node_status("ret") == "not_achieved"
    assert analysis.link_rating("health", "ret") == "weakened"
    path = next(p for p in analysis.pathways if "health" in p.nodes)
    assert path.rating == "weakened" and path.weakest == ("health", "ret")


def test_contradicted_change_refutes_the_link_into_it():
    analysis = analyse(MODEL, verdicts(ev(0.2, 0.1, 0.3), None), DELIVERED)
    assert analysis.node_status("health") == "contrary"
    assert analysis.link_rating("out", "health") == "refuted"
    assert analysis.link_rating("health", "ret") == "untested"  # cause not achieved


def test_assumption_off_target_weakens_an_otherwise_supported_link():
    indicators = {**DELIVERED, "attendance": IndicatorEvidence("attendance", True, "off_track")}
    analysis = analyse(MODEL, verdicts(ev(-0.2, -0.3, -0.1), None), indicators)
    assert analysis.link_rating("out", "health") == "weakened"


def test_nothing_delivered_leaves_every_link_untested():
    analysis = analyse(MODEL, verdicts(None, None), {})
    assert {lk.rating for lk in analysis.links} == {"untested"}


def _story(vs, analysis, delivery, lang):
    from tiltak_base.catalogue import render

    return [render(s, lang) for s in contribution_story(MODEL, vs, analysis, delivery)]


def test_story_names_delivery_verdicts_and_the_weakest_link_in_every_language():
    from tiltak_base.catalogue import message

    vs = verdicts(ev(-0.2, -0.3, -0.1), ev(0.0, -0.02, 0.02))
    analysis = analyse(MODEL, vs, DELIVERED)
    delivery = message("story.delivery", n=120, first="2012-01", last="2013-12")
    en = _story(vs, analysis, delivery, "en")
    nb = _story(vs, analysis, delivery, "nb")
    nn = _story(vs, analysis, delivery, "nn")
    assert en[0] == "Measure was delivered: 120 participants in 2012-01–2013-12."
    assert en[1] == "Expected decrease in “Health” (hscl): confirmed."
    assert en[2] == "Expected increase in “Return” (ret12): not confirmed."
    # one conclusion over the pathways: no "breaks" sentence next to a "cannot yet tell" one
    assert len(en) == 4
    assert en[3] == ("The evidence cannot yet tell whether Measure contributes to “Return”: no pathway is supported "
                     "(of 2: 1 with a weakened or refuted link, the first “Health” → “Return”; 1 with an untested link, "
                     "the first “Sessions” → “Motivation”).")
    assert "breaks at" not in " ".join(en)
    assert nb[3].startswith("Funnene kan ennå ikke si om Tiltak bidrar til «Return»: ingen vei er støttet (av 2:")
    assert nb[1] == "Forventet nedgang i «Health» (hscl): bekreftet."
    assert nb[0] == "Tiltak ble gjennomført: 120 deltakere i 2012-01–2013-12."
    assert nn[0] == "Tiltak vart gjennomført: 120 deltakarar i 2012-01–2013-12."
    assert nn[1] == "Forventa nedgang i «Health» (hscl): stadfesta."
    assert nn[3].startswith("Funna kan enno ikkje seie om Tiltak bidreg til «Return»: ingen veg er støtta (av 2:")
    assert headline_kind(vs) == "confirmed"


def test_not_delivered_story():
    analysis = analyse(MODEL, verdicts(None, None), {})
    story = _story(verdicts(None, None), analysis, None, "en")
    assert story[0] == "There is no monitored evidence that Measure was delivered."


def test_delivery_below_target_still_counts_as_delivered_and_outcome_targets_decide_otherwise():
    indicators = {"participants": IndicatorEvidence("participants", True, "off_track"),
                  "sessions": IndicatorEvidence("sessions", False, "off_track")}
    analysis = analyse(MODEL, verdicts(None, None), indicators)
    basis = {n.node: (n.status, n.basis) for n in analysis.nodes}
    assert basis["act"] == ("achieved", "delivery_below_target")
    assert basis["out"] == ("not_achieved", "target")  # nothing published, target off track
    assert analysis.link_rating("act", "out") == "weakened"
