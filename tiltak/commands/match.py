"""``tiltak match``: MatchIt-style nearest-neighbour propensity score matching on a file.

Reads a CSV or Parquet file, fits the propensity score, matches, and prints sample sizes,
the balance table before and after matching and, with ``--outcome``, the ATT with its
standard error and interval. ``--out`` writes one row per input row (in input order) with
``distance``, ``weight`` and ``subclass`` only: no input column is copied out. Reading and
writing files is :mod:`tiltak.tables`; this module checks the columns and flags, runs the
estimation and prints.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path

import click

from tiltak.errors import TiltakError


class MatchInputError(TiltakError):
    """A file, column or flag given to ``tiltak match`` cannot be used (exit code 2)."""


def _rows(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _check_columns(frame, path: str, option: str, names: list[str]) -> None:
    have = [str(c) for c in frame.columns]
    for name in names:
        if name not in have:
            listed = ", ".join(repr(c) for c in have[:20]) + (", ..." if len(have) > 20 else "")
            raise MatchInputError(f"{path}: {option}: unknown column '{name}'; expected one "
                                  f"of {listed}")


def treatment_values(frame, path: str, column: str):
    """The treatment column as booleans; only 0/1 or true/false values are accepted."""
    import numpy as np
    import pandas as pd

    values = frame[column]
    missing = int(values.isna().sum())
    if missing:
        raise MatchInputError(f"{path}: --treatment '{column}': {_rows(missing)} without a value; "
                              "expected 0/1 or true/false in every row")
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):  # one vectorised check, no text
        numbers = values.to_numpy()
        if ((numbers == 0) | (numbers == 1)).all():
            return numbers == 1
    text = values.astype(str).str.strip().str.lower()
    mapping = {"0": False, "1": True, "0.0": False, "1.0": True, "false": False, "true": True}
    bad = sorted(set(text) - set(mapping))
    if bad:
        raise MatchInputError(f"{path}: --treatment '{column}': expected 0/1 or true/false; "
                              f"got {', '.join(repr(b) for b in bad[:5])}")
    return np.asarray(text.map(mapping), dtype=bool)


def _named_columns(option: str, text: str | None) -> list[str]:
    """Column names of a comma-separated option; given but naming none is an error."""
    names = _split(text)
    if text is not None and not names:
        raise MatchInputError(f"{option}: expected column names separated by commas; got {text!r}")
    return names


def _choose_covariates(frame, path, treatment, outcome, covariates, exact) -> list[str]:
    chosen = _named_columns("--covariates", covariates)
    if outcome is not None and outcome == treatment:
        raise MatchInputError(f"{path}: --outcome '{outcome}' is the treatment column; "
                              "expected another column")
    _check_columns(frame, path, "--treatment", [treatment])
    if outcome:
        _check_columns(frame, path, "--outcome", [outcome])
    _check_columns(frame, path, "--covariates", chosen)
    _check_columns(frame, path, "--exact", exact)
    if not chosen:
        chosen = [str(c) for c in frame.columns if str(c) not in (treatment, outcome)]
    for name in chosen:
        if name in (treatment, outcome):
            raise MatchInputError(f"{path}: --covariates: '{name}' is the "
                                  f"{'treatment' if name == treatment else 'outcome'} column")
    if not chosen:
        raise MatchInputError(f"{path}: no covariates: the file has no column besides the "
                              "treatment and the outcome")
    return chosen


MAX_EXACT_LEVELS = 20
"""A numeric --exact column with more distinct values than this looks continuous."""


def warn_continuous_exact(frame, exact: list[str]) -> None:
    """Warn (not refuse, as MatchIt allows it) when --exact names a continuous-looking column."""
    import pandas as pd

    for name in exact:
        values = frame[name]
        levels = values.nunique()
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and levels > MAX_EXACT_LEVELS:
            warnings.warn(f"--exact '{name}' has {levels} distinct values (a continuous variable?); "
                          "exact matching on it may leave treated units without controls. Match exactly "
                          "on categories, or put it in --covariates instead", stacklevel=2)


def run_matching(frame, treat, covariates: list[str], exact: list[str], options: dict):
    """Fit the propensity score and match; returns the fitted NearestNeighborMatching."""
    from estimation import NearestNeighborMatching, PropensityScore

    matcher_options = dict(ratio=options["ratio"], replace=options["replace"],
                           caliper=options["caliper"], std_caliper=options["std_caliper"],
                           order=options["order"], discard=options["discard"],
                           random_state=options["seed"], exact=exact or None,
                           ties=options["ties"])
    extra = [e for e in exact if e not in covariates]
    if not extra:
        return NearestNeighborMatching(distance=options["distance"], **matcher_options).fit(
            frame[covariates], treat)
    # exact-matching columns outside the propensity model: score first, then match
    score = PropensityScore().fit(frame[covariates], treat).distance(options["distance"])
    matcher = NearestNeighborMatching(distance=score, **matcher_options)
    return matcher.fit(frame[covariates + extra], treat)


METHODS = ("nearest", "optimal", "full", "subclass", "cem", "weighting")
#: Which --method each option applies to (the rest are refused when given explicitly).
OPTION_METHODS = {
    "ratio": ("nearest", "optimal"), "replace": ("nearest",), "order": ("nearest",),
    "seed": ("nearest",), "ties": ("nearest",), "caliper": ("nearest", "optimal", "full"),
    "std_caliper": ("nearest", "optimal", "full"), "exact": ("nearest", "optimal", "full"),
    "distance": ("nearest", "optimal", "full", "subclass"),
    "discard": ("nearest", "optimal", "full", "subclass"),
    "min_controls": ("optimal", "full"), "max_controls": ("optimal", "full"),
    "match_most": ("optimal",),
    "subclasses": ("subclass",), "min_n": ("subclass",), "cutpoints": ("cem",),
    "weights": ("weighting",), "stabilize": ("weighting",), "trim": ("weighting",),
    "moments": ("weighting",),
}
#: The estimands each --method offers.
METHOD_ESTIMANDS = {"nearest": ("ATT",), "optimal": ("ATT",), "full": ("ATT", "ATC", "ATE"),
                    "subclass": ("ATT", "ATC", "ATE"), "cem": ("ATT", "ATC", "ATE"),
                    "weighting": ("ATT", "ATC", "ATE", "ATO")}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_method_options(method: str, given: set[str], options: dict) -> None:
    """Refuse options that --method does not use, and estimands it does not offer."""
    for name in sorted(given):
        allowed = OPTION_METHODS.get(name)
        if allowed and method not in allowed:
            methods = ", ".join(allowed)
            raise click.UsageError(f"{_flag(name)} applies to --method {methods} only; got "
                                   f"--method {method}")
    estimand = options["estimand"]
    if estimand not in METHOD_ESTIMANDS[method]:
        raise click.UsageError(f"--estimand {estimand}: --method {method} estimates "
                               f"{', '.join(METHOD_ESTIMANDS[method])}")
    if method == "weighting" and options["weights"] == "ebal" and ({"stabilize", "trim"} & given):
        raise click.UsageError("--stabilize and --trim apply to --weights ipw only")
    if method == "weighting" and options["weights"] == "ipw" and "moments" in given:
        raise click.UsageError("--moments applies to --weights ebal only")


def parse_cutpoints(text: str | None):
    """--cutpoints: one rule for every numeric column, or COL=RULE pairs separated by commas;
    a rule is sturges, scott, fd, qK, a number of bins, or cut points separated by '/'."""
    if text is None:
        return "sturges"

    def rule(value: str, where: str):
        value = value.strip()
        if "/" in value:
            try:
                return [float(v) for v in value.split("/") if v.strip()]
            except ValueError:
                raise MatchInputError(f"--cutpoints {where}: expected cut points as numbers "
                                      f"separated by '/'; got {value!r}") from None
        return int(value) if value.isdigit() else value

    if "=" not in text:
        return rule(text, "")
    out = {}
    for part in _split(text):
        name, _, value = part.partition("=")
        if not name.strip() or not value.strip():
            raise MatchInputError(f"--cutpoints: expected COLUMN=RULE; got {part!r}")
        out[name.strip()] = rule(value, name.strip())
    return out


def method_model(options: dict, exact: list[str], distance):
    """The estimation object for --method with its options (distance: 'glm', 'logit' or
    scores already fitted)."""
    from estimation import (CoarsenedExactMatching, EntropyBalancing, FullMatching,
                            OptimalMatching, PropensityWeighting, Subclassification)

    method, o = options["method"], options
    common = dict(caliper=o["caliper"], std_caliper=o["std_caliper"], exact=exact or None,
                  discard=o["discard"], distance=distance)
    if method == "optimal":
        return OptimalMatching(ratio=o["ratio"], min_controls=o["min_controls"],
                               max_controls=o["max_controls"], match_most=o["match_most"],
                               **common)
    if method == "full":
        return FullMatching(min_controls=o["min_controls"], max_controls=o["max_controls"],
                            estimand=o["estimand"], **common)
    if method == "subclass":
        return Subclassification(subclasses=o["subclasses"], min_n=o["min_n"],
                                 estimand=o["estimand"], distance=distance, discard=o["discard"])
    if method == "cem":
        return CoarsenedExactMatching(cutpoints=parse_cutpoints(o["cutpoints"]),
                                      estimand=o["estimand"])
    if o["weights"] == "ebal":
        return EntropyBalancing(estimand=o["estimand"], moments=o["moments"])
    return PropensityWeighting(estimand=o["estimand"], stabilize=o["stabilize"], trim=o["trim"])


def run_method(frame, treat, covariates: list[str], exact: list[str], options: dict):
    """Fit --method; nearest-neighbour matching keeps its own path (``run_matching``)."""
    if options["method"] == "nearest":
        return run_matching(frame, treat, covariates, exact, options)
    extra = [e for e in exact if e not in covariates]
    distance = options["distance"]
    if extra:  # exact-matching columns outside the propensity model: score first
        from estimation import PropensityScore

        distance = PropensityScore().fit(frame[covariates], treat).distance(options["distance"])
    return method_model(options, exact, distance).fit(frame[covariates + extra], treat)


def outcome_values(frame, path: str, column: str):
    """The outcome as floats (true/false as 1/0); text that is not a number is an error."""
    import numpy as np
    import pandas as pd

    values = frame[column]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float).to_numpy()
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if len(bad):
        shown = ", ".join(repr(str(v)) for v in pd.unique(bad)[:3])
        raise MatchInputError(f"{path}: --outcome '{column}': expected numbers; got {shown} "
                              f"in {_rows(len(bad))}")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite(value):
    """JSON-safe scalar: NaN and infinities become null, numpy scalars plain Python."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table) -> list[dict]:
    return [{str(k): _finite(v) for k, v in row.items()} for row in table.to_dict("records")]


