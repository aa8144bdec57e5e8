"""Checks of an extract against the contract, in DuckDB SQL.

The raw extract of each table is registered in DuckDB as ``raw_<table>``. ``stage_table``
types it into the temporary table ``stage_<table>`` (reporting type errors and missing
values); the value checks then run on the typed stage; the reference checks run on the
*effective* tables (the staged one when the table is being loaded, the stored one
otherwise), so that a partial load is checked against what the store will hold.

Row checks of one table are counted together in one scan; only the checks that fail are
queried again for their first rows. Keys, overlaps and references are one query each.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from monitoring.contract import (
    CONTRACT,
    INSTRUMENT_SCALES,
    PERSON_ID,
    RAW_PERSON_ID_COLUMNS,
    SURVEY_ITEMS,
    Column,
    InstrumentScale,
    Table,
)
from monitoring.expressions import quote_literal
from monitoring.load_problems import PER_KIND, Problem, ProblemList
from monitoring.load_read import ROW, CsvFile, Extract
from monitoring.load_types import EXPECTED, category, present_expression, quoted, typed_expression

_SHOW = "left(CAST({} AS VARCHAR), 60)"
FIRST_ROWS = 5  # row numbers shown in a summarised problem


def is_sensitive(column: Column | str) -> bool:
    """Values of this column never appear in a message: identifiers and special categories."""

    name = column if isinstance(column, str) else column.name
    special = not isinstance(column, str) and column.special_category
    return special or name in (PERSON_ID, *RAW_PERSON_ID_COLUMNS) or name.startswith("item_")


def _summarise(label: str, kind: str, column: str | None, message: str, rows: list, total: int) -> Problem:
    """One line for a problem that repeats: the count and the first row numbers, no values."""
    numbers = [str(r) for r in rows[:FIRST_ROWS] if r is not None]
    count = f"{total:,} row{'s' if total != 1 else ''}"
    if numbers:
        where = f"{count}: {'row' if len(numbers) == 1 else 'rows'} {', '.join(numbers)}{', ...' if total > len(numbers) else ''}"
    else:
        where = f"{count} of the stored table"
    return Problem(label, kind, f"{message} ({where})", None, column)


def stage_name(table: str) -> str:
    return f"stage_{table}"


@lru_cache(maxsize=4096)
def _sql_text(text: str) -> str:
    """``text`` as a SQL string literal (sqlglot's quoting, remembered)."""

    return quote_literal(str(text))


def _message(template: str, *values: str) -> str:
    """A SQL expression formatting ``template`` ({} placeholders) with SQL ``values``."""
    if not values:
        return _sql_text(template)
    return f"format({_sql_text(template)}, {', '.join(values)})"


def run_check(con: Any, problems: ProblemList, sql: str, *, label: str, kind: str,
              column: str | None, summary: str | None = None) -> None:
    """Run ``sql`` (selecting ``_row, message``) and add its first problems and total.

    With ``summary`` (a message without values, for identifier columns), all failing rows
    become one line with their count and first row numbers."""
    rows = con.execute(
        f"SELECT _row, message, count(*) OVER () FROM ({sql}) "
        f"ORDER BY _row NULLS LAST, message LIMIT {PER_KIND}"
    ).fetchall()
    if rows and summary is not None:
        problems.add(_summarise(label, kind, column, summary, [r for r, _m, _n in rows], int(rows[0][2])))
    elif rows:
        found = [Problem(label, kind, str(m), None if r is None else int(r), column) for r, m, _ in rows]
        problems.add_many(found, total=int(rows[0][2]))


@dataclass(frozen=True)
class RowCheck:
    """A problem found row by row: rows of a relation where ``condition`` holds."""

    kind: str
    column: str | None
    condition: str
    message: str  # SQL expression
    summary: str | None = None  # plain text without values: all failing rows in one line
    counted: str | None = None  # the same condition on the relation the checks are counted on


def run_row_checks(con: Any, problems: ProblemList, relation: str, label: str,
                   checks: list[RowCheck], counted_on: str | None = None) -> None:
    """Count all checks in one scan of ``relation`` (or of ``counted_on``, where each check's
    ``counted`` condition holds for the same rows); list rows only of those that fail."""
    if not checks:
        return
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c.counted or c.condition})" for c in checks)
        + f" FROM {counted_on or relation}"
    ).fetchall()[0]  # all: a result left unfinished would block registering the next extract
    for check, count in zip(checks, counts):
        if count:
            message = check.message if check.summary is None else "NULL"
            rows = con.execute(
                f"SELECT _row, {message} FROM {relation} WHERE {check.condition} "
                f"ORDER BY _row NULLS LAST LIMIT {PER_KIND}"
            ).fetchall()
            if check.summary is not None:
                problems.add(_summarise(label, check.kind, check.column, check.summary, [r for r, _ in rows], int(count)))
                continue
            found = [Problem(label, check.kind, str(m), None if r is None else int(r), check.column)
                     for r, m in rows]
            problems.add_many(found, total=int(count))


