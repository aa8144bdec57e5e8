"""``tiltak monitor``: compute, show, explain and check monitored indicators."""

from __future__ import annotations

import re
import sys

import click

MAX_FINDINGS_SHOWN = 25
MAX_WAIT_SECONDS = 86400
PERIOD_HELP = "a month 2013-06, a quarter 2013-Q2 or a year 2013"
_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?")


def _month_range(option: str, label: str | None) -> tuple[int, int] | None:
    """(first, last) month index of a period label, or a usage error naming the option."""
    if label is None:
        return None
    text = label.strip()
    if not _PERIOD.fullmatch(text):
        raise click.BadParameter(f"expected {PERIOD_HELP}; got {label!r}", param_hint=option)
    from logicmodel.fields import last_month_index, month_index

    return month_index(text), last_month_index(text)


def _span(period: str | None, first: str | None, last: str | None):
    from monitoring.runs import PeriodRange

    if period and (first or last):
        raise click.UsageError("give either --period or --from/--to, not both")
    if period:
        lo, hi = _month_range("--period", period)
        return PeriodRange(lo, hi)
    lo = _month_range("--from", first)
    hi = _month_range("--to", last)
    span = PeriodRange(lo[0] if lo else None, hi[1] if hi else None)
    if span.first is not None and span.last is not None and span.first > span.last:
        raise click.UsageError(f"--from {first} is after --to {last}")
    return span


def _wait_seconds(ctx, param, value: float) -> float:
    """--wait: a finite number of seconds, 0 to a day (nan and inf are refused)."""
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise click.BadParameter(f"expected seconds between 0 and {MAX_WAIT_SECONDS}; got {value!r}",
                                 param_hint="--wait")
    return value


def _load_models(paths):
    """Load model files through the one load path (catalogues among them are checked too)."""
    from tiltak.loading import load_models

    return [loaded.monitored for loaded in load_models(list(paths))]


