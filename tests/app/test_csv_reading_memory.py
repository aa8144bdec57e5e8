"""Reading a CSV file block by block (round 8 of docs/performance.md, issue 14): the same
table as pyarrow's read_csv whether or not a later block needs wider types, the same
messages, and the checks of text columns without a Python object per row."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pytest

from tiltak import tables
from tiltak.filematch import MatchInputError, check_numbers, post_treatment_warnings

ROWS = 20_000
open_csv, read_csv = pacsv.open_csv, pacsv.read_csv


def read_whole(path: Path):
    """The table as before round 8: read_csv, which widens a column's type when a later
    block needs it."""
    convert = pacsv.ConvertOptions(null_values=tables.NULL_VALUES, strings_can_be_null=True,
                                   quoted_strings_can_be_null=True)
    read = pacsv.ReadOptions(use_threads=True, block_size=tables.CSV_BLOCK)
    return pacsv.read_csv(path, read_options=read, convert_options=convert)


FILES = {
    "same types": "x,y,z\n" + "".join(f"{i},{i * 0.5},r{i % 3}\n" for i in range(2 * ROWS)),
    "int, then decimals": "x,y\n" + "".join(f"{i},{i}\n" for i in range(ROWS))
                          + "".join(f"{i}.5,a\n" for i in range(ROWS)),
    "empty, then numbers": "x,y\n" + "".join(f",{i}\n" for i in range(ROWS))
                           + "".join(f"{i}.5,3\n" for i in range(ROWS)),
    "int, then too large": "x\n" + "1\n" * ROWS + "99999999999999999999\n",
    "int, then a date": "x\n" + "1\n" * ROWS + "2020-01-01\n",
    "header only": "a,b\n",
    "nulls spelled out": "a,b\n" + "1,NA\n" * ROWS + "N/A,2\n",
}
BAD = {
    "empty": "",
    "a short row": "a,b\n1,2\n3\n",
    "a short row later": "a,b\n" + "1,2\n" * ROWS + "3\n",
    "a long row later": "a,b\n" + "1,2\n" * ROWS + "3,4,5\n",
}


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(tables, "CSV_BLOCK", 1 << 14)  # many blocks in a small file
    monkeypatch.setattr(tables, "CSV_BLOCKWISE_BYTES", 0)  # read block by block


@pytest.mark.parametrize("name", sorted(FILES))
def test_block_by_block_gives_read_csvs_table(tmp_path, small_blocks, name):
    path = tmp_path / "data.csv"
    path.write_text(FILES[name])
    expected, got = read_whole(path), tables._read_csv(path, [])
    assert got.schema == expected.schema
    assert got.equals(expected)


@pytest.mark.parametrize("name", sorted(BAD))
def test_block_by_block_gives_read_csvs_message(tmp_path, small_blocks, name):
    path = tmp_path / "data.csv"
    path.write_text(BAD[name])
    with pytest.raises(Exception) as expected:
        read_whole(path)
    with pytest.raises(tables.TableError) as got:
        tables.read_table(str(path))
    first = str(expected.value).strip().splitlines()[0]
    assert str(got.value) == f"{path}: cannot be read as CSV: {first}"


def test_large_files_are_read_block_by_block_small_ones_whole(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text(FILES["same types"])
    used = []
    monkeypatch.setattr(pacsv, "open_csv", lambda *a, **k: used.append("blocks") or open_csv(*a, **k))
    monkeypatch.setattr(pacsv, "read_csv", lambda *a, **k: used.append("whole") or read_csv(*a, **k))
    monkeypatch.setattr(tables, "CSV_BLOCKWISE_BYTES", path.stat().st_size + 1)
    tables._read_csv(path, [])
    monkeypatch.setattr(tables, "CSV_BLOCKWISE_BYTES", path.stat().st_size)
    tables._read_csv(path, [])
    assert used == ["whole", "blocks"]


def test_the_kept_table_and_the_frame_share_one_copy(tmp_path, small_blocks):
    path = tmp_path / "data.csv"
    path.write_text(FILES["same types"])
    frame, table = tables.read_table(str(path), keep_table=True)
    assert all(column.num_chunks == 1 for column in table.columns)
    assert np.shares_memory(frame["y"].to_numpy(), table.column("y").chunk(0).to_numpy())


def text_frame(rows: int, stray: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same frame with its text column in Arrow (as read_table gives it) and as objects."""
    rng = np.random.default_rng(8)
    region = np.array(["r1", "r2", "r3"], dtype=object)[rng.integers(0, 3, rows)]
    number = np.round(rng.normal(size=rows), 3).astype(str).astype(object)
    if stray:
        number[[5, 70, 900]] = "."
    treat = np.zeros(rows, dtype=bool)
    treat[: rows // 3] = True
    region[: rows // 3] = "r1"  # constant among the treated: a post-treatment warning
    data = {"region": region, "number": number, "treat": treat}
    arrow = pd.DataFrame({k: pd.array(v, dtype="str") if v.dtype == object else v for k, v in data.items()})
    plain = pd.DataFrame({k: pd.Series(v, dtype=object) if v.dtype == object else v for k, v in data.items()})
    return arrow, plain


def test_text_checks_say_the_same_for_arrow_and_object_text():
    arrow, plain = text_frame(3000, stray=True)
    assert isinstance(arrow["region"].dtype, pd.StringDtype)
    messages = []
    for frame in (arrow, plain):
        treat = frame["treat"].to_numpy()
        warnings = post_treatment_warnings(frame, ["region", "number"], treat)
        with pytest.raises(MatchInputError) as refused:
            check_numbers(frame, "data.csv", ["region", "number"], csv=True)
        messages.append((warnings, str(refused.value)))
    assert messages[0] == messages[1]
    assert "does not vary among the treated" in messages[0][0][0]
    assert "'.' in row 6 (line 7), row 71 (line 72), row 901 (line 902)" in messages[0][1]


def test_text_checks_make_no_python_object_a_row():
    rows = 200_000
    arrow, _ = text_frame(rows, stray=False)
    treat = arrow["treat"].to_numpy()
    tracemalloc.start()
    try:
        check_numbers(arrow, "data.csv", ["region"], csv=True)
        post_treatment_warnings(arrow, ["region"], treat)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the treated and control rows' numbers are 8 bytes a row (8.8 in all); main, with a
    # Python string a row, 99
    assert peak < 20 * rows
