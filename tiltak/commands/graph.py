"""``tiltak graph``: draw a logic model as SVG, DOT, Mermaid or JSON."""

from __future__ import annotations

import os
import tempfile

import click

from tiltak.commands._language import lang_option

FORMATS = ("svg", "dot", "mermaid", "json")


def model_graph(model_path: str, lang: str, draft: bool):
    """The graph of the model in ``model_path``: validated by every rule, errors refused
    (:class:`~logicmodel.errors.InvalidDocumentError`, exit 1); with ``draft``, what can be
    drawn, the problems attached (nothing refused but a file that is not a model)."""
    from logicmodel.draft import draft_graph
    from logicmodel.errors import InvalidDocumentError, UsageError
    from logicmodel.graph import to_graph

    from tiltak.loading import check_files

    checked = check_files([model_path])
    if not checked.model_files:
        raise UsageError(f"{model_path}: this is an indicator catalogue; expected a logic model (a file with nodes)")
    issues = checked.report.issues
    document = checked.validator.read(model_path).document
    if draft:
        if document is None:  # not YAML: nothing to draw
            raise InvalidDocumentError([i for i in issues if i.is_error])
        return draft_graph(document.data, checked.validator.model_of(model_path), issues, model_path, lang)
    errors = [issue for issue in issues if issue.is_error]
    if errors:
        raise InvalidDocumentError(errors)
    return to_graph(checked.validator.model_of(model_path), lang=lang)


def render(model_path: str, fmt: str, lang: str, draft: bool = False, direction: str = "auto",
           width: float | None = None) -> str:
    """The text of the drawing of the model in ``model_path`` (see :func:`model_graph`), laid
    out in ``direction`` for a drawing ``width`` pixels wide (default 1000)."""
    import json

    from logicmodel import diagram
    from logicmodel.graph import to_node_link

    graph = model_graph(model_path, lang, draft)
    if fmt == "json":
        return json.dumps(to_node_link(graph), ensure_ascii=False, indent=2) + "\n"
    width = diagram.DEFAULT_WIDTH if width is None else width
    draw = {"svg": diagram.to_svg, "dot": diagram.to_dot, "mermaid": diagram.to_mermaid}[fmt]
    return draw(graph, lang=lang, direction=direction, width=width)


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
@lang_option("Language of the labels, the legend and the model's titles.")
@click.option("--direction", type=click.Choice(["auto", "lr", "tb"]), default="auto", show_default=True,
              help="lr: levels as columns, left to right; tb: levels as rows, top to bottom, each level's boxes "
                   "wrapped into as many rows as --width needs; auto: lr when it fits --width at full size, else tb. "
                   "dot and mermaid take the direction too (their own layout does not wrap).")
@click.option("--width", type=click.FloatRange(min=320), default=1000, show_default=True, metavar="PX",
              help="Width of the drawing in pixels that tb fits and auto chooses by (at least 320).")
@click.option("--draft", is_flag=True,
              help="Draw a work in progress: what parses is drawn, and every problem is marked on the box or "
                   "arrow it is about (the others listed under the drawing); exit 0 even with errors.")
def command(model: str, fmt: str, output: str | None, lang: str, direction: str, width: float, draft: bool) -> None:
    """Draw the logic model in MODEL (validated first; errors stop it, exit 1).

    svg: a diagram with levels as bands; dot: Graphviz text; mermaid: Mermaid text;
    json: node-link data of the graph with the pathways from activities to impacts.
    A wide model is drawn top to bottom (--direction auto, the default) so that its text
    stays at full size within --width; --direction lr draws it left to right at full size.
    With --draft, a model with errors is drawn too: boxes and arrows with problems have a
    red dashed border and a tag ("1 problem"), the messages are in their tooltips (in
    json: a "problems" list on every node, edge and the graph).

    \b
    Example:
      tiltak graph models/veien-videre.yaml -o veien-videre.svg
      tiltak graph models/veien-videre.yaml --format mermaid --lang en
      tiltak graph models/veien-videre.yaml --direction tb --width 600 -o narrow.svg
      tiltak graph draft.yaml --draft -o draft.svg
    """
    if output is not None and output != "-":
        check_output(output, model)
    text = render(model, fmt, lang, draft, direction, width)
    if output is None or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_output(output, text)
