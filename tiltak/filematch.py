"""Matching on a user's data file: everything ``tiltak match`` does besides its flags.

``tiltak/commands/match.py`` parses the flags into a :class:`MatchRequest` and prints;
this module reads the file (:mod:`tiltak.tables`), chooses and checks the columns, runs the
method (:mod:`estimation`), summarises the result (:func:`match_summary`, plain values only:
no person-level row) and writes the optional per-person files and plots.

The per-person files (``--out``, MatchIt's ``match_data()``, and ``--out-matches``, its
``get_matches()``) are the one person-level output of tiltak. They copy the user's own
file with the matching columns added and are written only where the user asks.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from estimation import (
    CoarsenedExactMatching,
    EntropyBalancing,
    FullMatching,
    NearestNeighborMatching,
    OptimalMatching,
    PropensityScore,
    PropensityWeighting,
    Subclassification,
    describe_estimand,
    describe_method,
    e_value,
    love_plot_svg,
    overlap_plot_svg,
    rosenbaum_bounds,
)
from estimation.balance import balance_table
from estimation.effects import estimate_att
from estimation.gcomputation import estimate_att_interactions
from estimation.errors import EstimationError
from tiltak.errors import TiltakError
from tiltak.match_memory import (
    MatchShape,
    available_memory,
    check_budget,
    file_shape,
    frame_row_bytes,
    matching_bytes,
    parse_size,
    text_bytes,
)
from tiltak.tables import read_table, write_table


class MatchInputError(TiltakError):
    """A file, column or flag given to ``tiltak match`` cannot be used (exit code 2)."""


from tiltak.match_request import COVARIATE_DISTANCES, METHOD_ESTIMANDS, METHODS, SCORES, MatchRequest  # noqa: F401

#: The columns ``--out`` adds to the input's (MatchIt's match_data()).
ADDED_COLUMNS = ("distance", "weight", "subclass")
MAX_EXACT_LEVELS = 20
"""A numeric --exact column with more distinct values than this looks continuous."""
#: A stray token is one of at most this many distinct non-numbers in a column of numbers.
MAX_STRAY_TOKENS = 5
#: Fewest rows (of a group) before a pattern (consecutive numbers, a value constant in one
#: group) is read as a sign of an identifier or a post-treatment variable.
MIN_ROWS_FOR_PATTERNS = 20
#: Rows looked at first for a repeated value (a column with one is not an identifier).
PROBE_ROWS = 1000
IDENTIFIER_NAME = re.compile(r"(^|[_\W])(id|ids|nr|no|num|number|key|uuid|guid|index|serial|"
                             r"pnr|fnr|pid|row|record|person|pseudonym)($|[_\W])|id$", re.I)
POST_TREATMENT_NAME = re.compile(r"post|after|follow|outcome|result|later|future|exit|dropout|"
                                 r"complet|attend|session|(^|_)fu($|_)|(^|_)t[1-9]($|_)", re.I)




@dataclass(frozen=True)
class CovariateChoice:
    """The covariates used, and what was left out (or looks wrong) when they were chosen."""

    columns: list[str]
    automatic: bool
    left_out: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class MatchRun:
    """A finished run: the data, the fitted sample and its summary (plain values)."""

    frame: pd.DataFrame
    table: Any
    sample: Any
    choice: CovariateChoice
    kept: np.ndarray
    summary: dict[str, Any]
    warnings: list[str]


# --- reading and columns -------------------------------------------------------------


def rows_text(count: int) -> str:
    return f"{count} row{'s' if count != 1 else ''}"


def split_names(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def named_columns(option: str, text: str | None) -> list[str]:
    """Column names of a comma-separated option; given but naming none is an error."""
    names = split_names(text)
    if text is not None and not names:
        raise MatchInputError(f"{option}: expected column names separated by commas; got {text!r}")
    return names


def check_columns(frame, path: str, option: str, names: list[str]) -> None:
    have = [str(c) for c in frame.columns]
    for name in names:
        if name not in have:
            listed = ", ".join(repr(c) for c in have[:20]) + (", ..." if len(have) > 20 else "")
            raise MatchInputError(f"{path}: {option}: unknown column '{name}'; expected one "
                                  f"of {listed}")


def covariate_calipers(values: tuple[str, ...]) -> dict[str, float]:
    """``--covariate-caliper COL=WIDTH`` (repeatable, or comma-separated) as a mapping."""
    out: dict[str, float] = {}
    for part in (p.strip() for v in values for p in v.split(",") if p.strip()):
        name, _, width = part.partition("=")
        try:
            number = float(width)
        except ValueError:
            number = float("nan")
        if not name.strip() or not (number > 0 and math.isfinite(number)):
            raise MatchInputError(f"--covariate-caliper: expected COLUMN=WIDTH with a width > 0 "
                                  f"(in the column's own units); got {part!r}")
        out[name.strip()] = number
    return out


def choose_covariates(frame, path: str, request: MatchRequest, used: list[str]) -> CovariateChoice:
    """The given --covariates, or every other column except identifiers and dates.

    Columns unique per row (text or whole numbers that are all different, such as a person
    number) are identifiers and are left out and named; columns that look measured after
    treatment are kept but warned about. The choice is never refused for this.
    """
    treatment, outcome = request.treatment, request.outcome
    given = named_columns("--covariates", request.covariates)
    if outcome is not None and outcome == treatment:
        raise MatchInputError(f"{path}: --outcome '{outcome}' is the treatment column; "
                              "expected another column")
    check_columns(frame, path, "--treatment", [treatment])
    if outcome:
        check_columns(frame, path, "--outcome", [outcome])
    check_columns(frame, path, "--covariates", given)
    for option, names in used:
        check_columns(frame, path, option, names)
    for name in given:
        if name in (treatment, outcome):
            raise MatchInputError(f"{path}: --covariates: '{name}' is the "
                                  f"{'treatment' if name == treatment else 'outcome'} column")
    if given:
        return CovariateChoice(given, False, [], [])
    named = {n for _, names in used for n in names}
    chosen, left_out = [], []
    for column in (str(c) for c in frame.columns):
        if column in (treatment, outcome):
            continue
        reason = _not_a_covariate(frame[column])
        if reason and column not in named:
            left_out.append({"column": column, "reason": reason})
        else:
            chosen.append(column)
    notes = []
    if not chosen and left_out:  # never refuse for this: keep them, and say so
        chosen = [item["column"] for item in left_out]
        notes = [f"covariate '{item['column']}' looks like {item['reason'].split(': ')[-1]} but "
                 "is kept: the file has no other column to match on" for item in left_out]
        left_out = []
    if not chosen:
        raise MatchInputError(f"{path}: no covariates: the file has no column besides the "
                              "treatment and the outcome")
    return CovariateChoice(chosen, True, left_out, notes)


def _not_a_covariate(values: pd.Series) -> str | None:
    """Why a column should not enter the propensity model by default (None: it may).

    Cheap tests first (types, a repeated value among the first rows, the range of whole
    numbers), so that a million-row file pays for a full count of distinct values only in
    the columns that may be identifiers."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "dates (convert to a number, e.g. months since an event, to use them)"
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_float_dtype(values.dtype):
        return None
    if isinstance(values.dtype, pd.CategoricalDtype):
        return None if len(values.cat.categories) < len(values) else _unique_per_row(values)
    if values.isna().any():
        return None  # a missing value: not a key of every row
    if len(values) < 2:
        return None
    head = values.iloc[:PROBE_ROWS]
    if head.nunique() < len(head):
        return None  # a value repeats already among the first rows
    if pd.api.types.is_integer_dtype(values.dtype):
        numbers = values.to_numpy()
        consecutive = len(numbers) >= MIN_ROWS_FOR_PATTERNS and (
            int(numbers.max()) - int(numbers.min()) + 1 == len(numbers))
        if not (consecutive or IDENTIFIER_NAME.search(str(values.name))):
            return None
    return _unique_per_row(values)


