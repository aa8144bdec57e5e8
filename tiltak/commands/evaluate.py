"""``tiltak evaluate``: verdicts, contribution analysis, costs and the HTML report."""

from __future__ import annotations

import click

from tiltak.commands._language import lang_option



@click.command(name="evaluate")
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="DuckDB store with the registers.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False),
              help="Folder for report.html and evaluation.json (created if missing).")
@lang_option("Language of the report (evaluation.json is the same in every language: codes and numbers).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed for matching order 'random'.")
@click.option("--balance-threshold", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True,
              help="Largest |SMD| after matching and censoring weights for an estimate to count as "
                   "balanced (covariate-adjusted estimates: the larger of this and 0.25).")
def command(models: tuple[str, ...], db: str, out: str, lang: str, seed: int, balance_threshold: float) -> None:
    """Compare what each model expects with what the registers show.

    Brings monitoring up to date for the models, runs their evaluation designs (as
    'tiltak estimate'), gives each expected change a verdict (confirmed, not confirmed,
    inconclusive, contradicted, not testable) with its reasons and sensitivity to hidden
    bias, rates every causal link and pathway, computes unit costs and cost per
    additional outcome, and writes OUT/evaluation.json and OUT/report.html (one
    self-contained file). Disclosure control applies to everything written. Prints the
    path of the report.

    \b
    Example:
      tiltak evaluate models/ --db tiltak.duckdb --out report/ --lang en
      tiltak evaluate models/ --db tiltak.duckdb --out rapport/ --lang nn
      tiltak evaluate models/veien-videre.yaml --db tiltak.duckdb --out vv/
    """
    from tiltak.evaluation.verdicts import VerdictRules
    from tiltak.pipeline import StageBar, evaluate, load_inputs

    inputs = load_inputs(models)
    with StageBar(len(inputs) + 3, "evaluating") as bar:
        html, _ = evaluate(db, inputs, out, lang=lang, seed=seed,
                           rules=VerdictRules(balance_threshold=balance_threshold), progress=bar)
    click.echo(str(html))
