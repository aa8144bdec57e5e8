"""Optimal pair matching and optimal full matching, as MatchIt's ``"optimal"`` and ``"full"``.

Both minimise the total distance within the matched sets (MatchIt calls optmatch; tiltak
solves optmatch's network-flow problem with OR-tools, ``estimation.flow``). The result is
the same :class:`estimation.MatchedSample` as nearest-neighbour matching: weights and
subclasses with MatchIt's definitions, and for pair matching the match matrix.

* ``OptimalMatching(ratio=1, min_controls=None, max_controls=None, ...)``: each treated
  unit gets ``ratio`` controls (or, with ``max_controls``, between ``min_controls`` and
  ``max_controls``, ``ratio`` on average), every control used at most once, the sum of the
  treated-control distances as small as possible. ATT only.
* ``FullMatching(min_controls=0, max_controls=inf, ...)``: every unit that has an
  admissible partner is put in a set of one treated unit and one or more controls, or one
  control and several treated units, with the smallest total distance; ATT, ATC or ATE.

Exact strata are solved separately; a caliper forbids the pairs further apart (a unit with
no admissible partner stays unmatched, as in optmatch). Infeasible problems and networks
too large for memory are refused with a message saying why.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from estimation.flow import MAX_ARCS
from estimation.matched import MatchedSample
from estimation.matching import NoMatchesError, exact_strata
from estimation.parameters import (
    InvalidParameterError,
    NotFittedError,
    Parameters,
    check_bool,
    check_caliper,
    check_choice,
)
from estimation.score import check_columns, check_estimand, scored_data
from estimation.setmatch import SetMatchingWarning, SetRule, join_subclasses, solve_stratum, stratum_label
from estimation.strata import subclass_weights
from estimation.support import DISCARDS, caliper_width, discard_mask

__all__ = ["OptimalMatching", "FullMatching", "SetMatchingWarning"]


def _number(owner: str, name: str, value: Any, low: float, inclusive: bool = False,
            integer: bool = False, none: bool = True) -> float | None:
    if value is None and none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer() and math.isfinite(float(value))
    if ok:
        ok = float(value) >= low if inclusive else float(value) > low
    if not ok:
        kind = "a whole number" if integer else "a number"
        raise InvalidParameterError(owner, name, f"{kind} {'>=' if inclusive else '>'} {low:g}"
                                    + (" or None" if none else ""), value)
    return float(value)


class _SetMatching(Parameters):
    """What optimal and full matching share: distance, support, caliper, strata, fitting."""

    NAME = ""
    ESTIMANDS: tuple[str, ...] = ("ATT",)
    STRUCTURE = "pairs"

    def _common(self) -> dict[str, Any]:
        return {
            "caliper": check_caliper(self.NAME, self.caliper),
            "std_caliper": check_bool(self.NAME, "std_caliper", self.std_caliper),
            "discard": check_choice(self.NAME, "discard", self.discard, DISCARDS),
            "estimand": check_estimand(self.NAME, getattr(self, "estimand", "ATT"), self.ESTIMANDS),
            "max_arcs": int(_number(self.NAME, "max_arcs", self.max_arcs, 1, True, True, False)),
        }

    def _rule(self, p: dict[str, Any]) -> SetRule:
        raise NotImplementedError

    def fit(self, X: Any, treatment: Any):
        """Estimate the distance, discard, match each exact stratum optimally."""
        p = self._checked()
        data = scored_data(self.NAME, X, treatment, self.distance, self.estimator)
        exact = check_columns(self.NAME, "exact", data.frame, self.exact)
        self.propensity_ = data.propensity
        discarded = discard_mask(data.distance, data.treat, p["discard"])
        width = caliper_width(p["caliper"], p["std_caliper"], data.distance, discarded)
        focal = data.treat if p["estimand"] != "ATC" else ~data.treat
        stratum = exact_strata(data.frame, exact) if exact else np.zeros(data.n, dtype=np.int64)
        results = self._solve(data, stratum, focal & ~discarded, ~focal & ~discarded, width, p,
                              exact)
        subclass = join_subclasses(data.n, results)
        if not (subclass >= 0).any():
            raise NoMatchesError("No units were matched: no treated unit has an admissible "
                                 "control" + (f" within the caliper ({width:.6g} in distance "
                                              "units)" if width else "") + ".")
        settings = {**p, "method": self.METHOD, "exact": exact, "distance": data.kind,
                    "caliper_width": width, **_figures(results)}
        self.result_ = MatchedSample(
            treat=data.treat, distance=data.distance,
            weights=subclass_weights(subclass, data.treat, p["estimand"]), subclass=subclass,
            match_matrix=self._match_matrix(subclass, data.treat, p), discarded=discarded,
            covariates=data.frame, estimand=p["estimand"], settings=settings,
            structure=self.STRUCTURE)
        return self

    def _solve(self, data, stratum, rows_mask, cols_mask, width, p, exact):
        results = []
        for s in np.unique(stratum):
            rows = np.flatnonzero(rows_mask & (stratum == s))
            cols = np.flatnonzero(cols_mask & (stratum == s))
            if rows.size == 0 or cols.size == 0:
                continue
            where = stratum_label(data.frame, exact, int(rows[0]))
            rule, swap = self._stratum_rule(p, rows.size, cols.size, where)
            if swap:
                rows, cols = cols, rows
            result = solve_stratum(rows, cols, data.distance, width, rule, p["max_arcs"], where)
            if result is not None:
                results.append(result)
        return results

    def _stratum_rule(self, p, n_rows, n_cols, where) -> tuple[SetRule, bool]:
        """The stratum's rule, and whether its rows and columns swap roles."""
        return self._rule(p), False

    def _match_matrix(self, subclass, treat, p) -> np.ndarray:
        return np.empty((int(treat.sum()), 0), dtype=np.int64)

    @property
    def matched_sample(self) -> MatchedSample:
        """The fitted result (raises NotFittedError before ``fit``)."""
        if not hasattr(self, "result_"):
            raise NotFittedError(self.NAME)
        return self.result_


