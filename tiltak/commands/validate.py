"""``tiltak validate``: check logic models and indicator catalogues."""

from __future__ import annotations

import importlib
import json
import sys

import click

#: Extra checkers run on every model and catalogue, as "module:function" (imported only
#: when validating). A checker takes a ``logicmodel.ValidationUnit`` and returns issues.
CHECKER_SPECS: tuple[str, ...] = ()


def load_checkers(specs: tuple[str, ...] = CHECKER_SPECS) -> list:
    """Import the checker functions named by ``specs``."""
    checkers = []
    for spec in specs:
        module_name, _, function_name = spec.partition(":")
        checkers.append(getattr(importlib.import_module(module_name), function_name))
    return checkers


def filter_checker(unit) -> list:
    """Bind SQL against the data contract (imports DuckDB): a catalogue's filters, and the
    subgroup filters of a model's expected changes over the person-month panel.

    Problems are reported at the YAML line of the filter, with rule id MON001.
    """
    if unit.model is None:
        return _catalogue_filter_issues(unit) if unit.catalogue is not None else []
    return _subgroup_issues(unit)


def _catalogue_filter_issues(unit) -> list:
    from monitoring.filters import check_catalogue

    document = unit.catalogue_document

    def locate(path: tuple) -> tuple[str, int, int]:
        where = document.position(path)
        return document.file, where.line, where.column

    return list(check_catalogue(unit.catalogue, locate))


def _subgroup_issues(unit) -> list:
    changes = [(i, c.subgroup) for i, c in enumerate(unit.model.expected_changes) if c.subgroup]
    if not changes:
        return []
    from monitoring.filters import FilterError, SchemaBinder

    issues, binder = [], SchemaBinder()
    try:
        for index, subgroup in changes:
            try:
                kind = binder.expression_type("person_month", subgroup)
                problem = None if kind.strip('"') in ("BOOLEAN", "NULL") else f"expected a condition; got an expression of type {kind}"
            except FilterError as exc:
                problem = str(exc)
            if problem:
                path = ("expected_changes", index, "subgroup")
                issues.append(unit.issue(unit.model_document, path, "MON001", "error", f"subgroup {subgroup!r}: {problem}"))
    finally:
        binder.close()
    return issues


@click.command(name="validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text: one line per issue and a summary; json: a list of issue objects.",
)
@click.option(
    "--filters", "bind_filters", is_flag=True,
    help="Also bind the catalogue's SQL filters against the data contract (starts DuckDB).",
)
def command(paths: tuple[str, ...], fmt: str, bind_filters: bool) -> None:
    """Check logic models (and the catalogues they use) for errors and warnings.

    PATHS are model files or folders; a folder checks every *.yaml model in it and the
    catalogues the models name. Each issue is printed as
    `path:line:col: severity RULE key.path: message` (rules: docs/rules.md).

    Exit code 0 when there is no error (warnings allowed), 1 when there is an error,
    2 when a path cannot be used.

    \b
    Example:
      tiltak validate models/
      tiltak validate models/veien-videre.yaml --format json
      tiltak validate models/ --filters
    """
    from logicmodel.validation import validate_paths

    checkers = load_checkers() + ([filter_checker] if bind_filters else [])
    report = validate_paths(list(paths), checkers=checkers)
    if fmt == "json":
        click.echo(json.dumps([issue.to_dict() for issue in report.issues], ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            click.echo(issue.render())
        click.echo(report.summary())
    sys.exit(report.exit_code)
