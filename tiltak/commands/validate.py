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


@click.command(name="validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text: one line per issue and a summary; json: a list of issue objects.",
)
def command(paths: tuple[str, ...], fmt: str) -> None:
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
    """
    from logicmodel.validation import validate_paths

    report = validate_paths(list(paths), checkers=load_checkers())
    if fmt == "json":
        click.echo(json.dumps([issue.to_dict() for issue in report.issues], ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            click.echo(issue.render())
        click.echo(report.summary())
    sys.exit(report.exit_code)
