"""`tiltak monitor explain`: every query under a plain-language header (title, whose rows, grain,
what each column computes from which table, what stage B does with the columns)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.explain import aggregate_words, explain_text
from monitoring.indicators import Aggregate
from monitoring.monitored import load_monitored_model
from model_texts import monitored_model

ROOT = Path(__file__).resolve().parents[2]

MODEL = monitored_model("explained", "hscl10_mean, assisted_returns_per_100_12m, cost_per_participant")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    (folder / "indicators.yaml").write_text((ROOT / "models" / "indicators.yaml").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    (folder / "model.yaml").write_text(MODEL, encoding="utf-8")
    return load_monitored_model(folder / "model.yaml")


def _headers(text: str) -> list[str]:
    """The query headers: comment lines that are not the preamble, a stage line or a stage-B detail."""
    skip = ("-- stage", "-- model", "-- month", "-- measures", "--   ")
    return [line for line in text.splitlines() if line.startswith("-- ") and not line.startswith(skip)]


def test_every_stage_a_query_has_a_header_per_indicator(model):
    text = explain_text(model)
    assert _headers(text) == [
        "-- hscl10_mean (HSCL-10 mean item score, participants in VV, per quarter): from surveys rows where "
        "instrument = 'hscl10' AND total IS NOT NULL, a0 = sum of total, a1 = number of non-null total; "
        "stage B: value = a0 / a1 (mean: sum / number of non-null values).",
        "-- assisted_returns_per_100_12m (Assisted returns in the last 12 months per 100 at risk, everyone in the "
        "data, per month, over a rolling window of 12 months): from person_month rows, a0 = number of rows where "
        "exit_type = 'assisted_return', a1 = number of rows; stage B: value = 100 x a0 / a1, each summed over the "
        "last 12 months first (ratio: scale x numerator / denominator).",
        "-- cost_per_participant (Cost per participant (NOK), costs of measure VV, per year): from costs rows, "
        "a0 = sum of amount_nok; stage B: value = a0 / agg_3.a0; agg_4.a0 feeds the dominance rule of disclosure "
        "control (ratio: scale x numerator / denominator).",
        "-- cost_per_participant (Cost per participant (NOK), participants in VV, per year): from person_month rows "
        "where participating, a0 = number of distinct person_id; stage B: value = agg_2.a0 / a0; agg_4.a0 feeds "
        "the dominance rule of disclosure control (ratio: scale x numerator / denominator).",
        "-- cost_per_participant (Cost per participant (NOK), costs of measure VV, per year): from costs rows, "
        "a0 = the largest contributions to the sum of amount_nok, by contributor; stage B: value = agg_2.a0 / "
        "agg_3.a0; a0 feeds the dominance rule of disclosure control (ratio: scale x numerator / denominator).",
    ]
    # Each header sits right under its query's stage-A line and above its SQL.
    lines = text.splitlines()
    at = lines.index("-- stage A: agg_0: source surveys, grain quarter, measures ['VV']")
    assert lines[at + 1].startswith("-- hscl10_mean (") and lines[at + 2].startswith(("WITH", "SELECT"))


def test_stage_b_is_said_per_indicator_with_its_title(model):
    lines = explain_text(model, ["hscl10_mean"]).splitlines()
    at = lines.index("-- stage B: indicator hscl10_mean (mean, quarter); start 8048 (2012-Q1)")
    assert lines[at + 1] == ("--   hscl10_mean (HSCL-10 mean item score, participants in VV, per quarter): "
                             "value = agg_0.a0 / agg_0.a1 (mean: sum / number of non-null values)")


@pytest.mark.parametrize("agg, words", [
    (Aggregate("surveys", "count", None, "instrument = 'x'", "total >= 2"), "number of rows where (instrument = 'x') AND (total >= 2)"),
    (Aggregate("person_month", "count_distinct", "person_id", "participating"), "number of distinct person_id where participating"),
    (Aggregate("surveys", "histogram", "total"), "number of rows per value of total"),
    (Aggregate("costs", "top", "amount_nok"), "the largest contributions to the sum of amount_nok, by contributor"),
])
def test_aggregates_in_words(agg, words):
    assert aggregate_words(agg) == words


def test_the_command_prints_the_headers():
    result = subprocess.run([sys.executable, "-m", "tiltak", "monitor", "explain", str(ROOT / "models" / "veien-videre.yaml"),
                             "--indicator", "hscl10_mean"], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ("-- hscl10_mean (HSCL-10 mean item score, participants in VV, per quarter): from surveys rows where "
            "instrument = 'hscl10' AND total IS NOT NULL, a0 = sum of total, a1 = number of non-null total; "
            "stage B: value = a0 / a1 (mean: sum / number of non-null values).") in result.stdout.splitlines()
