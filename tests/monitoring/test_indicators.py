"""Each indicator type against an independent computation in pandas on small hand-made registers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from logicmodel.catalogue import Indicator
from monitoring.indicators import IndicatorDefinitionError, IndicatorSpec, indicator_spec
from monitoring.sqlcompile import compile_plan, execute_plan, index_of_date, period_label
from monitoring.store import Store


def spec_of(definition: dict) -> IndicatorSpec:
    """The spec of an indicator written as catalogue data (validated into the typed object)."""
    return indicator_spec(Indicator.model_validate(definition))


END = {"month": dt.date(2013, 7, 1), "quarter": dt.date(2013, 7, 1), "year": dt.date(2014, 1, 1)}
CENTRES = ["c1", "c2", "c3"]
REGION = {"c1": "north", "c2": "north", "c3": "west"}


def _panel(seed: int = 7, persons: int = 60) -> pd.DataFrame:
    """A random person-month panel: 60 persons over 2012-01..2013-06 (some leave early)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(persons):
        first = int(rng.integers(0, 12))
        stay = int(rng.integers(1, 18))
        sex = "female" if rng.random() < 0.3 else "male"
        birth = int(rng.integers(1960, 1995))
        for m in range(first, min(first + stay, 18)):
            month = dt.date(2012 + m // 12, m % 12 + 1, 1)
            centre = CENTRES[(i + m // 6) % 3] if rng.random() > 0.05 else None
            measure = rng.choice(["VV", "KVL", None], p=[0.2, 0.1, 0.7])
            exit_type = rng.choice(["assisted_return", "forced_return", None], p=[0.08, 0.04, 0.88]) if m == first + stay - 1 else None
            age = month.year - birth
            rows.append({
                "person_id": f"p{i:03d}", "month": month, "period": f"{month:%Y-%m}", "centre_id": centre,
                "centre_type": "ordinary", "region": REGION.get(centre), "municipality": "x", "nationality": rng.choice(["AFG", "IRQ", "SOM"]),
                "returnability": "low", "return_agreement": False, "sex": sex, "household": rng.choice(["single", "couple"]),
                "age": age, "age_band": "18-24" if age < 25 else "25-34" if age < 35 else "35-44" if age < 45 else "45-54" if age < 55 else "55+",
                "dublin": bool(rng.random() < 0.1), "identity_documented": bool(rng.random() < 0.5), "prior_absconding": False,
                "health_issue": None, "special_circumstances": None, "months_since_decision": int(m - first + rng.integers(0, 30)),
                "months_in_reception": int(m - first), "measure": measure, "participating": measure is not None,
                "enrolled": bool(measure is not None and rng.random() < 0.3), "exit_type": exit_type, "applied": bool(rng.random() < 0.07),
            })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def registers(tmp_path_factory):
    """A store holding the random panel, participation, surveys and costs; returns (con, frames)."""
    rng = np.random.default_rng(11)
    panel = _panel()
    part = pd.DataFrame({
        "person_id": [f"p{i:03d}" for i in range(40)],
        "measure": ["VV" if i % 3 else "KVL" for i in range(40)],
        "start_date": [dt.date(2012, 1 + i % 12, 1 + i % 27) for i in range(40)],
        "end_date": [None] * 40, "sessions_planned": rng.integers(4, 12, 40),
        "sessions_attended": [int(x) if i % 7 else None for i, x in enumerate(rng.integers(0, 10, 40))],
        "completed": rng.random(40) < 0.5, "centre_id": [CENTRES[i % 3] for i in range(40)],
    })
    surveys = pd.DataFrame({
        "person_id": [f"p{i % 40:03d}" for i in range(120)],
        "survey_date": [dt.date(2012, 1 + (i * 5) % 12, 1 + i % 28) + dt.timedelta(days=365 * (i % 2)) for i in range(120)],
        "instrument": ["hscl10" if i % 4 else "mi_importance" for i in range(120)],
        "total": np.round(rng.uniform(1, 4, 120), 2),
    })
    costs = pd.DataFrame({"measure": ["VV", "VV", "KVL", "VV"], "centre_id": ["c1", None, "c2", "c2"],
                          "period": ["2012-03", "2012-11", "2012-05", "2013-02"], "amount_nok": [1000.0, 5000.0, 700.0, 300.0]})
    store = Store.open(tmp_path_factory.mktemp("ind") / "store.duckdb")
    con = store.connect()
    for table, frame in (("person_month", panel), ("participation", part), ("surveys", surveys), ("costs", costs)):
        con.register("_f", frame)
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _f")
        con.unregister("_f")
    con.execute("INSERT INTO centres SELECT * FROM (VALUES ('c1','C1','ordinary','north','m'), ('c2','C2','family','north','m'), "
                "('c3','C3','health','west','m'))")
    yield con, {"panel": panel, "participation": part, "surveys": surveys, "costs": costs}
    store.close()


def compute(con, definition: dict, measure: str | None = "VV", start: str = "2012-01") -> pd.DataFrame:
    """Values of one indicator, as a frame indexed by (period, dimension, group)."""
    spec = spec_of({"id": "x", "title": "x", "unit": "u", "direction": "neutral", **definition})
    first = index_of_date(dt.date(int(start[:4]), int(start[5:]), 1), spec.grain)
    plan = compile_plan([(spec, measure, first)], END)
    ((_query, rows),) = execute_plan(con, plan)
    frame = pd.DataFrame(rows, columns=["p", "dimension", "group", "numerator", "denominator", "value", "top",
                                       "numerator_part", "denominator_part"])
    frame["period"] = [period_label(p, spec.grain) for p in frame.p]
    return frame.set_index(["period", "dimension", "group"]).sort_index()


def _month_label(series: pd.Series) -> pd.Series:
    return series.map(lambda d: f"{d:%Y-%m}")


def _quarter_label(series: pd.Series) -> pd.Series:
    return series.map(lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}")


def _compare(got: pd.Series, expected: pd.Series, zero_fill: bool = True) -> None:
    expected = expected.astype(float)
    joined = pd.concat([got.rename("got"), expected.rename("expected")], axis=1)
    if zero_fill:
        joined["expected"] = joined["expected"].fillna(0.0)
    np.testing.assert_allclose(joined["got"].to_numpy(float), joined["expected"].to_numpy(float), rtol=1e-9, atol=1e-9,
                               err_msg=str(joined[~np.isclose(joined.got.fillna(-1), joined.expected.fillna(-1))].head()))


def test_count_with_filter_by_month_total_and_centre(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "filter": "exit_type = 'assisted_return'",
                        "disaggregations": ["centre", "sex"]})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    hit = panel[panel.exit_type == "assisted_return"]
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), hit.groupby("period").size())
    by_centre = hit.assign(centre=hit.centre_id.fillna("(missing)")).groupby(["period", "centre"]).size()
    _compare(got.xs("centre", level="dimension")["value"].rename_axis(["period", "centre"]), by_centre)
    by_sex = hit.groupby(["period", "sex"]).size()
    _compare(got.xs("sex", level="dimension")["value"].rename_axis(["period", "sex"]), by_sex)


