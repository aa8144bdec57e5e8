"""Coarsened exact matching, as MatchIt's ``method = "cem"`` (Iacus, King and Porro 2012).

Numeric covariates are cut into bins, the others kept as they are; units are matched
exactly on the coarsened values. Strata with both treated and control units become
subclasses, with MatchIt's subclass weights (``estimation.strata``); the other units are
dropped. Treated units can be dropped too, so the ATT is that of the matched treated units
(Iacus, King and Porro's "feasible sample ATT"); the estimand label says how many.

Bins per numeric column (``cutpoints``, one value for all or a mapping column -> value):

* ``"sturges"`` (default), ``"scott"``, ``"fd"``: that many equal-width bins between the
  column's minimum and maximum (R's ``nclass.Sturges``/``nclass.scott``/``nclass.FD``);
* an int k >= 2: k equal-width bins; 1: leave the column out; 0: match on exact values;
* ``"q4"`` etc.: bins at the quartiles (any ``"qK"``);
* a list of numbers: the cut points themselves.

The outer bins are open (a value equal to an inner cut point falls in the upper bin), as
in MatchIt. ``grouping`` maps a categorical column to lists of levels that count as one.
"""

from __future__ import annotations

import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from estimation.covdistance import COVARIATE_DISTANCES, covariate_space
from estimation.design import design_matrix
from estimation.matched import MatchedSample
from estimation.matching import NoMatchesError
from estimation.parameters import InvalidParameterError, NotFittedError, Parameters, check_bool, check_choice
from estimation.rstats import find_interval, nclass_fd, nclass_scott, nclass_sturges, quantile7, seq_by, seq_length
from estimation.score import check_estimand, scored_data
from estimation.strata import mixed_subclasses, renumber, subclass_weights

NAME = "CoarsenedExactMatching"
TIE = 1e-10
"""Relative difference below which two k2k distances count as equal (rounding of the transform)."""
RULES = ("sturges", "scott", "fd")
_QUANTILE = re.compile(r"^q([0-9]+)$")


def _is_numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype))


def _check_cut(column: str, value: Any) -> Any:
    if isinstance(value, str) and (value in RULES or _QUANTILE.match(value)):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) > 0:
        try:
            cuts = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            cuts = np.array([np.nan])
        if np.isfinite(cuts).all():
            return cuts
    raise InvalidParameterError(
        NAME, "cutpoints", f"for '{column}' one of {', '.join(map(repr, RULES))}, 'qK' "
        "(K quantile bins), an int >= 0 (number of bins; 0 exact, 1 leave out) or a list of "
        "cut points", value)


def _bins_of(x: np.ndarray, rule: Any) -> np.ndarray:
    """R's breaks for one numeric column under ``rule`` (a checked cutpoints value)."""
    if isinstance(rule, str):
        found = _QUANTILE.match(rule)
        if found:
            q = int(found.group(1))
            inner = quantile7(x, seq_by(1 / q, 1 - 1 / q, 1 / q)) if q > 1 else np.array([])
            return np.concatenate([[-np.inf], np.unique(inner), [np.inf]])
        rule = {"sturges": nclass_sturges, "scott": nclass_scott, "fd": nclass_fd}[rule](x)
    if isinstance(rule, int):
        breaks = seq_length(float(x.min()), float(x.max()), rule + 1)
        breaks[0], breaks[-1] = -np.inf, np.inf
        return breaks
    return np.concatenate([[-np.inf], np.unique(rule), [np.inf]])


def _grouped(series: pd.Series, groups: Any, column: str) -> pd.Series:
    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, (list, tuple)) and g
                                                        for g in groups):
        raise InvalidParameterError(NAME, "grouping", f"for '{column}' a list of lists of "
                                    "values that count as one", groups)
    text = series.astype(str)
    for group in groups:
        members = [str(v) for v in group]
        text = text.where(~text.isin(members), members[0])
    return text


