"""Nearest-neighbour propensity score matching with MatchIt's semantics.

``NearestNeighborMatching(...).fit(X, treatment).result_`` is a frozen
:class:`estimation.MatchedSample` holding MatchIt's match matrix, weights and subclasses.
The propensity model (:class:`estimation.PropensityScore`) and the matching algorithm
(:mod:`estimation.nearest`) stay independent: ``distance`` may also be a vector of scores
computed elsewhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from estimation.covdistance import covariate_space, search_variable
from estimation.design import as_frame
from estimation.flow import ProblemTooLargeError
from estimation.greedy import (
    BLOCK_BYTES,
    LadderSearch,
    RowSearch,
    run_closest,
    run_passes,
    run_replacement,
)
from estimation.block_cache import with_block_cache
from estimation.hugepages import without_hugepage_advice
from estimation.matched import MatchedSample, matching_weights, pair_subclass
from estimation.nearest import distance_order, match_with_replacement, match_without_replacement
from estimation.nearest_settings import (
    DISTANCES,
    MAX_PAIRS,
    NearestSettings,
    check_nearest,
    variable_ratios,
)
from estimation.pairrules import PairRules
from estimation.parameters import (
    InvalidInputError,
    InvalidParameterError,
    NotFittedError,
    Parameters,
    check_choice,
)
from estimation.propensity import PropensityScore, check_two_groups, treatment_vector
from estimation.support import caliper_width, discard_mask, treated_order
from estimation.threads import side_thread, soon

NAME = "NearestNeighborMatching"


class MatchingWarning(UserWarning):
    """Matching will leave some treated units without (enough) controls."""


class NoMatchesError(InvalidInputError):
    """No treated unit found a control (caliper too narrow, no overlap, empty strata)."""


def exact_strata(frame: pd.DataFrame, exact: Sequence[str]) -> np.ndarray:
    """Integer stratum code per row from the exact-matching columns (0 when none)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in exact:
        values = frame[column]
        if values.isna().any():
            count = int(values.isna().sum())
            raise InvalidInputError(
                f"Missing values in exact-matching column '{column}' ({count} "
                f"row{'s' if count != 1 else ''}). Impute them or drop the rows explicitly.")
        col_codes, uniques = pd.factorize(values, sort=True)
        codes = pd.factorize(codes * max(len(uniques), 1) + col_codes, sort=True)[0]
    return codes.astype(np.int64)


