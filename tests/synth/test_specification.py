"""The synthetic data follow the specification in domain.md (shares, rates, magnitudes).

Tolerances are several standard errors wide at the default size, so the tests hold for any
seed; two seeds are checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tiltak.synth import SynthConfig, generate
from tiltak.synth.summary import monthly_stock, summarise


@pytest.fixture(params=["default_registers", "second_registers"])
def registers(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("column, share, tolerance", [
    ("male", 0.75, 0.03), ("dublin", 0.10, 0.02), ("identity_documented", 0.45, 0.03),
    ("prior_absconding", 0.08, 0.02), ("health_issue", 0.15, 0.02),
])
def test_person_shares(registers, column, share, tolerance):
    persons = registers.tables["persons"]
    values = persons["sex"].eq("male") if column == "male" else persons[column]
    assert abs(values.mean() - share) < tolerance


def test_age_is_adult_with_median_about_30(registers):
    persons = registers.tables["persons"]
    decided = registers.tables["decisions"].set_index("person_id")["decision_date"].dt.year
    age = np.maximum(decided.reindex(persons["person_id"]).to_numpy(), 2012) - persons["birth_year"].to_numpy()
    assert age.min() >= 18
    assert 27 <= np.median(age) <= 33


def test_households_and_nationalities(registers):
    persons = registers.tables["persons"]
    shares = persons["household"].value_counts(normalize=True)
    assert shares["single"] > 0.55 and shares["with_children"] > 0.12 and shares["couple"] > 0.07
    nat = registers.tables["nationalities"]
    assert len(nat) == 9 and set(nat["returnability"]) == {"high", "medium", "low"}
    window = (pd.Timestamp("2012-01-01"), pd.Timestamp("2015-01-01"))
    switching = nat["return_agreement_from"].between(*window, inclusive="left")
    assert switching.sum() >= 1 and nat["return_agreement_from"].isna().sum() >= 1


def test_centres_of_three_types(registers):
    centres = registers.tables["centres"]
    assert len(centres) == 30
    counts = centres["centre_type"].value_counts()
    assert counts["ordinary"] > counts["family"] > 0 and counts["health"] > 0


def test_opening_stock_and_inflow(registers):
    decisions = registers.tables["decisions"]["decision_date"]
    opening = (decisions < "2012-01-01").sum()
    assert abs(opening - 5000) <= 1  # rounding of the scaled size only
    inflow = decisions[decisions >= "2012-01-01"].dt.to_period("M").value_counts()
    assert len(inflow) == 36
    assert abs(inflow.mean() - 220) < 15


@pytest.mark.parametrize("exit_type, low, high", [
    # factor-two bands around domain.md: assisted 1,400-1,900 a year; forced about 1,300
    ("assisted_return", 700, 3800), ("forced_return", 650, 2600),
])
def test_yearly_returns_within_factor_two(registers, exit_type, low, high):
    exits = registers.tables["exits"]
    per_year = exits[exits["exit_type"] == exit_type]["exit_date"].dt.year.value_counts()
    assert sorted(per_year.index) == [2012, 2013, 2014]
    assert per_year.between(low, high).all(), per_year.to_dict()


def test_disappearance_about_one_in_five(registers):
    t = registers.tables
    months = pd.date_range("2012-01-01", periods=36, freq="MS")
    stock = pd.Series(monthly_stock(t["decisions"], t["exits"], months), index=months.year)
    gone = t["exits"][t["exits"]["exit_type"] == "unknown_address"]["exit_date"].dt.year.value_counts()
    share = gone / stock.groupby(level=0).mean()
    assert share.between(0.10, 0.40).all(), share.to_dict()


def test_uptake_among_eligible(registers):
    uptake = registers.diagnostics["uptake"]
    assert 0.15 <= uptake <= 0.25
    part = registers.tables["participation"]
    assert set(part["measure"]) == {"VV", "KVL", "KVN"}
    assert part["person_id"].is_unique


def test_staggered_rollout(registers):
    costs = registers.tables["costs"]
    local = costs[costs["centre_id"].notna()]
    first = local.groupby(["measure", "centre_id"])["period"].min()
    for measure in ("VV", "KVL"):
        assert first[measure].nunique() >= 3  # centres start in different months
        assert 0 < first[measure].size < 30   # only some centres
    assert costs.loc[costs["measure"] == "KVN", "centre_id"].isna().all()


def test_costs_per_participant_differ_strongly(registers):
    summary = summarise(registers).measures.set_index("measure")["cost_per_participant_nok"]
    assert summary["KVN"] > 4 * summary["VV"]
    assert summary["VV"] < summary["KVL"] < summary["KVN"]


def test_sessions_and_completion(registers):
    part = registers.tables["participation"]
    assert (part["sessions_attended"] <= part["sessions_planned"]).all()
    done = part["completed"].fillna(False).astype(bool)
    assert (part.loc[done, "sessions_attended"] >= 0.75 * part.loc[done, "sessions_planned"]).all()
    assert 0.3 < done.mean() < 0.9
    assert part.loc[part["end_date"].isna(), "completed"].isna().all()


def test_residents_move_between_centres(registers):
    spells = registers.tables["residence"].groupby("person_id").size()
    assert 0.02 < (spells > 1).mean() < 0.3


def test_surveys_have_exit_dependent_missingness(registers):
    t = registers.tables
    hscl = t["surveys"][t["surveys"]["instrument"] == "hscl10"]
    part = t["participation"].set_index("person_id")
    ends = registers.config.start
    follow = part[part["start_date"] < pd.Timestamp(ends) + pd.DateOffset(months=30)]
    answered = hscl.groupby("person_id").size().reindex(follow.index, fill_value=0)
    exits = t["exits"].set_index("person_id")
    left_soon = (exits["exit_date"].reindex(follow.index) - follow["start_date"]).dt.days < 150
    assert answered[left_soon].mean() < answered[~left_soon].mean() - 0.5
    caseness = (hscl["total"] >= 1.85).mean()
    assert 0.3 < caseness < 0.8
    mi = t["surveys"][t["surveys"]["instrument"].str.startswith("mi_")]
    assert set(mi["person_id"]) <= set(part.index[part["measure"] == "VV"])
    controls = set(hscl["person_id"]) - set(part.index)
    assert 1000 < len(controls) <= 1500


def test_scale_multiplies_the_population():
    small = generate(SynthConfig(seed=3, scale=0.2, months=12))
    assert abs((small.tables["decisions"]["decision_date"] < "2012-01-01").sum() - 1000) <= 1
    assert len(small.tables["centres"]) == 6
    assert small.tables["participation"]["measure"].nunique() >= 2