def coarsened_codes(frame: pd.DataFrame, cutpoints: Any = "sturges",
                    grouping: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """The coarsened stratum code of every row, and the bins used per column."""
    grouping = dict(grouping or {})
    per_column = isinstance(cutpoints, dict)
    parts, used = [], {}
    for column in frame.columns:
        name, series = str(column), frame[column]
        if name in grouping:
            parts.append(pd.factorize(_grouped(series, grouping[name], name), sort=True)[0])
            used[name] = "grouped"
            continue
        if not _is_numeric(series):
            parts.append(pd.factorize(series, sort=True)[0])
            used[name] = "exact"
            continue
        rule = _check_cut(name, cutpoints.get(name, "sturges") if per_column else cutpoints)
        if isinstance(rule, int) and rule == 1:
            used[name] = "left out"
            continue
        x = series.to_numpy(dtype=np.float64)
        if isinstance(rule, int) and rule == 0:
            parts.append(pd.factorize(x, sort=True)[0])
            used[name] = "exact"
            continue
        breaks = _bins_of(x, rule)
        parts.append(find_interval(x, breaks))
        used[name] = [float(b) for b in breaks[1:-1]]
    return _combine(parts, len(frame)), used


def _combine(parts: list[np.ndarray], n: int) -> np.ndarray:
    codes = np.zeros(n, dtype=np.int64)
    for part in parts:
        codes = pd.factorize(codes * (int(part.max()) + 1) + part, sort=True)[0].astype(np.int64)
    return codes


def _check_names(frame: pd.DataFrame, mapping: dict, parameter: str) -> None:
    unknown = [str(k) for k in mapping if k not in frame.columns]
    if unknown:
        have = ", ".join(repr(str(c)) for c in frame.columns)
        raise InvalidParameterError(NAME, parameter, f"a mapping of columns of X (one of {have})",
                                    unknown[0])


class CoarsenedExactMatching(Parameters):
    """Coarsened exact matching with MatchIt's weights.

    Parameters
    ----------
    cutpoints : bins for every numeric column, or a mapping column -> bins (unnamed
        numeric columns get "sturges"); see the module docstring.
    grouping : mapping column -> list of lists of values that count as one.
    estimand : "ATT", "ATC" or "ATE".
    distance : None (default: no propensity score, MatchIt's CEM has none), "glm",
        "logit" or an array of scores, kept for balance tables and plots only.
    estimator : propensity classifier passed to PropensityScore.

    k2k : bool
        MatchIt's ``k2k = TRUE``: within every stratum with more than two units, match the
        focal units (treated; controls for the ATC) one to one to the others, each in input
        order taking the nearest one left (the first of equally near), and drop the units
        left over; the pairs become the subclasses (the ATT then has a match matrix).
    k2k_method : "mahalanobis" (default), "robust_mahalanobis", "euclidean",
        "scaled_euclidean" or None
        The distance of the k2k matching, on the covariates as given (before coarsening),
        transformed as MatchIt's ``transform_covariates`` does over all units; None matches
        in input order (every distance 0).

    >>> from estimation import CoarsenedExactMatching, example_data
    >>> X, treat, y = example_data()
    >>> sample = CoarsenedExactMatching(cutpoints={"age": 4}).fit(X, treat).result_
    >>> int(sample.matched.sum()), int(sample.treat[sample.matched].sum())
    (184, 62)
    """

    def __init__(self, cutpoints: Any = "sturges", grouping: dict[str, Any] | None = None,
                 estimand: str = "ATT", distance: Any = None, estimator: Any = None,
                 k2k: bool = False, k2k_method: str | None = "mahalanobis"):
        self.k2k = k2k
        self.k2k_method = k2k_method
        self.cutpoints = cutpoints
        self.grouping = grouping
        self.estimand = estimand
        self.distance = distance
        self.estimator = estimator

    def fit(self, X: Any, treatment: Any) -> CoarsenedExactMatching:
        """Coarsen, match exactly on the coarsened values, weight."""
        estimand = check_estimand(NAME, self.estimand, ("ATT", "ATC", "ATE"))
        k2k = check_bool(NAME, "k2k", self.k2k)
        if k2k and self.k2k_method is not None:
            check_choice(NAME, "k2k_method", self.k2k_method, COVARIATE_DISTANCES)
        data = scored_data(NAME, X, treatment, self.distance, self.estimator, required=False)
        if data.frame.shape[1] == 0:
            raise InvalidParameterError(NAME, "X", "covariates to match on", "no columns")
        self.propensity_ = data.propensity
        for parameter, mapping in (("cutpoints", self.cutpoints), ("grouping", self.grouping)):
            if isinstance(mapping, dict):
                _check_names(data.frame, mapping, parameter)
        design_matrix(data.frame)  # the same checks as every method's covariates
        codes, bins = coarsened_codes(data.frame, self.cutpoints, self.grouping)
        subclass = mixed_subclasses(codes, data.treat)
        if not (subclass >= 0).any():
            raise NoMatchesError("No units were matched: no coarsened stratum holds both "
                                 "treated and control units. Coarsen the variables further or "
                                 "match on fewer of them.")
        t = data.treat
        strata = int(subclass.max()) + 1
        mm, structure = np.empty((int(t.sum()), 0), dtype=np.int64), "strata"
        if k2k:
            focal = ~t if estimand == "ATC" else t
            subclass = k2k_pairs(data.frame, t, subclass, focal, self.k2k_method)
            if estimand == "ATT":
                mm, structure = pair_matrix(subclass, t), "pairs"
        settings = {"method": "cem", "estimand": estimand, "distance": data.kind, "bins": bins,
                    "strata": strata, "treated_dropped": int(np.sum(t & (subclass < 0)))}
        if k2k:
            settings.update(k2k=True, k2k_method=self.k2k_method)
        self.result_ = MatchedSample(
            treat=t, distance=data.distance, weights=subclass_weights(subclass, t, estimand),
            subclass=subclass, match_matrix=mm,
            discarded=np.zeros(data.n, dtype=bool), covariates=data.frame, estimand=estimand,
            settings=settings, structure=structure)
        return self

    @property
    def matched_sample(self) -> MatchedSample:
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def k2k_pairs(frame: pd.DataFrame, treat: np.ndarray, subclass: np.ndarray, focal: np.ndarray,
              method: str | None) -> np.ndarray:
    """MatchIt's k2k: one-to-one greedy matching within each stratum of more than two units.

    The focal units of a stratum, in input order, each take the nearest other unit left
    (the first in input order among equally near ones); units left over get -1. Strata of
    exactly two units (one of each group) stay as they are. Returns renumbered codes.
    """
    n = len(subclass)
    if method is None:
        values = np.zeros((n, 1))
    else:
        values = covariate_space(frame, treat, np.zeros(n, dtype=bool), method).values
    out = subclass.copy()
    next_code = int(subclass.max()) + 1
    counts = np.bincount(subclass[subclass >= 0])
    for s in np.flatnonzero(counts > 2):
        members = np.flatnonzero(subclass == s)
        rows, cols = members[focal[members]], members[~focal[members]]
        d = np.sqrt(((values[rows][:, None, :] - values[cols][None, :, :]) ** 2).sum(axis=2))
        free = np.ones(cols.size, dtype=bool)
        out[members] = -1
        for i, r in enumerate(rows[: cols.size]):
            left = np.flatnonzero(free)
            near = d[i, left]
            # the first of the nearest; distances equal up to rounding (1e-10) are ties, as
            # they are in exact arithmetic (e.g. ages 19 and 23 around 21)
            j = int(left[np.flatnonzero(near <= near.min() + TIE * max(1.0, near.min()))[0]])
            free[j] = False
            out[[r, cols[j]]] = next_code
            next_code += 1
    return renumber(out)


def pair_matrix(subclass: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """The (n_treated, 1) match matrix of one-to-one subclasses (-1: the treated unit is unmatched)."""
    treated = np.flatnonzero(treat)
    mm = np.full((treated.size, 1), -1, dtype=np.int64)
    control_of = {int(subclass[c]): c for c in np.flatnonzero(~treat & (subclass >= 0))}
    for i, r in enumerate(treated.tolist()):
        if subclass[r] >= 0:
            mm[i, 0] = control_of.get(int(subclass[r]), -1)
    return mm