class NearestNeighborMatching(Parameters):
    """k:1 nearest-neighbour matching, as MatchIt's ``method = "nearest"``.

    Parameters
    ----------
    ratio : int >= 1, or a number when ``max_controls`` is given
        Controls per treated unit (k:1), matched in passes as MatchIt does; with
        ``max_controls``, the average number of controls (variable-ratio matching).
    replace : bool
        Whether a control may be matched to several treated units.
    caliper : float > 0, mapping or None
        Largest allowed distance between matched units. A number is a caliper on the score
        (the distance); a mapping gives calipers by name, ``"distance"`` for the score and
        column names of ``X`` for covariates (MatchIt's named ``caliper`` vector).
    std_caliper : bool or mapping
        Whether a caliper is in standard deviations (of the score, or of the covariate,
        over the units not discarded) rather than in its own units; a mapping gives it per
        caliper name (default True).
    distance : str, array of n scores or an (n_treated, n_control) matrix
        ``"glm"`` (the propensity score) or ``"logit"`` (its logit, MatchIt's
        "linear.logit"); ``"mahalanobis"``, ``"robust_mahalanobis"``, ``"euclidean"`` or
        ``"scaled_euclidean"`` on the covariates ``X`` (no propensity score); given
        scores; or a matrix of distances between the treated units (rows, in input order)
        and the controls (columns, in input order).
    exact : list of column names or None
        Match only within equal values of these columns of ``X``.
    order : "largest", "smallest", "data", "random", "closest", "farthest" or None
        Order in which treated units choose their controls: by score, input order, a
        seeded random order, or the closest (farthest) pairs first (MatchIt 4.6+). None:
        "largest" with a score, "data" without one (MatchIt's defaults).
    discard : "none", "treated", "control" or "both"
        Drop units outside the common support of the score before matching.
    random_state : int or None
        Seed for ``order="random"``.
    estimator : classifier or None
        Propensity model passed to :class:`PropensityScore` (None: R's glm logit).
    ties : "matchit", "matchit-4.5" or "row"
        Which of equally distant controls is taken: as MatchIt 4.6.0 and later do (the
        default; checked against 4.7.2), as MatchIt 4.5.4 and 4.5.5 do, or the one with the
        lowest input row (MatchIt's distance-matrix path). See :mod:`estimation.nearest`
        and :mod:`estimation.greedy`.
    mahvars : list of column names or None
        With a propensity score: match on the Mahalanobis distance of these columns, within
        the caliper on the score (MatchIt's ``mahvars``); the score also sets the order and
        the common support. With a distance on the covariates: the columns of ``X`` it is
        computed on (default: all of them; exact-matching columns need not be among them).
    antiexact : list of column names or None
        A control must differ from its treated unit on each of these columns.
    reuse_max : int >= 1 or None
        How many times a control may be used (MatchIt's ``reuse.max``); when given it
        decides ``replace`` (``reuse_max > 1``). Below the number of treated units the
        matching runs in passes in the chosen order, as without replacement.
    min_controls, max_controls : int or None
        Variable-ratio matching (Ming and Rosenbaum 2000): each treated unit gets between
        ``min_controls`` (default 1) and ``max_controls`` controls, ``ratio`` on average.
    max_pairs : int
        Largest number of treated-control distances the covariate-distance path computes
        (the sum over exact strata of treated x controls); larger problems are refused.

    >>> from estimation import NearestNeighborMatching, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching(ratio=2, caliper=0.2).fit(X, treat).result_
    >>> int(sample.treat.sum()), sample.match_matrix.shape, int(sample.matched.sum())
    (62, (62, 2), 113)
    """

    def __init__(self, ratio: float = 1, replace: bool = False, caliper: Any = None,
                 std_caliper: Any = True, distance: Any = "glm", exact: Any = None,
                 order: str | None = None, discard: str = "none",
                 random_state: int | None = None, estimator: Any = None, ties: str = "matchit",
                 mahvars: Any = None, antiexact: Any = None, reuse_max: int | None = None,
                 min_controls: int | None = None, max_controls: int | None = None,
                 max_pairs: int = MAX_PAIRS):
        self.ratio = ratio
        self.replace = replace
        self.caliper = caliper
        self.std_caliper = std_caliper
        self.distance = distance
        self.exact = exact
        self.order = order
        self.discard = discard
        self.random_state = random_state
        self.estimator = estimator
        self.ties = ties
        self.mahvars = mahvars
        self.antiexact = antiexact
        self.reuse_max = reuse_max
        self.min_controls = min_controls
        self.max_controls = max_controls
        self.max_pairs = max_pairs

    def _distance_kind(self, n: int, n_treated: int) -> str:
        """What ``distance`` is, without fitting anything."""
        if isinstance(self.distance, str):
            return check_choice(NAME, "distance", self.distance, DISTANCES)
        try:
            values = np.asarray(self.distance, dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        expected = (f"one of {', '.join(map(repr, DISTANCES))}, an array of {n} scores or a "
                    f"({n_treated}, {n - n_treated}) distance matrix")
        if values is None or values.ndim not in (1, 2):
            raise InvalidParameterError(NAME, "distance", expected, self.distance)
        if values.ndim == 1 and values.shape[0] != n or values.ndim == 2 and values.shape != (
                n_treated, n - n_treated):
            raise InvalidParameterError(NAME, "distance", expected, f"array of shape {values.shape}")
        if values.ndim == 1 and not np.isfinite(values).all():
            raise InvalidParameterError(NAME, "distance", "finite scores",
                                        "an array with missing or infinite values")
        if values.ndim == 2 and (np.isnan(values).any() or (values < 0).any()):
            raise InvalidParameterError(NAME, "distance", "a matrix of distances >= 0 (inf for "
                                        "pairs that may not be matched)", "a matrix with "
                                        "missing or negative values")
        return "user" if values.ndim == 1 else "matrix"

    def _score(self, kind: str, frame: pd.DataFrame, treat: np.ndarray) -> np.ndarray:
        """The propensity score (fitted or given); NaN when the distance is not a score."""
        if kind in ("glm", "logit"):
            if frame.shape[1] == 0:
                raise InvalidInputError("Covariates X are needed to fit the propensity score.")
            model = PropensityScore(estimator=self.estimator).fit(frame, treat)
            self.propensity_ = model
            return model.distance(kind)
        if kind == "user":
            return np.asarray(self.distance, dtype=np.float64)
        return np.full(treat.shape[0], np.nan)

    @with_block_cache
    @without_hugepage_advice
    def fit(self, X: Any, treatment: Any) -> NearestNeighborMatching:
        """Estimate the distance, discard, match; the result is in ``result_``."""
        frame = None if X is None else as_frame(X)
        n = len(frame) if frame is not None else np.asarray(treatment).shape[0]
        treat = treatment_vector(treatment, n)
        check_two_groups(treat)
        kind = self._distance_kind(n, int(treat.sum()))
        p = check_nearest(self.get_params(deep=False), kind)
        if frame is None:
            frame = pd.DataFrame(index=pd.RangeIndex(n))
        for name, columns in (("exact", p.exact), ("antiexact", p.antiexact),
                              ("mahvars", p.mahvars),
                              ("caliper", tuple(c for c, _, _ in p.covariate_calipers))):
            _check_present(frame, name, columns)
        distance = self._score(kind, frame, treat)
        stratum = exact_strata(frame, p.exact) if p.exact else np.zeros(n, dtype=np.int64)
        matrix = np.asarray(self.distance, dtype=np.float64) if kind == "matrix" else None
        self.result_ = match_on_distance(distance, treat, stratum, frame, p, matrix=matrix)
        return self

    @property
    def matched_sample(self) -> MatchedSample:
        """The fitted result (raises NotFittedError before ``fit``)."""
        if not hasattr(self, "result_"):
            raise NotFittedError(NAME)
        return self.result_


def _check_present(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(repr(str(c)) for c in frame.columns)
        raise InvalidParameterError(NAME, name, f"columns of X (one of {have})", missing[0])


def match_on_distance(distance: np.ndarray, treat: np.ndarray, stratum: np.ndarray,
                      frame: pd.DataFrame, p: NearestSettings, unit: np.ndarray | None = None,
                      matrix: np.ndarray | None = None) -> MatchedSample:
    """Discard, set the calipers, match within strata and build the MatchedSample.

    ``distance`` is the score (NaN when the distance is on covariates or a ``matrix``);
    ``unit`` optionally makes all rows of one unit a single control (without replacement,
    on the fast path).
    """
    n = treat.shape[0]
    discarded = (discard_mask(distance, treat, p.discard) if p.scored
                 else np.zeros(n, dtype=bool))
    width = (caliper_width(p.caliper, p.std_caliper, distance, discarded) if p.scored
             else p.caliper)
    rules = pair_rules(frame, stratum, discarded, p,
                       distance if p.mahvars and p.scored else None, width)
    ratios = (variable_ratios(distance, treat, p.ratio, p.min_controls, p.max_controls)
              if p.variable_ratio else np.full(int(treat.sum()), int(p.ratio)))
    figures: dict[str, Any] = {}
    fast = _fast(p, rules, int(treat.sum()))
    with side_thread(n) as pool:
        if fast:
            mm = _match(distance, treat, discarded, stratum, width, p, unit, ratios, pool)
        else:
            mm = general_match(distance, treat, discarded, stratum, width, p, rules, ratios,
                               frame, matrix, figures)
        return _sample(distance, treat, discarded, frame, p, rules, width, figures, mm, pool)


def _sample(distance, treat, discarded, frame, p: NearestSettings, rules: PairRules, width,
            figures: dict[str, Any], mm: np.ndarray, pool) -> MatchedSample:
    """The MatchedSample of a match matrix; the subclasses on ``pool`` (if any) while the
    weights are computed here."""
    n = treat.shape[0]
    treated_rows = np.flatnonzero(treat)
    if not (mm >= 0).any():
        raise NoMatchesError(
            "No units were matched: no treated unit has an available control"
            + (f" within the caliper ({width:.6g} in distance units)" if width else "")
            + (" within the covariate calipers" if p.covariate_calipers else "")
            + (" differing on the antiexact columns" if p.antiexact else "")
            + (" in its exact-matching stratum" if p.exact else "") + ".")
    subclass = soon(pool, pair_subclass, mm, treated_rows, n)
    weights = matching_weights(mm, treated_rows, n)
    settings = p.report(caliper_width=width, estimand="ATT", **figures,
                        covariate_caliper_widths=_caliper_widths(rules, p))
    return MatchedSample(
        treat=treat, distance=distance, weights=weights, subclass=subclass(), match_matrix=mm,
        discarded=discarded, covariates=frame, estimand="ATT", settings=settings)


def _caliper_widths(rules: PairRules, p: NearestSettings) -> dict[str, float]:
    if rules.caliper_widths is None:
        return {}
    return {name: float(w) for (name, _, _), w in zip(p.covariate_calipers, rules.caliper_widths)}


def pair_rules(frame: pd.DataFrame, stratum: np.ndarray, discarded: np.ndarray,
               p: NearestSettings, score: np.ndarray | None, width: float | None) -> PairRules:
    """The admissibility checks: antiexact codes, covariate calipers in their units (the SD
    over the units not discarded when standardised), the score caliper for ``mahvars``."""
    antiexact = None
    if p.antiexact:
        antiexact = np.column_stack([_codes(frame, c) for c in p.antiexact])
    values = widths = None
    if p.covariate_calipers:
        columns, widths = [], []
        for name, caliper, std in p.covariate_calipers:
            column = _numeric(frame, name)
            columns.append(column)
            sd = float(np.std(column[~discarded], ddof=1)) if std else 1.0
            widths.append(caliper * sd)
        values, widths = np.column_stack(columns), np.asarray(widths)
    return PairRules(stratum, antiexact, values, widths, score,
                     width if score is not None else None)


def _codes(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if values.isna().any():
        raise InvalidInputError(f"Missing values in antiexact column '{column}' "
                                f"({int(values.isna().sum())} rows). Impute them or drop the "
                                "rows explicitly.")
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
        raise InvalidParameterError(NAME, "caliper", "calipers on numeric columns (not on "
                                    "categories)", column)
    out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(out).any():
        raise InvalidInputError(f"Missing values in caliper column '{column}' "
                                f"({int(np.isnan(out).sum())} rows). Impute them or drop the "
                                "rows explicitly.")
    return out


def _fast(p: NearestSettings, rules: PairRules, n_treated: int) -> bool:
    """Whether the compiled score path applies (no constraint beyond strata and caliper)."""
    reuse = p.reuse_max if p.reuse_max is not None else n_treated
    return (p.scored and not p.mahvars and not rules.constrains
            and p.order not in ("closest", "farthest")
            and (reuse == 1 or (reuse >= n_treated and not p.variable_ratio)))


def _match(distance, treat, discarded, stratum, width, p: NearestSettings, unit,
           ratios: np.ndarray, pool=None) -> np.ndarray:
    """Run the compiled nearest-neighbour core; rows of the result follow treated input order.
    With a ``pool`` the sort of the distance (MatchIt's tie rules) starts there at once,
    while the treated units' order and the checks are computed here."""
    treated = np.flatnonzero(treat & ~discarded)
    controls = np.flatnonzero(~treat & ~discarded)
    if controls.size == 0:
        raise NoMatchesError("No control units are left to match with"
                             + (" after discarding" if discarded.any() else "") + ".")
    by_distance = distance_order(distance, pool if p.ties != "row" else None)
    reuse = 1 if not p.replace else int(treat.sum())
    _warn_short(stratum, treated, controls, p, reuse)
    ordered = treated_order(distance, treated, p.order, p.random_state)
    index_of = np.cumsum(treat) - 1  # row -> index among treated
    if p.replace or (treat.sum() == 1 and unit is None):
        # (MatchIt matches a single treated unit as with replacement: reuse.max >= n1)
        mm_ordered = match_with_replacement(distance, ordered, stratum, controls,
                                            p.max_ratio, width, p.ties, by_distance)
    else:
        mm_ordered = match_without_replacement(distance, ordered, stratum, controls,
                                               p.max_ratio, width, unit, p.ties,
                                               ratios[index_of[ordered]] if p.variable_ratio else None,
                                               by_distance)
    mm = np.full((int(treat.sum()), p.max_ratio), -1, dtype=np.int64)
    mm[index_of[ordered]] = mm_ordered
    return mm


def general_match(distance, treat, discarded, stratum, width, p: NearestSettings,
                  rules: PairRules, ratios: np.ndarray, frame: pd.DataFrame,
                  matrix: np.ndarray | None, figures: dict[str, Any]) -> np.ndarray:
    """MatchIt's general nearest-neighbour algorithm (:mod:`estimation.greedy`)."""
    n1 = int(treat.sum())
    eligible = ~discarded & _strata_with_both(stratum, treat, discarded)
    treated = np.flatnonzero(treat & eligible)
    controls = np.flatnonzero(~treat & eligible)
    if controls.size == 0:
        raise NoMatchesError("No control units are left to match with"
                             + (" after discarding" if discarded.any() else "")
                             + (" in the exact-matching strata of the treated units" if p.exact else "")
                             + ".")
    reuse = p.reuse_max if p.reuse_max is not None else n1
    _warn_short(stratum, treated, controls, p, reuse)
    index_of = np.cumsum(treat) - 1
    ratio_of = dict(zip(treated.tolist(), ratios[index_of[treated]].tolist()))
    search = _search(distance, treat, discarded, stratum, width, p, rules, frame, matrix,
                     treated, controls, figures)
    if reuse >= n1:
        matches = run_replacement(search, treated, ratio_of)
    elif p.order in ("closest", "farthest"):
        matches = run_closest(search, treated, ratio_of, reuse, controls.size,
                              p.order == "closest")
    else:
        order = treated_order(distance, treated, p.order, p.random_state)
        matches = run_passes(search, order, ratio_of, reuse, controls.size)
    mm = np.full((n1, p.max_ratio), -1, dtype=np.int64)
    for t, found in matches.items():
        mm[index_of[t], :len(found)] = found
    figures["path"] = "general"
    return mm


def _strata_with_both(stratum: np.ndarray, treat: np.ndarray, discarded: np.ndarray) -> np.ndarray:
    """Units in exact strata that hold both treated and control units (MatchIt discards the
    others before matching)."""
    kept = ~discarded
    both = np.intersect1d(stratum[treat & kept], stratum[~treat & kept])
    return np.isin(stratum, both)


def _search(distance, treat, discarded, stratum, width, p: NearestSettings, rules: PairRules,
            frame: pd.DataFrame, matrix, treated, controls, figures):
    """The search for one problem: along the score, or by distances over rows."""
    if p.scored and not p.mahvars:
        return LadderSearch(distance, stratum, treated, controls, rules, width, p.ties)
    cache = max(16, 2 * p.max_ratio)
    if matrix is not None:
        rows = np.cumsum(treat) - 1
        columns = np.cumsum(~treat) - 1
        search = RowSearch(lambda t, c: matrix[np.ix_(rows[t], columns[c])],
                           lambda t, c: c, stratum, treated, controls, rules, cache,
                           collect_matrix=p.ties == "matchit", max_distance=p.caliper)
        return _ranked(search, p, figures, matrix_path=True)
    columns = list(p.mahvars) if p.mahvars else list(frame.columns)
    method = "mahalanobis" if p.scored else p.distance
    space = covariate_space(frame[columns], treat, discarded, method)
    figures["distance_columns"] = list(space.columns)
    if p.ties == "matchit" and not p.scored and space.values.shape[1] == 1:
        # MatchIt 4.6+ matches on a single transformed covariate as on a score
        return LadderSearch(space.values[:, 0].copy(), stratum, treated, controls, rules, None,
                            p.ties)
    values = space.values
    if p.ties == "matchit":
        walk = search_variable(space, rules.caliper_values)
        tie = _visit_order(walk, stratum)
    else:
        tie = lambda t, c: c  # noqa: E731 - the lowest row (MatchIt 4.5's which.min)
    window = _score_window(distance, stratum, controls, width) if p.scored and width else None
    search = RowSearch(lambda t, c: squared_distances(values, t, c), tie, stratum, treated,
                       controls, rules, cache, window=window)
    return _ranked(search, p, figures)


def _score_window(distance: np.ndarray, stratum: np.ndarray, controls: np.ndarray,
                  width: float):
    """mahvars within a score caliper: only the controls of the treated unit's stratum whose
    score lies within the caliper are compared (found by bisection on the sorted scores;
    the window is a few ulps wider and the caliper itself is checked pair by pair)."""
    by_stratum = {}
    for s in np.unique(stratum[controls]):
        cs = controls[stratum[controls] == s]
        cs = cs[np.argsort(distance[cs], kind="stable")]
        by_stratum[int(s)] = (cs, distance[cs])

    def window(t: int, _: np.ndarray) -> np.ndarray:
        cs, scores = by_stratum.get(int(stratum[t]), (controls[:0], distance[:0]))
        slack = 1e-12 * (abs(float(distance[t])) + width)
        lo = np.searchsorted(scores, distance[t] - width - slack, side="left")
        hi = np.searchsorted(scores, distance[t] + width + slack, side="right")
        return cs[lo:hi]

    return window


def _ranked(search: RowSearch, p: NearestSettings, figures: dict[str, Any],
            matrix_path: bool = False) -> RowSearch:
    figures["pairs"] = search.pairs
    if search.pairs > p.max_pairs:
        raise ProblemTooLargeError(
            f"Nearest-neighbour matching on {'the distance matrix' if matrix_path else 'covariate distances'} "
            f"would compare {search.pairs:,} treated-control pairs (every treated unit with "
            f"every control of its exact stratum), more than max_pairs ({p.max_pairs:,}). It "
            f"needs about {BLOCK_BYTES / 2**20:.0f} MB for one block of distances, whatever the "
            "size, but time in proportion to the pairs. Add exact-matching strata, match on the "
            "propensity score with mahvars only for the final choice, or raise max_pairs.")
    search.rank_all()
    return search


def squared_distances(values: np.ndarray, t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between rows ``t`` and ``c`` of ``values``, summed column
    by column in order (as MatchIt's ``euc_dist_sq``)."""
    rows, cols = values[t], values[c]
    out = np.zeros((t.size, c.size))
    gap = np.empty_like(out)
    for j in range(values.shape[1]):
        np.subtract.outer(rows[:, j], cols[:, j], out=gap)
        np.multiply(gap, gap, out=gap)
        out += gap
    return out


def _visit_order(walk: np.ndarray, stratum: np.ndarray):
    """MatchIt 4.6+'s tie key on covariates: its search visits the units in the order of
    ``walk`` (R's stable order, within each exact stratum), alternately one step down and
    one up from the treated unit; of equally distant controls the one visited last wins."""
    position = np.empty(walk.size, dtype=np.int64)
    for s in np.unique(stratum):
        rows = np.flatnonzero(stratum == s)
        position[rows[np.argsort(walk[rows], kind="stable")]] = np.arange(rows.size)

    def tie(t: int, c: np.ndarray) -> np.ndarray:
        steps = position[c] - position[t]
        visit = 2 * np.abs(steps) - (steps < 0)
        return -visit

    return tie


def _warn_short(stratum, treated, controls, p: NearestSettings, reuse: int) -> None:
    """MatchIt's warnings when controls are too few for every treated unit."""
    if reuse >= max(int(treated.size), 1) and p.replace:
        return
    n1 = np.bincount(stratum[treated], minlength=stratum.max() + 1)
    n0 = np.bincount(stratum[controls], minlength=stratum.max() + 1) * reuse
    where = " in some 'exact' strata" if p.exact else ""
    if np.any(n0[n1 > 0] < n1[n1 > 0]):
        warnings.warn(f"Fewer control units than treated units{where}; not all treated "
                      "units will get a match.", MatchingWarning, stacklevel=5)
    elif p.max_ratio > 1 and np.any(n0[n1 > 0] < p.ratio * n1[n1 > 0]):
        if p.variable_ratio:
            warnings.warn(f"Not enough control units{where} for an average of {p.ratio:g} "
                          "matches per treated unit.", MatchingWarning, stacklevel=5)
        else:
            warnings.warn(f"Not all treated units will get {int(p.ratio)} matches.",
                          MatchingWarning, stacklevel=5)