def _effects(sample, outcome_values, outcome: str, covariates: list[str]) -> list:
    from dataclasses import replace

    from estimation.effects import estimate_att

    def named(estimate):
        ratios = tuple(replace(r, outcome=outcome) for r in estimate.ratios)
        return replace(estimate, outcome=outcome, ratios=ratios)

    difference = estimate_att(sample, outcome_values)
    regression = estimate_att(sample, outcome_values, covariates=covariates)
    return [named(difference), named(regression)]


def build_report(path: str, sample, treatment: str, outcome: str | None, frame,
                 covariates: list[str]) -> dict:
    """Everything the summary shows, as plain values (no person-level rows)."""
    import numpy as np

    from estimation.balance import balance_table

    balance = balance_table(sample)
    settings = {k: _finite(v) if not isinstance(v, list) else v
                for k, v in sample.settings.items()}
    from estimation import describe_estimand

    report = {
        "data": os.path.basename(path), "treatment": treatment, "covariates": covariates,
        "method": sample.settings.get("method", "nearest"), "estimand": sample.estimand,
        "estimand_label": describe_estimand(sample), "settings": settings,
        "sample_sizes": {str(k): {c: _finite(v) for c, v in row.items()}
                         for k, row in balance.sample_sizes.to_dict("index").items()},
        "balance": _records(balance.frame),
        "max_abs_smd_after": _finite(balance.max_abs_smd_after),
        "effects": None, "_balance": balance, "_sample": sample,
    }
    if outcome:
        y = outcome_values(frame, path, outcome)
        matched = y[sample.weights > 0]
        gaps, infinite = int(np.isnan(matched).sum()), int(np.isinf(matched).sum())
        if gaps:
            raise MatchInputError(f"{path}: --outcome '{outcome}': {_rows(gaps)} matched without "
                                  "a value; drop or impute them before matching")
        if infinite:
            raise MatchInputError(f"{path}: --outcome '{outcome}': {_rows(infinite)} matched with an "
                                  "infinite value; expected finite numbers")
        effects = _effects(sample, y, outcome, covariates)
        report["effects"] = [e.to_dict() for e in effects]
        report["_effects"] = effects
    return report