def test_count_distinct_per_quarter(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "distinct": "person_id", "grain": "quarter",
                        "disaggregations": ["region"]})
    panel = frames["panel"].assign(period=lambda f: _quarter_label(f.month))
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), panel.groupby("period").person_id.nunique())
    region = panel.assign(region=panel.region.fillna("(missing)")).groupby(["period", "region"]).person_id.nunique()
    _compare(got.xs("region", level="dimension")["value"].rename_axis(["period", "region"]), region)


def test_mean_of_a_column_by_household(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "mean", "column": "months_since_decision",
                        "filter": "dublin = false", "disaggregations": ["household"]})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    sub = panel[~panel.dublin]
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), sub.groupby("period").months_since_decision.mean(), zero_fill=False)
    _compare(got.xs("household", level="dimension")["value"].rename_axis(["period", "household"]).dropna(),
             sub.groupby(["period", "household"]).months_since_decision.mean(), zero_fill=False)


def test_sum_counts_contributors_in_its_denominator(registers):
    con, frames = registers
    got = compute(con, {"source": "participation", "type": "sum", "column": "sessions_attended", "measure_scoped": True})
    part = frames["participation"]
    vv = part[part.measure == "VV"].assign(period=lambda f: _month_label(f.start_date))
    total = got.xs("total", level="dimension").droplevel("group")
    _compare(total["value"], vv.groupby("period").sessions_attended.sum())
    _compare(total["denominator"], vv.groupby("period").sessions_attended.count())


