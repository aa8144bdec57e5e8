"""Typing untyped extract values into contract types, as DuckDB SQL expressions.

An extract's column arrives as text (CSV, Excel) or with its own type (Parquet, frames).
``typed_expression`` gives the SQL that turns it into the contract type, yielding NULL when
the value cannot be read; a value that was present but types to NULL is a type error.
Accepted spellings (documented in docs/data-contract.md):

- whole numbers: ``12``, ``-3``, ``12.0``; numbers: ``1.5``, ``1,5`` (decimal comma);
- dates: ``YYYY-MM-DD``; timestamps in Parquet/frames only at midnight;
- booleans: ``true/false``, ``t/f``, ``yes/no``, ``ja/nei``, ``1/0`` (any case).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from monitoring.expressions import quote_identifier

EXPECTED = {
    "INTEGER": "a whole number",
    "DOUBLE": "a number such as 1.5 or 1,5 (without thousands separators: 21140, not 21,140)",
    "BOOLEAN": "true or false",
    "DATE": "a date written YYYY-MM-DD",
    "VARCHAR": "text",
}

_TRUE = ("true", "t", "yes", "y", "ja", "j", "1")
_FALSE = ("false", "f", "no", "n", "nei", "0")


def category(arrow_type: Any) -> str:
    """The kind of an Arrow type: string, integer, float, bool, date, timestamp, null, other."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    checks = (
        ("string", t.is_string(arrow_type) or t.is_large_string(arrow_type)
         or getattr(t, "is_string_view", lambda _: False)(arrow_type)),
        ("integer", t.is_integer(arrow_type)),
        ("float", t.is_floating(arrow_type) or t.is_decimal(arrow_type)),
        ("bool", t.is_boolean(arrow_type)),
        ("date", t.is_date(arrow_type)),
        ("timestamp", t.is_timestamp(arrow_type)),
        ("null", arrow_type == pa.null()),
    )
    return next((name for name, hit in checks if hit), "other")


@lru_cache(maxsize=4096)
def quoted(name: str) -> str:
    """``name`` as a quoted SQL identifier (sqlglot's quoting, remembered: it costs
    milliseconds a call and a load quotes each column many times)."""

    return quote_identifier(name)


def present_expression(column: str, kind: str) -> str:
    """SQL for the value as given, with empty or blank text counted as missing."""
    x = quoted(column)
    return f"nullif(trim({x}), '')" if kind == "string" else x


def typed_expression(column: str, kind: str, target: str) -> str:
    """SQL turning raw ``column`` (of Arrow ``kind``) into ``target``; NULL when unreadable."""
    x = quoted(column)
    if kind == "null":
        return f"CAST(NULL AS {target})"
    if kind == "string":
        return _from_text(x, target)
    builders = {
        "INTEGER": _integer_from_native,
        "DOUBLE": _double_from_native,
        "BOOLEAN": _boolean_from_native,
        "DATE": _date_from_native,
        "VARCHAR": _text_from_native,
    }
    return builders[target](x, kind)


def _from_text(x: str, target: str) -> str:
    # Typed values are read exactly as written: ' 2012-01-01' or '12 ' is refused, not trimmed
    # (blank cells are missing values, see present_expression).
    s = f"nullif({x}, '')"
    if target == "VARCHAR":
        return f"nullif({x}, '')"
    if target == "INTEGER":
        return (
            f"CASE WHEN regexp_full_match({s}, '[+-]?[0-9]+(\\.0*)?') "
            f"THEN TRY_CAST(TRY_CAST({s} AS DOUBLE) AS INTEGER) END"
        )
    if target == "DOUBLE":
        number = (
            f"TRY_CAST(CASE WHEN regexp_full_match({s}, '[+-]?[0-9]+,[0-9]+') "
            f"THEN replace({s}, ',', '.') ELSE {s} END AS DOUBLE)"
        )
        # '21,140' reads as a thousands separator as well as a decimal comma: refused, never guessed
        ambiguous = f"regexp_full_match({s}, '[+-]?[0-9]{{1,3}}(,[0-9]{{3}})+')"
        plain = f"regexp_full_match({s}, '[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?')"
        return f"CASE WHEN {plain} AND NOT {ambiguous} AND isfinite({number}) THEN {number} END"
    if target == "BOOLEAN":
        true = ", ".join(f"'{v}'" for v in _TRUE)
        false = ", ".join(f"'{v}'" for v in _FALSE)
        return f"CASE WHEN lower({s}) IN ({true}) THEN true WHEN lower({s}) IN ({false}) THEN false END"
    if target == "DATE":
        return (
            f"CASE WHEN regexp_full_match({s}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"THEN CAST(TRY_STRPTIME({s}, '%Y-%m-%d') AS DATE) END"
        )
    raise ValueError(f"unknown contract type {target!r}")


def _integer_from_native(x: str, kind: str) -> str:
    if kind == "integer":
        return f"TRY_CAST({x} AS INTEGER)"
    if kind == "float":
        return f"CASE WHEN isfinite({x}) AND {x} = trunc({x}) THEN TRY_CAST({x} AS INTEGER) END"
    return "CAST(NULL AS INTEGER)"


def _double_from_native(x: str, kind: str) -> str:
    if kind in ("integer", "float"):
        return f"CASE WHEN isfinite(CAST({x} AS DOUBLE)) THEN CAST({x} AS DOUBLE) END"
    return "CAST(NULL AS DOUBLE)"


def _boolean_from_native(x: str, kind: str) -> str:
    if kind == "bool":
        return x
    if kind in ("integer", "float"):
        return f"CASE WHEN {x} = 1 THEN true WHEN {x} = 0 THEN false END"
    return "CAST(NULL AS BOOLEAN)"


def _date_from_native(x: str, kind: str) -> str:
    if kind == "date":
        return f"CAST({x} AS DATE)"
    if kind == "timestamp":
        return f"CASE WHEN CAST({x} AS TIMESTAMP) = date_trunc('day', CAST({x} AS TIMESTAMP)) THEN CAST({x} AS DATE) END"
    return "CAST(NULL AS DATE)"


def _text_from_native(x: str, kind: str) -> str:
    if kind in ("integer", "bool"):
        return f"CAST({x} AS VARCHAR)"
    return "CAST(NULL AS VARCHAR)"