def _unique_per_row(values: pd.Series) -> str | None:
    return "unique per row: an identifier" if values.nunique() == len(values) else None


def _constant(values: np.ndarray) -> bool:
    """Whether the present values are all equal (or there are none)."""
    if values.dtype.kind in "biuf":
        present = values[~np.isnan(values)] if values.dtype.kind == "f" else values
        return present.size == 0 or bool(present.min() == present.max())
    present = pd.Series(values).dropna()
    return present.empty or bool((present == present.iloc[0]).all())


def _varies(values: np.ndarray, rows: np.ndarray) -> bool:
    """Whether the values at ``rows`` are not all equal: the first rows decide in most
    columns, the whole group is looked at only when they are all equal."""
    return not _constant(values[rows[:PROBE_ROWS]]) or not _constant(values[rows])


def post_treatment_warnings(frame, columns: list[str], treat: np.ndarray) -> list[str]:
    """Warnings for covariates that look measured after treatment: by name, or because
    they are constant (or missing) in one group and vary in the other."""
    out = []
    enough = min(int(treat.sum()), int((~treat).sum())) >= MIN_ROWS_FOR_PATTERNS
    rows = {"controls": np.flatnonzero(~treat), "treated": np.flatnonzero(treat)}
    for column in columns:
        one_sided = []
        if enough:
            series = frame[column]  # text read by pyarrow stays in Arrow (as in check_numbers)
            values = series.array if isinstance(series.dtype, pd.StringDtype) else series.to_numpy()
            if values.dtype == bool:
                values = values.astype(np.int8)
            varies = {label: _varies(values, index) for label, index in rows.items()}
            one_sided = [label for label in rows if not varies[label]
                         and varies["treated" if label == "controls" else "controls"]]
        if one_sided:
            out.append(f"covariate '{column}' does not vary among the {one_sided[0]} but does "
                       "among the others: it may be measured during or after the measure (a "
                       "post-treatment variable), which biases the estimate; leave it out with "
                       "--covariates if so")
        elif POST_TREATMENT_NAME.search(column):
            out.append(f"covariate '{column}' has a name that suggests it was measured after "
                       "treatment; a post-treatment variable biases the estimate; leave it out "
                       "with --covariates if so")
    return out


