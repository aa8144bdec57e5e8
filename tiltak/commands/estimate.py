"""``tiltak estimate``: run the models' evaluation designs against the store."""

from __future__ import annotations

import click


@click.command(name="estimate")
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="DuckDB store with the registers.")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Also write the estimates as JSON to this file.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed for matching order 'random'.")
def command(models: tuple[str, ...], db: str, out: str | None, seed: int) -> None:
    """Estimate the effects each model's evaluation design tests.

    For every expected change the design tests: one target trial per month with a
    first start; each participant is matched with people at risk on the first day of
    that month who had not started (covariates and matching settings from the model) and
    followed from the participant's start date, both groups on the same clock. Exits and
    applications are cumulative incidence curves per trial (competing exits, censoring
    at the end of the data and, for the estimand enrol_vs_not, at a comparison person's
    later start with censoring weights), averaged over the trials; survey changes are
    regression-adjusted differences in means. Prints the effect on the participants (ATT)
    with its unadjusted 95 % interval, the Holm-adjusted p-value within the model, balance,
    the minimum detectable effect and the sensitivity to hidden bias. The results replace
    the models' rows in the store's 'estimates' table and, with --out, are written as
    JSON (aggregates only; counts below the disclosure threshold are suppressed). Prints
    one line per estimate.

    \b
    Example:
      tiltak estimate models/veien-videre.yaml --db tiltak.duckdb --out estimates.json
      tiltak estimate models/ --db tiltak.duckdb
    """
    from pathlib import Path

    from tiltak import worker_process

    # a worker for a share of the models, importing beside this process's own imports
    worker_process.prestart_when_idle(worker_process.ESTIMATE_WORKER)
    from tiltak.evaluation.document import clean, estimate_entry
    from tiltak.pipeline import StageBar, dump_json, load_inputs, run_estimates, write_atomically

    inputs = load_inputs(models)
    if out and not Path(out).parent.exists():
        raise click.BadParameter(f"folder '{Path(out).parent}' does not exist", param_hint="--out")
    with StageBar(len(inputs), "estimating") as bar:
        results = run_estimates(db, inputs, seed=seed, progress=bar)
    for item in inputs:
        if not results[item.model.id]:
            click.echo(f"{item.model.id}: its evaluation design tests no expected change with a person-level outcome")
        for est in results[item.model.id]:
            click.echo(f"{item.model.id} {est.change_id} {est.outcome.id} [{est.estimand}]: {_line(est)}")
    if out:
        document = {"schema": "tiltak-estimates/2", "models": [
            {"id": i.model.id, "measure": i.model.measure,
             "estimates": [estimate_entry(e, i.model.monitoring.disclosure.min_count) for e in results[i.model.id]]}
            for i in inputs]}
        write_atomically(Path(out), dump_json(clean(document)))


def _line(est) -> str:
    """One estimate as a line of text (aggregates only)."""
    from tiltak.evaluation.wording import format_effect, format_number, format_p

    ev = est.evidence
    if est.error or ev is None or ev.att is None:
        return f"not estimated: {est.error}"
    unit, lang = est.outcome.unit, "en"  # the command's lines are English, numbers with the decimal point
    return (f"ATT {format_effect(ev.att, unit, lang)} (unadjusted 95 % CI {format_effect(ev.ci_low, unit, lang)} to "
            f"{format_effect(ev.ci_high, unit, lang)}), Holm-adjusted p {format_p(ev.p_value_holm, lang)}, "
            f"max |SMD| after matching and weighting {format_number(ev.max_abs_smd, 3, lang)}")
