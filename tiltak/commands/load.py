"""``tiltak load``: check register extracts against the data contract and load them."""

from __future__ import annotations

import click


@click.command("load")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False),
              help="The DuckDB store file (created if missing).")
@click.option("--key-file", type=click.Path(dir_okay=False),
              help="File holding the pseudonym key (default: $TILTAK_PSEUDONYM_KEY).")
@click.option("--raw-ids", is_flag=True,
              help="The person_id columns hold raw person numbers: pseudonymise them.")
@click.option("--rekey", is_flag=True,
              help="The pseudonym key differs from the store's on purpose: re-key the whole store "
                   "(the delivery must hold every person table; one transaction).")
@click.option("--catalogue", "catalogue_file", type=click.Path(dir_okay=False),
              help="An indicator catalogue (or a model: its catalogue) whose declared survey "
                   "instruments the surveys extract may hold, besides the built-in ones.")
@click.argument("directory", type=click.Path(file_okay=False))
def command(db_path: str, key_file: str | None, raw_ids: bool, rekey: bool, catalogue_file: str | None,
            directory: str) -> None:
    """Check the extract files in DIRECTORY and load them into the store.

    One file per table, named after the table: persons.csv, residence.parquet,
    centres.xlsx, ... Every problem is listed as file:row:column: what is wrong, and
    then nothing is loaded (exit code 2). A load is all or nothing. Tables identical to
    the stored ones are skipped; a changed table replaces the stored one and the change
    is recorded in the table 'loads'. Raw person numbers (person_number, fnr,
    duf_number, or person_id with --raw-ids) are replaced by keyed pseudonyms (key from
    --key-file or $TILTAK_PSEUDONYM_KEY); free-text columns are dropped. A key other
    than the one the store was pseudonymised with is refused, unless --rekey is given
    with a delivery of every person table. Survey instruments beyond the built-in ones
    are accepted when --catalogue names a catalogue that declares them, with their ranges.

    \b
    Example:
      export TILTAK_PSEUDONYM_KEY=...   # only if the extract has raw person numbers
      tiltak load --db registers.duckdb extracts/2014-12/
    """
    report = None
    if catalogue_file is None:  # the same files again: answered without the full loader
        from monitoring.load_repeat import repeated_load

        report = repeated_load(db_path, directory, key_file=key_file, raw_ids=raw_ids, rekey=rekey)
    if report is None:
        from monitoring.load import load_directory

        instruments = None
        if catalogue_file is not None:
            from tiltak.loading import load_catalogue

            instruments = load_catalogue(catalogue_file).instrument_scales()
        report = load_directory(db_path, directory, key_file=key_file, raw_ids=raw_ids, rekey=rekey,
                                instruments=instruments)
    for line in report.lines():
        click.echo(line)
