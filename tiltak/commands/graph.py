"""``tiltak graph``: draw a logic model as SVG, DOT, Mermaid or JSON."""

from __future__ import annotations

import os
import tempfile

import click

FORMATS = ("svg", "dot", "mermaid", "json")


def render(model_path: str, fmt: str, lang: str) -> str:
    """The text of the drawing of the (validated) model in ``model_path``."""
    import json

    from logicmodel.graph import to_graph, to_node_link
    from logicmodel.loading import load_bundle

    graph = to_graph(load_bundle(model_path).model, lang=lang)
    if fmt == "json":
        return json.dumps(to_node_link(graph), ensure_ascii=False, indent=2) + "\n"
    from logicmodel import diagram

    if fmt == "svg":
        return diagram.to_svg(graph, lang=lang)
    return diagram.to_dot(graph, lang=lang) if fmt == "dot" else diagram.to_mermaid(graph, lang=lang)


def check_output(path: str, model_path: str) -> None:
    """Refuse an output path that would replace a device, the model or any YAML file."""
    from tiltak.errors import TiltakError

    if os.path.isdir(path):
        raise TiltakError(f"-o {path}: is a directory; expected a file name")
    if not os.path.exists(path):
        return
    if not os.path.isfile(os.path.realpath(path)):
        raise TiltakError(f"-o {path}: is not a regular file (a device or pipe?); expected a file name "
                          "(leave out -o to write to standard output)")
    if os.path.exists(model_path) and os.path.samefile(path, model_path):
        raise TiltakError(f"-o {path}: is the model file itself; choose another name")
    if path.lower().endswith((".yaml", ".yml")):
        raise TiltakError(f"-o {path}: would overwrite a YAML file with the drawing; "
                          "choose a name ending in .svg, .dot, .mmd or .json")


def write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a complete file or none."""
    from tiltak.errors import TiltakError

    folder = os.path.dirname(os.path.realpath(path))
    if os.path.isdir(path):
        raise TiltakError(f"-o {path}: is a directory; expected a file name")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tiltak-graph-")
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, os.path.realpath(path))  # through a symbolic link, never replacing it
    except OSError as exc:
        raise TiltakError(f"-o {path}: cannot write the file: {exc.strerror or exc}") from None


@click.command(name="graph")
@click.argument("model", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="svg", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(), default=None, help="Write to this file instead of standard output.")
@click.option("--lang", type=click.Choice(["nb", "en"]), default="nb", show_default=True, help="Language of titles.")
def command(model: str, fmt: str, output: str | None, lang: str) -> None:
    """Draw the logic model in MODEL (validated first; errors stop it, exit 1).

    svg: a diagram with levels as bands; dot: Graphviz text; mermaid: Mermaid text;
    json: node-link data of the graph with the pathways from activities to impacts.

    \b
    Example:
      tiltak graph models/veien-videre.yaml -o veien-videre.svg
      tiltak graph models/veien-videre.yaml --format mermaid --lang en
    """
    if output is not None and output != "-":
        check_output(output, model)
    text = render(model, fmt, lang)
    if output is None or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_output(output, text)
