"""The ground truth: potential outcomes agree with the observed data and recover the parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tiltak.synth import SynthConfig, generate


@pytest.fixture(scope="module")
def strong_effect():
    return generate(SynthConfig(seed=21, effect_return={"VV": 3.0, "KVL": 3.0, "KVN": 3.0},
                                effect_hscl={"VV": -0.4, "KVN": 0.2}))


def _att(registers, measure, outcome, column="true_att", estimand="enrol_vs_not"):
    effects = registers.truth_effects.set_index(["measure", "outcome", "estimand"])
    return effects.loc[(measure, outcome, estimand), column]


def test_no_effect_on_return_by_default(default_registers):
    effects = default_registers.truth_effects
    returns = effects[~effects["outcome"].str.startswith("hscl10")]
    assert len(returns) == 3 * 6 * 2  # measures x exit and application outcomes x estimands
    assert (returns["true_att"] == 0).all()  # common random numbers: identical paths
    assert (returns["true_att_followed_up"] == 0).all()
    assert (returns["parameter_value"] == 1.0).all()


def test_survey_outcomes_have_no_truth_for_now_against_later(default_registers):
    effects = default_registers.truth_effects
    later = effects[(effects["estimand"] == "enrol_now_vs_later") & effects["outcome"].str.startswith("hscl10")]
    assert len(later) == 6 and later["true_att"].isna().all()
    assert effects.loc[effects["estimand"] == "enrol_vs_not", "true_att"].notna().all()


def test_default_hscl_effect_only_for_vv(default_registers):
    assert _att(default_registers, "VV", "hscl10_change_6m") == pytest.approx(-0.15, abs=0.03)
    assert _att(default_registers, "KVL", "hscl10_change_6m") == 0
    assert _att(default_registers, "KVN", "hscl10_change_6m") == 0


@pytest.mark.parametrize("measure", ["VV", "KVL", "KVN"])
def test_odds_ratio_three_raises_assisted_return(strong_effect, measure):
    att6 = _att(strong_effect, measure, "assisted_return_6m")
    att12 = _att(strong_effect, measure, "assisted_return_12m")
    assert att6 > 0.08 and att12 > 0.08
    # The odds of a monthly assisted return rise threefold: the 12-month risk rises
    # strongly but by less than three times.
    y0 = _att(strong_effect, measure, "assisted_return_12m", "mean_untreated")
    y1 = _att(strong_effect, measure, "assisted_return_12m", "mean_treated")
    assert 1.5 < y1 / y0 < 3.0


def test_odds_ratio_below_one_lowers_return():
    reg = generate(SynthConfig(seed=5, scale=0.5, effect_return={"VV": 0.3}))
    assert _att(reg, "VV", "assisted_return_12m") < -0.05
    # KVL participants who would otherwise have started VV later lose little by starting KVL
    assert _att(reg, "KVL", "assisted_return_12m", estimand="enrol_vs_not") >= 0
    assert abs(_att(reg, "KVL", "assisted_return_12m")) < 0.02


@pytest.mark.parametrize("measure", ["VV", "KVL", "KVN"])
def test_later_start_dilutes_the_effect_of_starting_now(strong_effect, measure):
    """Compared with starting later, starting now gains less than compared with never starting."""
    never = _att(strong_effect, measure, "assisted_return_12m", estimand="enrol_vs_not")
    later = _att(strong_effect, measure, "assisted_return_12m", estimand="enrol_now_vs_later")
    assert 0 < later < never
    truth = strong_effect.truth_outcomes
    rows = truth[truth["measure"] == measure]
    # the later arm never returns less than the never arm for the same person... on average
    assert rows["assisted_return_12m_later"].mean() >= rows["assisted_return_12m_not_enrolled"].mean()


def test_applications_follow_the_return_effect(strong_effect):
    for measure in ("VV", "KVN"):
        assert _att(strong_effect, measure, "application_6m") > 0.03


def test_outcome_ids_are_catalogue_outcomes(default_registers):
    import yaml
    from pathlib import Path

    catalogue = yaml.safe_load((Path(__file__).resolve().parents[2] / "models" / "indicators.yaml").read_text())
    ids = {outcome["id"] for outcome in catalogue["outcomes"]}
    assert set(default_registers.truth_effects["outcome"]) <= ids


def test_competing_exits_respond_to_more_assisted_return(strong_effect):
    for measure in ("VV", "KVN"):
        assert _att(strong_effect, measure, "any_return_12m") > 0.05
        assert _att(strong_effect, measure, "forced_return_12m") + _att(
            strong_effect, measure, "unknown_address_12m") < 0


def test_hscl_effect_at_three_months_is_part_of_the_shift(strong_effect):
    assert _att(strong_effect, "VV", "hscl10_change_3m") == pytest.approx(0.6 * -0.4, abs=0.05)


def test_hscl_effect_recovered(strong_effect):
    assert _att(strong_effect, "VV", "hscl10_change_6m") == pytest.approx(-0.4, abs=0.05)
    assert _att(strong_effect, "KVN", "hscl10_change_6m") == pytest.approx(0.2, abs=0.04)


def test_treated_outcome_is_the_observed_outcome(strong_effect):
    """On the evaluation's clock: an exit (application) in [start date, start date + k months)."""
    t = strong_effect.tables
    truth = strong_effect.truth_outcomes
    exits = t["exits"].set_index("person_id")
    for horizon, column in ((12, "followed_up_12m"), (6, "followed_up_6m")):
        followed = truth[truth[column]]
        end = followed["start_date"] + pd.DateOffset(months=horizon)
        exit_date = exits["exit_date"].reindex(followed["person_id"]).to_numpy()
        kind = exits["exit_type"].reindex(followed["person_id"]).to_numpy()
        observed = (kind == "assisted_return") & (exit_date < end.to_numpy())
        assert observed.sum() > 50
        assert (observed == followed[f"assisted_return_{horizon}m_treated"].to_numpy()).all()
    applications = t["applications"].set_index("person_id")["application_date"]
    followed = truth[truth["followed_up_6m"]]
    date = applications.reindex(followed["person_id"]).to_numpy()
    start = followed["start_date"].to_numpy()
    observed = (date >= start) & (date < (followed["start_date"] + pd.DateOffset(months=6)).to_numpy())
    assert observed.sum() > 30
    assert (observed == followed["application_6m_treated"].to_numpy()).all()


