"""The allow-list every engine applies to a tree before it renders and runs it.

The plan (:mod:`monitoring.compiler`, :mod:`monitoring.panel`) builds queries from a small
set of sqlglot node types; users' expressions add the nodes the expression module allows.
Before an engine runs a tree it checks, per dialect:

* every node is of an allowed type (``SELECT`` queries only: no statement, no ``COPY``, no
  ``SET``, no DDL other than what the engine itself issues);
* every function is one the plan uses (an allow-list, so ``pg_read_file``,
  ``lo_import``, ``dblink``, ``COPY ... PROGRAM`` on PostgreSQL, ``reflect``,
  ``java_method``, ``from_json`` tricks on Spark, ``read_csv``/``glob`` on DuckDB are
  refused because they are not on it; :data:`KNOWN_DANGEROUS` names them for the message);
* every table is a contract table, the panel, or a name the query itself defines (a CTE);
  a qualified or path table (Spark's ``parquet.`/path```, DuckDB's ``'file.csv'``) is
  refused.

A refusal is a :class:`PlanRefused` naming the node; it means a bug in tiltak (the plan
only builds allowed trees), and the tests check both that every plan passes and that the
dangerous constructs are refused on every dialect.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from monitoring.contract import CONTRACT
from monitoring.errors import MonitoringError
from monitoring.expressions import _allowed_nodes

#: Names of functions that read files, run programs or reach the JVM or the network, per
#: dialect. They are refused because they are not on the allow-list; this table only gives
#: the reason in the message (and the tests try each).
KNOWN_DANGEROUS: dict[str, tuple[str, ...]] = {
    "postgres": ("pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",
                 "dblink", "dblink_exec", "pg_sleep", "set_config", "current_setting", "pg_terminate_backend",
                 "query_to_xml", "pg_logical_emit_message"),
    "spark": ("reflect", "java_method", "input_file_name", "current_user", "assert_true", "raise_error",
              "xpath", "from_json", "url_decode", "parse_url"),
    "duckdb": ("read_csv", "read_csv_auto", "read_parquet", "read_json", "glob", "getenv", "query", "query_table",
               "read_text", "read_blob", "sniff_csv"),
}

_PLAN_NODES = (
    "Select", "From", "Join", "Where", "Group", "GroupingSets", "Tuple", "With", "CTE", "TableAlias", "Alias",
    "Table", "Subquery", "Values", "Distinct", "Star", "Column", "Identifier", "Literal", "Null", "Boolean",
    "Paren", "And", "Or", "Not", "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is", "In", "Between", "Like", "ILike",
    "Add", "Sub", "Mul", "Div", "IntDiv", "Mod", "Neg", "Case", "If", "Cast", "DataType", "DataTypeParam", "Var",
    "Filter", "Order", "Ordered", "Window", "WindowSpec", "PartitionedByProperty", "Union", "DPipe", "NullSafeEQ", "NullSafeNEQ",
)
_PLAN_FUNCTIONS = (
    "Count", "Sum", "Min", "Max", "Coalesce", "Grouping", "Extract", "DateTrunc", "Substring", "Nullif",
    "Lower", "Upper", "Length", "Trim", "Abs", "Round", "Floor", "Ceil", "Greatest", "Least", "Year", "Quarter",
    "Month", "StartsWith", "RowNumber", "Concat", "Anonymous", "DateFromParts", "Pad",
)
#: Anonymous (dialect-specific) functions the plan may use, per dialect.
_ANONYMOUS: dict[str, frozenset[str]] = {
    "duckdb": frozenset({"hash"}), "postgres": frozenset({"make_date", "hashtextextended"}),
    "spark": frozenset({"xxhash64"}),
}


class PlanRefused(MonitoringError):
    """A tree that the engine's allow-list does not accept (a bug in tiltak, never user data)."""


@lru_cache(maxsize=1)
def _allowed_types() -> frozenset:
    from sqlglot import exp


    names = _PLAN_NODES + _PLAN_FUNCTIONS
    return frozenset(getattr(exp, n) for n in names if hasattr(exp, n)) | _allowed_nodes()


@lru_cache(maxsize=1)
def allowed_tables() -> frozenset[str]:

    return frozenset(CONTRACT) | {"person_month"}


def screen_plan(tree: Any, dialect: str, extra_tables: frozenset[str] = frozenset()) -> None:
    """Raise PlanRefused unless every node, function and table of ``tree`` is allowed."""
    from sqlglot import exp

    defined = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = allowed_tables() | extra_tables | defined
    for node in tree.walk():
        problem = _problem(node, dialect, tables)
        if problem:
            raise PlanRefused(f"{dialect} engine refused the query: {problem}")


def _problem(node: Any, dialect: str, tables: set[str]) -> str | None:
    from sqlglot import exp

    if type(node) not in _allowed_types():
        if isinstance(node, exp.Func):
            return _function_problem(node.sql_name().lower(), dialect)
        return f"node {type(node).__name__} is not on the allow-list"
    if isinstance(node, exp.Anonymous):
        name = str(node.name).lower()
        if name not in _ANONYMOUS.get(dialect, frozenset()):
            return _function_problem(name, dialect)
    if isinstance(node, exp.Table):
        if node.args.get("db") is not None or node.args.get("catalog") is not None:
            return f"qualified or path table {node.sql(dialect=dialect)!r} is not allowed"
        if not isinstance(node.this, exp.Identifier) or node.name not in tables:
            return f"table {node.sql(dialect=dialect)!r} is not a contract table"
    return None


def _function_problem(name: str, dialect: str) -> str:
    if name in KNOWN_DANGEROUS.get(dialect, ()) or any(name in names for names in KNOWN_DANGEROUS.values()):
        return f"function {name!r} reads files, runs programs or reaches outside the query; it is never allowed"
    return f"function {name!r} is not on the allow-list"