# ---------------------------------------------------------------- columns


def column_problems(extract: Extract, table: Table) -> None:
    """Missing required columns and unknown columns (names only)."""
    for kind, message, row, column in column_name_problems(extract.data.column_names, table):
        extract.problem(kind, message, row, column)


def column_name_problems(names: list[str], table: Table) -> list[tuple[str, str, int, str]]:
    """(kind, message, row, column) of the missing required and the unknown columns."""
    found = []
    present = [c for c in names if c != ROW]
    for name in table.required_columns:
        if name not in present:
            found.append(("missing_column", f"missing column '{name}' ({table.column(name).type}); "
                          f"expected the columns {', '.join(table.required_columns)}", 1, name))
    for name in present:
        if name not in table.column_index:
            absent = [c for c in table.column_names if c not in present]
            close = difflib.get_close_matches(name, absent, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            found.append(("unknown_column", f"unknown column '{name}'; {hint}expected one of "
                          f"{', '.join(table.column_names)}", 1, name))
    return found


# ---------------------------------------------------------------- typing


def stage_table(con: Any, extract: Extract, table: Table, problems: ProblemList) -> None:
    """Create the typed ``stage_<table>``, then report type errors and missing values.

    The typed values are computed once: the stage keeps, next to each column, whether a
    value was given (``_given_<column>``), so that the checks are counted on the stage; only
    the rows of a failing check are read again from ``raw_<table>``, for their messages."""
    raw = f"raw_{table.name}"
    stage = stage_name(table.name)
    data = extract.data
    kinds = data.kinds() if isinstance(data, CsvFile) else \
        {f.name: category(f.type) for f in data.schema if f.name != ROW}
    select, checks = [ROW], []
    for column in table.columns:
        kind = kinds.get(column.name)
        if kind is None:
            select.append(f"CAST(NULL AS {column.type}) AS {column.name}")
            continue
        typed = typed_expression(column.name, kind, column.type)
        present = present_expression(column.name, kind)
        given = f"_given_{column.name}"
        expected = EXPECTED[column.type]
        checks.append(RowCheck("type", column.name, f"{present} IS NOT NULL AND ({typed}) IS NULL",
                               _message(f"expected {expected}; got '{{}}'{{}}", _SHOW.format(quoted(column.name)),
                                        _spaces_note(quoted(column.name), kind)),
                               f"expected {expected}; got another value (not shown: {_why(column)})"
                               if is_sensitive(column) else None, f"{given} AND {column.name} IS NULL"))
        if not column.nullable:
            checks.append(RowCheck("missing_value", column.name, f"{present} IS NULL",
                                   _message(f"missing value; expected {expected}"), counted=f"NOT {given}"))
        select.append(f"{typed} AS {column.name}")
        select.append(f"{present} IS NOT NULL AS {given}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {', '.join(select)} FROM {raw}")
    run_row_checks(con, problems, raw, extract.label, checks, counted_on=stage)


def _why(column: Column) -> str:
    return "a special-category value" if column.special_category or column.name.startswith("item_") \
        else "an identifier"


def _spaces_note(x: str, kind: str) -> str:
    if kind != "string":
        return "''"
    return f"CASE WHEN {x} <> trim({x}) THEN ' (leading or trailing spaces; remove them)' ELSE '' END"


# ---------------------------------------------------------------- values of one table


def value_checks(con: Any, table: Table, label: str, problems: ProblemList, today: dt.date,
                 scales: Mapping[str, InstrumentScale] = INSTRUMENT_SCALES) -> None:
    """Codes, patterns, ranges, future dates, keys, date order, overlaps, survey scales
    (``scales``: the instruments of the load, built-in and declared by a catalogue)."""
    stage = stage_name(table.name)
    checks = [check for column in table.columns for check in _column_checks(column, today)]
    for order in table.date_orders:
        relation = "after" if order.strict else "on or after"
        checks.append(RowCheck(
            "date_order", order.second,
            f"{order.second} {'<=' if order.strict else '<'} {order.first}",
            _message(f"{order.second} {{}} must be {relation} {order.first} {{}}",
                     order.second, order.first),
        ))
    if table.person_level:
        raw = ("person_id looks like a raw national identity number (11 digits); name "
               "the column person_number so that it is pseudonymised")
        checks.append(RowCheck("raw_identifier", "person_id", "regexp_full_match(person_id, '[0-9]{11}')",
                               _message(raw), raw))
    if table.name == "surveys":
        checks.extend(_survey_checks(_present_columns(con, f"raw_{table.name}"), scales))
    run_row_checks(con, problems, stage, label, checks)
    _key_check(con, table, stage, label, problems)
    if table.no_overlap is not None:
        _overlap_check(con, table, stage, label, problems)


def _present_columns(con: Any, relation: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def _column_checks(column: Column, today: dt.date) -> list[RowCheck]:
    checks = _value_checks(column, today)
    if not is_sensitive(column):
        return checks
    hidden = f"a value not shown ({_why(column)})"
    return [RowCheck(k.kind, k.column, k.condition, k.message, _plain_summary(k, column, hidden)) for k in checks]


def _plain_summary(check: RowCheck, column: Column, hidden: str) -> str:
    expected = {"code": "one of its codes", "format": column.pattern_hint or "its format",
                "range": "a value in range", "future_date": "a date not in the future"}.get(check.kind, "a valid value")
    return f"{hidden}; expected {expected}"


def _value_checks(column: Column, today: dt.date) -> list[RowCheck]:
    c, checks = column.name, []
    shown = _SHOW.format(c)
    if column.codes:
        codes = ", ".join(_sql_text(code) for code in column.codes)
        listed = ", ".join(f"'{code}'" for code in column.codes)
        checks.append(RowCheck("code", c, f"{c} NOT IN ({codes})",
                               _message(f"unknown code '{{}}'; expected one of {listed}", shown)))
    if column.pattern:
        hint = column.pattern_hint or column.pattern
        checks.append(RowCheck("format", c, f"NOT regexp_full_match({c}, {_sql_text(column.pattern)})",
                               _message(f"expected {hint}; got '{{}}'", shown)))
    if column.minimum is not None:
        checks.append(RowCheck("range", c, f"{c} < {column.minimum!r}",
                               _message(f"expected a value >= {column.minimum:g}; got {{}}", c)))
    if column.maximum is not None:
        checks.append(RowCheck("range", c, f"{c} > {column.maximum!r}",
                               _message(f"expected a value <= {column.maximum:g}; got {{}}", c)))
    if column.not_in_future:
        limit = f"DATE '{today.isoformat()}'" if column.type == "DATE" else str(today.year)
        checks.append(RowCheck("future_date", c, f"{c} > {limit}", _message(
            f"{{}} is in the future (after {today.isoformat()}, the day of the load)", c)))
    return checks


def _survey_checks(present: set[str], scales: Mapping[str, InstrumentScale]) -> list[RowCheck]:
    out_of_range = " ".join(f"WHEN {_sql_text(name)} THEN total NOT BETWEEN {s.total_min} AND {s.total_max}"
                            for name, s in scales.items())
    ranges = " ".join(f"WHEN {_sql_text(name)} THEN {_sql_text(f'{s.total_min:g} to {s.total_max:g}, {s.total_meaning}')}"
                      for name, s in scales.items())
    checks = [RowCheck("range", "total", f"CASE instrument {out_of_range} ELSE false END",
                       _message("total {} is outside the range of {} ({})", "total", "instrument",
                                f"CASE instrument {ranges} END"))]
    for index, item in enumerate(SURVEY_ITEMS, 1):
        if item in present:
            checks.append(_item_check(item, index, scales))
    return checks


def _item_check(item: str, index: int, scales: Mapping[str, InstrumentScale]) -> RowCheck:
    bad = " ".join(
        f"WHEN {_sql_text(name)} THEN " + (f"{item} NOT BETWEEN {s.item_min} AND {s.item_max}"
                                           if index <= s.items else "true")
        for name, s in scales.items()
    )
    expected = " ".join(
        f"WHEN {_sql_text(name)} THEN " + (_sql_text(f"expected {s.item_min:g} to {s.item_max:g}") if index <= s.items
                                           else _sql_text(f"{name} has {s.items} items; expected no value"))
        for name, s in scales.items()
    )
    return RowCheck("range", item, f"{item} IS NOT NULL AND CASE instrument {bad} ELSE false END",
                    _message(f"{item} = {{}} for {{}}: {{}}", item, "instrument",
                             f"CASE instrument {expected} END"))


def _key_check(con: Any, table: Table, stage: str, label: str, problems: ProblemList) -> None:
    key = table.key
    partition = ", ".join(key)
    duplicated = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {stage} GROUP BY {partition} HAVING count(*) > 1)"
    ).fetchone()[0]
    if not duplicated:
        return
    shown = " || ', ' || ".join(f"'{k}=' || coalesce(CAST({k} AS VARCHAR), 'null')" for k in key)
    sql = (f"SELECT _row, format('duplicate key ({{}}); first on row {{}}', keytext, first_row) "
           f"AS message FROM (SELECT _row, {shown} AS keytext, "
           f"min(_row) OVER (PARTITION BY {partition}) AS first_row FROM {stage}) "
           f"WHERE _row <> first_row")
    sensitive = [k for k in key if is_sensitive(k)]
    summary = (f"duplicate key ({', '.join(key)}): the same key on several rows (values not shown: "
               f"{', '.join(sensitive)} identifies a person)") if sensitive else None
    run_check(con, problems, sql, label=label, kind="duplicate_key", column="+".join(key), summary=summary)


