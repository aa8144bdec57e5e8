"""The existing indicator kinds publish on DuckDB exactly what they published before the
indicator plan (golden files made on main at e43452b; tests/golden/monitoring/README.md)."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from monitoring.runs import run_models

from registers import GOLDEN, AS_OF, MODEL_NAMES, loaded_store, monitored_models, shown_json


ROUNDING = {"value": 0, "target": 0, "change": 1, "slope_per_year": 1}
"""Main's rounding at e43452b: to the indicator's decimals, trends to one more."""


def _as_main_showed(text: str) -> str:
    """``monitor show --format json`` as main wrote it at e43452b: since then it carries each
    value at full precision with the indicator's ``decimals`` and ``title`` (machine-readable
    outputs keep every digit) and its ``provisional`` flag (issue 11); main rounded
    (``ROUNDING``) and had none of these keys."""
    rows = []
    for row in json.loads(text):
        decimals = row.pop("decimals")
        row.pop("title")
        row.pop("provisional")
        for key, extra in ROUNDING.items():
            if row[key] is not None:
                row[key] = round(float(row[key]), decimals + extra)
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    store = loaded_store(tmp_path_factory.mktemp("golden"))
    models = monitored_models()
    run_models(store, models, as_of=dt.date.fromisoformat(AS_OF))
    return store, models


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_published_values_are_byte_for_byte_those_of_main(computed, name):
    store, models = computed
    model = next(m for m in models if m.path.endswith(f"{name}.yaml"))
    expected = gzip.decompress((GOLDEN / f"show-{name}.json.gz").read_bytes()).decode("utf-8")
    got = _as_main_showed(shown_json(store, model))
    assert got.count("\n") == expected.count("\n")
    if got == expected:
        return
    # Sums are now exact (DECIMAL) where main added doubles in the engine's order; a trend
    # computed from a mean may then land on the other side of a rounding tie. Values,
    # suppression and status must still be identical; change and slope within one unit of
    # their last digit.
    differences = 0
    for old, new in zip(json.loads(expected), json.loads(got)):
        if old == new:
            continue
        differences += 1
        trend = {"change", "slope_per_year"}
        assert {k for k in old if old[k] != new[k]} <= trend, (old, new)
        for key in trend:
            if old[key] != new[key]:
                assert abs(old[key] - new[key]) <= 10 ** -(len(str(old[key]).split(".")[-1])) + 1e-12, (old, new)
    assert differences <= 3