def test_participants_are_present_on_their_start_date(strong_effect):
    t = strong_effect.tables
    part = t["participation"].set_index("person_id")
    exits = t["exits"].set_index("person_id")["exit_date"].reindex(part.index)
    # whoever leaves on or before the day a measure would start never starts it
    assert (exits.isna() | (exits > part["start_date"])).all()
    assert ((exits - part["start_date"]).dt.days == 1).sum() >= 1  # leaving the next day is possible


def test_observed_hscl_matches_treated_potential_outcome(default_registers):
    t = default_registers.tables
    truth = default_registers.truth_outcomes.set_index("person_id")
    hscl = t["surveys"][t["surveys"]["instrument"] == "hscl10"]
    start = truth["start_date"].reindex(hscl["person_id"]).to_numpy()
    six = hscl[(hscl["survey_date"].to_numpy() - start) == np.timedelta64(182, "D")]
    assert len(six) > 200
    expected = truth.loc[six["person_id"], "hscl10_6m_treated"].to_numpy()
    assert np.allclose(six["total"].to_numpy(), expected)
    base = hscl[hscl["survey_date"].to_numpy() == start]
    assert np.allclose(base["total"].to_numpy(), truth.loc[base["person_id"], "hscl10_baseline"].to_numpy())


def test_truth_outcomes_one_row_per_participant(default_registers):
    truth = default_registers.truth_outcomes
    part = default_registers.tables["participation"]
    assert sorted(truth["person_id"]) == sorted(part["person_id"])
    assert truth["enrolment_month"].str.fullmatch(r"\d{4}-\d{2}").all()
    effects = default_registers.truth_effects
    assert set(effects["outcome"]) == {
        "assisted_return_6m", "assisted_return_12m", "any_return_12m", "forced_return_12m",
        "unknown_address_12m", "application_6m", "hscl10_change_3m", "hscl10_change_6m"}
    assert set(effects["estimand"]) == {"enrol_vs_not", "enrol_now_vs_later"}
    change = truth["hscl10_6m_treated"] - truth["hscl10_baseline"]
    assert (change - truth["hscl10_change_6m_treated"]).abs().max() < 1e-9
    n = truth.groupby("measure").size()
    assert (effects.set_index("measure")["n_participants"].groupby(level=0).first() == n).all()


def test_hidden_bias_raises_participants_motivation(default_registers):
    biased = generate(SynthConfig(seed=11, hidden_bias=1.0))
    base = default_registers.diagnostics
    assert biased.diagnostics["motivation_participants"] > base["motivation_participants"] + 0.4
    gap = biased.diagnostics["motivation_participants"] - biased.diagnostics["motivation_eligible_non_participants"]
    assert gap > 0.5
    # Motivated people return more, so without any true effect participants now return more.
    truth = biased.truth_outcomes
    assert truth["assisted_return_12m_not_enrolled"].mean() > default_registers.truth_outcomes[
        "assisted_return_12m_not_enrolled"].mean()
    assert 0.12 <= biased.diagnostics["uptake"] <= 0.28
