"""Risk sets and outcomes built from a small hand-made store (expected rows worked out by hand)."""

import duckdb
import pytest

from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.riskset_data import RiskSetDataError, build_risk_sets

PANEL = [  # person, month, age, sex
    ("a", "2012-01", 30, "male"), ("a", "2012-02", 30, "male"),
    ("b", "2012-01", 40, "female"), ("b", "2012-02", 40, "female"), ("b", "2012-03", 40, "female"),
    ("c", "2012-01", 25, "male"), ("c", "2012-02", 25, "male"), ("c", "2012-03", 25, "male"),
    ("c", "2012-04", 25, "male"),
    ("d", "2012-02", 50, "female"), ("d", "2012-03", 50, "female"), ("d", "2012-04", 50, "female"),
]


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("CREATE TABLE person_month (person_id VARCHAR, month DATE, period VARCHAR, age INTEGER, sex VARCHAR, "
                "health_issue BOOLEAN, measure VARCHAR, exit_type VARCHAR)")
    con.executemany("INSERT INTO person_month VALUES (?, CAST(? || '-01' AS DATE), ?, ?, ?, NULL, NULL, NULL)",
                    [(p, m, m, a, s) for p, m, a, s in PANEL])
    con.execute("CREATE TABLE participation (person_id VARCHAR, measure VARCHAR, start_date DATE)")
    con.executemany("INSERT INTO participation VALUES (?, ?, ?)",
                    [("b", "VV", "2012-02-10"), ("b", "VV", "2012-03-01"), ("d", "VV", "2012-03-20"),
                     ("c", "KVL", "2012-01-15")])
    con.execute("CREATE TABLE exits (person_id VARCHAR, exit_date DATE, exit_type VARCHAR)")
    con.executemany("INSERT INTO exits VALUES (?, ?, ?)",
                    [("a", "2012-02-20", "assisted_return"), ("b", "2012-03-05", "assisted_return"),
                     ("d", "2012-04-10", "forced_return")])
    con.execute("CREATE TABLE applications (person_id VARCHAR, application_date DATE, programme VARCHAR)")
    con.execute("INSERT INTO applications VALUES ('c', '2012-03-02', 'assisted_return')")
    con.execute("CREATE TABLE surveys (person_id VARCHAR, survey_date DATE, instrument VARCHAR, total DOUBLE)")
    con.executemany("INSERT INTO surveys VALUES (?, ?, ?, ?)",
                    [("b", "2012-02-10", "hscl10", 2.5), ("b", "2012-03-12", "hscl10", 2.1),
                     ("c", "2012-02-01", "hscl10", 1.9), ("c", "2012-03-25", "hscl10", 2.0),
                     ("d", "2012-03-21", "phq9", 12.0)])
    return con


OUTCOMES = tuple(OutcomeSpec.from_mapping(o) for o in [
    {"id": "ret1", "kind": "exit_within", "exit_types": ["assisted_return"], "months": 1},
    {"id": "ret2", "kind": "exit_within", "exit_types": ["assisted_return"], "months": 2},
    {"id": "app2", "kind": "application_within", "programme": "assisted_return", "months": 2},
    {"id": "hscl1", "kind": "survey_change", "instrument": "hscl10", "months": 1, "unit": "score"},
])


def rows(frame):
    return [tuple(None if v != v else v for v in r) for r in
            frame[["person_id", "period", "treated", "y_ret1", "y_ret2", "y_app2", "y_hscl1"]].itertuples(index=False)]