def check_numbers(frame, path: str, columns: list[str], csv: bool) -> None:
    """Refuse a column of numbers that holds a few stray tokens (say '.'), naming the
    column, the rows and the token, and saying how to read them as missing instead.

    The distinct values are parsed, not every cell, so a text column costs one hash pass."""
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        present = values.dropna()
        if present.empty:
            continue
        # the distinct values in order of appearance, without a Python object a row (text
        # read by pyarrow stays in Arrow: 0.8 GB less at 10 million rows, round 8)
        text_column = isinstance(present.dtype, pd.StringDtype)
        distinct = pd.Series(present.unique() if text_column else pd.unique(present.to_numpy()))
        text = distinct.astype(str).str.strip()
        parsed = pd.to_numeric(text, errors="coerce")
        tokens = list(pd.unique(text[parsed.isna()]))
        if not tokens or len(tokens) > MAX_STRAY_TOKENS or parsed.notna().sum() == 0:
            continue
        is_stray = present.isin(distinct[parsed.isna().to_numpy()].tolist())
        stray = present[is_stray.to_numpy()]
        numbers = len(present) - len(stray)
        if numbers < len(stray):
            continue
        rows = [int(i) + 1 for i in stray.index[:5]]
        where = ", ".join(f"row {r}" + (f" (line {r + 1})" if csv else "") for r in rows[:3])
        more = f" and {len(stray) - 3} more" if len(stray) > 3 else ""
        shown = ", ".join(repr(t) for t in tokens)
        raise MatchInputError(
            f"{path}: column '{column}': {shown} in {where}{more}, where the other "
            f"{rows_text(numbers)} hold numbers; fix the file, or read "
            f"{'it' if len(tokens) == 1 else 'them'} as missing with --na-values "
            f"{','.join(tokens)!r} (and then --drop-missing, or impute)")


def treatment_values(frame, path: str, column: str) -> np.ndarray:
    """The treatment column as booleans; only 0/1 or true/false values are accepted."""
    values = frame[column]
    missing = int(values.isna().sum())
    if missing:
        raise MatchInputError(f"{path}: --treatment '{column}': {rows_text(missing)} without a "
                              "value; expected 0/1 or true/false in every row")
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


