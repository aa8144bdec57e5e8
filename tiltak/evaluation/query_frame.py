"""A query's rows as the pandas frame DuckDB's ``.df()`` gives, fetched through Arrow.

DuckDB's ``.df()`` turns every text value into a Python string, which pandas then converts
back into an Arrow string array (0.4 of the 0.9 CPU s of the largest risk-set query at
``tiltak synth --scale 10``). Fetching the Arrow table and converting it with pyarrow gives the
same frame: the same dtypes (text as pandas' ``str``, dates as ``datetime64[us]``, lists of
dates as object arrays of ``datetime64[us]`` arrays with ``pd.NA`` for a missing list) and the
same values. Only the column types checked to match are converted this way; a result with any
other column type (or missing values where ``.df()`` gives another dtype: see ``_converts``) is
fetched by ``.df()`` as before.
"""

from __future__ import annotations

import warnings
from typing import Any


def query_frame(con: Any, sql: str) -> Any:
    """The rows of ``sql`` on ``con``, exactly as ``con.execute(sql).df()`` gives them (run by the
    same ``execute``; a result that must fall back to ``.df()`` is run a second time)."""

    with warnings.catch_warnings():  # the extra copy it warns of costs less than .df()'s strings
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
        table = con.execute(sql).to_arrow_table()
    if not all(_converts(column) for column in table.columns):
        return con.execute(sql).df()
    frame = table.to_pandas(date_as_object=False)
    for name, column in zip(table.column_names, table.columns):
        if _is_date(column.type):
            frame[name] = frame[name].astype("datetime64[us]")
        elif _is_date_list(column.type):
            frame[name] = _date_lists(column)
    return frame


def _converts(column: Any) -> bool:
    """Whether pyarrow's conversion of ``column`` is ``.df()``'s: text with a value (``.df()``
    leaves text without any as objects), dates, numbers, lists of dates without a missing date
    (``.df()`` gives a masked array there), booleans and integers without a missing value."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_string(kind):
        return column.null_count < len(column)
    if _is_date_list(kind):
        return column.combine_chunks().values.null_count == 0
    if _is_date(kind) or pa.types.is_float64(kind):
        return True
    return column.null_count == 0 and (pa.types.is_boolean(kind) or pa.types.is_int32(kind)
                                       or pa.types.is_int64(kind))


def _is_date(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_date32(kind)


def _is_date_list(kind: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_list(kind) and pa.types.is_date32(kind.value_type)


def _date_lists(column: Any) -> Any:
    """Each row's list as a ``datetime64[us]`` array (a view of one array), ``pd.NA`` if missing."""
    import numpy as np
    import pandas as pd

    lists = column.combine_chunks()
    offsets = lists.offsets.to_numpy()
    values = lists.values.to_numpy(zero_copy_only=False).astype("datetime64[us]")
    missing = lists.is_null().to_numpy(zero_copy_only=False)
    out = np.empty(len(lists), dtype=object)
    for i in range(len(lists)):
        out[i] = pd.NA if missing[i] else values[offsets[i]:offsets[i + 1]]
    return out
