"""``tiltak synth``: generate synthetic registers with a known truth."""

from __future__ import annotations

import click

_EFFECT_HELP = ("per measure as CODE=NUMBER pairs separated by commas, or one number for "
                "every measure")


def parse_effects(option: str, text: str | None) -> dict[str, float] | None:
    """Parse 'VV=1.5,KVL=1' or '1.5' (every measure) into a mapping; None when not given."""
    from tiltak.synth.config import MEASURES
    from tiltak.synth.errors import SynthConfigError

    if text is None:
        return None
    hint = "expected CODE=NUMBER pairs separated by commas (e.g. VV=1.5,KVN=1.0) or one number"
    try:
        if "=" not in text:
            return {code: float(text) for code in MEASURES}
        pairs = [part.split("=", 1) for part in text.split(",")]
        effects = {code.strip(): float(value) for code, value in pairs}
    except ValueError:
        raise SynthConfigError(option.lstrip("-").replace("-", "_"), f"{hint}; got {text!r}", text) from None
    if len(effects) < len(pairs):
        codes = [code.strip() for code, _ in pairs]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        raise SynthConfigError(option.lstrip("-").replace("-", "_"),
                               f"measure {twice[0]!r} is given twice; give each measure once; got {text!r}", text)
    return effects


def _load_into_store(db: str, registers) -> None:
    """Load the contract tables through the loader and the truth as auxiliary tables."""
    import monitoring
    from tiltak.synth.errors import SynthError

    try:
        load_tables, store_class = monitoring.load_tables, monitoring.Store
    except AttributeError:
        raise SynthError(f"--db {db}: this installation has no store loader "
                         "(monitoring.load_tables); write extract files with --csv DIR instead") from None
    load_tables(db, dict(registers.tables), source=f"synthetic seed={registers.config.seed}")
    with store_class.open(db) as store:
        store.write_auxiliary_table("truth_effects", registers.truth_effects)
        store.write_auxiliary_table("truth_outcomes", registers.truth_outcomes)


@click.command(name="synth")
@click.option("--db", "db", type=click.Path(dir_okay=False), help="DuckDB store to load the registers into.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False), help="Folder for CSV extract files (one per table).")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(min=0), help="Random seed.")
@click.option("--start", default="2012-01", show_default=True, help="First month, YYYY-MM.")
@click.option("--months", default=36, show_default=True, type=int, help="Number of months.")
@click.option("--scale", default=1.0, show_default=True, type=float,
              help="Multiplies the population, inflow, centres and control sample.")
@click.option("--effect-return", "effect_return", metavar="SPEC",
              help=f"True odds ratio of assisted return, {_EFFECT_HELP} [default: 1.0].")
@click.option("--effect-hscl", "effect_hscl", metavar="SPEC",
              help=f"True change in HSCL-10 mean item score at 6 months, {_EFFECT_HELP} "
                   "[default: VV=-0.15,KVL=0,KVN=0].")
@click.option("--hidden-bias", "hidden_bias", default=0.0, show_default=True, type=float,
              help="Effect of the unobserved motivation on participation (log-odds per SD).")
@click.option("--quiet", is_flag=True, help="Do not print the summary.")
def command(db, csv_dir, seed, start, months, scale, effect_return, effect_hscl, hidden_bias, quiet) -> None:
    """Generate synthetic registers with a known truth.

    Simulates people obliged to leave in reception centres (opening stock, monthly new
    final rejections), the roll-out of the measures VV, KVL and KVN, participation,
    monthly competing exits, HSCL-10 surveys and costs, and writes them into a store
    (--db) and/or as CSV extracts (--csv; the ground truth goes to DIR/truth/). The same
    seed gives the same data. See docs/synthetic-data.md.

    \b
    Example:
      tiltak synth --db tiltak.duckdb --seed 7
      tiltak synth --csv extract/ --effect-return VV=2.0 --hidden-bias 0.5
    """
    from tiltak.synth import SynthConfig, generate
    from tiltak.synth.errors import SynthConfigError, SynthError
    from tiltak.synth.extract import write_csv
    from tiltak.synth.summary import summarise

    if not db and not csv_dir:
        raise SynthError("tiltak synth: nothing to write; expected --db FILE, --csv DIR or both")
    try:
        config = SynthConfig(seed=seed, start=start, months=months, scale=scale,
                             effect_return=parse_effects("--effect-return", effect_return),
                             effect_hscl=parse_effects("--effect-hscl", effect_hscl),
                             hidden_bias=hidden_bias)
    except SynthConfigError as exc:
        raise exc.for_option() from None
    registers = generate(config)
    if csv_dir:
        write_csv(registers, csv_dir)
    if db:
        _load_into_store(db, registers)
    if not quiet:
        click.echo(f"Synthetic registers ({config.describe()})")
        click.echo(summarise(registers).to_text())