def test_share_is_condition_over_population_times_scale(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "share", "filter": "sex = 'male'", "condition": "months_since_decision >= 12",
                        "scale": 100, "disaggregations": ["age_band"]})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    men = panel[panel.sex == "male"]
    share = 100 * men.groupby("period").apply(lambda f: (f.months_since_decision >= 12).mean(), include_groups=False)
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), share, zero_fill=False)
    by_age = 100 * men.groupby(["period", "age_band"]).apply(lambda f: (f.months_since_decision >= 12).mean(), include_groups=False)
    _compare(got.xs("age_band", level="dimension")["value"].rename_axis(["period", "age_band"]).dropna(), by_age, zero_fill=False)


def test_ratio_with_own_filters(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "ratio", "scale": 100,
                        "numerator": {"type": "count", "filter": "exit_type IS NOT NULL"},
                        "denominator": {"type": "count", "filter": "NOT dublin"}})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    num = panel[panel.exit_type.notna()].groupby("period").size()
    den = panel[~panel.dublin].groupby("period").size()
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), 100 * num.reindex(den.index, fill_value=0) / den, zero_fill=False)


def test_rolling_window_sums_numerator_and_denominator_and_needs_a_full_window(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "ratio", "scale": 100, "window_months": 3,
                        "numerator": {"type": "count", "filter": "exit_type = 'assisted_return'"},
                        "denominator": {"type": "count"}, "disaggregations": ["centre"]})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    months = pd.Index([f"{2012 + m // 12}-{m % 12 + 1:02d}" for m in range(18)])
    num = panel[panel.exit_type == "assisted_return"].groupby("period").size().reindex(months, fill_value=0)
    den = panel.groupby("period").size().reindex(months, fill_value=0)
    expected = (100 * num.rolling(3).sum() / den.rolling(3).sum()).dropna()
    total = got.xs("total", level="dimension").droplevel("group")
    assert list(total.index) == list(expected.index)  # the first two months have no full window
    _compare(total["value"], expected, zero_fill=False)
    c1 = panel[panel.centre_id == "c1"]
    num1 = c1[c1.exit_type == "assisted_return"].groupby("period").size().reindex(months, fill_value=0).rolling(3).sum()
    _compare(got.xs(("centre", "c1"), level=("dimension", "group"))["numerator"], num1.dropna())


def test_cumulative_distinct_counts_each_person_once_from_the_start(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "distinct": "person_id", "filter": "participating",
                        "cumulative": True, "disaggregations": ["sex"]}, start="2012-04")
    panel = frames["panel"]
    panel = panel[panel.participating & (panel.month >= dt.date(2012, 4, 1))].assign(period=lambda f: _month_label(f.month))
    first = panel.groupby("person_id").period.min().value_counts().sort_index().cumsum()
    months = [f"{2012 + m // 12}-{m % 12 + 1:02d}" for m in range(3, 18)]
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), first.reindex(months).ffill())
    women = panel[panel.sex == "female"].groupby("person_id").period.min().value_counts().sort_index().cumsum()
    _compare(got.xs(("sex", "female"), level=("dimension", "group"))["value"], women.reindex(months).ffill().fillna(0))