def _overlap_check(con: Any, table: Table, stage: str, label: str, problems: ProblemList) -> None:
    rule = table.no_overlap
    owner = rule.group.removesuffix("_id")
    sql = (f"SELECT _row, format('spell from {{}} overlaps an earlier spell of the same "
           f"{owner} (from {{}}, row {{}})', {rule.start}, prev_start, prev_row) AS message "
           f"FROM (SELECT _row, {rule.start}, "
           f"max(coalesce({rule.end}, DATE '9999-12-31')) OVER w AS prev_end, "
           f"arg_max({rule.start}, coalesce({rule.end}, DATE '9999-12-31')) OVER w AS prev_start, "
           f"arg_max(_row, coalesce({rule.end}, DATE '9999-12-31')) OVER w AS prev_row "
           f"FROM {stage} WHERE {rule.group} IS NOT NULL AND {rule.start} IS NOT NULL "
           f"WINDOW w AS (PARTITION BY {rule.group} ORDER BY {rule.start}, _row "
           f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) "
           f"WHERE prev_end > {rule.start}")
    run_check(con, problems, sql, label=label, kind="overlap", column=rule.start)


# ---------------------------------------------------------------- across tables


def effective_views(con: Any, loaded: set[str]) -> None:
    """``stage_<table>`` for every table not being loaded: a view of the stored table."""
    for name, table in CONTRACT.items():
        if name not in loaded:
            columns = ", ".join(table.column_names)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {stage_name(name)} AS "
                        f"SELECT CAST(NULL AS BIGINT) AS _row, {columns} FROM main.{name}")