def outcome_values(frame, path: str, column: str) -> np.ndarray:
    """The outcome as floats (true/false as 1/0); text that is not a number is an error."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float).to_numpy()
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values[numbers.isna() & values.notna()]
    if len(bad):
        shown = ", ".join(repr(str(v)) for v in pd.unique(bad)[:3])
        where = ", ".join(f"row {int(i) + 1}" for i in bad.index[:3])
        raise MatchInputError(f"{path}: --outcome '{column}': expected numbers; got {shown} "
                              f"in {rows_text(len(bad))} ({where}{', ...' if len(bad) > 3 else ''}); "
                              "fix the file, or read such tokens as missing with --na-values")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def warn_continuous_exact(frame, exact: list[str]) -> None:
    """Warn (not refuse, as MatchIt allows it) when --exact names a continuous-looking column."""
    for name in exact:
        values = frame[name]
        levels = values.nunique()
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                and levels > MAX_EXACT_LEVELS:
            warnings.warn(f"--exact '{name}' has {levels} distinct values (a continuous variable?); "
                          "exact matching on it may leave treated units without controls. Match exactly "
                          "on categories, or put it in --covariates instead", stacklevel=2)


def drop_missing_rows(frame, path: str, columns: list[str], enabled: bool) -> np.ndarray:
    """Rows to use: all, or with --drop-missing those with every used column present."""
    keep = np.ones(len(frame), dtype=bool)
    if not enabled:
        return keep
    for column in columns:
        keep &= frame[column].notna().to_numpy()
    if not keep.any():
        raise MatchInputError(f"{path}: --drop-missing leaves no row: every row misses a value "
                              f"in {', '.join(repr(c) for c in columns)}")
    return keep


# --- the estimation ------------------------------------------------------------------


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
    for part in split_names(text):
        name, _, value = part.partition("=")
        if not name.strip() or not value.strip():
            raise MatchInputError(f"--cutpoints: expected COLUMN=RULE; got {part!r}")
        out[name.strip()] = rule(value, name.strip())
    return out


def parse_grouping(values: tuple[str, ...]) -> dict[str, list[list[str]]] | None:
    """--grouping COL=A+B/C+D (repeatable): the levels of COL that count as one, per group."""
    out: dict[str, list[list[str]]] = {}
    for value in values:
        name, _, spec = value.partition("=")
        groups = [[v.strip() for v in g.split("+")] for g in spec.split("/")] if spec.strip() else []
        if not name.strip() or not groups or any(not v for g in groups for v in g):
            raise MatchInputError(f"--grouping: expected COLUMN=LEVEL+LEVEL[/LEVEL+LEVEL...]; got {value!r}")
        if name.strip() in out:
            raise MatchInputError(f"--grouping: column '{name.strip()}' is given twice; give all its groups "
                                  "in one --grouping, separated by '/'")
        out[name.strip()] = groups
    return out or None


def nearest_model(request: MatchRequest, distance, exact: list[str], covariates: list[str]):
    """``NearestNeighborMatching`` with the request's settings (``distance``: a kind, or
    scores fitted beforehand)."""

    calipers = covariate_calipers(request.covariate_calipers)
    caliper: Any = request.caliper
    std: Any = request.std_caliper
    if calipers:
        score = {"distance": request.caliper} if request.caliper is not None else {}
        caliper = score | calipers
        std = {"distance": request.std_caliper} if score else {}
        std |= {name: False for name in calipers}
    mahvars = named_columns("--mahvars", request.mahvars) or None
    if isinstance(distance, str) and distance in COVARIATE_DISTANCES:
        mahvars = covariates  # the distance is on the covariates, not on --exact columns
    ratio = int(request.ratio) if float(request.ratio).is_integer() else request.ratio
    return NearestNeighborMatching(
        ratio=ratio, replace=request.replace, caliper=caliper, std_caliper=std,
        distance=distance, exact=exact or None, order=request.order, discard=request.discard,
        random_state=request.seed, ties=request.ties, mahvars=mahvars,
        antiexact=named_columns("--antiexact", request.antiexact) or None,
        reuse_max=request.reuse_max,
        min_controls=int(request.min_controls) if request.min_controls is not None else None,
        max_controls=int(request.max_controls) if request.max_controls is not None else None)


def method_model(request: MatchRequest, exact: list[str], distance):
    """The estimation object for --method with its options (distance: 'glm', 'logit' or
    scores already fitted)."""

    r = request
    common = dict(caliper=r.caliper, std_caliper=r.std_caliper, exact=exact or None,
                  discard=r.discard, distance=distance)
    if r.method == "optimal":
        return OptimalMatching(ratio=int(r.ratio) if float(r.ratio).is_integer() else r.ratio, min_controls=r.min_controls,
                               max_controls=r.max_controls, match_most=r.match_most, **common)
    if r.method == "full":
        return FullMatching(min_controls=r.min_controls, max_controls=r.max_controls,
                            estimand=r.estimand, **common)
    if r.method == "subclass":
        return Subclassification(subclasses=r.subclasses, min_n=r.min_n, estimand=r.estimand,
                                 distance=distance, discard=r.discard)
    if r.method == "cem":
        return CoarsenedExactMatching(cutpoints=parse_cutpoints(r.cutpoints), grouping=parse_grouping(r.grouping),
                                      estimand=r.estimand, k2k=r.k2k,
                                      k2k_method=None if r.k2k_method == "none" else r.k2k_method)
    if r.weights == "ebal":
        return EntropyBalancing(estimand=r.estimand, moments=r.moments)
    return PropensityWeighting(estimand=r.estimand, stabilize=r.stabilize, trim=r.trim)


def run_method(frame, treat, covariates: list[str], request: MatchRequest):
    """Fit the method. Columns used only for matching (exact, antiexact, covariate calipers,
    mahvars) do not enter the propensity model: the score is fitted on the covariates
    first and given to the matcher."""

    exact = named_columns("--exact", request.exact)
    named = [*exact]
    if request.method == "nearest":
        named += named_columns("--antiexact", request.antiexact)
        named += list(covariate_calipers(request.covariate_calipers))
        named += named_columns("--mahvars", request.mahvars)
    extra = [c for c in dict.fromkeys(named) if c not in covariates]
    distance: Any = request.distance
    if extra and distance in SCORES:
        distance = PropensityScore().fit(frame[covariates], treat).distance(distance)
    X = frame[covariates + extra]
    if request.method == "nearest":
        return nearest_model(request, distance, exact, covariates).fit(X, treat)
    return method_model(request, exact, distance).fit(X, treat)


def effects(sample, y, outcome: str, covariates: list[str]) -> list:
    """The effect as a difference in means and regression-adjusted; after subclassification or
    CEM on the ATT also by the control-outcome regression."""

    def named(estimate):
        ratios = tuple(replace(r, outcome=outcome) for r in estimate.ratios)
        return replace(estimate, outcome=outcome, ratios=ratios)

    difference = estimate_att(sample, y)
    regression = estimate_att(sample, y, covariates=covariates)
    found = [named(difference), named(regression)]
    if sample.structure == "strata" and sample.estimand == "ATT" and covariates:
        # the common slope leaves a bias when the effect varies with a covariate still imbalanced
        # within the strata (docs/estimation.md); MatchIt's advice is the control-outcome model
        found.append(estimate_att_interactions(sample, y, sample.covariates[covariates], name=outcome))
    return found


def sensitivity(sample, y, effect) -> dict[str, Any]:
    """E-value (every method) and Rosenbaum bounds where they are defined, or why not."""

    binary = bool(np.isin(y[sample.weights > 0], (0.0, 1.0)).all())
    out: dict[str, Any] = {}
    try:
        sd = None if binary else float(np.nanstd(y[(~sample.treat) & (sample.weights > 0)], ddof=1))
        ev = e_value(effect, sd=sd) if binary or (sd and sd > 0) else None
    except EstimationError as exc:
        ev, out["e_value_note"] = None, str(exc)
    out["e_value"] = None if ev is None else {
        "point": _finite(ev.point), "interval": _finite(ev.ci),
        "risk_ratio": _finite(ev.risk_ratio), "scale": ev.scale}
    out["_e_value"] = ev
    try:
        bounds = rosenbaum_bounds(sample, y, binary=binary)
    except EstimationError as exc:
        out["rosenbaum"] = {"available": False, "reason": str(exc).splitlines()[0]}
        return out
    out["rosenbaum"] = {"available": True, "method": bounds.method,
                        "gamma_critical": _finite(bounds.gamma_critical),
                        "alternative": bounds.alternative, "sets": bounds.n_pairs,
                        "conclusion": bounds.conclusion(),
                        "table": [{"gamma": g, "p_upper": _finite(p)}
                                  for g, p in zip(bounds.gammas, bounds.p_upper)]}
    out["_rosenbaum"] = bounds
    return out


def _finite(value):
    """JSON-safe scalar: NaN and infinities become null, numpy scalars plain Python."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(table) -> list[dict]:
    return [{str(k): _finite(v) for k, v in row.items()} for row in table.to_dict("records")]


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return _finite(value)