def render_text(report: dict) -> str:
    if report.get("method", "nearest") != "nearest":
        return _render_method_text(report)
    s = report["settings"]
    caliper = ("none" if s.get("caliper") is None else
               f"{s['caliper']:g}{' SD' if s.get('std_caliper') else ''} "
               f"(= {s['caliper_width']:.6g} in distance units)")
    head = [
        f"Nearest-neighbour matching on {report['data']} (treatment: {report['treatment']})",
        f"  distance {s['distance']}, ratio {s['ratio']}:1, "
        f"{'with' if s['replace'] else 'without'} replacement, caliper {caliper}, "
        f"order {s['order']}, discard {s['discard']}, exact {', '.join(s['exact']) or 'none'}, "
        f"ties {s['ties']}",
        f"  covariates: {', '.join(report['covariates'])}", "",
    ]
    parts = ["\n".join(head), report["_balance"].as_text()]
    parts += [e.as_text() for e in report.get("_effects", [])]
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def _render_method_text(report: dict) -> str:
    from estimation import describe_method

    head = [f"{describe_method(report['_sample'])} on {report['data']} "
            f"(treatment: {report['treatment']})",
            f"  estimand {report['estimand_label']}",
            f"  covariates: {', '.join(report['covariates'])}", ""]
    parts = ["\n".join(head), report["_balance"].as_text()]
    parts += [e.as_text() for e in report.get("_effects", [])]
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def render_json(report: dict) -> str:
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    return json.dumps(public, indent=2, allow_nan=False, default=_finite) + "\n"