def _figures(results) -> dict[str, Any]:
    return {"total_distance": float(sum(r.total_distance for r in results)),
            "rounding_bound": float(sum(r.rounding_bound for r in results)),
            "n_arcs": int(sum(r.n_arcs for r in results))}


class OptimalMatching(_SetMatching):
    """Optimal k:1 (or variable-ratio) pair matching, as MatchIt's ``method = "optimal"``.

    Parameters
    ----------
    ratio : number >= 1
        Controls per treated unit; a whole number unless ``max_controls`` is given, then
        the average number of controls per treated unit (variable-ratio matching).
    min_controls, max_controls : whole numbers or None
        Variable-ratio matching: each treated unit gets between ``min_controls`` (default
        1) and ``max_controls`` controls, with ``1 <= min_controls < ratio < max_controls``.
    caliper, std_caliper : as for NearestNeighborMatching (pairs further apart than the
        caliper are not admissible; MatchIt's optimal matching has no caliper).
    distance : "glm", "logit" or an array of scores.
    exact : column names; each stratum is matched on its own.
    discard : common-support rule ("none", "treated", "control", "both").
    match_most : when the caliper leaves too few controls for every treated unit, match as
        many control places as possible (at the smallest total distance among those
        matchings) instead of refusing; the others stay unmatched, as with nearest-neighbour
        matching. Default False: refuse, saying how many places can be filled.
    max_arcs : largest network (admissible pairs) attempted; see ``estimation.flow``.
    estimator : propensity classifier passed to PropensityScore.

    >>> from estimation import OptimalMatching, example_data
    >>> X, treat, y = example_data()
    >>> sample = OptimalMatching().fit(X, treat).result_
    >>> sample.match_matrix.shape, int(sample.matched.sum())
    ((62, 1), 124)
    """

    NAME = "OptimalMatching"
    METHOD = "optimal"
    STRUCTURE = "pairs"

    def __init__(self, ratio: float = 1, min_controls: int | None = None,
                 max_controls: int | None = None, caliper: float | None = None,
                 std_caliper: bool = True, distance: Any = "glm", exact: Any = None,
                 discard: str = "none", match_most: bool = False, max_arcs: int = MAX_ARCS,
                 estimator: Any = None):
        self.ratio = ratio
        self.match_most = match_most
        self.min_controls = min_controls
        self.max_controls = max_controls
        self.caliper = caliper
        self.std_caliper = std_caliper
        self.distance = distance
        self.exact = exact
        self.discard = discard
        self.max_arcs = max_arcs
        self.estimator = estimator

    def _checked(self) -> dict[str, Any]:
        p = self._common()
        ratio = _number(self.NAME, "ratio", self.ratio, 1, True, none=False)
        top = _number(self.NAME, "max_controls", self.max_controls, 1, True, True)
        low = _number(self.NAME, "min_controls", self.min_controls, 1, True, True)
        if top is None:
            if low is not None:
                raise InvalidParameterError(self.NAME, "min_controls",
                                            "None unless max_controls is given", low)
            if not ratio.is_integer():
                raise InvalidParameterError(self.NAME, "ratio", "a whole number when "
                                            "max_controls is not given", self.ratio)
            low = top = ratio
        else:
            low = 1.0 if low is None else low
            if not low < ratio < top:
                raise InvalidParameterError(
                    self.NAME, "ratio", f"between min_controls ({low:g}) and max_controls "
                    f"({top:g}), exclusive, for variable-ratio matching", self.ratio)
        return {**p, "ratio": ratio, "min_controls": low, "max_controls": top,
                "match_most": check_bool(self.NAME, "match_most", self.match_most)}

    def _rule(self, p) -> SetRule:
        return SetRule("pair", p["ratio"], p["min_controls"], p["max_controls"], p["match_most"])

    def _stratum_rule(self, p, n_rows, n_cols, where) -> tuple[SetRule, bool]:
        """MatchIt's handling of strata with fewer controls than the ratio asks: with fewer
        controls than treated units each control gets one treated unit (the problem is
        transposed); with fewer than ``ratio`` per treated unit the ratio is lowered."""
        available = n_cols / n_rows
        if available < 1:
            warnings.warn(f"Fewer control than treated units{where}; not all treated units "
                          "will get a match.", SetMatchingWarning, stacklevel=4)
            return SetRule("pair", 1.0, 1.0, 1.0, p["match_most"]), True
        if available < p["ratio"]:
            warnings.warn(f"Not enough control units{where} for {p['ratio']:g} matches per "
                          "treated unit.", SetMatchingWarning, stacklevel=4)
            return SetRule("pair", available, min(p["min_controls"], math.floor(available)),
                           p["max_controls"], p["match_most"]), False
        return self._rule(p), False

    def _match_matrix(self, subclass, treat, p) -> np.ndarray:
        """Controls of each treated unit's set, in input order; -1 where empty."""
        width = int(math.ceil(p["max_controls"]))
        treated = np.flatnonzero(treat)
        mm = np.full((treated.size, width), -1, dtype=np.int64)
        matched_treated = treated[subclass[treated] >= 0]
        owner = np.full(int(subclass.max()) + 1, -1, dtype=np.int64)
        owner[subclass[matched_treated]] = np.searchsorted(treated, matched_treated)
        controls = np.flatnonzero(~treat & (subclass >= 0))
        rows = owner[subclass[controls]]
        mm[rows, _rank_within(rows)] = controls
        return mm


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each group, in input order."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    start = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    rank_sorted = np.arange(groups.size) - np.repeat(start, np.diff(np.r_[start, groups.size]))
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = rank_sorted
    return rank


