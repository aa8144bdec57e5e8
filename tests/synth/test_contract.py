"""The generated tables respect the data contract of monitoring.contract, column by column."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from monitoring.contract import CONTRACT, INSTRUMENT_SCALES

TODAY = pd.Timestamp("2026-01-01")


def _tables(registers):
    return registers.tables


def test_no_contract_problems(default_registers, second_registers, check_contract):
    assert check_contract(default_registers) == []
    assert check_contract(second_registers) == []


def test_every_contract_table_is_generated(default_registers):
    assert list(default_registers.tables) == list(CONTRACT)


@pytest.mark.parametrize("name", list(CONTRACT))
def test_columns_present_and_known(default_registers, name):
    frame, table = default_registers.tables[name], CONTRACT[name]
    assert set(table.required_columns) <= set(frame.columns)
    assert set(frame.columns) <= set(table.column_names)


@pytest.mark.parametrize("name", list(CONTRACT))
def test_values_follow_column_rules(default_registers, name):
    frame, table = default_registers.tables[name], CONTRACT[name]
    assert len(frame) > 0
    for column in table.columns:
        if column.name not in frame:
            continue
        values = frame[column.name]
        if not column.nullable:
            assert values.notna().all(), f"{name}.{column.name} has nulls"
        present = values.dropna()
        if column.codes:
            assert set(present) <= set(column.codes), f"{name}.{column.name}"
        if column.pattern:
            assert present.map(lambda v: re.fullmatch(column.pattern, str(v)) is not None).all()
        if column.type == "DATE":
            assert pd.api.types.is_datetime64_any_dtype(values)
            assert (present < TODAY).all()
        if column.type == "BOOLEAN":
            assert set(present.map(bool)) <= {True, False}
            assert present.map(lambda v: isinstance(v, (bool, np.bool_))).all()
        if column.type == "INTEGER":
            assert pd.api.types.is_integer_dtype(values)
        if column.minimum is not None:
            assert (present >= column.minimum).all()


@pytest.mark.parametrize("name", list(CONTRACT))
def test_keys_unique(default_registers, name):
    frame, table = default_registers.tables[name], CONTRACT[name]
    assert not frame.duplicated(list(table.key)).any()


@pytest.mark.parametrize("name", list(CONTRACT))
def test_references_resolve(default_registers, name):
    frame, table = default_registers.tables[name], CONTRACT[name]
    for column in table.columns:
        if column.references and column.name in frame:
            target_table, target_column = column.references.split(".")
            known = set(default_registers.tables[target_table][target_column])
            assert set(frame[column.name].dropna()) <= known, f"{name}.{column.name}"


@pytest.mark.parametrize("name", [n for n, t in CONTRACT.items() if t.date_orders])
def test_date_orders(default_registers, name):
    frame, table = default_registers.tables[name], CONTRACT[name]
    for order in table.date_orders:
        both = frame[[order.first, order.second]].dropna()
        if order.strict:
            assert (both[order.first] < both[order.second]).all()
        else:
            assert (both[order.first] <= both[order.second]).all()


def test_residence_spells_do_not_overlap(default_registers):
    res = default_registers.tables["residence"].sort_values(["person_id", "date_from"])
    same = res["person_id"].eq(res["person_id"].shift(-1))
    end = res["date_to"].fillna(pd.Timestamp("2100-01-01"))
    assert (end[same].to_numpy() <= res["date_from"].shift(-1)[same].to_numpy()).all()
    # only the last spell of a person may be open
    assert res.loc[same, "date_to"].notna().all()


def test_survey_totals_within_instrument_scale(default_registers):
    surveys = default_registers.tables["surveys"]
    for instrument, group in surveys.groupby("instrument"):
        scale = INSTRUMENT_SCALES[instrument]
        assert group["total"].between(scale.total_min, scale.total_max).all()
        items = group.filter(like="item_").dropna(axis=1, how="all")
        assert items.shape[1] == scale.items
        if scale.items:
            assert ((items >= scale.item_min) & (items <= scale.item_max)).all().all()
            assert np.allclose(items.mean(axis=1), group["total"])


def test_events_fall_inside_residence_and_after_decision(default_registers):
    t = default_registers.tables
    first = t["residence"].groupby("person_id")["date_from"].min()
    decision = t["decisions"].set_index("person_id")["decision_date"]
    exits = t["exits"].set_index("person_id")["exit_date"]
    assert (first.reindex(decision.index) < decision).all()
    assert (exits > decision.reindex(exits.index)).all()
    last_end = t["residence"].groupby("person_id")["date_to"].last()
    assert (last_end.reindex(exits.index) == exits).all()
    part = t["participation"].set_index("person_id")
    assert (part["start_date"] > decision.reindex(part.index)).all()
    ended = part["end_date"].notna() & part.index.isin(exits.index)
    assert (part.loc[ended, "end_date"] < exits.reindex(part.index)[ended]).all()
    apps = t["applications"].set_index("person_id")["application_date"]
    assert (apps >= decision.reindex(apps.index)).all()


def test_surveys_only_while_resident(default_registers):
    t = default_registers.tables
    exits = t["exits"].set_index("person_id")["exit_date"]
    surveys = t["surveys"]
    exit_of = surveys["person_id"].map(exits)
    assert (exit_of.isna() | (surveys["survey_date"] < exit_of)).all()


def _mutated(registers, name, change):
    import dataclasses
    from types import MappingProxyType

    tables = dict(registers.tables)
    tables[name] = change(tables[name].copy())
    return dataclasses.replace(registers, tables=MappingProxyType(tables))


def _overlap(frame):
    row = frame[frame["date_to"].notna()].iloc[[0]].copy()
    row["date_from"] = row["date_from"] + pd.Timedelta(days=1)
    return pd.concat([frame, row], ignore_index=True)


@pytest.mark.parametrize("name, change, fragment", [
    ("residence", _overlap, "residence: overlapping spells"),
    ("exits", lambda f: f.assign(exit_type=f["exit_type"].where(f.index > 0, "deported")), "exits.exit_type: codes"),
    ("persons", lambda f: pd.concat([f, f.iloc[[0]]]), "persons: duplicate keys"),
    ("participation", lambda f: f.assign(end_date=f["start_date"] - pd.Timedelta(days=1)), "start_date after end_date"),
    ("surveys", lambda f: f.assign(person_id="P999999999"), "surveys.person_id: unknown references"),
    ("costs", lambda f: f.drop(columns="period"), "costs: missing ['period']"),
])
def test_the_contract_check_catches_mutations(default_registers, check_contract, name, change, fragment):
    problems = check_contract(_mutated(default_registers, name, change))
    assert any(fragment in p for p in problems), problems