def test_cumulative_additive_count(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "filter": "applied", "cumulative": True})
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    months = [f"{2012 + m // 12}-{m % 12 + 1:02d}" for m in range(18)]
    expected = panel[panel.applied].groupby("period").size().reindex(months, fill_value=0).cumsum()
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), expected)


def test_measure_scope_on_the_panel_uses_the_months_measure(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "distinct": "person_id", "measure_scoped": True}, measure="KVL")
    panel = frames["panel"].assign(period=lambda f: _month_label(f.month))
    _compare(got.xs("total", level="dimension")["value"].droplevel("group"), panel[panel.measure == "KVL"].groupby("period").person_id.nunique())


def test_survey_mean_scoped_to_persons_who_started_the_measure(registers):
    con, frames = registers
    got = compute(con, {"source": "surveys", "type": "mean", "column": "total", "grain": "quarter", "measure_scoped": True,
                        "filter": "instrument = 'hscl10'", "disaggregations": ["centre"]})
    s, part, panel = frames["surveys"], frames["participation"], frames["panel"]
    first = part[part.measure == "VV"].groupby("person_id").start_date.min()
    s = s[(s.instrument == "hscl10") & s.person_id.isin(first.index)]
    start_month = s.person_id.map(first).map(lambda d: d.replace(day=1))
    s = s[start_month <= s.survey_date.map(lambda d: d.replace(day=1))]
    s = s[s.survey_date < END["quarter"]].assign(period=lambda f: _quarter_label(f.survey_date))
    _compare(got.xs("total", level="dimension")["value"].droplevel("group").dropna(), s.groupby("period").total.mean(), zero_fill=False)
    # centre: from the panel row of the survey month (missing when the person is not in the panel then)
    s = s.assign(month=s.survey_date.map(lambda d: d.replace(day=1)))
    merged = s.merge(panel[["person_id", "month", "centre_id"]], on=["person_id", "month"], how="left")
    merged["centre"] = merged.centre_id.fillna("(missing)")
    _compare(got.xs("centre", level="dimension")["value"].rename_axis(["period", "centre"]).dropna(),
             merged.groupby(["period", "centre"]).total.mean(), zero_fill=False)


def test_cost_ratio_across_sources_by_centre(registers):
    con, frames = registers
    got = compute(con, {"source": "costs", "type": "ratio", "grain": "year", "measure_scoped": True,
                        "numerator": {"type": "sum", "column": "amount_nok"},
                        "denominator": {"type": "count", "source": "person_month", "filter": "participating", "distinct": "person_id"},
                        "disaggregations": ["centre", "region"]})
    panel = frames["panel"]
    vv = panel[(panel.measure == "VV") & panel.participating]
    costs = frames["costs"][frames["costs"].measure == "VV"]
    assert got.loc[("2012", "total", ""), "numerator"] == 6000.0
    assert got.loc[("2012", "total", ""), "denominator"] == vv[vv.month < dt.date(2013, 1, 1)].person_id.nunique()
    assert got.loc[("2012", "centre", "(missing)"), "numerator"] == 5000.0  # central costs
    assert got.loc[("2012", "region", "north"), "numerator"] == 1000.0
    assert "2013" in got.index.get_level_values("period")  # 2013 is complete (END year 2014-01-01)


def test_a_centre_without_rows_in_a_month_counts_zero(registers):
    con, frames = registers
    got = compute(con, {"source": "person_month", "type": "count", "filter": "centre_id = 'c3' AND month = DATE '2012-05-01'",
                        "disaggregations": ["centre"]})
    assert got.loc[("2012-06", "centre", "c3"), "value"] == 0.0


