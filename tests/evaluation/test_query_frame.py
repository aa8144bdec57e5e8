"""``query_frame`` gives the frame DuckDB's ``.df()`` gives: dtypes, values, missing values."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from tiltak.evaluation.query_frame import query_frame

TABLE = """
CREATE TABLE t AS SELECT * FROM (VALUES
  ('p1', DATE '2012-01-31', 1.5, TRUE, 3::INTEGER, 7::BIGINT, [DATE '2012-02-01', DATE '2012-03-05'], NULL::BOOLEAN),
  (NULL, NULL, NULL, FALSE, -1::INTEGER, 8::BIGINT, NULL, TRUE),
  ('p3', DATE '1999-12-31', -0.0, TRUE, 0::INTEGER, 9::BIGINT, [], FALSE),
  ('p4', DATE '2024-02-29', 1e300, FALSE, 2::INTEGER, 10::BIGINT, [DATE '2024-03-01'], TRUE)
) v(id, day, x, flag, n, big, dates, maybe)
"""


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and a.index.equals(b.index)
    for column in a.columns:
        assert a[column].dtype == b[column].dtype, column
        if a[column].dtype == object:
            for x, y in zip(a[column].tolist(), b[column].tolist()):
                assert type(x) is type(y), column
                if isinstance(x, np.ndarray):
                    assert x.dtype == y.dtype and np.array_equal(x, y), column
                else:
                    assert x is y or x == y, column
        else:
            pd.testing.assert_series_equal(a[column], b[column], check_exact=True)


@pytest.fixture()
def con():
    connection = duckdb.connect()
    connection.execute(TABLE)
    yield connection
    connection.close()


@pytest.mark.parametrize("columns", ["id, day, x, flag, n, big, dates", "id, dates", "day, x"])
def test_the_frame_of_the_types_it_converts_is_that_of_df(con, columns):
    sql = f"SELECT {columns} FROM t ORDER BY big"
    _same(query_frame(con, sql), con.execute(sql).df())


@pytest.mark.parametrize("columns", ["id, maybe", "NULL::VARCHAR AS nothing, x", "[NULL::DATE, day] AS gap, id"])
def test_missing_values_that_change_df_s_dtype_fall_back_to_df(con, columns):
    sql = f"SELECT {columns} FROM t ORDER BY big"
    _same(query_frame(con, sql), con.execute(sql).df())


def test_no_rows(con):
    sql = "SELECT id, day, x, dates FROM t WHERE big > 100"
    _same(query_frame(con, sql), con.execute(sql).df())
