"""``tiltak match``: MatchIt's matching and weighting methods on a CSV or Parquet file.

This module parses the flags and prints; reading the file, checking the columns, the
estimation, the summary and the output files are :mod:`tiltak.filematch`.
"""

from __future__ import annotations

import math
import warnings

import click

from tiltak.match_request import K2K_METHODS, METHOD_ESTIMANDS, METHODS, MatchRequest

#: Which --method each option applies to (the rest are refused when given explicitly).
OPTION_METHODS = {
    "ratio": ("nearest", "optimal"), "replace": ("nearest",), "order": ("nearest",),
    "seed": ("nearest",), "ties": ("nearest",), "caliper": ("nearest", "optimal", "full"),
    "std_caliper": ("nearest", "optimal", "full"), "exact": ("nearest", "optimal", "full"),
    "distance": ("nearest", "optimal", "full", "subclass"),
    "discard": ("nearest", "optimal", "full", "subclass"),
    "min_controls": ("nearest", "optimal", "full"), "max_controls": ("nearest", "optimal", "full"),
    "match_most": ("optimal",), "mahvars": ("nearest",), "antiexact": ("nearest",),
    "reuse_max": ("nearest",), "covariate_caliper": ("nearest",),
    "subclasses": ("subclass",), "min_n": ("subclass",), "cutpoints": ("cem",),
    "grouping": ("cem",), "k2k": ("cem",), "k2k_method": ("cem",),
    "weights": ("weighting",), "stabilize": ("weighting",), "trim": ("weighting",),
    "moments": ("weighting",),
}
SCORE_ONLY = ("discard", "caliper")
DISTANCE_CHOICES = ["glm", "logit", "mahalanobis", "robust_mahalanobis", "euclidean",
                    "scaled_euclidean"]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_method_options(request: MatchRequest, given: set[str]) -> None:
    """Refuse options that --method does not use, and estimands it does not offer."""
    method = request.method
    for name in sorted(given):
        allowed = OPTION_METHODS.get(name)
        if allowed and method not in allowed:
            raise click.UsageError(f"{_flag(name)} applies to --method {', '.join(allowed)} only; "
                                   f"got --method {method}")
    if request.estimand not in METHOD_ESTIMANDS[method]:
        raise click.UsageError(f"--estimand {request.estimand}: --method {method} estimates "
                               f"{', '.join(METHOD_ESTIMANDS[method])}")
    if "k2k_method" in given and not request.k2k:
        raise click.UsageError("--k2k-method applies with --k2k only (the distance of the one-to-one "
                               "matching within the CEM strata)")
    if method == "weighting" and request.weights == "ebal" and ({"stabilize", "trim"} & given):
        raise click.UsageError("--stabilize and --trim apply to --weights ipw only")
    if method == "weighting" and request.weights == "ipw" and "moments" in given:
        raise click.UsageError("--moments applies to --weights ebal only")
    if request.distance not in ("glm", "logit"):
        if method != "nearest":
            raise click.UsageError(f"--distance {request.distance} applies to --method nearest "
                                   "only (the other methods match on the propensity score)")
        for name in sorted(set(SCORE_ONLY) & given):
            raise click.UsageError(f"{_flag(name)} needs a propensity score; --distance "
                                   f"{request.distance} has none (use --covariate-caliper)")
        if "mahvars" in given:
            raise click.UsageError(f"--mahvars needs --distance glm or logit; with --distance "
                                   f"{request.distance} the distance is on --covariates")
    if method == "nearest" and request.max_controls is not None and "ratio" not in given:
        raise click.UsageError("--max-controls with --method nearest needs --ratio, the average "
                               "number of controls (variable-ratio matching)")