class FullMatching(_SetMatching):
    """Optimal full matching, as MatchIt's ``method = "full"`` (optmatch's ``fullmatch``).

    Parameters
    ----------
    min_controls, max_controls : numbers or None
        Fewest and most controls per treated unit in a set (fractions allowed: 1/4 means
        up to 4 treated units per control). Default: no limits (0 and infinity).
    estimand : "ATT", "ATC" or "ATE" (MatchIt's weights for each).
    caliper, std_caliper, distance, exact, discard, max_arcs, estimator : as for
        OptimalMatching.

    Without ``min_controls``/``max_controls`` the problem is a minimum-weight edge cover
    and the network is pruned to the pairs an optimum can use (``estimation.edges``).

    >>> from estimation import FullMatching, example_data
    >>> X, treat, y = example_data()
    >>> sample = FullMatching().fit(X, treat).result_
    >>> sample.structure, int(sample.matched.sum()), round(float(sample.weights[~sample.treat].sum()), 6)
    ('sets', 200, 138.0)
    """

    NAME = "FullMatching"
    METHOD = "full"
    ESTIMANDS = ("ATT", "ATC", "ATE")
    STRUCTURE = "sets"

    def __init__(self, min_controls: float | None = None, max_controls: float | None = None,
                 estimand: str = "ATT", caliper: float | None = None, std_caliper: bool = True,
                 distance: Any = "glm", exact: Any = None, discard: str = "none",
                 max_arcs: int = MAX_ARCS, estimator: Any = None):
        self.min_controls = min_controls
        self.max_controls = max_controls
        self.estimand = estimand
        self.caliper = caliper
        self.std_caliper = std_caliper
        self.distance = distance
        self.exact = exact
        self.discard = discard
        self.max_arcs = max_arcs
        self.estimator = estimator

    def _checked(self) -> dict[str, Any]:
        p = self._common()
        low = _number(self.NAME, "min_controls", self.min_controls, 0, True)
        top = _number(self.NAME, "max_controls", self.max_controls, 0)
        low = 0.0 if low is None else low
        top = math.inf if top is None else top
        if low > top:
            raise InvalidParameterError(self.NAME, "min_controls",
                                        f"at most max_controls ({top:g})", self.min_controls)
        return {**p, "min_controls": low, "max_controls": top}

    def _rule(self, p) -> SetRule:
        return SetRule("full", 1.0, p["min_controls"], p["max_controls"])
