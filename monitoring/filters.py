"""Checking the expressions of a catalogue's indicators against the data contract.

Each filter, share condition and summed column of an indicator goes through
:mod:`monitoring.expressions` (parse, screen, bind); this module walks a catalogue and
turns the problems into ``logicmodel.issues.Issue`` objects at the YAML line of the
offending key (rule ``MON001`` for expressions, ``MON002`` for definitions monitoring
cannot compile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from logicmodel.issues import Issue, dotted
from monitoring.expressions import ExpressionError, bind, source_columns
from monitoring.indicators import SOURCES, IndicatorDefinitionError, indicator_spec

FilterError = ExpressionError  # the name earlier releases used
EXPRESSION_RULE = "MON001"
DEFINITION_RULE = "MON002"


@dataclass(frozen=True)
class FilterProblem:
    """One problem with one expression (or the definition) of one indicator."""

    indicator: str
    path: tuple  # key path inside the indicator, e.g. ('numerator', 'filter')
    message: str
    rule: str = EXPRESSION_RULE


#: The expressions of an indicator (or of a ratio's part) and what each must be.
EXPRESSION_KEYS = (("filter", "boolean"), ("condition", "boolean"), ("event", "boolean"), ("column", "numeric"))


def definition_problem(ind: Any) -> FilterProblem | None:
    """The problem of an indicator definition monitoring cannot compile, or None."""
    try:
        indicator_spec(ind)
    except IndicatorDefinitionError as exc:
        return FilterProblem(ind.id, tuple(exc.key.split(".")), str(exc).split(": ", 2)[-1], DEFINITION_RULE)
    return None


def bind_problems(ind: Any, codes: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> list[FilterProblem]:
    """Problems of one catalogue ``Indicator``: its definition, filters, conditions and columns.

    ``codes``: per source, codes that replace the contract's for some columns (the survey
    instruments a catalogue declares).
    """
    problem = definition_problem(ind)
    if problem is not None:
        return [problem]
    spec = indicator_spec(ind)
    problems = []
    for prefix, part, agg in _parts(ind, spec):
        for key, expected in EXPRESSION_KEYS:
            value = getattr(part, key, None)
            if value is None or agg.source not in SOURCES:
                continue
            if key == "column" and spec.type == "distinct_count":
                expected = None  # any column can be counted
            problem = _check_expression(agg.source, key, value, expected, (codes or {}).get(agg.source))
            if problem:
                problems.append(FilterProblem(ind.id, (*prefix, key), problem))
        distinct = getattr(part, "distinct", None)
        if distinct is not None and distinct not in source_columns(agg.source):
            problems.append(FilterProblem(ind.id, (*prefix, "distinct"), f"unknown column {distinct!r} in source {agg.source!r}"))
    return problems


def _parts(ind: Any, spec) -> list[tuple[tuple, Any, Any]]:
    if spec.type == "ratio":
        return [(("numerator",), ind.numerator, spec.numerator), (("denominator",), ind.denominator, spec.denominator)]
    return [((), ind, spec.numerator)]


def _check_expression(source: str, key: str, value: Any, expected: str,
                      codes: Mapping[str, tuple[str, ...]] | None = None) -> str | None:
    if key == "column":
        columns = source_columns(source)
        if value not in columns:
            return f"unknown column {value!r} in source {source!r}; expected one of {', '.join(columns)}"
        if expected is None:
            return None
        try:
            bind(str(value), source, "numeric")
        except ExpressionError:
            return f"column {value!r} of source {source!r} is {columns[value]}; expected a numeric column"
        return None
    try:
        bind(value, source, expected, codes)
    except ExpressionError as exc:
        return exc.reason
    return None


def check_catalogue(catalogue: Any, locate: Callable[[tuple], tuple[str, int, int]] | None = None,
                    only: set[str] | None = None) -> list:
    """Check every indicator of a catalogue; return ``logicmodel.issues.Issue`` objects.

    ``locate`` maps a key path such as ``('indicators', 3, 'numerator', 'filter')`` to
    ``(file, line, column)``; by default the catalogue's own ``locate`` method (if any).
    ``catalogue`` is a ``logicmodel.catalogue.Catalogue``. ``only`` restricts the check to
    some indicator ids.
    """

    locate = locate or _default_locator(catalogue)
    issues = []
    for n, ind in enumerate(catalogue.indicators):
        if only is not None and ind.id not in only:
            continue
        for problem in bind_problems(ind, catalogue_codes(catalogue)):
            path = ("indicators", n, *problem.path)
            file, line, col = locate(path)
            issues.append(Issue(file, line, col, "error", problem.rule, dotted(path),
                                f"indicator '{problem.indicator}': {problem.message}"))
    return issues


def catalogue_codes(catalogue: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per source, the codes a catalogue adds to the contract's: its survey instruments
    (built-in and declared) as the codes of ``surveys.instrument``; empty for a plain mapping."""
    scales = getattr(catalogue, "instrument_scales", None)
    return {"surveys": {"instrument": tuple(scales())}} if callable(scales) else {}


def _default_locator(catalogue: Any) -> Callable[[tuple], tuple[str, int, int]]:
    method = getattr(catalogue, "locate", None)
    if callable(method):
        return method
    source_file = str(getattr(catalogue, "source_file", "") or getattr(catalogue, "path", "") or "<catalogue>")
    return lambda path: (source_file, 0, 0)