def write_rows(path: str, sample) -> None:
    """One row per input row: distance, weight, subclass (empty when unmatched). Atomic."""
    from tiltak.tables import write_rows as write

    write(path, {"distance": sample.distance, "weight": sample.weights,
                 "subclass": (sample.subclass, sample.subclass >= 0)})


def _memory_budget(data: str, max_memory: str | None, outcome: str | None) -> int | None:
    """The memory budget (--max-memory, else what is available now), checked first
    against an estimate from the file's size or metadata, before reading it."""
    from tiltak.tables import available_memory, check_budget, estimated_rows, matching_bytes, parse_size

    budget = parse_size(max_memory) if max_memory is not None else available_memory()
    if not Path(data).is_file() or Path(data).suffix.lower() not in (".csv", ".parquet", ".pq"):
        return budget  # read_table says what is wrong (and a pipe must not be opened)
    try:
        rows, columns = estimated_rows(data)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by read_table
        return budget
    # before reading, every column counts once in the design (a lower bound)
    check_budget(data, matching_bytes(rows, columns, columns, bool(outcome)), budget,
                 max_memory is not None)
    return budget


def _check_memory(data, frame, used: list[str], outcome, budget, given: bool) -> None:
    """The estimate again with the real row count and design width (factor levels)."""
    import pandas as pd

    from tiltak.tables import check_budget, matching_bytes

    width = 0
    for name in used:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            width += max(len(values.cat.categories) - 1, 1)
        elif pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            width += 1
        else:
            width += max(int(values.nunique()) - 1, 1)
    check_budget(data, matching_bytes(len(frame), len(frame.columns), width, bool(outcome)),
                 budget, given)


