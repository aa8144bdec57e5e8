"""Every SQL expression a user writes, in one place: parse, screen, bind, quote, render.

Catalogue filters, share conditions, summed columns and the ``subgroup`` of an expected
change are SQL written in YAML by people. None of it reaches a database as written.
Instead each expression is

1. **parsed** (sqlglot, DuckDB dialect) into a tree: exactly one expression, no comments,
   no second statement, at most :data:`MAX_EXPRESSION_LENGTH` characters;
2. **screened structurally** against an allow-list of node types and of functions:
   columns of one row, literals, comparisons, ``AND``/``OR``/``NOT``, ``IS [NOT] NULL``,
   ``IN`` lists, ``BETWEEN``, ``LIKE``, arithmetic, ``CASE``, and deterministic scalar
   functions (``lower``, ``coalesce``, ``year``, ...). Everything else is refused with a
   reason: queries and subqueries, table functions and file readers, aggregates and
   window functions, functions whose result changes from run to run (``random()``,
   ``now()``, ``uuid()``, ``current_date``, ...), ``error()``, parameters, and casts of
   anything but a literal (a cast of a register value can fail and would then carry the
   value into an error message);
3. **bound against the data contract**: every column must be a column of the source; a
   comparison of a coded column with a text that is not one of its codes
   (``household = 'family'``) is refused with the codes listed; types come from binding
   the rendered expression in an empty in-memory DuckDB that holds only the contract's
   schema and one typical row, with external access switched off (the same binder on
   every path, so ``tiltak validate`` and ``tiltak monitor run`` agree);
4. **rendered** back to SQL from the tree, with every identifier and literal quoted by
   sqlglot (:func:`quote_identifier`, :func:`quote_literal` are the only quoting helpers
   of the project).

The result, :class:`BoundExpression`, keeps the tree so that later engines can render it
for other dialects.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from monitoring import contract as c
from monitoring.contract import CONTRACT, PANEL_COLUMNS
from monitoring.errors import MonitoringError

MAX_EXPRESSION_LENGTH = 2000
DIALECT = "duckdb"
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")
EXTRACT_UNITS = ("year", "quarter", "month", "day")
CAST_TARGETS = ("DATE", "INT", "BIGINT", "DOUBLE", "DECIMAL", "VARCHAR", "BOOLEAN", "TEXT")


class ExpressionError(MonitoringError):
    """An expression that cannot be used; ``reason`` says why (without any register value)."""

    def __init__(self, reason: str, expression: str = "") -> None:
        self.reason = reason
        self.expression = expression
        super().__init__(reason)


@dataclass(frozen=True)
class BoundExpression:
    """A screened expression bound against one source of the contract."""

    text: str  # as the user wrote it
    source: str
    tree: Any = field(repr=False, compare=False)  # sqlglot expression (do not mutate)
    type: str  # DuckDB type of the value, e.g. BOOLEAN
    columns: tuple[str, ...]  # contract columns it reads

    def sql(self, dialect: str = DIALECT) -> str:
        """The expression as SQL, every identifier and literal quoted."""
        return self.tree.sql(dialect=dialect, identify=True)


# ---- quoting (the project's only quoting helpers) ----------------------------------


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    from sqlglot import exp

    return exp.to_identifier(str(name), quoted=True).sql(dialect=DIALECT)


def quote_literal(value: Any) -> str:
    """``value`` as a SQL literal: text quoted, numbers and booleans as such, None as NULL."""
    from sqlglot import exp

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return exp.Literal.number(value).sql(dialect=DIALECT)
    return exp.Literal.string(str(value)).sql(dialect=DIALECT)


# ---- the contract as the binder sees it ---------------------------------------------


def source_columns(source: str) -> dict[str, str]:
    """Column name -> DuckDB type of a source table (a contract table or ``person_month``)."""
    return dict(_source_columns().get(source, {}))


@lru_cache(maxsize=1)
def _source_columns() -> Mapping[str, Mapping[str, str]]:

    out = {name: {c.name: c.type for c in table.columns} for name, table in CONTRACT.items()}
    out["person_month"] = {name: typ for name, typ, _ in PANEL_COLUMNS}
    return out


@lru_cache(maxsize=1)
def _codes() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """Per source, the coded columns and their codes."""

    out = {name: {col.name: col.codes for col in table.columns if col.codes} for name, table in c.CONTRACT.items()}
    out["person_month"] = {
        "centre_type": c.CENTRE_TYPES, "returnability": c.RETURNABILITY, "sex": c.SEXES,
        "household": c.HOUSEHOLDS, "age_band": tuple(band for band, _, _ in c.AGE_BANDS),
        "exit_type": c.EXIT_TYPES,
    }
    return out


def codes_of(source: str, column: str) -> tuple[str, ...] | None:
    """The codes a coded column may hold, or None for a free column."""
    return _codes().get(source, {}).get(column)


# ---- parsing and screening ----------------------------------------------------------


def parse(text: Any) -> Any:
    """Parse and screen one expression; return its sqlglot tree (a fresh copy)."""
    return _parsed(_as_text(text)).copy()


def _as_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"expected a SQL expression as text; got {text!r}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; expected at most {MAX_EXPRESSION_LENGTH}",
                              text)
    return text


@lru_cache(maxsize=512)
def _parsed(text: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    _screen_tokens(text)
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except (ParseError, TokenError) as exc:
        raise ExpressionError(f"SQL syntax error in the expression ({_parse_reason(exc)})", text) from None
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply", text) from None
    if len(trees) != 1:
        raise ExpressionError(f"expected one expression; got {len(trees)} statements", text)
    screen(trees[0], text)
    return trees[0]


def _parse_reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        description = str(first.get("description") or "invalid SQL")
        if "<class" in description or "Required keyword" in description:
            description = "incomplete expression"
        return f"{description} near column {first.get('col', '?')}"
    return str(exc).splitlines()[0][:200]


def _screen_tokens(text: str) -> None:
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = DuckDB().tokenize(text)
    except TokenError as exc:
        raise ExpressionError(f"cannot read the expression: {str(exc).splitlines()[0][:200]}", text) from None
    for token in tokens:
        if token.comments:
            raise ExpressionError("comments are not allowed in an expression", text)
        if token.token_type == TokenType.SEMICOLON:
            raise ExpressionError("';' is not allowed: an expression is not a statement", text)
    if re.search(r"--|/\*", _outside_strings(text)):
        raise ExpressionError("comments are not allowed in an expression", text)


def _outside_strings(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def screen(tree: Any, text: str = "") -> None:
    """Refuse any node outside the allow-list (raises ExpressionError naming it and why)."""
    for node in tree.walk():
        problem = _node_problem(node)
        if problem:
            raise ExpressionError(problem, text)


def _node_problem(node: Any) -> str | None:
    from sqlglot import exp

    kind = type(node)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _cast_problem(node)
    if kind in _allowed_nodes():
        return _detail_problem(node)
    if kind.__name__ in _STATEMENT_NODES:
        return "statements are not allowed: write one expression"
    if isinstance(node, (exp.Query, exp.Subquery, exp.Exists, exp.From, exp.Table, exp.Join,
                         exp.Values, exp.Lateral, exp.With, exp.Where)):
        return "a query (SELECT, FROM, EXISTS, a subquery) is not allowed: an expression reads one row of its source"
    if isinstance(node, (exp.Window, exp.WindowSpec)):
        return "window functions (OVER) are not allowed: an expression reads one row of its source"
    if isinstance(node, exp.AggFunc):
        return "aggregate functions (count, sum, ...) are not allowed in a filter: it is tested row by row"
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return "parameters ($1, ?) are not allowed; write the value itself"
    if isinstance(node, exp.Star):
        return "'*' is not allowed; name the column"
    if isinstance(node, exp.Func):
        return _function_problem(_function_name(node))
    return f"'{_node_label(node)}' is not allowed in an expression; expected {_ALLOWED_SUMMARY}"


_STATEMENT_NODES = {"Create", "Drop", "Insert", "Update", "Delete", "Set", "Pragma", "Use", "Copy", "Describe",
                    "Alter", "Attach", "Detach", "Transaction", "Commit", "Rollback", "Merge", "Install",
                    "Load", "Export", "Summarize", "Show", "Command"}
_ALLOWED_SUMMARY = ("columns, literals, comparisons, AND/OR/NOT, IS NULL, IN (...), BETWEEN, LIKE, arithmetic, "
                    "CASE and the functions " + ", ".join(sorted(
                        ("lower", "upper", "length", "trim", "abs", "round", "floor", "ceil", "coalesce",
                         "nullif", "greatest", "least", "year", "quarter", "month", "extract", "starts_with"))))
_NON_DETERMINISTIC = re.compile(
    r"^(rand|random|setseed|uuid|gen_random_uuid|uuidv4|uuidv7|now|today|current_\w*|get_current_\w*|"
    r"localtime|localtimestamp|transaction_timestamp|statement_timestamp|nextval|currval|txid_current)$")
_ENVIRONMENT = re.compile(
    r"^(read_\w*|\w*_scan|glob|sniff_csv|parquet_\w*|getenv|current_setting|query|query_table|duckdb_\w*|"
    r"pragma_\w*|which_secret|load_aws_credentials|iceberg_\w*|delta_\w*|json_execute_serialized_sql|"
    r"to_json_file|http_\w*|sql_auto_complete|summary|checkpoint|force_checkpoint|system|shell|"
    r"enable_\w*|disable_\w*|version|pg_\w*|has_\w*_privilege|col_description|obj_description)$")


def _function_name(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return _SQLGLOT_NAMES.get(type(node).__name__, node.sql_name().lower())


_SQLGLOT_NAMES = {"Rand": "random", "Uuid": "uuid", "CurrentTimestamp": "now", "CurrentDate": "current_date",
                  "CurrentTime": "current_time", "ReadCSV": "read_csv", "ReadParquet": "read_parquet"}


def _function_problem(name: str) -> str:
    if _NON_DETERMINISTIC.match(name):
        return (f"function '{name}' is not allowed: its result changes from run to run, so two runs "
                "would publish different values")
    if _ENVIRONMENT.match(name):
        return f"function '{name}' is not allowed in an expression (it reads files, settings or other tables)"
    if name == "error":
        return "function 'error' is not allowed: it raises an error that carries data"
    return f"function '{name}' is not allowed in an expression; expected {_ALLOWED_SUMMARY}"


def _cast_problem(node: Any) -> str | None:
    from sqlglot import exp

    if type(node) is not exp.Cast:
        return ("TRY_CAST is not allowed: compare values of the column's own type (a cast of a register "
                "value hides bad values)")
    target = node.to.sql(dialect=DIALECT).upper()
    if not isinstance(node.this, exp.Literal):
        return (f"CAST(... AS {target}) of a column or expression is not allowed: a cast of a register value "
                "can fail and would put the value into an error message; compare values of the column's own "
                "type, and cast only literals (DATE '2012-06-01')")
    if not target.startswith(CAST_TARGETS):
        return f"CAST to {target} is not allowed; expected a cast of a literal to DATE, INTEGER, DOUBLE, VARCHAR or BOOLEAN"
    return None


def _detail_problem(node: Any) -> str | None:
    from sqlglot import exp

    if isinstance(node, exp.Column):
        if node.args.get("table") is not None or node.args.get("db") is not None:
            return (f"the expression may use only columns of its own source; got a reference to "
                    f"'{node.table or node.db}'")
    if isinstance(node, exp.Var) and not isinstance(node.parent, exp.Extract):
        return f"'{node.name}' is not allowed here"
    if isinstance(node, exp.Extract) and str(node.this.name).lower() not in EXTRACT_UNITS:
        return f"extract({node.this.name} FROM ...) is not allowed; expected one of {', '.join(EXTRACT_UNITS)}"
    if isinstance(node, exp.In) and (node.args.get("query") is not None or node.args.get("unnest") is not None):
        return "a query (SELECT, FROM, EXISTS, a subquery) is not allowed: an expression reads one row of its source"
    if isinstance(node, exp.DataType) and not isinstance(node.parent, exp.Cast):
        return "a type name is not allowed here"
    return None


def _node_label(node: Any) -> str:
    try:
        text = node.sql(dialect=DIALECT)
    except Exception:  # noqa: BLE001 - any rendering problem: fall back to the node type
        text = type(node).__name__
    return text if len(text) <= 40 else type(node).__name__


@lru_cache(maxsize=1)
def _allowed_nodes() -> frozenset:
    from sqlglot import exp

    names = ("Column", "Identifier", "Literal", "Boolean", "Null", "Paren", "And", "Or", "Not",
             "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "NullSafeEQ", "NullSafeNEQ", "Is", "In", "Between",
             "Like", "ILike", "Add", "Sub", "Mul", "Div", "Mod", "Neg", "Case", "If", "Coalesce", "Nullif",
             "Lower", "Upper", "Length", "Trim", "Abs", "Round", "Floor", "Ceil", "Greatest", "Least",
             "Year", "Quarter", "Month", "Extract", "Var", "StartsWith", "Cast", "DataType", "DPipe")
    return frozenset(getattr(exp, n) for n in names if hasattr(exp, n))


# ---- binding ------------------------------------------------------------------------


def bind(text: Any, source: str, expect: str | None = "boolean",
         codes: Mapping[str, tuple[str, ...]] | None = None) -> BoundExpression:
    """Parse, screen and bind ``text`` over ``source``; ``expect`` 'boolean', 'numeric' or None.

    ``codes`` replaces the contract's codes of some coded columns (column -> codes), e.g.
    the survey instruments a catalogue declares for ``surveys.instrument``.
    """
    from sqlglot import exp

    columns = source_columns(source)
    if not columns:
        raise ExpressionError(f"unknown source {source!r}")
    text = _as_text(text)
    tree = parse(text)
    used = []
    for node in tree.find_all(exp.Column):
        name = node.name
        if name not in columns:
            raise ExpressionError(_unknown_column(name, source, columns), text)
        used.append(name)
    _check_codes(tree, source, text, codes or {})
    typ = plain_type(tree, columns) or _binder().type_of(source, tree.sql(dialect=DIALECT, identify=True), text)
    _check_expected(typ, expect, text)
    return BoundExpression(text, source, tree, typ, tuple(dict.fromkeys(used)))


def tree_of(text: str, source: str, table: str | None = None) -> Any:
    """The screened tree of an expression (a fresh copy, screened again), for the compiler.

    ``table``: qualify every column with this table alias (for queries that join tables).
    """
    from sqlglot import exp

    tree = _parsed(_as_text(text)).copy()
    if table is not None:
        for column in list(tree.find_all(exp.Column)):
            column.set("table", exp.to_identifier(table, quoted=True))
    return tree


def render(text: str, source: str, table: str | None = None) -> str:
    """The SQL of an expression, screened again (binding is done when the model is loaded).

    ``table``: qualify every column with this table alias (for queries that join tables).
    """
    return _rendered(_as_text(text), source, table)


@lru_cache(maxsize=512)
def _rendered(text: str, source: str, table: str | None) -> str:
    from sqlglot import exp

    tree = _parsed(text).copy()
    if table is not None:
        for column in list(tree.find_all(exp.Column)):
            column.set("table", exp.to_identifier(table, quoted=True))
    return tree.sql(dialect=DIALECT, identify=True)


def _unknown_column(name: str, source: str, columns: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, list(columns), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown column '{name}' in source '{source}'; {hint}expected one of {', '.join(columns)}"


def _check_codes(tree: Any, source: str, text: str, codes: Mapping[str, tuple[str, ...]]) -> None:
    from sqlglot import exp

    comparisons = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ)
    for node in tree.walk():
        if isinstance(node, comparisons):
            pairs = [(node.this, [node.expression]), (node.expression, [node.this])]
        elif isinstance(node, exp.In):
            pairs = [(node.this, list(node.expressions))]
        else:
            continue
        for column, values in pairs:
            _check_coded_values(column, values, source, text, codes)


def _check_coded_values(column: Any, values: list, source: str, text: str,
                        given: Mapping[str, tuple[str, ...]]) -> None:
    from sqlglot import exp

    if not isinstance(column, exp.Column):
        return
    codes = given.get(column.name) or codes_of(source, column.name)
    if not codes:
        return
    for value in values:
        if isinstance(value, exp.Literal) and value.is_string and value.this not in codes:
            raise ExpressionError(
                f"'{value.this}' is not a code of column '{column.name}' in source '{source}'; "
                f"expected one of {', '.join(repr(c) for c in codes)}", text)


def _check_expected(typ: str, expect: str | None, text: str) -> None:
    if expect == "boolean" and typ not in ("BOOLEAN", '"NULL"', "NULL"):
        raise ExpressionError(
            f"expected a boolean expression (a condition such as exit_type = 'assisted_return'); "
            f"got an expression of type {typ}", text)
    if expect == "numeric" and not typ.startswith(NUMERIC_TYPES + ("BOOLEAN",)):
        raise ExpressionError(f"expected a numeric expression; got an expression of type {typ}", text)


# ---- types of plain expressions, without a database -------------------------------------

_COMPARISONS = ("EQ", "NEQ", "GT", "GTE", "LT", "LTE", "NullSafeEQ", "NullSafeNEQ")
_TEXT = ("VARCHAR", "text literal")
_NUMBER = ("INTEGER", "BIGINT", "DOUBLE", "number literal")


def plain_type(tree: Any, columns: Mapping[str, str]) -> str | None:
    """The DuckDB type of the plainest expressions (columns, literals, comparisons of like with
    like, AND/OR/NOT, IS NULL, IN, BETWEEN, LIKE), decided without a database; None for
    anything else, which the empty in-memory DuckDB binds (and whose errors it words).

    Only combinations DuckDB accepts with this very type are decided here (the tests compare
    every decision with DuckDB's), so the result is the same as binding in DuckDB; the
    shipped catalogue needs no database to validate."""
    kind = _plain(tree, columns)
    if kind is None or kind in ("text literal", "number literal"):
        return None
    return kind


def _plain(node: Any, columns: Mapping[str, str]) -> str | None:
    from sqlglot import exp

    name = type(node).__name__
    if isinstance(node, exp.Paren):
        return _plain(node.this, columns)
    if isinstance(node, exp.Column):
        return columns.get(node.name)
    if isinstance(node, exp.Boolean):
        return "BOOLEAN"
    if isinstance(node, exp.Literal):
        return "text literal" if node.is_string else "number literal"
    if isinstance(node, (exp.And, exp.Or)):
        return "BOOLEAN" if _plain(node.this, columns) == _plain(node.expression, columns) == "BOOLEAN" else None
    if isinstance(node, exp.Not):
        return "BOOLEAN" if _plain(node.this, columns) == "BOOLEAN" else None
    if isinstance(node, exp.Is):
        return "BOOLEAN" if isinstance(node.expression, exp.Null) and _plain(node.this, columns) else None
    if name in _COMPARISONS:
        return "BOOLEAN" if _comparable(_plain(node.this, columns), _plain(node.expression, columns)) else None
    if isinstance(node, exp.In):
        left = _plain(node.this, columns)
        values = [_plain(v, columns) for v in node.expressions]
        return "BOOLEAN" if values and all(_comparable(left, v) for v in values) else None
    if isinstance(node, exp.Between):
        left = _plain(node.this, columns)
        ok = _comparable(left, _plain(node.args.get("low"), columns)) and \
            _comparable(left, _plain(node.args.get("high"), columns))
        return "BOOLEAN" if ok else None
    if isinstance(node, (exp.Like, exp.ILike)):
        ok = _plain(node.this, columns) in _TEXT and _plain(node.expression, columns) in _TEXT
        return "BOOLEAN" if ok else None
    return None


def _comparable(left: str | None, right: str | None) -> bool:
    if left is None or right is None or (left.endswith("literal") and right.endswith("literal")):
        return False
    return (left in _TEXT and right in _TEXT) or (left in _NUMBER and right in _NUMBER) or \
        (left == right and left in ("BOOLEAN", "DATE"))


class _Binder:
    """An empty in-memory DuckDB with the contract schema and one typical row per table."""

    def __init__(self) -> None:
        import duckdb

        self._lock = threading.Lock()
        self._con = duckdb.connect(":memory:")
        for source, columns in _source_columns().items():
            cols = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns.items())
            self._con.execute(f"CREATE TABLE {quote_identifier(source)} ({cols})")
            values = ", ".join(_TYPICAL.get(t, "NULL") for t in columns.values())
            self._con.execute(f"INSERT INTO {quote_identifier(source)} VALUES ({values})")
        lock_down(self._con)

    def type_of(self, source: str, sql: str, text: str) -> str:
        return _bound_type(self, source, sql, text)

    def _describe(self, source: str, sql: str) -> str:
        import duckdb

        table = quote_identifier(source)
        with self._lock:
            try:
                described = self._con.execute(f"DESCRIBE SELECT ({sql}) AS _e FROM {table}").fetchall()
                self._con.execute(f"SELECT ({sql}) AS _e FROM {table}").fetchall()
            except duckdb.Error as exc:
                return "!" + _binder_reason(exc)
        return str(described[0][1])


_TYPICAL = {"VARCHAR": "''", "INTEGER": "0", "BIGINT": "0", "DOUBLE": "0.0", "BOOLEAN": "false",
            "DATE": "DATE '2000-01-01'", "TIMESTAMP": "TIMESTAMP '2000-01-01'"}


@lru_cache(maxsize=1024)
def _cached_type(source: str, sql: str) -> str:
    return _binder()._describe(source, sql)


def _bound_type(binder: _Binder, source: str, sql: str, text: str) -> str:
    typ = _cached_type(source, sql)
    if typ.startswith("!"):
        raise ExpressionError(typ[1:], text)
    return typ


_BINDER: _Binder | None = None


def _binder() -> _Binder:
    global _BINDER
    if _BINDER is None:
        _BINDER = _Binder()
    return _BINDER


def _binder_reason(exc: Exception) -> str:
    """DuckDB's reason, first line only (the binder holds no register data)."""
    text = str(exc).split("\n")[0]
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)
    if "GROUP BY" in text or "aggregate" in text.lower():
        return "aggregate functions (count, sum, ...) are not allowed in a filter: it is tested row by row"
    return f"type error: {text}"


def lock_down(con: Any) -> None:
    """Switch external access off and lock the configuration of a DuckDB connection.

    Every connection that evaluates user expressions or runs analysis calls this right
    after opening: even an expression that slipped through cannot read or write files.
    """
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