def match_summary(path: str, sample, request: MatchRequest, choice: CovariateChoice,
                  frame, kept: np.ndarray) -> dict[str, Any]:
    """Everything the summary shows, as plain values (no person-level rows); keys starting
    with '_' hold the result objects for the text rendering."""

    balance = balance_table(sample)
    summary = {
        "data": os.path.basename(path), "treatment": request.treatment,
        "covariates": choice.columns, "covariates_chosen": "automatic" if choice.automatic else "given",
        "left_out": choice.left_out, "rows_used": int(kept.sum()),
        "rows_dropped_missing": int((~kept).sum()),
        "method": sample.settings.get("method", "nearest"), "estimand": sample.estimand,
        "estimand_label": describe_estimand(sample), "settings": _plain(sample.settings),
        "sample_sizes": {str(k): {c: _finite(v) for c, v in row.items()}
                         for k, row in balance.sample_sizes.to_dict("index").items()},
        "balance": _records(balance.frame),
        "max_abs_smd_after": _finite(balance.max_abs_smd_after),
        "effects": None, "sensitivity": None, "_balance": balance, "_sample": sample,
    }
    if request.outcome:
        y = outcome_values(frame, path, request.outcome)[kept]
        matched = y[sample.weights > 0]
        gaps, infinite = int(np.isnan(matched).sum()), int(np.isinf(matched).sum())
        if gaps:
            raise MatchInputError(f"{path}: --outcome '{request.outcome}': {rows_text(gaps)} "
                                  "matched without a value; drop or impute them before matching")
        if infinite:
            raise MatchInputError(f"{path}: --outcome '{request.outcome}': {rows_text(infinite)} "
                                  "matched with an infinite value; expected finite numbers")
        found = effects(sample, y, request.outcome, choice.columns)
        summary["effects"] = [e.to_dict() for e in found]
        summary["_effects"] = found
        sens = sensitivity(sample, np.where(np.isnan(y), 0.0, y), found[0])
        summary["_sensitivity"] = sens
        summary["sensitivity"] = {k: v for k, v in sens.items() if not k.startswith("_")}
    return summary


