"""Binding indicator filters against the data contract.

A filter is a SQL boolean expression over the columns of one source table. Before any
filter reaches the store it is

1. screened token by token (DuckDB's own tokenizer): no statements, no ``;``, no comments,
   no subqueries or other query keywords, no functions that read files or the environment;
2. bound in an empty in-memory DuckDB that carries only the contract schema (and the
   ``person_month`` panel), with external access switched off, so unknown columns, type
   errors and syntax errors surface without touching data;
3. required to be BOOLEAN (a filter) or numeric (a summed column).

``check_catalogue`` runs this over a whole catalogue and returns issues in the
``logicmodel.issues.Issue`` shape, at the YAML line of the offending filter when the
catalogue knows its source positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from monitoring.errors import MonitoringError
from monitoring.indicators import SOURCES, IndicatorDefinitionError, field, indicator_spec

# Query keywords that have no place in an expression over one row.
FORBIDDEN_KEYWORDS = frozenset(
    """select from with union intersect except insert update delete create drop alter attach
    detach copy pragma call set reset install load export import begin commit rollback
    checkpoint vacuum into table values returning exists lateral join using window qualify
    having limit offset order group describe show summarize explain prepare execute over filter where""".split()
) - {"from"}  # FROM is legal inside IS DISTINCT FROM, extract(... FROM ...); see _screen_token
# Functions that read files, the network or the environment, or run other queries.
FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w*|\w*_scan|glob|sniff_csv|parquet_\w*|getenv|current_setting|query|query_table"
    r"|duckdb_\w*|pragma_\w*|which_secret|load_aws_credentials|iceberg_\w*|delta_\w*|json_execute_serialized_sql"
    r"|to_json_file|read_text|read_blob|http_\w*|sql_auto_complete|summary|checkpoint|force_checkpoint"
    r"|system|shell|enable_\w*|disable_\w*)$",
    re.IGNORECASE,
)
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN")
MAX_EXPRESSION_LENGTH = 2000


class FilterError(MonitoringError):
    """A filter expression that cannot be used."""

    def __init__(self, message: str, expression: str = ""):
        self.expression = expression
        super().__init__(message)


@dataclass(frozen=True)
class FilterProblem:
    """One problem with one expression of one indicator."""

    indicator: str
    path: tuple  # key path inside the indicator, e.g. ('numerator', 'filter')
    message: str


def _schema_statements() -> list[str]:
    from monitoring.contract import CONTRACT, PANEL_COLUMNS

    statements = []
    for table in CONTRACT.values():
        cols = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
        statements.append(f'CREATE TABLE "{table.name}" ({cols})')
    cols = ", ".join(f'"{name}" {typ}' for name, typ, _ in PANEL_COLUMNS)
    statements.append(f"CREATE TABLE person_month ({cols})")
    return statements


class SchemaBinder:
    """An empty in-memory DuckDB with the contract schema, for binding expressions."""

    def __init__(self) -> None:
        import duckdb

        self._con = duckdb.connect(":memory:")
        for statement in _schema_statements():
            self._con.execute(statement)
        for table in self._con.execute("SELECT DISTINCT table_name FROM information_schema.tables").fetchall():
            self._insert_typical_row(table[0])
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")

    def _insert_typical_row(self, table: str) -> None:
        """One row of ordinary values, so that constant conversions fail here, not at run time."""
        typical = {"VARCHAR": "''", "INTEGER": "0", "BIGINT": "0", "DOUBLE": "0.0", "BOOLEAN": "false",
                   "DATE": "DATE '2000-01-01'", "TIMESTAMP": "TIMESTAMP '2000-01-01'"}
        values = [typical.get(t, "NULL") for t in self.columns(table).values()]
        self._con.execute(f'INSERT INTO "{table}" VALUES ({", ".join(values)})')

    def columns(self, source: str) -> dict[str, str]:
        """Column name -> DuckDB type of a source table."""
        rows = self._con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [source],
        ).fetchall()
        return dict(rows)

    def expression_type(self, source: str, expression: str) -> str:
        """Bind ``expression`` over ``source``; return its DuckDB type or raise FilterError."""
        screen_expression(expression)
        import duckdb

        first = next(iter(self.columns(source)))
        try:  # next to a plain column, an aggregate (count(*) > 1) fails to bind
            rel = self._con.execute(f'DESCRIBE SELECT ({expression}) AS _e, "{first}" FROM "{source}"').fetchall()
            self._con.execute(f'SELECT ({expression}) AS _e, "{first}" FROM "{source}"').fetchall()
        except duckdb.Error as exc:
            raise FilterError(_binder_message(exc, source, self.columns(source)), expression) from None
        return str(rel[0][1])

    def close(self) -> None:
        self._con.close()


def _binder_message(exc: Exception, source: str, columns: dict[str, str]) -> str:
    text = str(exc).split("\n")[0]
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)
    found = re.search(r'column "?([^"\s]+)"? not found|Referenced column "([^"]+)" not found', text, re.IGNORECASE)
    if found:
        name = found.group(1) or found.group(2)
        return f"unknown column {name!r} in source {source!r}; expected one of {', '.join(columns)}"
    table = re.search(r'Referenced table "([^"]+)" not found', text)
    if table:
        return f"the expression may use only columns of source {source!r}; got a reference to {table.group(1)!r}"
    if "GROUP BY" in text or "aggregate" in text.lower():
        return "aggregate functions (count, sum, ...) are not allowed in a filter: it is tested row by row"
    if "syntax error" in text.lower():
        return f"SQL syntax error in the expression ({text})"
    return text


def screen_expression(expression: Any) -> None:
    """Reject anything that is not a plain expression over one row."""
    if not isinstance(expression, str) or not expression.strip():
        raise FilterError(f"expected a SQL expression as text; got {expression!r}")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise FilterError(f"expression is {len(expression)} characters long; expected at most {MAX_EXPRESSION_LENGTH}")
    import duckdb

    try:
        tokens = duckdb.tokenize(expression)
    except Exception as exc:  # noqa: BLE001 - the tokenizer's own message is the clearest
        raise FilterError(f"cannot read the expression: {exc}", expression) from None
    previous = ""
    for n, (pos, kind) in enumerate(tokens):
        end = tokens[n + 1][0] if n + 1 < len(tokens) else len(expression)
        text = expression[pos:end].strip()
        if text.lower() == "from" and previous in ("", "("):  # a FROM-first subquery: (FROM persons)
            raise FilterError(f"'{text}' is not allowed here: an expression may not contain queries; got {expression!r}", expression)
        _screen_token(expression, text, kind, expression[end:].lstrip())
        previous = text


def _screen_token(expression: str, text: str, kind: Any, rest: str) -> None:
    name = getattr(kind, "name", str(kind))
    if name == "string_const":
        return
    if name == "comment" or "--" in text or "/*" in text:
        raise FilterError(f"comments are not allowed in an expression; got {expression!r}", expression)
    if ";" in text:
        raise FilterError(f"';' is not allowed: an expression is not a statement; got {expression!r}", expression)
    word = text.lower()
    if name in ("keyword", "identifier") and word in FORBIDDEN_KEYWORDS:
        raise FilterError(
            f"'{text}' is not allowed: an expression may not contain queries or statements; got {expression!r}", expression
        )
    if name in ("keyword", "identifier") and rest.startswith("(") and FORBIDDEN_FUNCTION.match(text.strip('"')):
        raise FilterError(f"function '{text}' is not allowed in an expression (it reads files, settings or other tables)", expression)


def bind_problems(ind: Any, binder: SchemaBinder) -> list[FilterProblem]:
    """Problems of one catalogue indicator: its definition, filters, conditions and columns."""
    ind_id = str(field(ind, "id", "?"))
    try:
        spec = indicator_spec(ind)
    except IndicatorDefinitionError as exc:
        return [FilterProblem(ind_id, tuple(exc.key.split(".")), str(exc).split(": ", 2)[-1])]
    problems = []
    for prefix, part, agg in _parts(ind, spec):
        for key, expected in (("filter", "BOOLEAN"), ("condition", "BOOLEAN"), ("column", "numeric")):
            value = field(part, key) if key != "condition" else (field(part, key) if prefix == () else None)
            if value is None:
                continue
            problem = _check_expression(binder, agg.source, key, value, expected)
            if problem:
                problems.append(FilterProblem(ind_id, (*prefix, key), problem))
        distinct = field(part, "distinct")
        if distinct is not None and distinct not in binder.columns(agg.source):
            problems.append(FilterProblem(ind_id, (*prefix, "distinct"), f"unknown column {distinct!r} in source {agg.source!r}"))
    return problems


def _parts(ind: Any, spec) -> list[tuple[tuple, Any, Any]]:
    if spec.type == "ratio":
        return [(("numerator",), field(ind, "numerator"), spec.numerator),
                (("denominator",), field(ind, "denominator"), spec.denominator)]
    return [((), ind, spec.numerator)]


def _check_expression(binder: SchemaBinder, source: str, key: str, value: Any, expected: str) -> str | None:
    if source not in SOURCES:
        return None
    if key == "column":
        columns = binder.columns(source)
        if value not in columns:
            return f"unknown column {value!r} in source {source!r}; expected one of {', '.join(columns)}"
        if not columns[value].startswith(NUMERIC_TYPES):
            return f"column {value!r} of source {source!r} is {columns[value]}; expected a numeric column"
        return None
    try:
        typ = binder.expression_type(source, value)
    except FilterError as exc:
        return str(exc)
    if typ not in ("BOOLEAN", '"NULL"', "NULL"):
        return f"expected a boolean expression (a condition such as exit_type = 'assisted_return'); got an expression of type {typ}: {value!r}"
    return None


def check_catalogue(catalogue: Any, locate: Callable[[tuple], tuple[str, int, int]] | None = None,
                    only: set[str] | None = None) -> list:
    """Check every indicator of a catalogue; return ``logicmodel.issues.Issue`` objects.

    ``locate`` maps a key path such as ``('indicators', 3, 'numerator', 'filter')`` to
    ``(file, line, column)``; by default the catalogue's own ``locate`` method (if any).
    ``only`` restricts the check to some indicator ids.
    """
    from logicmodel.issues import Issue, dotted

    locate = locate or _default_locator(catalogue)
    binder = SchemaBinder()
    issues = []
    try:
        for n, ind in enumerate(field(catalogue, "indicators", ()) or ()):
            if only is not None and field(ind, "id") not in only:
                continue
            for problem in bind_problems(ind, binder):
                path = ("indicators", n, *problem.path)
                file, line, col = locate(path)
                issues.append(Issue(file, line, col, "error", "MON001", dotted(path),
                                    f"indicator '{problem.indicator}': {problem.message}"))
    finally:
        binder.close()
    return issues


def _default_locator(catalogue: Any) -> Callable[[tuple], tuple[str, int, int]]:
    method = getattr(catalogue, "locate", None)
    if callable(method):
        return method
    source_file = str(field(catalogue, "source_file", "") or field(catalogue, "path", "") or "<catalogue>")
    return lambda path: (source_file, 0, 0)