@click.command(name="match")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--treatment", required=True, metavar="COL", help="0/1 or true/false treatment column.")
@click.option("--outcome", metavar="COL", help="Outcome column: report the ATT with its SE and interval.")
@click.option("--covariates", metavar="A,B,C", help="Propensity model covariates [default: all other columns].")
@click.option("--ratio", default=1, show_default=True, type=click.IntRange(min=1), help="Controls per treated unit (k:1).")
@click.option("--replace", is_flag=True, help="Match with replacement.")
@click.option("--caliper", type=float, metavar="X", help="Caliper (> 0), in SDs of the distance unless --no-std-caliper.")
@click.option("--std-caliper/--no-std-caliper", default=True, show_default=True, help="Caliper in SD units of the distance.")
@click.option("--distance", default="glm", show_default=True, type=click.Choice(["glm", "logit"]), help="Match on the score or on its logit.")
@click.option("--exact", metavar="A,B", help="Match exactly on these columns.")
@click.option("--order", default="largest", show_default=True, type=click.Choice(["largest", "smallest", "data", "random"]), help="Order in which treated units choose.")
@click.option("--discard", default="none", show_default=True, type=click.Choice(["none", "treated", "control", "both"]), help="Common-support rule.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed for --order random.")
@click.option("--ties", default="matchit", show_default=True, type=click.Choice(["matchit", "matchit-4.5", "row"]), help="Tie rule among equally distant controls: MatchIt 4.6+, MatchIt 4.5, or lowest row.")
@click.option("--method", default="nearest", show_default=True, type=click.Choice(list(METHODS)), help="Matching or weighting method (MatchIt's nearest, optimal, full, subclass, cem; or weighting).")
@click.option("--estimand", default="ATT", show_default=True, type=click.Choice(["ATT", "ATC", "ATE", "ATO"], case_sensitive=False), help="Effect estimated: on the treated, on the controls, in the whole sample, in the overlap population (the methods offer different ones).")
@click.option("--min-controls", type=click.FloatRange(min=0), metavar="X", help="optimal/full: fewest controls per treated unit in a set.")
@click.option("--max-controls", type=click.FloatRange(min=0, min_open=True), metavar="X", help="optimal/full: most controls per treated unit in a set.")
@click.option("--match-most", is_flag=True, help="optimal: when the caliper leaves too few controls, match as many as possible instead of refusing.")
@click.option("--subclasses", default=6, show_default=True, type=click.IntRange(min=2), help="subclass: number of subclasses.")
@click.option("--min-n", default=1, show_default=True, type=click.IntRange(min=0), help="subclass: fewest units of each group per subclass (0 drops subclasses lacking one).")
@click.option("--cutpoints", metavar="SPEC", help="cem: bins for numeric columns: sturges, scott, fd, qK, a number, or COL=RULE,... with cut points as a/b/c [default: sturges].")
@click.option("--weights", "weights", default="ipw", show_default=True, type=click.Choice(["ipw", "ebal"]), help="weighting: inverse probability weights or entropy balancing.")
@click.option("--stabilize", is_flag=True, help="weighting (ipw, ATE): stabilised weights.")
@click.option("--trim", type=click.FloatRange(min=0, max=0.5, min_open=True, max_open=True), metavar="A", help="weighting (ipw): drop units with a propensity score outside [A, 1-A].")
@click.option("--moments", default=1, show_default=True, type=click.IntRange(1, 2), help="weighting (ebal): balance means (1) or means and squares (2).")
@click.option("--max-memory", metavar="SIZE", help="Refuse to start when the estimated peak memory exceeds SIZE (e.g. 4G) [default: the memory available].")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json"]), help="Summary format.")
@click.option("--out", metavar="FILE", help="Write distance, weight and subclass per input row (.csv or .parquet).")
@click.pass_context
def command(ctx, data, treatment, outcome, covariates, ratio, replace, caliper, std_caliper,
            distance, exact, order, discard, seed, method, estimand, min_controls,
            max_controls, match_most, subclasses, min_n, cutpoints, weights, stabilize, trim, moments,
            ties, max_memory, fmt, out) -> None:
    """Propensity score matching or weighting (MatchIt's methods) on a CSV or Parquet file.

    Prints sample sizes and covariate balance before and after matching, and with
    --outcome the effect (difference in means and regression-adjusted) with its standard
    error and 95% interval. --method chooses nearest-neighbour (default), optimal pair,
    optimal full matching, subclassification, coarsened exact matching or weighting
    (inverse probability weights or entropy balancing); --estimand the effect (ATT, and
    where the method offers them ATC, ATE, ATO), named in plain words in the summary.

    \b
    Example:
      tiltak match lalonde.csv --treatment treat --outcome re78 \\
          --covariates age,educ,race,married,nodegree,re74,re75 --caliper 0.2 --out m.csv
      tiltak match lalonde.csv --treatment treat --outcome re78 --method full \\
          --estimand ATE --covariates age,educ,race,married,nodegree,re74,re75
      tiltak match lalonde.csv --treatment treat --outcome re78 --method weighting \\
          --weights ebal --covariates age,educ,race,married,nodegree,re74,re75
    """
    if caliper is not None and not (caliper > 0 and math.isfinite(caliper)):
        raise click.BadParameter(f"must be a number > 0; got {caliper:g}", param_hint="'--caliper'")
    from tiltak.tables import read_table

    budget = _memory_budget(data, max_memory, outcome)
    frame = read_table(data)
    exact_cols = _named_columns("--exact", exact)
    chosen = _choose_covariates(frame, data, treatment, outcome, covariates, exact_cols)
    _check_memory(data, frame, chosen + [e for e in exact_cols if e not in chosen], outcome,
                  budget, max_memory is not None)
    treat = treatment_values(frame, data, treatment)
    options = dict(ratio=ratio, replace=replace, caliper=caliper, std_caliper=std_caliper,
                   distance=distance, order=order, discard=discard, seed=seed, method=method,
                   estimand=estimand.upper(), min_controls=min_controls,
                   max_controls=max_controls, match_most=match_most, subclasses=subclasses,
                   min_n=min_n,
                   cutpoints=cutpoints, weights=weights, stabilize=stabilize, trim=trim,
                   moments=moments, ties=ties)
    from click.core import ParameterSource

    given = {name for name in OPTION_METHODS
             if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
    check_method_options(method, given, options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_continuous_exact(frame, exact_cols)
        try:
            sample = run_method(frame, treat, chosen, exact_cols, options).result_
            report = build_report(data, sample, treatment, outcome, frame, chosen)
        finally:  # the warnings often explain a refusal, so they are shown before it
            shown = list(dict.fromkeys(str(w.message) for w in caught))
            for message in shown:
                click.echo(f"Warning: {message}", err=True)
    report["warnings"] = shown
    if out:
        if Path(out).resolve() == Path(data).resolve():
            raise MatchInputError(f"--out {out}: would overwrite the input file; choose another name")
        write_rows(out, sample)
    click.echo(render_json(report) if fmt == "json" else render_text(report), nl=False)
