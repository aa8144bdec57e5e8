"""`monitor show` outputs: full precision in csv/json/xlsx, rounding only in the text table, and
an xlsx an officer can hand on (numbers as numbers, suppressed cells empty and flagged, frozen
header, filters, an explanation sheet)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitoring.disclosure import Thresholds
from monitoring.show import SheetContext, ShownValue, render_csv, render_json, render_table, write_xlsx


def shown(value, suppressed=False, decimals=0, indicator="cost_total", unit="NOK", period="2013-06"):
    return ShownValue("vv", indicator, period, "total", "", value, suppressed, unit, None, 2_500_000.0, "on_track",
                      0.123456789012, 1234.56789, decimals, "Total cost")


ROWS = [shown(2404843.0), shown(2404843.25), shown(None, suppressed=True),
        shown(0.1 + 0.2, decimals=1, indicator="share", unit="percent"), shown(1 / 3, decimals=2, indicator="rate")]


def test_csv_and_json_read_back_as_the_same_floats():
    rows = list(csv.DictReader(io.StringIO(render_csv(ROWS))))
    assert [r["value"] for r in rows] == ["2404843", "2404843.25", ":", "0.30000000000000004", "0.3333333333333333"]
    for row, original in zip(rows, ROWS):
        if not original.suppressed:
            assert float(row["value"]) == original.value
        assert float(row["change"]) == original.change and float(row["slope_per_year"]) == original.slope_per_year
    assert "e+06" not in render_csv(ROWS)
    back = json.loads(render_json(ROWS))
    assert [r["value"] for r in back] == [r.value for r in ROWS]


def test_the_text_table_rounds_to_the_indicator_decimals():
    table = render_table(ROWS)
    assert "2404843 " in table and "2404843.25" not in table and "0.3 " in table and "0.33 " in table
    assert "e+06" not in table
    assert "suppressed" in table.splitlines()[-1]


@pytest.fixture()
def workbook(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "t.xlsx"
    write_xlsx(ROWS, str(path), SheetContext("vv", "models/vv.yaml", Thresholds(min_count=5, min_denominator=10), "Veien Videre"))
    return path, load_workbook(path)


def test_xlsx_keeps_full_precision_and_numeric_columns(workbook):
    _path, book = workbook
    sheet = book["values"]
    header = [c.value for c in sheet[1]]
    data = list(sheet.iter_rows(min_row=2, values_only=True))
    values = [row[header.index("Value")] for row in data]
    # openpyxl writes 16 significant digits ("%.16g"), one more than Excel itself keeps (15).
    assert values == [2404843, 2404843.25, None, float("%.16g" % (0.1 + 0.2)), float("%.16g" % (1 / 3))]
    assert values[4] == pytest.approx(1 / 3, rel=1e-15, abs=0)
    assert all(v is None or isinstance(v, (int, float)) for v in values)  # numeric column: no ':' text in it
    flags = [row[header.index("Flag")] for row in data]
    assert flags == [None, None, ":", None, None]
    cells = list(sheet.iter_rows(min_row=2, min_col=header.index("Value") + 1, max_col=header.index("Value") + 1))
    assert [c[0].number_format for c in cells] == ["#,##0", "#,##0", "#,##0", "#,##0.0", "#,##0.00"]
    assert cells[2][0].fill.fgColor.rgb.endswith("D9D9D9")


def test_xlsx_has_titles_units_frozen_header_filters_and_an_explanation(workbook):
    path, book = workbook
    sheet = book["values"]
    header = [c.value for c in sheet[1]]
    assert {"Indicator", "Unit", "Value", "Flag"} <= set(header)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True) if row[0]}
    assert about["Model"] == "Veien Videre (vv)" and about["Data period"] == "2013-06 to 2013-06"
    assert ":" in about and "empty" in about[":"]
    assert "below 5" in about["Counts"] and "below 10" in about["Rates and shares"]
    again = path.with_name("again.xlsx")
    write_xlsx(ROWS, str(again), SheetContext("vv", "models/vv.yaml", Thresholds(min_count=5, min_denominator=10), "Veien Videre"))
    assert again.read_bytes() == path.read_bytes()


def test_provisional_rows_are_marked_in_the_table_with_a_footnote_and_flagged_in_csv():
    import dataclasses

    rows = [shown(10.0, period="2013-05"), dataclasses.replace(shown(3.0, period="2013-06"), provisional=True)]
    lines = render_table(rows, "provisional: the data are complete through 2013-06").splitlines()
    assert lines[1].split()[1] == "2013-05" and lines[2].split()[1] == "2013-06*"
    assert lines[-1] == "* provisional: the data are complete through 2013-06"
    assert "*" not in render_table(rows[:1])
    assert [r["provisional"] for r in csv.DictReader(io.StringIO(render_csv(rows)))] == ["false", "true"]
    assert [r["provisional"] for r in json.loads(render_json(rows))] == [False, True]