def test_row_order_does_not_change_values(registers, tmp_path):
    con, frames = registers
    definition = {"source": "person_month", "type": "ratio", "scale": 100, "disaggregations": ["centre", "sex"],
                  "numerator": {"type": "count", "filter": "applied"}, "denominator": {"type": "count"}}
    before = compute(con, definition)
    shuffled = frames["panel"].sample(frac=1.0, random_state=3)
    with Store.open(tmp_path / "s.duckdb") as store:
        other = store.connect()
        other.register("_f", shuffled)
        other.execute(f"INSERT INTO person_month ({', '.join(shuffled.columns)}) SELECT {', '.join(shuffled.columns)} FROM _f")
        after = compute(other, definition)
    pd.testing.assert_frame_equal(before, after)


@pytest.mark.parametrize("definition, key, fragment", [
    ({"type": "share"}, "condition", "a share needs a condition"),
    ({"type": "ratio", "numerator": {"type": "count"}}, "numerator", "needs a numerator and a denominator"),
    ({"type": "sum"}, "column", "a sum needs a column"),
    ({"type": "median"}, "column", "a median needs a column"),
    ({"type": "duration", "column": "months_since_decision"}, "event", "a duration needs an event"),
    ({"type": "count", "grain": "quarter", "window_months": 4}, "window_months", "positive multiple of 3"),
    ({"type": "count", "window_months": 3, "cumulative": True}, "window_months", "either rolling"),
    ({"type": "count", "source": "costs", "disaggregations": ["sex"]}, "disaggregations", "cannot be broken down by 'sex'"),
])
def test_definitions_that_cannot_compile_name_the_key(definition, key, fragment):
    """Definitions the schema accepts but monitoring cannot compile (the schema's own
    refusals, e.g. an unknown type, grain or source, are tested with the catalogue rules)."""
    with pytest.raises(IndicatorDefinitionError) as err:
        spec_of({"id": "bad", "source": "person_month", "title": "x", "unit": "u", "direction": "neutral",
                        **definition})
    assert err.value.key == key
    assert fragment in str(err.value)
    assert str(err.value).startswith("indicator 'bad': ")


def test_several_measures_in_one_plan_give_the_same_values_as_one_at_a_time(registers):
    con, _frames = registers
    definitions = [
        {"source": "person_month", "type": "count", "distinct": "person_id", "filter": "participating", "measure_scoped": True,
         "disaggregations": ["centre"]},
        {"source": "surveys", "type": "mean", "column": "total", "grain": "quarter", "measure_scoped": True},
        {"source": "participation", "type": "count", "distinct": "person_id", "measure_scoped": True, "cumulative": True},
    ]
    specs = [spec_of({"id": f"x{n}", "title": "x", "unit": "u", "direction": "neutral", **d}) for n, d in enumerate(definitions)]
    items = [(s, m, 0) for s in specs for m in ("VV", "KVL")]
    together = execute_plan(con, compile_plan(items, END))
    for (spec, measure, _start), (query, rows) in zip(items, together):
        assert query.measure == measure
        ((_q, alone),) = execute_plan(con, compile_plan([(spec, measure, 0)], END))
        assert rows == alone and rows
    vv = dict(((r[0], r[1], r[2]), r[5]) for r in together[0][1])
    kvl = dict(((r[0], r[1], r[2]), r[5]) for r in together[1][1])
    assert vv != kvl


def test_cost_totals_carry_their_largest_contributions_per_centre(registers):
    con, frames = registers
    got = compute(con, {"source": "costs", "type": "sum", "column": "amount_nok", "grain": "year", "measure_scoped": True,
                        "disaggregations": ["centre", "region"]})
    # VV 2012: c1 1000 (north), central 5000; 2013: c2 300 (north)
    assert got.loc[("2012", "total", ""), "top"] == [5000.0, 1000.0]
    assert got.loc[("2012", "region", "north"), "top"] == [1000.0]
    assert got.loc[("2012", "centre", "(missing)"), "top"] == [5000.0]
    assert got.loc[("2013", "total", ""), "top"] == [300.0]
    windowed = compute(con, {"source": "costs", "type": "sum", "column": "amount_nok", "grain": "year", "cumulative": True})
    assert windowed["top"].isna().all()  # no dominance check over windows (documented)