def _progress(label: str):
    """A click progress bar on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None, None
    bar = click.progressbar(length=1, label=label, file=sys.stderr)
    bar.__enter__()

    def update(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return bar, update


@click.group()
def command() -> None:
    """Monitor indicators: compute them each month, show them, explain and check them.

    \b
    Example:
      tiltak monitor run models/veien-videre.yaml --db registers.duckdb
      tiltak monitor show models/veien-videre.yaml --db registers.duckdb --by centre
      tiltak monitor explain models/veien-videre.yaml
      tiltak monitor check models/*.yaml
    """


@command.command("run")
@click.argument("models", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="The DuckDB store.")
@click.option("--period", help=f"Only this period ({PERIOD_HELP}).")
@click.option("--from", "first", help="First period to compute.")
@click.option("--to", "last", help="Last period to compute.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date the data are complete up to (default: the day of the latest load).")
@click.option("--wait", type=float, default=0.0, show_default=True, callback=_wait_seconds,
              help="Seconds to wait for a run in progress (at most a day).")
@click.option("--fail-on-alert", is_flag=True, help="Exit 1 when an indicator is off track or a quality check fails.")
@click.option("--alert-provisional", is_flag=True,
              help="Alert and run the quality checks on provisional periods too (periods within a reporting "
                   "lag the data contract declares, or needing a month after the last complete one); by "
                   "default they are held back and counted.")
@click.option("--engine", "engine_url", metavar="URL",
              help="Where the register tables are and the SQL runs: duckdb:FILE, "
                   "postgresql://[user@]host[:port]/DATABASE[?host=SOCKET_DIR&schema=NAME] or "
                   "spark://MASTER?tables=DIR (Parquet folders). The results go into --db. "
                   "Default: the --db store itself.")
@click.option("--results", "results", type=click.Choice(["local", "engine"]), default="local", show_default=True,
              help="engine: also write the published release (values after suppression, run records) back into "
                   "the --engine: PostgreSQL as the role results_user=ROLE of the URL into results_schema=NAME "
                   "(default tiltak_results); Spark into results=DIR; a DuckDB file into its schema "
                   "tiltak_results. Numerators and denominators stay in --db.")
def run_command(models, db, period, first, last, as_of, wait, fail_on_alert, alert_provisional, engine_url,
                results) -> None:
    """Compute every complete period not yet computed and store the values.

    Safe to repeat: unchanged inputs are a no-op; changed definitions or a new load
    recompute what they affect, and the reason is recorded. One transaction per run.
    Provisional periods (the last months of a table with a declared reporting lag, see
    docs/data-contract.md) raise no alert and no quality finding unless --alert-provisional.
    With --engine the person-month panel is built and the indicators are computed by
    that engine, where the registers are; only aggregates come back, into --db.

    \b
    Example:
      tiltak monitor run models/veien-videre.yaml models/kvalifisering-lokal.yaml --db registers.duckdb
      tiltak monitor run models/veien-videre.yaml --db registers.duckdb --period 2013-06 --fail-on-alert
      tiltak monitor run models/*.yaml --db results.duckdb --engine postgresql://monitor@dbhost/registers
      tiltak monitor run models/*.yaml --db work.duckdb --results engine \
        --engine 'postgresql://monitor@dbhost/registers?results_user=monitor_results'
    """
    from monitoring.alerts import current_alerts
    from monitoring.runs import run_models

    if results == "engine" and not engine_url:
        raise click.UsageError("--results engine needs --engine URL (without it the results are the --db store's)")
    span = _span(period, first, last)
    loaded = _load_models(models)
    engine = _open_engine(engine_url) if engine_url else None
    bar, update = _progress("computing")
    try:
        result = run_models(db, loaded, span, as_of.date() if as_of else None, wait, update, engine,
                            include_provisional=alert_provisional, results=results)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if engine is not None:
            engine.close()
    click.echo(_summary(result, span))
    if result.exported is not None:
        click.echo(f"Results in the engine: {result.exported} published cells written." if result.exported
                   else "Results in the engine: already up to date (nothing written).")
    for finding in result.findings[:MAX_FINDINGS_SHOWN]:
        click.echo(f"  quality: {finding.render()}")
    if len(result.findings) > MAX_FINDINGS_SHOWN:
        click.echo(f"  ... and {len(result.findings) - MAX_FINDINGS_SHOWN} more quality findings "
                   f"(all of them: tiltak monitor quality --db {db})")
    if result.held_back:
        click.echo(f"  held back {result.held_back} quality finding(s) on provisional periods "
                   "(--alert-provisional to raise them)")
    alerts = current_alerts(db, loaded, alert_provisional)
    for alert in alerts.lines:
        click.echo(f"  ALERT {alert}")
    if alerts.held_back:
        click.echo(f"  held back {alerts.held_back} alert(s) on provisional periods (--alert-provisional to raise them)")
    if fail_on_alert and (alerts.lines or result.findings):
        sys.exit(1)


def _open_engine(url: str):
    from monitoring.engines import open_engine

    return open_engine(url)


def _summary(result, span=None) -> str:
    from logicmodel.fields import month_index

    if result.noop and span is not None and span.first is not None \
            and span.first > month_index(result.last_month):
        return (f"Nothing to do: the periods asked for start after the last complete month "
                f"({result.last_month}); no value was computed.")
    if result.noop:
        return f"Nothing to do: every value is up to date (complete months through {result.last_month})."
    reasons: dict[str, int] = {}
    for *_key, reason in result.computed:
        reasons[reason] = reasons.get(reason, 0) + 1
    why = ", ".join(f"{reason}: {n}" for reason, n in sorted(reasons.items()))
    indicators = len({(m, i) for m, i, _p, _r in result.computed})
    return (f"Run {result.run_id}: computed {len(result.computed)} indicator periods of {indicators} indicators "
            f"({why}); complete months through {result.last_month}.") + _removed_note(result)


def _removed_note(result) -> str:
    if not result.removed:
        return ""
    return (f"\nRemoved {len(result.removed)} stored indicator periods after {result.last_month}: "
            "the data behind them is no longer in the store.")


@command.command("show")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "db", type=click.Path(dir_okay=False), help="The DuckDB store (needed unless --results engine).")
@click.option("--period", help=f"Only this period ({PERIOD_HELP}).")
@click.option("--from", "first", help="First period to show.")
@click.option("--to", "last", help="Last period to show.")
@click.option("--by", "by", multiple=True, type=click.Choice(["centre", "region", "nationality", "sex", "age_band", "household", "measure"]),
              help="Add rows for a disaggregation (repeatable).")
@click.option("--indicator", "indicators", multiple=True, help="Only this indicator (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of the terminal.")
@click.option("--engine", "engine_url", metavar="URL", help="With --results engine: the engine the results were "
              "written back into (the URL given to 'monitor run').")
@click.option("--results", "results", type=click.Choice(["local", "engine"]), default="local", show_default=True,
              help="Read the published values from the --db store (local) or from the --engine (engine).")
def show_command(model, db, period, first, last, by, indicators, fmt, output, engine_url, results) -> None:
    """Show stored values with baseline, target, status and trend, under disclosure control.

    Small counts and rates on few cases are suppressed (shown as ':'), with secondary
    suppression so that they cannot be worked out from totals or other rows.
    Provisional periods (at the edge of the data: within a table's declared reporting
    lag, or needing a month after the last complete one) are marked '*' in the table, with
    a footnote naming the lag, and have a 'provisional' column (csv, xlsx) or key (json).

    \b
    Example:
      tiltak monitor show models/veien-videre.yaml --db registers.duckdb --period 2013-06 --by centre
      tiltak monitor show models/veien-videre.yaml --db registers.duckdb --format xlsx -o vv.xlsx
      tiltak monitor show models/veien-videre.yaml --results engine \
        --engine 'postgresql://monitor@dbhost/registers?results_user=monitor_results'
    """
    from monitoring.show import (SheetContext, render_csv, render_json, render_table, write_xlsx)

    span = _span(period, first, last)
    _check_results_source(results, engine_url, db, "results")
    (loaded,) = _load_models([model])
    if fmt == "xlsx" and not output:
        raise click.UsageError("--format xlsx needs -o FILE")
    if output:
        _check_output(output, {"model file": model, **({"store": db} if db else {})})
    if results == "engine":
        rows, note = _engine_rows(engine_url, loaded, span, by, indicators)
    else:
        rows, note = _local_rows(db, loaded, span, by, indicators)
    if fmt == "xlsx":
        context = SheetContext(loaded.id, str(model), loaded.thresholds, provisional_note=note)
        _write_atomically(output, lambda tmp: write_xlsx(rows, tmp, context))
        return
    text = render_table(rows, note) if fmt == "table" else {"csv": render_csv, "json": render_json}[fmt](rows)
    if output:
        _write_atomically(output, lambda tmp: open(tmp, "w", encoding="utf-8").write(text))
    else:
        click.echo(text, nl=False)


def _local_rows(db, loaded, span, by, indicators):
    from monitoring.show import provisional_note, value_table

    store = _open_read_only(db)
    bar, update = _progress("protecting")
    try:
        rows = value_table(store.connect(), loaded, span, by, indicators, update)
        return rows, provisional_note(store.connect(), loaded, rows)
    finally:
        store.close()
        if bar is not None:
            bar.__exit__(None, None, None)


def _engine_rows(engine_url, loaded, span, by, indicators):
    from monitoring.engines.results import results_target
    from monitoring.engines.shown import engine_value_table
    from monitoring.errors import database_boundary

    engine = _open_engine(engine_url)
    try:
        with database_boundary(f"reading the results on {engine.name}"):
            target = results_target(engine)
            try:
                return engine_value_table(target, loaded, span, by, indicators)
            finally:
                target.close()
    finally:
        engine.close()


def _open_read_only(db):
    from pathlib import Path

    from monitoring.runs import RunInputError, open_store

    if not Path(db).is_file():
        raise RunInputError(f"{db}: no such store")
    return open_store(Path(db), 0.0, read_only=True)


def _check_output(path: str, inputs: dict[str, str]) -> None:
    """Refuse -o when it is a device or pipe or one of the command's own inputs."""
    import os

    from monitoring.show import ShowError

    if not os.path.exists(path):
        return
    if not os.path.isfile(os.path.realpath(path)):
        raise ShowError(f"-o {path}: is not a regular file (a device or pipe?); expected a file name "
                        "(leave out -o to write to the terminal)")
    for what, given in inputs.items():
        if os.path.exists(given) and os.path.samefile(path, given):
            raise ShowError(f"-o {path}: is the {what}; choose another name")


def _write_atomically(path: str, write) -> None:
    import os
    import tempfile
    from pathlib import Path

    from monitoring.show import ShowError

    target = Path(os.path.realpath(path))  # write through a symbolic link, never replace it
    if not target.parent.exists():
        raise ShowError(f"-o {path}: folder '{target.parent}' does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@command.command("quality")
@click.option("--db", "db", type=click.Path(dir_okay=False), help="The DuckDB store (needed unless --results engine).")
@click.option("--run", "run_id", type=click.IntRange(1), help="Run id (default: the latest run that computed values).")
@click.option("--engine", "engine_url", metavar="URL", help="With --results engine: the engine the results were "
              "written back into (the URL given to 'monitor run').")
@click.option("--results", "results", type=click.Choice(["local", "engine"]), default="local", show_default=True,
              help="Read the findings from the --db store (local: all of them) or from the --engine (engine: the "
                   "published ones).")
def quality_command(db, run_id, engine_url, results) -> None:
    """List the data-quality findings stored by a monitoring run.

    With --results engine, the findings written back into the engine by 'monitor run
    --results engine': only those that may be published next to the release (none on or
    next to a suppressed cell, no count below the threshold, no identifier).

    \b
    Example:
      tiltak monitor quality --db registers.duckdb
      tiltak monitor quality --db registers.duckdb --run 3
      tiltak monitor quality --results engine --engine duckdb:registers.duckdb
    """
    from monitoring.quality import stored_findings

    _check_results_source(results, engine_url, db, "findings")
    if results == "engine":
        run, findings = _engine_findings(engine_url, run_id)
    else:
        store = _open_read_only(db)
        try:
            run, findings = stored_findings(store.connect(), run_id)
        finally:
            store.close()
    click.echo(f"Run {run}: {len(findings)} quality finding(s).")
    for finding in findings:
        click.echo(f"  {finding.render()}")


def _engine_findings(engine_url, run_id):
    from monitoring.engines.results import results_target
    from monitoring.engines.shown import engine_findings
    from monitoring.errors import database_boundary

    engine = _open_engine(engine_url)
    try:
        with database_boundary(f"reading the results on {engine.name}"):
            target = results_target(engine)
            try:
                return engine_findings(target, run_id)
            finally:
                target.close()
    finally:
        engine.close()


@command.command("explain")
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--indicator", "indicators", multiple=True, help="Only this indicator (repeatable).")
@click.option("--dialect", type=click.Choice(["duckdb", "postgres", "spark"]), default="duckdb", show_default=True,
              help="The SQL dialect of the engine (see --engine of 'monitor run').")
def explain_command(model, indicators, dialect) -> None:
    """Print the SQL a run would execute for a model's indicators.

    Stage A computes shared aggregates for all periods and groupings in one query per
    source (GROUPING SETS), in the engine's dialect; stage B turns them into each
    indicator's values (in tiltak, the same for every engine). Every query is headed by
    one line in words per indicator it serves: its title, whose rows (participants of the
    measure or everyone), the grain, what each column computes from which table, and what
    stage B does with the columns.

    \b
    Example:
      tiltak monitor explain models/veien-videre.yaml --indicator hscl10_mean
      tiltak monitor explain models/veien-videre.yaml --dialect postgres
    """
    from monitoring.explain import explain_text

    (loaded,) = _load_models([model])
    click.echo(explain_text(loaded, indicators, dialect))


@command.command("check")
@click.argument("models", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def check_command(models) -> None:
    """Check the monitored indicators of models: filters bound against the data contract.

    Unknown columns, type errors, SQL syntax errors and forbidden constructs are reported
    at the YAML line of the filter. Exit 1 when there is any problem.

    \b
    Example:
      tiltak monitor check models/veien-videre.yaml models/kvalifisering-lokal.yaml
    """
    from tiltak.loading import check_files

    checked = check_files(list(models))
    errors = [issue for issue in checked.report.issues if issue.is_error]
    for issue in errors:
        click.echo(issue.render())
    for path in checked.validator.files:
        if not checked.clean(path):
            continue
        if path in checked.model_files:
            click.echo(f"{path}: {len(checked.loaded(path).monitored.specs)} indicators ok")
        else:
            click.echo(f"{path}: catalogue ok")
    if errors:
        click.echo(f"{len(errors)} problem(s)")
        sys.exit(1)


def _check_results_source(results: str, engine_url: str | None, db, what: str) -> None:
    """``--results engine`` needs ``--engine``; ``--results local`` needs ``--db`` and no ``--engine``."""
    if results == "engine" and not engine_url:
        raise click.UsageError("--results engine needs --engine URL (the engine the results were written into)")
    if results == "local" and not db:
        raise click.UsageError(f"Missing option '--db' (or read the {what} from an engine with --engine URL "
                               "--results engine)")
    if results == "local" and engine_url:
        raise click.UsageError(f"--engine is for --results engine; the local {what} are read from --db")