@click.command(name="match")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--treatment", required=True, metavar="COL", help="0/1 or true/false treatment column.")
@click.option("--outcome", metavar="COL", help="Outcome column: report the effect with its SE, interval and sensitivity to hidden bias.")
@click.option("--covariates", metavar="A,B,C", help="Propensity model covariates [default: every other column except identifiers (columns unique per row) and dates; the choice is listed at the top of the summary].")
@click.option("--ratio", default=1, show_default=True, type=click.FloatRange(min=1), help="Controls per treated unit (k:1); with --max-controls the average (variable ratio).")
@click.option("--replace", is_flag=True, help="Match with replacement.")
@click.option("--reuse-max", type=click.IntRange(min=1), metavar="K", help="nearest: each control used at most K times (matching in passes; K > 1 means with replacement).")
@click.option("--caliper", type=float, metavar="X", help="Caliper (> 0) on the propensity score, in SDs of the score unless --no-std-caliper.")
@click.option("--std-caliper/--no-std-caliper", default=True, show_default=True, help="Caliper in SD units of the score.")
@click.option("--covariate-caliper", "covariate_caliper", multiple=True, metavar="COL=X", help="nearest: caliper on a numeric column, in its own units (e.g. age=5); repeat or separate by commas.")
@click.option("--distance", default="glm", show_default=True, type=click.Choice(DISTANCE_CHOICES), help="Match on the score (glm), its logit, or a distance on the covariates (nearest only).")
@click.option("--mahvars", metavar="A,B", help="nearest: match on the Mahalanobis distance of these columns within the --caliper on the score.")
@click.option("--exact", metavar="A,B", help="Match exactly on these columns.")
@click.option("--antiexact", metavar="A,B", help="nearest: a control must differ from its treated unit on these columns.")
@click.option("--order", type=click.Choice(["largest", "smallest", "data", "random", "closest", "farthest"]), help="Order in which treated units choose, or the closest (farthest) pairs first [default: largest with a score, data with a distance on the covariates].")
@click.option("--discard", default="none", show_default=True, type=click.Choice(["none", "treated", "control", "both"]), help="Common-support rule on the score.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed for --order random.")
@click.option("--ties", default="matchit", show_default=True, type=click.Choice(["matchit", "matchit-4.5", "row"]), help="Tie rule among equally distant controls: MatchIt 4.6+, MatchIt 4.5, or lowest row.")
@click.option("--method", default="nearest", show_default=True, type=click.Choice(list(METHODS)), help="Matching or weighting method (MatchIt's nearest, optimal, full, subclass, cem; or weighting).")
@click.option("--estimand", default="ATT", show_default=True, type=click.Choice(["ATT", "ATC", "ATE", "ATO"], case_sensitive=False), help="Effect estimated: on the treated, on the controls, in the whole sample, in the overlap population (the methods offer different ones).")
@click.option("--min-controls", type=click.FloatRange(min=0), metavar="X", help="nearest/optimal/full: fewest controls per treated unit in a set.")
@click.option("--max-controls", type=click.FloatRange(min=0, min_open=True), metavar="X", help="nearest/optimal/full: most controls per treated unit in a set.")
@click.option("--match-most", is_flag=True, help="optimal: when the caliper leaves too few controls, match as many as possible instead of refusing.")
@click.option("--subclasses", default=6, show_default=True, type=click.IntRange(min=2), help="subclass: number of subclasses.")
@click.option("--min-n", default=1, show_default=True, type=click.IntRange(min=0), help="subclass: fewest units of each group per subclass (0 drops subclasses lacking one).")
@click.option("--cutpoints", metavar="SPEC", help="cem: bins for numeric columns: sturges, scott, fd, qK, a number, or COL=RULE,... with cut points as a/b/c [default: sturges].")
@click.option("--grouping", "grouping", multiple=True, metavar="COL=A+B/C+D", help="cem: levels of a categorical column that count as one (MatchIt's grouping), levels joined by '+', groups separated by '/' (e.g. race=black+hispan); repeat for more columns.")
@click.option("--k2k", is_flag=True, help="cem: match one to one within each stratum (MatchIt's k2k = TRUE), the nearest by --k2k-method; the units left over are dropped.")
@click.option("--k2k-method", default="mahalanobis", show_default=True, type=click.Choice(list(K2K_METHODS)), help="cem with --k2k: the distance on the covariates (before coarsening) of the one-to-one matching, or none (input order; MatchIt's k2k.method = NULL).")
@click.option("--weights", "weights", default="ipw", show_default=True, type=click.Choice(["ipw", "ebal"]), help="weighting: inverse probability weights or entropy balancing.")
@click.option("--stabilize", is_flag=True, help="weighting (ipw, ATE): stabilised weights.")
@click.option("--trim", type=click.FloatRange(min=0, max=0.5, min_open=True, max_open=True), metavar="A", help="weighting (ipw): drop units with a propensity score outside [A, 1-A].")
@click.option("--moments", default=1, show_default=True, type=click.IntRange(1, 2), help="weighting (ebal): balance means (1) or means and squares (2).")
@click.option("--na-values", metavar="TOKENS", help="Read these text tokens (comma-separated, e.g. '.') as missing values.")
@click.option("--drop-missing", is_flag=True, help="Leave out rows with a missing value in the treatment, a covariate or a matching column (counted in the summary).")
@click.option("--max-memory", metavar="SIZE", help="Refuse to start (exit 2, nothing written) when the peak memory estimated by the rule of docs/estimation.md ('Memory of tiltak match and --max-memory': 230 MB + rows x the bytes a row of the largest phase, reading, estimating or writing --out, by the columns' widths, the design columns and the options) exceeds SIZE (e.g. 4G, 500M) [default: the memory available].")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json"]), help="Summary format.")
@click.option("--out", metavar="FILE", help="Write every input row with its columns and distance, weight, subclass (MatchIt's match_data(); .csv or .parquet). Person-level: see below.")
@click.option("--out-matches", metavar="FILE", help="Write one row per unit per matched pair (MatchIt's get_matches(): row, subclass, weight, the input's columns, distance). Person-level: see below.")
@click.option("--plots", metavar="DIR", type=click.Path(file_okay=False), help="Write the love plot (love.svg) and the overlap plot (overlap.svg) into DIR.")
@click.pass_context
def command(ctx, fmt, **flags) -> None:
    """Propensity score matching or weighting (MatchIt's methods) on a CSV or Parquet file.

    Prints the method, the covariates used (and those left out), sample sizes and covariate
    balance before and after matching, and with --outcome the effect as a difference in
    means and regression-adjusted (after subclassification and coarsened exact matching also by
    the control-outcome regression, MatchIt's advice for strata), each with its standard error
    and 95% interval, and its sensitivity to hidden bias (the E-value; Rosenbaum bounds where they are defined, for
    matched pairs and sets). The standard error is cluster-robust on the matched pairs or
    sets, Abadie-Imbens for the difference in means with --replace or --reuse-max, robust
    (HC1) for subclassification and coarsened exact matching, and by M-estimation for
    weighting. --method chooses nearest-neighbour (default), optimal pair, optimal full
    matching, subclassification, coarsened exact matching or weighting; --estimand the
    effect (ATT, and where the method offers them ATC, ATE, ATO), named in plain words.

    --out and --out-matches are the one person-level output of tiltak: they copy your own
    file, row by row, with the matching columns added. Keep them where the input may be
    kept; nothing else tiltak writes holds a person's row.

    \b
    Example:
      tiltak match lalonde.csv --treatment treat --outcome re78 \\
          --covariates age,educ,race,married,nodegree,re74,re75 --caliper 0.2 --out m.csv
      tiltak match lalonde.csv --treatment treat --outcome re78 --distance mahalanobis \\
          --covariates age,educ,re74,re75 --exact married --covariate-caliper age=5
      tiltak match lalonde.csv --treatment treat --outcome re78 --method full \\
          --estimand ATE --covariates age,educ,race,married,nodegree,re74,re75
      tiltak match lalonde.csv --treatment treat --outcome re78 --method weighting \\
          --weights ebal --covariates age,educ,race,married,nodegree,re74,re75
    """
    from click.core import ParameterSource

    from tiltak.filematch import render_json, render_text, run_match, write_matches, write_plots, write_rows

    caliper = flags["caliper"]
    if caliper is not None and not (caliper > 0 and math.isfinite(caliper)):
        raise click.BadParameter(f"must be a number > 0; got {caliper:g}", param_hint="'--caliper'")
    flags["estimand"] = flags["estimand"].upper()
    flags["covariate_calipers"] = flags.pop("covariate_caliper")
    request = MatchRequest(**flags)
    given = {name for name in ctx.params
             if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    check_method_options(request, given)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run = run_match(request)
        finally:  # the warnings often explain a refusal, so they are shown before it
            shown = list(dict.fromkeys(str(w.message) for w in caught))
            for message in shown:
                click.echo(f"Warning: {message}", err=True)
    run.summary["warnings"] = shown
    if request.out:
        write_rows(request.out, request, run.table, run.sample, run.kept)
    if request.out_matches:
        write_matches(request.out_matches, request, run.table, run.sample, run.kept)
    if request.plots:
        run.summary["plots"] = write_plots(request.plots, run.summary)
    click.echo(render_json(run.summary) if fmt == "json" else render_text(run.summary), nl=False)