# --- rendering ---------------------------------------------------------------------


def render_text(summary: dict) -> str:
    """The summary as text: the method and covariates first, then balance, effects and
    sensitivity."""

    head = [f"{describe_method(summary['_sample'])}",
            f"  estimand {summary['estimand_label']}",
            f"  on {summary['data']} (treatment: {summary['treatment']}; "
            f"{summary['rows_used']} rows used"
            + (f", {summary['rows_dropped_missing']} left out for missing values"
               if summary["rows_dropped_missing"] else "") + ")",
            f"  covariates ({'chosen automatically; choose with --covariates' if summary['covariates_chosen'] == 'automatic' else 'given'}): "
            f"{', '.join(summary['covariates'])}"]
    for item in summary["left_out"]:
        head.append(f"  left out: '{item['column']}' ({item['reason']})")
    parts = ["\n".join(head) + "\n", summary["_balance"].as_text()]
    parts += [e.as_text() for e in summary.get("_effects", [])]
    if summary.get("_sensitivity"):
        parts.append(_sensitivity_text(summary["_sensitivity"]))
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def _sensitivity_text(sens: dict) -> str:
    lines = ["Sensitivity to hidden bias", "=========================="]
    ev = sens.get("_e_value")
    lines.append(ev.summary().notes[0] if ev is not None else
                 "E-value: not available" + (f" ({sens['e_value_note']})" if sens.get("e_value_note") else ""))
    rb = sens["rosenbaum"]
    if rb["available"]:
        lines.append(f"Rosenbaum bounds ({rb['method']}, {rb['sets']} matched sets): {rb['conclusion']}")
    else:
        lines.append(f"Rosenbaum bounds: not available. {rb['reason']}")
    return "\n".join(lines) + "\n"


