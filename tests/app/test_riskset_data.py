"""Target trials from a hand-made store: eligibility, time zero, follow-up (worked out by hand).

The constructed panel shows the rule of docs/evaluation.md, "Time zero": an event before a
participant's start date can never count for one group and not the other. A comparison
person who left before the start date is not in the set; an application before it counts
for neither group; every event counts from the start date, for both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import duckdb

from estimation.matched import MatchedSample
from logicmodel.catalogue import Outcome
from tiltak.evaluation.clock import add_months, months_since
from tiltak.evaluation.followup import CENSORED, COMPETING, EVENT, follow_up
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.riskset_data import RiskSetDataError, build_risk_sets
from tiltak.evaluation.trials import pair_units, trial_reaches

MONTHS = ["2012-01", "2012-02", "2012-03", "2012-04", "2012-05", "2012-06"]
# person: (first month in the panel, last month, age, sex, months since decision in the first month)
PEOPLE = {
    "p": ("2012-01", "2012-04", 30, "male", 5),     # starts VV 2012-02-15, exits 2012-04-10
    "a": ("2012-01", "2012-02", 31, "male", 5),     # exits 2012-02-05: before p's start
    "b": ("2012-01", "2012-02", 29, "male", 5),     # applies 2012-02-10, exits 2012-02-20
    "c": ("2012-01", "2012-06", 35, "female", 5),   # starts VV later, 2012-04-03
    "k": ("2012-01", "2012-06", 40, "male", 5),     # starts KVL 2012-02-07: a treatment at time zero
    "n": ("2012-02", "2012-06", 40, "male", 0),     # decided in 2012-02: not eligible then
    "r": ("2012-02", "2012-06", 22, "female", 3),   # moves in on 2012-02-10: not resident on the 1st
    "q": ("2012-01", "2012-06", 50, "female", 9),   # started KVL in 2011-12: prior participation
    "z": ("2012-01", "2012-06", 33, "male", 5),     # lives in a centre that does not offer VV
}
CENTRE = {"z": "c2"}
OUTCOMES = tuple(OutcomeSpec.of(TypeAdapter(Outcome).validate_python({"title": o["id"], "direction": "higher_is_better", **o})) for o in [
    {"id": "ret2", "kind": "exit_within", "exit_types": ["assisted_return"], "months": 2},
    {"id": "app2", "kind": "application_within", "programme": "assisted_return", "months": 2},
    {"id": "hscl1", "kind": "survey_change", "instrument": "hscl10", "months": 1, "unit": "score"},
])


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE person_month (person_id VARCHAR, month DATE, period VARCHAR, centre_id VARCHAR, "
                "age INTEGER, sex VARCHAR, health_issue BOOLEAN, months_since_decision INTEGER, measure VARCHAR, "
                "exit_type VARCHAR)")
    rows = []
    for person, (first, last, age, sex, msd) in PEOPLE.items():
        for i, month in enumerate(m for m in MONTHS if first <= m <= last):
            rows.append((person, month, month, CENTRE.get(person, "c1"), age, sex, msd + i))
    con.executemany("INSERT INTO person_month VALUES (?, CAST(? || '-01' AS DATE), ?, ?, ?, ?, NULL, ?, NULL, NULL)",
                    rows)
    con.execute("CREATE TABLE residence (person_id VARCHAR, centre_id VARCHAR, date_from DATE, date_to DATE)")
    con.executemany("INSERT INTO residence VALUES (?, ?, ?, NULL)",
                    [(p, CENTRE.get(p, "c1"), "2012-02-10" if p == "r" else "2011-06-01") for p in PEOPLE])
    con.execute("CREATE TABLE participation (person_id VARCHAR, measure VARCHAR, start_date DATE)")
    con.executemany("INSERT INTO participation VALUES (?, ?, ?)", [
        ("p", "VV", "2012-02-15"), ("c", "VV", "2012-04-03"), ("k", "KVL", "2012-02-07"), ("q", "KVL", "2011-12-01")])
    con.execute("CREATE TABLE exits (person_id VARCHAR, exit_date DATE, exit_type VARCHAR)")
    con.executemany("INSERT INTO exits VALUES (?, ?, ?)", [
        ("p", "2012-04-10", "assisted_return"), ("a", "2012-02-05", "assisted_return"),
        ("b", "2012-02-20", "assisted_return")])
    con.execute("CREATE TABLE applications (person_id VARCHAR, application_date DATE, programme VARCHAR)")
    con.executemany("INSERT INTO applications VALUES (?, ?, 'assisted_return')",
                    [("p", "2012-02-01"), ("b", "2012-02-10"), ("c", "2012-05-02")])
    con.execute("CREATE TABLE surveys (person_id VARCHAR, survey_date DATE, instrument VARCHAR, total DOUBLE)")
    con.executemany("INSERT INTO surveys VALUES (?, ?, 'hscl10', ?)",
                    [("p", "2012-02-15", 2.5), ("p", "2012-03-12", 2.1), ("c", "2012-02-01", 1.9),
                     ("c", "2012-03-25", 2.0)])
    return con


def trial(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    return frame[frame["period"] == month].set_index("person_id")


def test_eligibility_on_the_first_day_of_the_trial_month(con):
    rs = build_risk_sets(con, "VV", ("age", "sex"), OUTCOMES)
    feb = trial(rs.frame, "2012-02")
    # k starts another measure in the month, n was decided in it, r moved in after the 1st,
    # z lives where VV is not offered (nobody started it there in 2012-01..2012-03)
    assert sorted(feb.index) == ["a", "b", "c", "p", "q"]
    assert feb.loc["p", "treated"] and not feb.loc[["a", "b", "c", "q"], "treated"].any()
    assert str(feb.loc["p", "index_date"])[:10] == "2012-02-15"
    assert feb.loc["q", "prior_other_measure"] and not feb.loc["p", "prior_other_measure"]
    assert str(feb.loc["c", "later_start"])[:10] == "2012-04-03" and pd.isna(feb.loc["p", "later_start"])
    # only months with a first start are trials: 2012-02 (p) and 2012-04 (c)
    assert sorted(set(rs.frame["period"])) == ["2012-02", "2012-04"]
    assert "z" not in set(rs.frame["person_id"])
    assert (rs.n_enrolled, rs.n_treated, rs.n_not_eligible) == (2, 2, 0)
    assert str(rs.data_end)[:10] == "2012-07-01"


def test_survey_change_on_the_month_clock(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES)
    feb = trial(rs.frame, "2012-02")
    assert feb.loc["p", "y_hscl1"] == pytest.approx(2.1 - 2.5)
    assert feb.loc["c", "y_hscl1"] == pytest.approx(2.0 - 1.9)
    assert pd.isna(feb.loc["b", "y_hscl1"])


def matched(rs, treated_person: str, controls: list[str], month: str = "2012-02"):
    """A hand-made matching of one participant with the named comparison persons."""
    frame = rs.frame.reset_index(drop=True)
    rows = np.flatnonzero((frame["period"] == month).to_numpy())
    data = frame.iloc[rows].reset_index(drop=True)
    who = list(data["person_id"])
    treat = data["treated"].to_numpy(dtype=bool)
    mm = np.array([[who.index(c) for c in controls]])
    sample = MatchedSample(treat=treat, distance=np.full(len(data), 0.5), weights=np.zeros(len(data)),
                           subclass=np.full(len(data), -1), match_matrix=mm, discarded=np.zeros(len(data), bool),
                           covariates=data[["age"]], settings={"distance": "glm"})
    assert who[int(np.flatnonzero(treat)[0])] == treated_person
    return pair_units(data, sample, np.arange(len(data)))


def test_a_comparison_person_who_left_before_the_start_date_is_not_compared(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES)
    trials = matched(rs, "p", ["a", "b", "c"])
    units = trials.units
    people = list(units["person"])
    assert people == ["p", "b", "c"] and trials.n_controls_left_before == 1
    assert units["weight"].tolist() == [1.0, 0.5, 0.5]  # two comparison persons left in the set
    assert (units["index_date"] == np.datetime64("2012-02-15")).all()  # everyone on p's clock


def test_events_before_the_start_date_count_for_neither_group(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES)
    trials = matched(rs, "p", ["a", "b", "c"])
    ret, app, _ = OUTCOMES
    d = np.datetime64("2012-02-15")
    exits = follow_up(trials, ret, rs.data_end, "enrol_vs_not")
    # p returns 2012-04-10 and b 2012-02-20: both within [2012-02-15, 2012-04-15), on one clock
    assert exits.event.tolist() == [EVENT, EVENT, CENSORED]
    assert exits.time[:2] == pytest.approx(months_since(np.array([d, d]), np.array(["2012-04-10", "2012-02-20"],
                                                                                   dtype="datetime64[D]")))
    # c starts VV on 2012-04-03: censored the day before (enrol_vs_not), followed on otherwise
    assert exits.time[2] == pytest.approx(months_since(np.array([d]), np.array(["2012-04-03"], dtype="datetime64[D]"))[0] - 1e-6)
    assert follow_up(trials, ret, rs.data_end, "enrol_now_vs_later").time[2] > 4
    applied = follow_up(trials, app, rs.data_end, "enrol_vs_not")
    # p and b applied before 2012-02-15: neither application counts; their exits compete
    assert applied.event.tolist() == [COMPETING, COMPETING, CENSORED]


def test_trials_enter_a_horizon_only_when_their_whole_month_is_followed(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES)
    trials = matched(rs, "p", ["b"])
    assert trial_reaches(trials.units, rs.data_end, 2).all()      # 2012-02 + 2 months < 2012-07
    assert not trial_reaches(trials.units, rs.data_end, 5).any()  # 2012-02-29 + 5 months > 2012-06-30


def test_frame_facts_and_all_null_covariates_are_left_out(con):
    rs = build_risk_sets(con, "VV", ("age", "sex", "health_issue"), OUTCOMES)
    assert rs.covariates == ("age", "sex") and rs.dropped_covariates == ("health_issue",)
    assert (rs.first_period, rs.last_period) == ("2012-02", "2012-04")


def test_unknown_covariate_names_the_key_and_the_choices(con):
    with pytest.raises(RiskSetDataError) as info:
        build_risk_sets(con, "VV", ("age", "hscl_mean"), OUTCOMES, where="models/x.yaml: ")
    message = str(info.value)
    assert message.startswith("models/x.yaml: evaluation.covariates.1: unknown covariate 'hscl_mean'; expected one of ")
    assert "'sex'" in message and "'exit_type'" not in message


def test_store_without_panel_is_a_clear_error():
    with pytest.raises(RiskSetDataError, match="no person-month panel"):
        build_risk_sets(duckdb.connect(), "VV", ("age",), OUTCOMES)


def test_bad_subgroup_filter_names_the_measure(con):
    with pytest.raises(RiskSetDataError, match="risk sets of measure 'VV' could not be built"):
        build_risk_sets(con, "VV", ("age",), OUTCOMES[:1], {"c": "no_such_column > 1"})


def test_exact_matching_columns_are_selected_and_checked(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES[:1], exact=("sex",))
    assert "sex" in rs.frame.columns and rs.covariates == ("age",)
    with pytest.raises(RiskSetDataError, match=r"evaluation\.matching\.exact\.0: unknown covariate 'region'"):
        build_risk_sets(con, "VV", ("age",), OUTCOMES[:1], exact=("region",))


def test_subgroup_filter_gives_a_boolean_column(con):
    rs = build_risk_sets(con, "VV", ("age",), OUTCOMES[:1], {"women": "sex = 'female'"})
    got = dict(zip(zip(rs.frame["person_id"], rs.frame["period"]), rs.frame["sg_women"]))
    assert got[("c", "2012-02")] and got[("q", "2012-02")] and not got[("p", "2012-02")]


# --- the class: any dates, either group -------------------------------------------------------

day = st.integers(-70, 120)


@st.composite
def matched_sets(draw):
    n_sets = draw(st.integers(1, 4))
    rows = []
    for s in range(n_sets):
        start = draw(st.integers(1, 28))
        size = draw(st.integers(1, 3))
        for j in range(size + 1):
            exit_offset = draw(st.one_of(st.none(), day))
            app_offset = draw(st.one_of(st.none(), day))
            if j == 0 and exit_offset is not None:
                exit_offset = max(exit_offset, 1)  # a participant is present after the start date
            rows.append({"set": s, "treated": j == 0, "start": start, "exit": exit_offset, "app": app_offset})
    return rows


@settings(max_examples=150, deadline=None)
@given(matched_sets())
def test_no_event_before_the_index_date_ever_counts_for_either_group(rows):
    month = np.datetime64("2013-03-01")
    records, mm = [], []
    for s in sorted({r["set"] for r in rows}):
        members = [r for r in rows if r["set"] == s]
        d = month + np.timedelta64(members[0]["start"] - 1, "D")
        base = len(records)
        for r in members:
            exit_date = None if r["exit"] is None else d + np.timedelta64(r["exit"], "D")
            app = None if r["app"] is None else [d + np.timedelta64(r["app"], "D")]
            records.append({"person_id": f"s{s}-{len(records)}", "period": "2013-03", "month": pd.Timestamp(month),
                            "treated": r["treated"], "index_date": pd.Timestamp(d) if r["treated"] else pd.NaT,
                            "exit_date": pd.NaT if exit_date is None else pd.Timestamp(exit_date),
                            "exit_type": "assisted_return" if exit_date is not None else None,
                            "later_start": pd.NaT, "applications": app, "age": 30})
        mm.append([base + k for k in range(1, len(members))] + [-1] * (4 - len(members)))
    data = pd.DataFrame(records)
    treat = data["treated"].to_numpy(bool)
    sample = MatchedSample(treat=treat, distance=np.full(len(data), 0.5), weights=np.zeros(len(data)),
                           subclass=np.full(len(data), -1), match_matrix=np.array(mm), discarded=np.zeros(len(data), bool),
                           covariates=data[["age"]], settings={})
    trials = pair_units(data, sample, np.arange(len(data)))
    units = trials.units
    data_end = pd.Timestamp("2014-01-01")
    d = units["index_date"].to_numpy(dtype="datetime64[D]")
    exit_date = data["exit_date"].to_numpy(dtype="datetime64[D]")[units["row"]]
    # a comparison person who left on or before the index date is never a unit
    assert (np.isnat(exit_date) | (exit_date > d)).all()
    for spec in OUTCOMES[:2]:
        fu = follow_up(trials, spec, data_end, "enrol_vs_not")
        assert (fu.time >= 0).all()
        window_end = add_months(d, spec.months)
        if spec.kind == "exit_within":
            when = exit_date
        else:
            apps = [x[0] if isinstance(x, list) else np.datetime64("NaT") for x in data["applications"].iloc[units["row"]]]
            when = np.array(apps, dtype="datetime64[D]")
            when = np.where(~np.isnat(when) & (when >= d) & (np.isnat(exit_date) | (when <= exit_date)),
                            when, np.datetime64("NaT"))
        inside = ~np.isnat(when) & (when >= d) & (when < window_end)
        counted = (fu.event == EVENT) & (fu.time < spec.months)
        assert (counted == inside).all()  # the same rule for participants and comparison persons
