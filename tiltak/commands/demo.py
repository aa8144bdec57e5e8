"""``tiltak demo``: the whole chain on synthetic registers, ending with the report."""

from __future__ import annotations

import click

from tiltak.commands._language import lang_option



@click.command(name="demo")
@click.option("--out", "out", type=click.Path(file_okay=False), default="tiltak-demo", show_default=True,
              help="Folder for the store, report.html and evaluation.json.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Seed of the synthetic registers.")
@lang_option("Language of the report.")
def command(out: str, seed: int, lang: str) -> None:
    """Run everything on the embedded synthetic registers.

    Generates synthetic registers with a known truth (no effect on return, a modest
    HSCL-10 improvement for Veien Videre) into OUT/registers.duckdb, monitors the three
    shipped models, runs their evaluation designs, judges every expected change and
    writes OUT/report.html and OUT/evaluation.json. The same seed gives byte-identical
    files. Prints the path of the report.

    \b
    Example:
      tiltak demo
      tiltak demo --out /tmp/demo --seed 7 --lang nb
    """
    from tiltak.pipeline import StageBar, demo

    with StageBar(8, "tiltak demo") as bar:
        html = demo(out, seed=seed, lang=lang, progress=bar)
    click.echo(str(html.resolve()))