def render_json(summary: dict) -> str:

    public = {k: v for k, v in summary.items() if not k.startswith("_")}
    return json.dumps(public, indent=2, allow_nan=False, default=_finite) + "\n"


# --- per-person files and plots -------------------------------------------------------


def _same_file(path: str, data: str) -> bool:
    return Path(path).resolve() == Path(data).resolve()


def write_rows(path: str, request: MatchRequest, table, sample, kept: np.ndarray) -> None:
    """``--out``: the input's columns and rows with ``distance``, ``weight`` and ``subclass``
    (MatchIt's match_data(); every row, in input order; weight 0 and an empty subclass for
    rows not matched or left out). Written atomically by :mod:`tiltak.tables`."""

    if _same_file(path, request.data):
        raise MatchInputError(f"--out {path}: would overwrite the input file; choose another name")
    clash = [c for c in ADDED_COLUMNS if c in table.column_names]
    if clash:
        raise MatchInputError(f"--out {path}: the input already has a column "
                              f"{', '.join(map(repr, clash))}, which --out adds; rename it in "
                              "the input")
    n = len(kept)
    distance = np.full(n, np.nan)
    weight = np.zeros(n)
    subclass = np.full(n, -1, dtype=np.int64)
    distance[kept], weight[kept], subclass[kept] = sample.distance, sample.weights, sample.subclass
    has_distance = not np.isnan(sample.distance).all()
    added = {"distance": (distance, ~np.isnan(distance)) if has_distance else (distance, np.zeros(n, bool)),
             "weight": weight, "subclass": (subclass, subclass >= 0)}
    write_table(path, table, added, option="--out")


def write_matches(path: str, request: MatchRequest, table, sample, kept: np.ndarray) -> None:
    """``--out-matches``: MatchIt's get_matches(): one row per unit per matched pair or set
    (a control reused by several treated units appears once for each), with ``row`` (the row
    number in the input, from 1), ``subclass`` (the pair, from 1), ``weight`` (1 for the
    treated unit, 1/k for each of its k controls) and the input's columns."""

    if _same_file(path, request.data):
        raise MatchInputError(f"--out-matches {path}: would overwrite the input file; choose "
                              "another name")
    mm = np.asarray(sample.match_matrix)
    if sample.structure != "pairs" or mm.shape[1] == 0:
        raise MatchInputError(f"--out-matches {path}: needs matched pairs (--method nearest or "
                              f"optimal); --method {request.method} gives "
                              f"{sample.structure}. Use --out for one row per input row")
    clash = [c for c in ("row", "subclass", "weight", "distance") if c in table.column_names]
    if clash:
        raise MatchInputError(f"--out-matches {path}: the input already has a column "
                              f"{', '.join(map(repr, clash))}, which --out-matches adds; rename "
                              "it in the input")
    rows_of_sample = np.flatnonzero(kept)
    treated = np.flatnonzero(sample.treat)
    filled = mm >= 0
    has = filled.any(axis=1)
    units, sets, weights = [], [], []
    for number, i in enumerate(np.flatnonzero(has), start=1):
        controls = mm[i][filled[i]]
        units += [treated[i], *controls]
        sets += [number] * (1 + controls.size)
        weights += [1.0] + [1.0 / controls.size] * controls.size
    input_rows = rows_of_sample[np.asarray(units, dtype=np.int64)]
    picked = table.take(input_rows)
    added = {"row": input_rows + 1, "subclass": np.asarray(sets, dtype=np.int64),
             "weight": np.asarray(weights)}
    if not np.isnan(sample.distance).all():
        added["distance"] = np.asarray(sample.distance)[np.asarray(units, dtype=np.int64)]
    write_table(path, picked, added, option="--out-matches", first=("row", "subclass", "weight"))