def reference_checks(con: Any, loaded: set[str], labels: dict[str, str], problems: ProblemList,
                     skip: set[str] = frozenset()) -> None:
    """Every reference points at an existing row of the effective referenced table.

    Tables in ``skip`` (unreadable in this load) are left out on both sides."""
    for name, table in CONTRACT.items():
        for column in table.columns:
            if column.references is None:
                continue
            target, target_column = column.references.split(".")
            if (name not in loaded and target not in loaded) or {name, target} & skip:
                continue
            label = labels.get(name, f"{name} (stored)")
            sql = (f"SELECT s._row, format('{column.name} ''{{}}'' is not in {target}', "
                   f"{_SHOW.format('s.' + column.name)}) AS message "
                   f"FROM {stage_name(name)} s ANTI JOIN {stage_name(target)} t "
                   f"ON s.{column.name} = t.{target_column} WHERE s.{column.name} IS NOT NULL")
            summary = (f"{column.name} not in {target} (values not shown: an identifier)"
                       if is_sensitive(column) else None)
            run_check(con, problems, sql, label=label, kind="reference", column=column.name, summary=summary)


def emptiness_checks(con: Any, labels: dict[str, str], problems: ProblemList) -> None:
    """Tables that must hold rows (persons, centres, ...) are not empty after the load."""
    for name, table in CONTRACT.items():
        if table.allow_empty or name not in labels:
            continue
        count = con.execute(f"SELECT count(*) FROM {stage_name(name)}").fetchone()[0]
        if count == 0:
            problems.add(Problem(labels[name], "empty_table", f"no rows; expected at least one {name} row"))
