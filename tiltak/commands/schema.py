"""``tiltak schema``: print or write the JSON Schemas of the model and catalogue formats."""

from __future__ import annotations

import os

import click


@click.command(name="schema")
@click.option("--catalogue", is_flag=True, help="The indicator catalogue's schema instead of the model's.")
@click.option(
    "--write", "folder", type=click.Path(file_okay=False),
    help="Write both schema files into this folder instead of printing.",
)
def command(catalogue: bool, folder: str | None) -> None:
    """Print the JSON Schema of logic model files (or of the indicator catalogue).

    Editors that use yaml-language-server complete keys and flag mistakes when a file
    starts with `# yaml-language-server: $schema=../schemas/logicmodel.schema.json`.

    \b
    Example:
      tiltak schema > schemas/logicmodel.schema.json
      tiltak schema --catalogue
      tiltak schema --write schemas
    """
    from logicmodel.jsonschema import FILES, schema_text
    from tiltak.errors import TiltakError

    if folder is None:
        click.echo(schema_text("catalogue" if catalogue else "logicmodel"), nl=False)
        return
    try:
        os.makedirs(folder, exist_ok=True)
        for which, name in FILES.items():
            _write_atomically(os.path.join(folder, name), schema_text(which))
    except OSError as exc:
        raise TiltakError(f"--write {folder}: cannot write the schema files: {exc.strerror or exc}") from None


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(temporary, path)
