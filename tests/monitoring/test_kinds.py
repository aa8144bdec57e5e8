"""Indicator kinds: the new kinds against independent computations, their disclosure rules,
and a new kind added in one place."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from logicmodel import vocabulary
from logicmodel.catalogue import Catalogue, Indicator
from monitoring import kinds
from monitoring.disclosure import Thresholds
from monitoring.indicators import IndicatorSpec, indicator_spec
from monitoring.release import IndicatorTable, Row, cell_definition, decide
from monitoring.sqlcompile import compile_plan, execute_plan, period_label
from monitoring.store import Store

from registers import loaded_store


def spec_of(definition: dict) -> IndicatorSpec:
    """The spec of an indicator written as catalogue data (validated into the typed object)."""
    return indicator_spec(Indicator.model_validate(definition))


END = {"month": dt.date(2014, 1, 1), "quarter": dt.date(2014, 1, 1), "year": dt.date(2014, 1, 1)}
HEAD = {"title": "x", "unit": "u", "direction": "neutral"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = loaded_store(tmp_path_factory.mktemp("kinds"))
    opened = Store.open(path, read_only=True, migrate=False, analysis=True)
    con = opened.connect()
    panel = con.execute("SELECT * FROM person_month").df()
    panel["period"] = panel.month.map(lambda d: f"{d:%Y-%m}")
    yield con, panel
    opened.close()


def values(con, definition: dict, measure: str | None = None) -> pd.DataFrame:
    spec = spec_of({"id": "x", **HEAD, **definition})
    ((_query, rows),) = execute_plan(con, compile_plan([(spec, measure, 0)], END))
    frame = pd.DataFrame(rows, columns=["p", "dimension", "group", "numerator", "denominator", "value", "top",
                                       "numerator_part", "denominator_part"])
    frame["period"] = [period_label(p, spec.grain) for p in frame.p]
    return frame.set_index(["period", "dimension", "group"]).sort_index()


def test_vocabularies_come_from_one_definition():
    assert set(kinds.KINDS) == set(vocabulary.indicator_kinds())
    for name, keys in vocabulary.INDICATOR_KINDS.items():
        assert (kinds.KINDS[name].required, kinds.KINDS[name].optional) == (keys.required, keys.optional)
    from monitoring import indicators

    assert set(indicators.SOURCES) == set(vocabulary.SOURCES)
    assert indicators.DIMENSIONS == vocabulary.DISAGGREGATIONS and indicators.GRAINS == vocabulary.GRAINS
    schema = Indicator.model_json_schema()
    assert schema["properties"]["type"]["enum"] == list(vocabulary.indicator_kinds())


def test_median_and_quantile_match_numpy_by_month_and_centre(store):
    con, panel = store
    median = values(con, {"source": "person_month", "type": "median", "column": "months_in_reception",
                          "filter": "participating", "disaggregations": ["centre"]})
    q25 = values(con, {"source": "person_month", "type": "quantile", "quantile": 0.25,
                       "column": "months_since_decision", "disaggregations": ["sex"]})
    sub = panel[panel.participating]
    expected = sub.groupby("period").months_in_reception.median()
    got = median.xs("total", level="dimension")["value"].droplevel("group").dropna()
    np.testing.assert_allclose(got.to_numpy(float), expected.reindex(got.index).to_numpy(float), rtol=0, atol=1e-12)
    by_centre = sub.assign(c=sub.centre_id.fillna("(missing)")).groupby(["period", "c"]).months_in_reception.median()
    got_c = median.xs("centre", level="dimension")["value"].dropna()
    np.testing.assert_allclose(got_c.to_numpy(float), by_centre.reindex(got_c.index).to_numpy(float), atol=1e-12)
    assert len(got_c) >= 50
    q = panel.groupby(["period", "sex"]).months_since_decision.quantile(0.25)
    got_q = q25.xs("sex", level="dimension")["value"].dropna()
    np.testing.assert_allclose(got_q.to_numpy(float), q.reindex(got_q.index).to_numpy(float), atol=1e-12)
    stored = median.xs("total", level="dimension")["numerator"].droplevel("group").reindex(got.index)
    assert stored.tolist() == sub.groupby("period").size().reindex(got.index).tolist()  # n observations stored


def test_a_rolling_median_merges_the_months_rows(store):
    con, panel = store
    got = values(con, {"source": "person_month", "type": "median", "column": "months_since_decision",
                       "window_months": 3})
    months = sorted(panel.period.unique())
    for n, period in enumerate(months[2:], 2):
        window = panel[panel.period.isin(months[n - 2:n + 1])]
        assert got.loc[(period, "total", ""), "value"] == pytest.approx(window.months_since_decision.median(), abs=1e-12)
    assert months[1] not in got.index.get_level_values("period")  # no full window yet


def _life_table_median(rows: pd.DataFrame) -> float | None:
    survival = 1.0
    for d, group in rows.groupby("months_since_decision"):
        survival *= 1 - group.exit_type.notna().sum() / len(group)
        if survival <= 0.5:
            return float(d)
    return None


def test_duration_until_exit_is_the_life_table_median_and_allows_for_censoring(store):
    con, panel = store
    got = values(con, {"source": "person_month", "type": "duration", "column": "months_since_decision",
                       "event": "exit_type IS NOT NULL", "grain": "year", "disaggregations": ["household"]})
    for year in ("2012", "2013"):
        rows = panel[panel.period.str.startswith(year)]
        assert got.loc[(year, "total", ""), "value"] == _life_table_median(rows)
        assert got.loc[(year, "total", ""), "numerator"] == rows.exit_type.notna().sum()  # events
        assert got.loc[(year, "total", ""), "denominator"] == len(rows)  # person-months at risk
        for household, part in rows.groupby("household"):
            assert got.loc[(year, "household", household), "value"] == _life_table_median(part)
    # censoring: an event no one has yet (all censored) never brings survival to one half: no value
    rare = values(con, {"source": "person_month", "type": "duration", "column": "months_since_decision",
                        "event": "exit_type = 'other'", "grain": "year"})
    assert rare.loc[("2013", "total", ""), "value"] is None or np.isnan(rare.loc[("2013", "total", ""), "value"])
    assert rare.loc[("2013", "total", ""), "denominator"] > 1000


def test_distinct_count_counts_values_once_and_is_not_additive(store):
    con, panel = store
    got = values(con, {"source": "person_month", "type": "distinct_count", "column": "centre_id",
                       "filter": "participating", "grain": "quarter", "disaggregations": ["sex"]})
    sub = panel[panel.participating].assign(q=lambda f: f.month.map(lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}"))
    expected = sub.groupby("q").centre_id.nunique()
    total = got.xs("total", level="dimension")["value"].droplevel("group")
    assert (total == expected.reindex(total.index).fillna(0)).all()
    by_sex = got.xs("sex", level="dimension")["value"].groupby(level="period").sum()
    assert (by_sex > total.reindex(by_sex.index)).any()  # centres with both sexes count in both groups
    definition = cell_definition(spec_of({"id": "x", **HEAD, "source": "person_month", "type": "distinct_count",
                                                 "column": "centre_id"}), None, 0)
    assert definition.additive is False and definition.kind == "count"


def _table(spec, rows, thresholds=Thresholds()):
    return IndicatorTable("m", spec.id, cell_definition(spec, None, 0), thresholds, rows)


def test_a_quantile_over_too_few_observations_is_suppressed():
    spec = spec_of({"id": "q", **HEAD, "source": "person_month", "type": "median", "column": "age"})
    rows = [Row(0, "total", "", 30.0, None, 31.0), Row(1, "total", "", 9.0, None, 40.0),
            Row(2, "total", "", 10.0, None, 38.0), Row(3, "total", "", 0.0, None, None)]
    hidden = decide([_table(spec, rows)])
    assert hidden == {("m", "q", 1, "total", "")}  # 9 < 2 x 5: fewer than 5 on one side of the median
    p90 = spec_of({"id": "q", **HEAD, "source": "person_month", "type": "quantile", "quantile": 0.9, "column": "age"})
    hidden = decide([_table(p90, [Row(0, "total", "", 30.0, None, 31.0), Row(1, "total", "", 50.0, None, 40.0)])])
    assert hidden == {("m", "q", 0, "total", "")}  # 30 x 0.1 = 3 above the 90th percentile: too few


def test_a_duration_on_few_events_or_few_at_risk_is_suppressed():
    spec = spec_of({"id": "d", **HEAD, "source": "person_month", "type": "duration",
                           "column": "months_since_decision", "event": "exit_type IS NOT NULL"})
    rows = [Row(0, "total", "", 4.0, 200.0, 12.0), Row(1, "total", "", 5.0, 9.0, 2.0), Row(2, "total", "", 6.0, 300.0, 8.0)]
    assert decide([_table(spec, rows)]) == {("m", "d", 0, "total", ""), ("m", "d", 1, "total", "")}


def test_the_quantile_of_a_histogram_is_type_7():
    rng = np.random.default_rng(3)
    for _ in range(200):
        data = rng.integers(0, 12, rng.integers(1, 40)).astype(float)
        for q in (0.1, 0.25, 0.5, 0.9):
            assert kinds.quantile(Counter(data.tolist()), q) == pytest.approx(np.quantile(data, q), abs=1e-12)


@pytest.fixture
def maximum_kind():
    """A new kind, written in one place: one class, registered by the decorator."""

    class Maximum(kinds._QuantileKind):
        name = "maximum"
        required = ("column",)
        optional = ("filter",)
        summary = "the largest value of the column"

        def value(self, spec, numerator, denominator):
            return None if not numerator else spec.scale * float(max(numerator))

    kinds.indicator_kind(Maximum)
    yield Maximum
    kinds.KINDS.pop("maximum")
    vocabulary.INDICATOR_KINDS.pop("maximum")


def test_a_new_kind_is_one_class(store, maximum_kind):
    con, panel = store
    catalogue = Catalogue.model_validate({"version": "1", "indicators": [
        {"id": "oldest", **HEAD, "source": "person_month", "type": "maximum", "column": "age",
         "disaggregations": ["centre"]}]})  # the schema accepts the new type
    from logicmodel.rules.catalogue_rules import type_keys

    assert type_keys("maximum") == (("column",), ("condition", "distinct", "numerator", "denominator", "quantile", "event"))
    spec = indicator_spec(catalogue.indicators[0])
    ((_query, rows),) = execute_plan(con, compile_plan([(spec, None, 0)], END))
    got = {(period_label(p, "month"), d, g): v for p, d, g, _n, _d, v, *_ in rows}
    expected = panel.groupby("period").age.max()
    assert all(got[(period, "total", "")] == value for period, value in expected.items())
    assert cell_definition(spec, None, 0).kind == "quantile"  # protected like a quantile
