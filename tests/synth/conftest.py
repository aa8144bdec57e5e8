"""Shared generated registers (module-independent, generated once per session)."""

from __future__ import annotations

import pytest

from tiltak.synth import SynthConfig, generate


@pytest.fixture(scope="session")
def default_registers():
    return generate(SynthConfig(seed=11))


@pytest.fixture(scope="session")
def second_registers():
    return generate(SynthConfig(seed=12))


def contract_problems(registers) -> list[str]:
    """Every departure of the generated tables from monitoring.contract (empty when none)."""
    import re

    import pandas as pd

    from monitoring.contract import CONTRACT

    problems = []
    for name, table in CONTRACT.items():
        frame = registers.tables[name]
        missing = set(table.required_columns) - set(frame.columns)
        unknown = set(frame.columns) - set(table.column_names)
        problems += [f"{name}: missing {sorted(missing)}"] * bool(missing)
        problems += [f"{name}: unknown {sorted(unknown)}"] * bool(unknown)
        key = [k for k in table.key if k in frame]
        if key and frame.duplicated(key).any():
            problems.append(f"{name}: duplicate keys")
        for column in table.columns:
            if column.name not in frame:
                continue
            values = frame[column.name]
            present = values.dropna()
            if not column.nullable and values.isna().any():
                problems.append(f"{name}.{column.name}: nulls")
            if column.codes and not set(present) <= set(column.codes):
                problems.append(f"{name}.{column.name}: codes {set(present) - set(column.codes)}")
            if column.pattern and not present.map(lambda v: re.fullmatch(column.pattern, str(v)) is not None).all():
                problems.append(f"{name}.{column.name}: pattern")
            if column.references:
                target, target_column = column.references.split(".")
                if not set(present) <= set(registers.tables[target][target_column]):
                    problems.append(f"{name}.{column.name}: unknown references")
            if column.minimum is not None and (present < column.minimum).any():
                problems.append(f"{name}.{column.name}: below {column.minimum}")
            if column.type == "DATE" and (present >= pd.Timestamp("2026-01-01")).any():
                problems.append(f"{name}.{column.name}: future date")
        for order in table.date_orders:
            if not {order.first, order.second} <= set(frame.columns):
                continue
            both = frame[[order.first, order.second]].dropna()
            bad = both[order.first] >= both[order.second] if order.strict else both[order.first] > both[order.second]
            if bad.any():
                problems.append(f"{name}: {order.first} after {order.second} in {int(bad.sum())} rows")
    res = registers.tables["residence"].sort_values(["person_id", "date_from"])
    same = res["person_id"].eq(res["person_id"].shift(-1))
    end = res["date_to"].fillna(pd.Timestamp("2100-01-01"))
    if (end[same].to_numpy() > res["date_from"].shift(-1)[same].to_numpy()).any():
        problems.append("residence: overlapping spells")
    return problems


@pytest.fixture(scope="session")
def check_contract():
    return contract_problems