def write_plots(folder: str, summary: dict) -> list[str]:
    """``--plots DIR``: the love plot and (when there is a score) the overlap plot as SVG."""

    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise MatchInputError(f"--plots {folder}: not a folder")
    if not target.parent.exists():
        raise MatchInputError(f"--plots {folder}: folder '{target.parent}' does not exist")
    target.mkdir(exist_ok=True)
    plots = {"love.svg": love_plot_svg(summary["_balance"])}
    sample = summary["_sample"]
    if not np.isnan(np.asarray(sample.distance, float)).all():
        plots["overlap.svg"] = overlap_plot_svg(sample)
    written = []
    for name, svg in plots.items():
        path = target / name
        tmp = target / f".tiltak-{name}"
        tmp.write_text(svg, encoding="utf-8")
        os.replace(tmp, path)
        written.append(str(path))
    return written


# --- memory ------------------------------------------------------------------------


def memory_budget(request: MatchRequest) -> int | None:
    """The memory budget (--max-memory, else what is available now), checked first
    against an estimate from the file's size or metadata, before reading it."""

    data = request.data
    budget = parse_size(request.max_memory) if request.max_memory is not None else available_memory()
    if not Path(data).is_file() or Path(data).suffix.lower() not in (".csv", ".parquet", ".pq"):
        return budget  # read_table says what is wrong (and a pipe must not be opened)
    try:
        rows, columns, row_bytes, text = file_shape(data)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by read_table
        return budget
    # before reading, every column counts once in the design (a factor's levels are unknown)
    check_budget(data, matching_bytes(match_shape(request, rows, row_bytes, columns, text)),
                 budget, request.max_memory is not None)
    return budget


def match_shape(request: MatchRequest, rows: int, row_bytes: int, design: int,
                text: float) -> MatchShape:
    """What the memory rule needs of this run."""
    written = request.out or request.out_matches
    out = ("csv" if written.lower().endswith(".csv") else "parquet") if written else ""
    return MatchShape(rows, row_bytes, design, bool(request.outcome), out, request.method,
                      request.ratio, request.replace, text)


def check_memory(request: MatchRequest, frame, used: list[str], budget) -> None:
    """The estimate again with the real row count, widths and design (factor levels)."""

    width = 0
    for name in used:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            width += max(len(values.cat.categories) - 1, 1)
        elif pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            width += 1
        else:
            width += max(int(values.nunique()) - 1, 1)
    shape = match_shape(request, len(frame), frame_row_bytes(frame), width,
                        text_bytes(request.data, len(frame)))
    check_budget(request.data, matching_bytes(shape), budget, request.max_memory is not None)


# --- the whole run -----------------------------------------------------------------


def used_columns(request: MatchRequest) -> list[tuple[str, list[str]]]:
    """The columns each option names besides the covariates, by option."""
    return [("--exact", named_columns("--exact", request.exact)),
            ("--antiexact", named_columns("--antiexact", request.antiexact)),
            ("--mahvars", named_columns("--mahvars", request.mahvars)),
            ("--covariate-caliper", list(covariate_calipers(request.covariate_calipers)))]


def run_match(request: MatchRequest) -> MatchRun:
    """Read the file, check it, match and summarise; warnings are collected (they often
    explain a refusal, so the caller shows them before the error)."""

    budget = memory_budget(request)
    keep_table = bool(request.out or request.out_matches)
    na = split_names(request.na_values) if request.na_values is not None else []
    frame, table = read_table(request.data, keep_table=keep_table, na_values=na)
    used = used_columns(request)
    choice = choose_covariates(frame, request.data, request, used)
    named = [c for _, names in used for c in names]
    columns = list(dict.fromkeys(choice.columns + named))
    check_memory(request, frame, columns, budget)
    check_numbers(frame, request.data, columns, request.data.lower().endswith(".csv"))
    kept = drop_missing_rows(frame, request.data, [request.treatment, *columns],
                             request.drop_missing)
    data = frame if kept.all() else frame.loc[kept].reset_index(drop=True)
    treat = treatment_values(data, request.data, request.treatment)
    warn_continuous_exact(data, named_columns("--exact", request.exact))
    for message in choice.warnings + post_treatment_warnings(data, choice.columns, treat):
        warnings.warn(message, stacklevel=2)
    sample = run_method(data, treat, choice.columns, request).result_
    summary = match_summary(request.data, sample, request, choice, frame, kept)
    return MatchRun(frame, table, sample, choice, kept, summary, [])