def test_outcome_values_censoring_and_competing_exits(con):
    """Only months with an enrolment (2012-02, 2012-03) form risk sets; b's rows after its
    enrolment are gone; d is a candidate in 2012-02 and enrols in 2012-03; the data end
    with 2012-04."""
    rs = build_risk_sets(con, "VV", ("age", "sex"), OUTCOMES)
    got = {(r[0], r[1]): r[2:] for r in rows(rs.frame)}
    assert list(got) == [("a", "2012-02"), ("b", "2012-02"), ("c", "2012-02"), ("d", "2012-02"),
                         ("c", "2012-03"), ("d", "2012-03")]
    # a: assisted return 2012-02-20, inside both windows from 2012-02
    assert got[("a", "2012-02")] == (False, 1.0, 1.0, 0.0, None)
    # b enrols 2012-02; returns 2012-03-05: not within 1 month, within 2; HSCL 2.1 - 2.5
    assert got[("b", "2012-02")][:4] == (True, 0.0, 1.0, 0.0)
    assert got[("b", "2012-02")][4] == pytest.approx(-0.4)
    # c: application 2012-03-02 is within 2 months of 2012-02 and of 2012-03; HSCL 2.0 - 1.9
    assert got[("c", "2012-02")][:4] == (False, 0.0, 0.0, 1.0)
    assert got[("c", "2012-02")][4] == pytest.approx(0.1)
    # d's forced return competes: 0 for assisted return, not missing
    assert got[("d", "2012-03")] == (True, 0.0, 0.0, 0.0, None)
    # from 2012-03 two months of follow-up end exactly with the data (2012-04): observed;
    # the HSCL baseline of 2012-03-25 cannot also be its own follow-up
    assert got[("c", "2012-03")] == (False, 0.0, 0.0, 1.0, None)


def test_follow_up_beyond_the_data_is_censored(con):
    three = OutcomeSpec.from_mapping({"id": "ret3", "kind": "exit_within", "exit_types": ["assisted_return"], "months": 3})
    rs = build_risk_sets(con, "VV", ("age",), (three,))
    got = dict(zip(zip(rs.frame["person_id"], rs.frame["period"]), rs.frame["y_ret3"]))
    assert got[("a", "2012-02")] == 1.0  # 2012-02..2012-04 is inside the data
    assert got[("c", "2012-03")] != got[("c", "2012-03")]  # 2012-03..2012-05 is not: NaN


def test_frame_facts_and_all_null_covariates_are_left_out(con):
    rs = build_risk_sets(con, "VV", ("age", "sex", "health_issue"), OUTCOMES)
    assert rs.covariates == ("age", "sex") and rs.dropped_covariates == ("health_issue",)
    assert (rs.n_enrolled, rs.n_treated, rs.first_period, rs.last_period) == (2, 2, "2012-02", "2012-03")


def test_unknown_covariate_names_the_key_and_the_choices(con):
    with pytest.raises(RiskSetDataError) as info:
        build_risk_sets(con, "VV", ("age", "hscl_mean"), OUTCOMES, where="models/x.yaml: ")
    message = str(info.value)
    assert message.startswith("models/x.yaml: evaluation.covariates.1: unknown covariate 'hscl_mean'; expected one of ")
    assert "'sex'" in message and "'exit_type'" not in message


def test_store_without_panel_is_a_clear_error():
    with pytest.raises(RiskSetDataError, match="no person-month panel"):
        build_risk_sets(duckdb.connect(), "VV", ("age",), OUTCOMES)


def test_bad_subgroup_filter_names_the_measure():
    con = duckdb.connect()
    con.execute("CREATE TABLE person_month (person_id VARCHAR, month DATE, period VARCHAR, age INTEGER)")
    for table, cols in [("participation", "person_id VARCHAR, measure VARCHAR, start_date DATE"),
                        ("exits", "person_id VARCHAR, exit_date DATE, exit_type VARCHAR"),
                        ("applications", "person_id VARCHAR, application_date DATE, programme VARCHAR"),
                        ("surveys", "person_id VARCHAR, survey_date DATE, instrument VARCHAR, total DOUBLE")]:
        con.execute(f"CREATE TABLE {table} ({cols})")
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
    assert got[("b", "2012-02")] and got[("d", "2012-03")] and not got[("a", "2012-02")]
