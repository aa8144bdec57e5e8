"""Covariate balance before and after matching, as MatchIt's ``summary.matchit`` (4.5).

For each covariate (factors expanded to one row per level) and the distance measure:
weighted means of the treated and the controls, the standardized mean difference, the
variance ratio, the mean and maximum distance between the weighted empirical CDFs, and after
matching the standardized mean absolute pair distance. Definitions (MatchIt's ``bal1var``):

* binary variables are those whose values are all 0 or 1; their variance is p(1 - p);
* other variances are weighted with normalised weights w: sum w (x - m)^2 / (1 - sum w^2);
* the SMD divides the difference in weighted means by the standard deviation of the
  treated group in the full sample (``s_d_denom="treated"``, MatchIt's ATT choice),
  unweighted by the matching weights; if that is zero it falls back to the pooled SD; when
  the difference in means is below sqrt(machine epsilon) the raw difference is shown;
* the variance ratio and the eCDF statistics of binary variables are as MatchIt shows them
  (no variance ratio; both eCDF statistics equal the absolute difference in proportions).

See docs/effects.md for the formulas.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from estimation import sums
from estimation.design import MissingValuesError, column_kind, float_stats
from estimation.matched import MatchedSample
from estimation.ordering import sort_in_place, stable_sort
from estimation.parameters import InvalidInputError, check_choice
from estimation.strata import subclass_pair_distance
from estimation.summary import Summary, SummaryMethods, short_number
from estimation.threads import context_pool, soon, threads

try:  # the compiled loops (estimation/_core.c)
    from estimation import _core
except ImportError:  # pragma: no cover - built without a C compiler
    _core = None

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))
SAMPLE_SIZE_ROWS = ("All (ESS)", "All", "Matched (ESS)", "Matched", "Unmatched", "Discarded")
STAT_NAMES = ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max")


@dataclass(frozen=True)
class BalanceTerm:
    """One row of the balance table: a numeric covariate or one level of a factor.

    ``values`` are float64 for numeric covariates and bool (1 byte a unit, not 8) for
    logical columns and factor levels; sums of bools are exact, like sums of 0/1 floats.
    """

    term: str
    variable: str
    level: str | None
    values: np.ndarray


def _factor_levels(series: pd.Series) -> list:
    """Levels in MatchIt's order: a Categorical's used categories, else sorted values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        used = set(series.unique())
        return [c for c in series.cat.categories if c in used]
    values = list(series.unique())
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _logical_values(series: pd.Series) -> np.ndarray:
    """A logical column as a bool array (a vectorised cast for bool dtypes, else ``bool()``)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=bool)
    return series.map(bool).to_numpy(dtype=bool)


def expand_terms(covariates: pd.DataFrame) -> list[BalanceTerm]:
    """Expand covariates as MatchIt's ``get.covs.matrix`` does for balance.

    Numeric columns stay; logical columns give one 0/1 row ``<name>TRUE``; factor and text
    columns give one 0/1 row per level (all levels, no reference dropped), ``<name><level>``
    (those 0/1 rows as bool arrays).
    """
    _check_missing(covariates)
    terms: list[BalanceTerm] = []
    for column in covariates.columns:
        terms.extend(column_terms(str(column), covariates[column]))
    return terms


def _check_missing(covariates: pd.DataFrame) -> None:
    counts = {str(c): n for c in covariates.columns if (n := _missing(covariates[c]))}
    if counts:
        raise MissingValuesError(counts)


def _missing(series: pd.Series) -> int:
    """``series.isna().sum()`` without the n-sized mask where the dtype tells: none in a
    NumPy integer or bool column, a count of NaN in a float column, of code -1 in a
    categorical one."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return 0
    if isinstance(dtype, np.dtype) and dtype in (np.float64, np.float32):
        return float_stats(series.to_numpy())[0]
    if isinstance(dtype, pd.CategoricalDtype):
        return int(np.count_nonzero(series.cat.codes.to_numpy() < 0))
    return int(series.isna().sum())


def column_terms(name: str, series: pd.Series) -> list[BalanceTerm]:
    """The terms of one covariate column without missing values (``expand_terms``)."""
    kind = column_kind(series)
    if kind == "numeric":
        values = series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise InvalidInputError(
                f"Covariate '{name}' must hold finite numbers; got "
                f"{int((~np.isfinite(values)).sum())} infinite value(s)."
            )
        return [BalanceTerm(name, name, None, values)]
    if kind == "bool":
        return [BalanceTerm(f"{name}TRUE", name, "TRUE", _logical_values(series))]
    codes, uniques = pd.factorize(series, sort=False)
    position = {level: k for k, level in enumerate(uniques)}
    return [BalanceTerm(f"{name}{level}", name, str(level), codes == position[level])
            for level in _factor_levels(series)]


def r_sum(values: np.ndarray) -> np.float64:
    """A sum accumulated in extended (long double) precision, then rounded, as R's ``sum()``.

    R adds sequentially in long double; numpy adds pairwise in long double, which rounds to
    the same double in all but pathological cases. Agreeing with MatchIt to the last bits
    matters where a difference is tested against sqrt(machine epsilon) or a variance is 0.
    (:mod:`estimation.sums`: NumPy's order, without the cast buffers.)
    """
    return sums.r_sum(values)


def r_cumsum(values: np.ndarray) -> np.ndarray:
    """R's ``cumsum()``: a long double accumulator, each partial sum rounded to double."""
    return sums.r_cumsum(values)


_EXACT_LIMIT = 2.0**53


@dataclass(frozen=True, eq=False)
class GroupWeights:
    """One group's weights and the sums every term reuses (computed once per table).

    ``values=None`` stands for unit weights (the sample before matching): their total is
    the group size and each normalised weight the scalar 1/n, which multiplies bit for bit
    as an array of 1/n would. ``integral`` says every weight is a whole number and their
    total is below 2^53, so that sums of weight times a whole-number covariate are exact in
    float64 and need no long double accumulator.
    """

    values: np.ndarray | None
    size: int
    total: np.float64
    normalised: np.ndarray | np.float64
    sum_sq: np.float64
    positive: int
    integral: bool

    @classmethod
    def of(cls, values: np.ndarray | None, size: int) -> "GroupWeights":
        with np.errstate(invalid="ignore", divide="ignore"):
            if values is None:
                total = np.float64(size)
                normalised = np.float64(1.0) / total
                sum_sq = r_sum(np.full(size, normalised) ** 2)
                return cls(None, size, total, normalised, sum_sq, size, True)
            total = r_sum(values)
            normalised = values / total
            whole = values.shape[0] == 0 or sums.value_kind(values)[1] < np.inf
            integral = bool(total < _EXACT_LIMIT and whole)
            return cls(values, size, total, normalised, sums.r_sum_of(5, normalised),
                       int(np.count_nonzero(values)), integral)


def whole_number_bound(x: np.ndarray) -> float:
    """max |x| when every value of x is a whole number, else infinity."""
    return sums.value_kind(x)[1]


def weighted_sum(x: np.ndarray, g: GroupWeights, bound: float) -> np.float64:
    """``r_sum(x * w)``; in plain float64 when every partial sum is a whole number < 2^53.

    Whole numbers below 2^53 add exactly in float64 and in long double alike, so both ways
    give the same bits; ``bound`` is ``whole_number_bound(x)``.
    """
    exact = g.integral and bound * float(g.total) < _EXACT_LIMIT
    kind = 0 if g.values is None else 1
    return sums.plain_sum_of(kind, x, g.values) if exact else sums.r_sum_of(kind, x, g.values)


def group_variance(x: np.ndarray, g: GroupWeights, binary: bool) -> np.float64:
    """MatchIt's ``wvar`` with the group's weights prepared: p(1-p) or the weighted variance."""
    unit = g.values is None  # normalised is the scalar 1/n
    with np.errstate(invalid="ignore", divide="ignore"):
        if unit:
            mean = sums.r_sum_of(2, x, None, g.normalised)
        else:
            mean = sums.r_sum_of(1, x, g.normalised)
        if binary:
            return mean * (1.0 - mean)
        if unit:
            spread = sums.r_sum_of(3, x, None, g.normalised, mean)
        else:
            spread = sums.r_sum_of(4, x, g.normalised, 0.0, mean)
        return spread / (1.0 - g.sum_sq)


def weighted_variance(x: np.ndarray, w: np.ndarray, binary: bool) -> np.float64:
    """MatchIt's ``wvar``: p(1-p) for binary x, else sum w(x-m)^2 / (1 - sum w^2)."""
    return group_variance(x, GroupWeights.of(w, w.shape[0]), binary)


def _weighted_mean(x: np.ndarray, g: GroupWeights, bound: float) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(weighted_sum(x, g, bound) / g.total)


def _pooled_sd(x: np.ndarray, treat: np.ndarray, binary: bool) -> float:
    """MatchIt's ``pooled_sd`` with unit sampling weights ("proportional" contribution)."""
    n = np.float64(x.shape[0])
    groups = [treat == value for value in pd.unique(treat)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if binary:
            parts = [r_sum(x[g]) * (1.0 - r_sum(x[g]) / np.float64(g.sum())) / n for g in groups]
            return float(np.sqrt(r_sum(np.asarray(parts))))
        centred = x.copy()
        for g in groups:
            centred[g] = x[g] - r_sum(x[g]) / np.float64(g.sum())
        w = np.full(x.shape[0], 1.0) / n
        return float(np.sqrt(r_sum(w * centred**2) / (1.0 - r_sum(w**2))))


class VarianceMemo:
    """``group_variance`` of one term's groups, each computed once (the SMD denominator
    and the variance ratio before matching need the same one)."""

    def __init__(self) -> None:
        self._values: dict = {}

    def __call__(self, x: np.ndarray, g: GroupWeights, binary: bool) -> np.float64:
        key = (id(g), binary)
        if key not in self._values:
            self._values[key] = (g, group_variance(x, g, binary))  # g kept: its id stays its own
        return self._values[key][1]


def sd_denominator(x: np.ndarray, layout: "Layout", binary: bool, s_d_denom: str,
                   variance=group_variance) -> float:
    """The SMD denominator from the full (unmatched) sample, as MatchIt's ``bal1var``.

    ``x`` is in the layout's treated-first order; ``variance`` computes a group variance
    (``group_variance`` or a :class:`VarianceMemo`).
    """
    n1 = layout.n1
    unit1, unit0 = layout.before
    if s_d_denom == "treated":
        var = variance(x[:n1], unit1, binary)
    elif s_d_denom == "control":
        var = variance(x[n1:], unit0, binary)
    else:
        var = 0.5 * (variance(x[:n1], unit1, binary) + variance(x[n1:], unit0, binary))
    with np.errstate(invalid="ignore"):
        std = float(np.sqrt(var))
    if not np.isfinite(std) or std < _SQRT_EPS:
        std = _pooled_sd(x[layout.inverse].astype(np.float64), layout.treat, binary)
    return std


@dataclass(frozen=True, eq=False)
class SortedTerm:
    """One term's values sorted within each group, and the sorted distinct values (grid)."""

    treated: np.ndarray
    control: np.ndarray
    grid: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, treat: np.ndarray) -> "SortedTerm":
        return cls.of_groups(x[treat], x[~treat])

    @classmethod
    def of_groups(cls, x1: np.ndarray, x0: np.ndarray) -> "SortedTerm":
        """From the treated values ``x1`` and the control values ``x0``."""
        treated, control = np.sort(x1), np.sort(x0)
        # two sorted runs: the stable sort (timsort) merges them in linear time
        merged = np.sort(np.concatenate([treated, control]), kind="stable")
        grid = merged[np.append(np.diff(merged) != 0, True)]
        return cls(treated, control, grid)


def _group_cdf(x: np.ndarray, w: np.ndarray | None, grid: np.ndarray,
               presorted: np.ndarray | None) -> np.ndarray:
    """The group's weighted eCDF at each grid value (weights normalised to sum to 1)."""
    if w is None:  # unit weights: the cumulative weight at a count c is c itself
        if presorted.shape[0] == 0:
            return np.full(grid.shape[0], np.nan)
        counts = count_at_or_below(presorted, grid).astype(np.float64)
        return counts / np.float64(presorted.shape[0])
    else:
        keep = w > 0
        values, weights = x[keep], w[keep]
        order = np.argsort(values, kind="stable")
        values, cumulative = values[order], r_cumsum(weights[order])
    if values.shape[0] == 0:
        return np.full(grid.shape[0], np.nan)
    index = count_at_or_below(values, grid)
    return np.concatenate([[0.0], cumulative])[index] / cumulative[-1]


def count_at_or_below(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``np.searchsorted(values, grid, side="right")`` for a sorted grid: a linear merge in
    the compiled core (one binary search per grid value costs more than the rest of the
    eCDF at a million units)."""
    if _core is None or values.dtype != np.float64 or grid.dtype != np.float64:
        return np.searchsorted(values, grid, side="right")
    out = np.empty(grid.shape[0], dtype=np.int64)
    _core.count_le(np.ascontiguousarray(values), np.ascontiguousarray(grid), out)
    return out


def ecdf_stats(
    x: np.ndarray, treat: np.ndarray, w: np.ndarray | None, sorted_term: SortedTerm | None = None
) -> tuple[float, float]:
    """Mean and maximum absolute difference of the weighted eCDFs (MatchIt's ``qqsum``).

    Weights are normalised within each group; the differences are taken at every distinct
    value of x in the sample (units of weight 0 included), as MatchIt does. ``w=None``
    means unit weights. The groups are sorted separately and the eCDFs read off by binary
    search, so only the units with positive weight are ever arg-sorted.
    """
    x1, x0 = x[treat], x[~treat]
    w1, w0 = (None, None) if w is None else (w[treat], w[~treat])
    return group_ecdf_stats(x1, x0, w1, w0, sorted_term)


def group_ecdf_stats(x1: np.ndarray, x0: np.ndarray, w1: np.ndarray | None,
                     w0: np.ndarray | None, sorted_term: SortedTerm | None = None
                     ) -> tuple[float, float]:
    """``ecdf_stats`` with the groups given apart: values ``x1``, ``x0``, weights or None."""
    sorted_term = SortedTerm.of_groups(x1, x0) if sorted_term is None else sorted_term
    grid = sorted_term.grid
    f1 = _group_cdf(x1, w1, grid, sorted_term.treated)
    f0 = _group_cdf(x0, w0, grid, sorted_term.control)
    diffs = np.abs(f1 - f0)
    return float(r_sum(diffs) / diffs.shape[0]), float(diffs.max())


@dataclass(frozen=True, eq=False)
class PositiveWeights:
    """One group's units with positive weight after matching (positions in the group, in
    layout order) and their weights, prepared once per table for every term's eCDF.

    ``ones`` says every positive weight is 1 (1:1 matching without replacement): then the
    cumulative weights of the sorted values are 1, 2, 3, ... whatever the order of ties.
    Other weights are summed in the values' stable order (by radix, so no slower than an
    unstable argsort).
    """

    positions: np.ndarray
    weights: np.ndarray
    ones: bool
    unit_cdf: np.ndarray  # k / n for k = 0..n: the eCDF by count of unit weights

    @classmethod
    def of(cls, g: GroupWeights) -> "PositiveWeights":
        positions = np.flatnonzero(g.values > 0)
        weights = g.values[positions]
        ones = bool(np.all(weights == 1.0))
        return cls(positions, weights, ones, count_cdf(positions.shape[0]))

    def sorted_cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positive-weight values of ``x`` (the group's values) sorted, and the eCDF at
        each count k of them (``[0, cumulative] / cumulative[-1]``, ``cumulative`` the
        ``r_cumsum`` of their weights in stable order, as ``_group_cdf`` computes it)."""
        values = x[self.positions]
        if self.ones:  # cumulative 1, 2, ..., m: the eCDF is k / m
            sort_in_place(values)  # a gathered copy: sorted in place
            return values, self.unit_cdf
        order, values = stable_sort(values)
        cumulative = r_cumsum(self.weights[order])
        return values, np.concatenate([[0.0], cumulative]) / cumulative[-1]


def count_cdf(n: int) -> np.ndarray:
    """``k / n`` for k = 0..n, as ``_group_cdf`` divides counts of unit weights."""
    with np.errstate(invalid="ignore", divide="ignore"):  # n = 0: never read
        return np.arange(n + 1, dtype=np.float64) / np.float64(n)


def ecdf_both(x1: np.ndarray, x0: np.ndarray, after: tuple[PositiveWeights, PositiveWeights],
              before: tuple[np.ndarray, np.ndarray], in_place: bool = False
              ) -> tuple[tuple[float, float], tuple[float, float]]:
    """``group_ecdf_stats`` before matching (unit weights; ``before`` their eCDFs by count,
    ``count_cdf``) and after (``after``), in one walk over the sorted groups (compiled):
    ((mean, max) before, (mean, max) after). ``in_place``: ``x1`` and ``x0`` may be sorted
    in place. The walk only compares values, so the arrangement of equal ones (-0.0 and
    +0.0) does not change what it finds."""
    if after[0].positions.shape[0] == 0 or after[1].positions.shape[0] == 0:
        before = group_ecdf_stats(x1, x0, None, None)  # and NaN after, as _group_cdf
        return before, (float("nan"), float("nan"))
    a1, u1 = after[0].sorted_cdf(x1)
    a0, u0 = after[1].sorted_cdf(x0)
    if not in_place:
        x1, x0 = x1.copy(), x0.copy()
    sort_in_place(x1)
    sort_in_place(x0)
    sum_b, max_b, sum_a, max_a, grid = _core.ecdf_walk(x1, x0, *before, a1, u1, a0, u0)
    return ((float(np.float64(sum_b) / grid), max_b), (float(np.float64(sum_a) / grid), max_a))


def pair_positions(treat: np.ndarray, match_matrix: np.ndarray,
                   inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions (in the treated-first layout) of the treated and control unit of each pair.

    ``inverse`` maps an input row to its layout position; None when there are no pairs.
    """
    if match_matrix.size == 0:
        return None
    filled = match_matrix >= 0
    if not filled.any():
        return None
    treated_rows = np.flatnonzero(treat)
    rows_t = np.broadcast_to(treated_rows[:, None], match_matrix.shape)[filled]
    return inverse[rows_t], inverse[match_matrix[filled]]


@dataclass(frozen=True, eq=False)
class SubclassPairs:
    """Every treated-control pair within a subclass (full matching, CEM), in layout order."""

    treat: np.ndarray
    subclass: np.ndarray


def pair_distance(x: np.ndarray, pairs) -> float:
    """Mean absolute treated-control difference over the pairs (``pair_positions``), or
    over all treated-control pairs within subclasses (``SubclassPairs``, MatchIt's
    ``pairdistsubC``)."""
    if pairs is None:
        return float("nan")
    if isinstance(pairs, SubclassPairs):

        return subclass_pair_distance(x, pairs.treat, pairs.subclass)
    if x.dtype == bool:  # |a - b| of 0/1 values; the mean of bools sums exactly, as of 0/1 floats
        return float(np.mean(x[pairs[0]] != x[pairs[1]]))
    return sums.absdiff_mean(x, pairs[0], pairs[1])


def _ratio(a: float, b: float) -> float:
    """``a / b`` with R's rule for a zero denominator (+-Inf, or NaN for 0 / 0)."""
    if b:
        return a / b
    return math.copysign(math.inf, a) if a else math.nan


def term_balance(
    x: np.ndarray,
    n1: int,
    groups: tuple[GroupWeights, GroupWeights],
    std: float,
    binary: bool,
    pair_raw: float | None = None,
    sorted_term: SortedTerm | None = None,
    *,
    bound: float | None = None,
    ecdf: tuple[float, float] | None = None,
    variance=group_variance,
) -> dict[str, float]:
    """MatchIt's ``bal1var`` for one term; ``groups`` are the treated and control weights
    (unit weights for the unmatched sample).

    The units are laid out treated first: ``x[:n1]`` treated, ``x[n1:]`` controls (slices,
    not copies). ``pair_raw`` is the unstandardized pair distance (after matching only);
    ``sorted_term`` the term's sorted groups, if known. Known already, if given:
    ``bound`` (``whole_number_bound(x)``), ``ecdf`` (``group_ecdf_stats`` of the groups),
    and ``variance`` (a :class:`VarianceMemo` of the term).
    """
    g1, g0 = groups
    x1, x0 = x[:n1], x[n1:]
    if bound is None:
        bound = 1.0 if binary else whole_number_bound(x)
    too_small = g1.positive < 2 and g0.positive < 2
    stats = dict.fromkeys((*STAT_NAMES, "pair_dist"), float("nan"))
    stats["mean_treated"] = _weighted_mean(x1, g1, bound)
    stats["mean_control"] = _weighted_mean(x0, g0, bound)
    mdiff = stats["mean_treated"] - stats["mean_control"]
    if abs(mdiff) > _SQRT_EPS:
        if not too_small:
            stats["smd"] = _ratio(mdiff, std)  # R's x / 0 is +-Inf, as MatchIt reports it
            if pair_raw is not None:
                stats["pair_dist"] = _ratio(pair_raw, std) if abs(pair_raw) > 1e-8 else pair_raw
    else:
        stats["smd"] = mdiff
        if pair_raw is not None:
            stats["pair_dist"] = pair_raw
    if binary:
        stats["ecdf_mean"] = stats["ecdf_max"] = abs(mdiff)
    elif not too_small:
        with np.errstate(invalid="ignore", divide="ignore"):
            stats["var_ratio"] = float(variance(x1, g1, False) / variance(x0, g0, False))
        stats["ecdf_mean"], stats["ecdf_max"] = ecdf if ecdf is not None else group_ecdf_stats(
            x1, x0, g1.values, g0.values, sorted_term)
    return stats


def effective_sample_size(w: np.ndarray) -> float:
    """(sum w)^2 / sum w^2; NaN when every weight is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(r_sum(w) ** 2 / r_sum(w**2))


def sample_sizes(sample: MatchedSample) -> pd.DataFrame:
    """MatchIt's sample-size table: rows All (ESS) ... Discarded, columns Control, Treated."""
    treat, w, discarded = sample.treat.astype(bool), sample.weights, sample.discarded.astype(bool)
    columns = {}
    for label, group in (("Control", ~treat), ("Treated", treat)):
        columns[label] = [
            float(group.sum()),
            float(group.sum()),
            effective_sample_size(w[group]),
            float((group & (w > 0)).sum()),
            float((group & (w == 0) & ~discarded).sum()),
            float((group & discarded).sum()),
        ]
    return pd.DataFrame(columns, index=list(SAMPLE_SIZE_ROWS))


@dataclass(frozen=True, eq=False, repr=False)
class BalanceTable(SummaryMethods):
    """Balance before and after matching; immutable.

    Attributes
    ----------
    frame : DataFrame
        One row per term (``distance`` first, then covariates, factors one row per level)
        with columns ``term``, ``variable``, ``level``, ``binary`` and for ``_before`` and
        ``_after``: ``mean_treated``, ``mean_control``, ``smd``, ``var_ratio``,
        ``ecdf_mean``, ``ecdf_max``; plus ``pair_dist_after`` (MatchIt's Std. Pair Dist.).
    sample_sizes : DataFrame
        Rows All (ESS), All, Matched (ESS), Matched, Unmatched, Discarded; columns Control,
        Treated.
    s_d_denom, binary, estimand, threshold : settings used; ``threshold`` is the |SMD| above
        which a term counts as imbalanced (0.1 by default).
    """

    frame: pd.DataFrame
    sample_sizes: pd.DataFrame
    s_d_denom: str = "treated"
    binary: str = "std"
    estimand: str = "ATT"
    threshold: float = 0.1

    has_distance: bool = True

    def _covariate_rows(self) -> pd.DataFrame:
        return self.frame.iloc[1:] if self.has_distance else self.frame

    @property
    def max_abs_smd_before(self) -> float:
        """Largest |SMD| over the covariate terms (the distance row excluded) before matching."""
        return _nanmax_abs(self._covariate_rows()["smd_before"])

    @property
    def max_abs_smd_after(self) -> float:
        """Largest |SMD| over the covariate terms (the distance row excluded) after matching."""
        return _nanmax_abs(self._covariate_rows()["smd_after"])

    def imbalanced(self, threshold: float | None = None) -> list[str]:
        """Covariate terms whose |SMD| after matching exceeds ``threshold``."""
        limit = self.threshold if threshold is None else threshold
        rows = self._covariate_rows()
        return [str(t) for t, s in zip(rows["term"], rows["smd_after"]) if abs(s) > limit]

    def _headline(self) -> str:
        terms = len(self._covariate_rows())
        return (f"{terms} covariate terms; largest |SMD| {short_number(self.max_abs_smd_before, 3)} "
                f"before and {short_number(self.max_abs_smd_after, 3)} after matching "
                f"(threshold {self.threshold:g}; imbalanced: {len(self.imbalanced())})")

    def summary(self) -> Summary:
        """The table in MatchIt's layout (before, after, sample sizes) with notes."""
        names = {
            "mean_treated": "Means Treated", "mean_control": "Means Control",
            "smd": "Std. Mean Diff.", "var_ratio": "Var. Ratio",
            "ecdf_mean": "eCDF Mean", "ecdf_max": "eCDF Max",
        }
        def part(suffix: str) -> pd.DataFrame:
            table = self.frame[[f"{k}_{suffix}" for k in names]].copy()
            table.columns = list(names.values())
            table.index = list(self.frame["term"])
            return table
        after = part("after")
        after["Std. Pair Dist."] = list(self.frame["pair_dist_after"])
        notes = (
            f"Estimand: {self.estimand}. Standardized mean differences divide by the SD of the "
            f"{self.s_d_denom} group in the full sample"
            + ("; binary variables show the raw difference in proportions." if self.binary == "raw"
               else "; binary variables use sqrt(p(1-p))."),
            f"Largest |SMD| after matching: {format(self.max_abs_smd_after, '.4f')} "
            f"(threshold {self.threshold}); imbalanced: {', '.join(self.imbalanced()) or 'none'}.",
        )
        return Summary(
            "Covariate balance",
            (("Summary of balance for all data", part("before")),
             ("Summary of balance for matched data", after),
             ("Sample sizes", _display_sizes(self.sample_sizes))),
            notes,
        )


def _display_sizes(sizes: pd.DataFrame) -> pd.DataFrame:
    """Counts as integers, effective sample sizes to 2 decimals (as MatchIt prints them)."""
    return sizes.apply(lambda column: [
        int(v) if float(v).is_integer() else round(float(v), 2) for v in column
    ]).astype(object)


def _nanmax_abs(values: pd.Series) -> float:
    array = np.abs(np.asarray(values, dtype=float))
    array = array[~np.isnan(array)]
    return float(array.max()) if array.size else float("nan")


def _select_covariates(sample: MatchedSample, covariates) -> pd.DataFrame:
    """The covariate frame: all of the sample's, a named subset, or a frame of extra ones."""
    frame = sample.covariates
    if covariates is None:
        return frame
    if isinstance(covariates, pd.DataFrame):
        if len(covariates) != sample.n:
            raise InvalidInputError(
                f"balance_table: 'covariates' has {len(covariates)} rows; expected one per "
                f"unit of the matched sample ({sample.n})."
            )
        return covariates.reset_index(drop=True)
    if isinstance(covariates, str):
        covariates = [covariates]
    names = [str(c) for c in covariates]
    unknown = [c for c in names if c not in frame.columns]
    if unknown:
        listed = ", ".join(repr(str(c)) for c in frame.columns)
        raise InvalidInputError(
            f"balance_table: unknown covariate(s) {', '.join(map(repr, unknown))}; expected "
            f"names among {listed}."
        )
    return frame[names]


def _check_sample(sample: MatchedSample) -> None:
    if not isinstance(sample, MatchedSample):
        raise InvalidInputError(
            f"balance_table expects an estimation.MatchedSample; got {type(sample).__name__}."
        )
    treat = np.asarray(sample.treat).astype(bool)
    if not treat.any() or treat.all():
        raise InvalidInputError(
            "balance_table needs both treated and control units; got "
            f"{int(treat.sum())} treated and {int((~treat).sum())} control units."
        )
    weights = np.asarray(sample.weights, dtype=float)
    if weights.shape != treat.shape or not np.isfinite(weights).all() or (weights < 0).any():
        raise InvalidInputError(
            "balance_table: the sample's weights must be finite and >= 0, one per unit."
        )
    distance = np.asarray(sample.distance, dtype=float)
    if distance.shape == treat.shape and np.isnan(distance).all():
        pass  # a method without a distance (CEM, entropy balancing): no distance row
    elif distance.shape != treat.shape or not np.isfinite(distance).all():
        raise InvalidInputError(
            "balance_table: the sample's distance must hold one finite value per unit; got "
            f"{int((~np.isfinite(distance)).sum())} missing or infinite of {distance.size}."
        )
    if len(sample.covariates) != treat.shape[0]:
        raise InvalidInputError(
            f"balance_table: the sample's covariates have {len(sample.covariates)} rows; "
            f"expected one per unit ({treat.shape[0]})."
        )


@dataclass(frozen=True, eq=False)
class Layout:
    """The units ordered treated first, and what every term of the table reuses.

    ``perm`` puts the input rows in that order (a stable sort, so each group keeps its input
    order) and ``inverse`` maps an input row to its position; ``before`` and ``after`` are
    the treated and control weights before (unit) and after matching; ``positive`` the
    units with positive weight after and ``unit_cdf`` the eCDFs by count before (for the
    compiled eCDFs; None without them).
    """

    treat: np.ndarray
    perm: np.ndarray
    inverse: np.ndarray
    n1: int
    before: tuple[GroupWeights, GroupWeights]
    after: tuple[GroupWeights, GroupWeights]
    pairs: tuple[np.ndarray, np.ndarray] | None
    positive: tuple[PositiveWeights, PositiveWeights] | None = None
    unit_cdf: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, sample: MatchedSample) -> "Layout":
        treat = np.asarray(sample.treat).astype(bool)
        perm = np.concatenate([np.flatnonzero(treat), np.flatnonzero(~treat)])  # stable
        inverse = np.empty_like(perm)
        inverse[perm] = np.arange(perm.shape[0])
        n1, n0 = int(treat.sum()), int((~treat).sum())
        weights = np.asarray(sample.weights, float)[perm]
        before = (GroupWeights.of(None, n1), GroupWeights.of(None, n0))
        after = (GroupWeights.of(weights[:n1], n1), GroupWeights.of(weights[n1:], n0))
        pairs = pair_positions(treat, np.asarray(sample.match_matrix, dtype=np.int64), inverse)
        # MatchIt shows pair distances within subclasses for full matching and CEM, not
        # for subclassification (summary.matchit.subclass has pair.dist = FALSE)
        if pairs is None and sample.structure in ("sets", "strata") \
                and sample.settings.get("method") != "subclass":
            pairs = SubclassPairs(treat[perm], np.asarray(sample.subclass)[perm])
        if _core is None:
            return cls(treat, perm, inverse, n1, before, after, pairs)
        positive = tuple(PositiveWeights.of(g) for g in after)
        return cls(treat, perm, inverse, n1, before, after, pairs, positive,
                   (count_cdf(n1), count_cdf(n0)))


_LATER = object()  # an eCDF statistic computed after the rest of its row (_term_row)


def _term_row(term: BalanceTerm, layout: Layout, s_d_denom: str, binary: str) -> dict:
    """One row of the table; ``term.values`` are in input order (gathered here into the
    layout's treated-first order, one term at a time, so that the copies do not pile up).

    Factor levels and logical columns are 0/1 by construction; numeric columns and the
    distance are binary when all their values are 0 or 1.
    """
    xp, n1 = term.values[layout.perm], layout.n1
    is_binary, bound = (True, 1.0) if term.level is not None else sums.value_kind(xp)
    bound = 1.0 if is_binary else bound
    # the sums of a 0/1 term in the compiled loops, which read float64: the same bits as
    # NumPy's of the bools (each expression converts them to 0.0 and 1.0 first)
    xs = xp.astype(np.float64) if xp.dtype == bool else xp
    variance = VarianceMemo()
    std = 1.0 if (is_binary and binary == "raw") else sd_denominator(xs, layout, is_binary,
                                                                       s_d_denom, variance)
    order = ecdf_before = ecdf_after = None
    # the compiled eCDFs sort xp's groups in place (no copies), so they come last, after
    # every statistic that reads xp in layout order; the rows hold _LATER until then
    walk = not is_binary and layout.positive is not None and xp.dtype == np.float64
    if walk:
        ecdf_before = ecdf_after = (_LATER, _LATER)
    elif not is_binary:
        order = SortedTerm.of_groups(xp[:n1], xp[n1:])
    before = term_balance(xs, n1, layout.before, std, is_binary, sorted_term=order, bound=bound,
                          ecdf=ecdf_before, variance=variance)
    pair_raw = pair_distance(xp, layout.pairs)
    after = term_balance(xs, n1, layout.after, std, is_binary, pair_raw, order, bound=bound,
                         ecdf=ecdf_after, variance=variance)
    if walk:
        found = ecdf_both(xp[:n1], xp[n1:], layout.positive, layout.unit_cdf, in_place=True)
        for stats, (mean, largest) in zip((before, after), found):
            if stats["ecdf_mean"] is _LATER:
                stats["ecdf_mean"], stats["ecdf_max"] = mean, largest
    row = {"term": term.term, "variable": term.variable, "level": term.level, "binary": is_binary}
    row.update({f"{k}_before": before[k] for k in STAT_NAMES})
    row.update({f"{k}_after": after[k] for k in STAT_NAMES})
    row["pair_dist_after"] = after["pair_dist"]
    return row


_THREADED_FROM = 50_000  # units from which the table's parts run on threads


def _table_pool(n: int) -> ThreadPoolExecutor | None:
    """The threads of one table (None: everything in order on this thread)."""
    workers = threads()
    return context_pool(workers) if workers >= 2 and n >= _THREADED_FROM else None


def _rows_in_parallel(columns: list, layout: Layout, s_d_denom: str,
                      binary: str, pool: ThreadPoolExecutor | None = None) -> list[dict]:
    """The rows of the table in order; ``columns`` holds BalanceTerms and (name, series)
    covariate columns, each expanded into its terms where it is computed. The columns are
    spread over the table's threads, ``pool`` (NumPy's sorts and sums release the
    interpreter lock; None: in order on this thread), the costliest first (``_row_cost``)
    so that no long column is left to run alone at the end; each term is computed exactly
    as alone, in its own order, and the rows are taken in the columns' order, so that the
    first column in order that fails raises, as without threads."""

    def rows(column) -> list[dict]:
        terms = [column] if isinstance(column, BalanceTerm) else column_terms(*column)
        return [_term_row(term, layout, s_d_denom, binary) for term in terms]

    if pool is None:
        parts = [rows(c) for c in columns]
    else:
        order = sorted(range(len(columns)), key=lambda i: -_row_cost(columns[i]))
        futures = {i: pool.submit(rows, columns[i]) for i in order}
        parts = [futures[i].result() for i in range(len(columns))]
    return [row for part in parts for row in part]


def _row_cost(column) -> float:
    """A rough cost of a column's rows, relative to one numeric term (its sorts and eCDF
    walk): a factor's levels are 0/1 terms (about a fifth each), logical and small integer
    columns are mostly 0/1, text is expanded into levels of unknown number."""
    if isinstance(column, BalanceTerm):
        return 1.0
    dtype = column[1].dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return 0.2 * len(dtype.categories)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return 1.0
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return 0.5 if dtype.itemsize > 1 else 0.2
    return 2.0


def _covariates_checked(sample: MatchedSample, covariates) -> pd.DataFrame:
    """The covariate frame (``_select_covariates``) after the check for missing values."""
    covariate_frame = _select_covariates(sample, covariates)
    _check_missing(covariate_frame)  # then each column is expanded (expand_terms) where it is used
    return covariate_frame


def balance_table(
    sample: MatchedSample,
    *,
    covariates: Sequence[str] | pd.DataFrame | None = None,
    s_d_denom: str | None = None,
    binary: str = "std",
    include_distance: bool = True,
    threshold: float = 0.1,
) -> BalanceTable:
    """Balance of the covariates before and after matching, equal to MatchIt's ``summary()``.

    Parameters
    ----------
    sample : MatchedSample
    covariates : None (all of the sample's covariates), a list of their names, or a data
        frame with one row per unit (extra variables, like MatchIt's ``addlvariables``).
    s_d_denom : "treated", "control" or "pooled" (mean of the two group variances); None
        (default) takes MatchIt's choice for the sample's estimand: "treated" for the ATT,
        "control" for the ATC, "pooled" for the ATE and the ATO.
    binary : "std" standardizes binary variables by sqrt(p(1-p)) as MatchIt does; "raw"
        shows their raw difference in proportions (cobalt's default).
    include_distance : put the distance measure first, as MatchIt does.
    threshold : |SMD| above which a term is reported as imbalanced.

    >>> from estimation import NearestNeighborMatching, balance_table, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching().fit(X, treat).result_
    >>> table = balance_table(sample)
    >>> table.frame.set_index("term")[["smd_before", "smd_after"]].round(2)
              smd_before  smd_after
    term
    distance        1.16       0.50
    age             1.37       0.46
    female          0.04       0.03
    """
    _check_sample(sample)
    if s_d_denom is None:
        s_d_denom = {"ATT": "treated", "ATC": "control"}.get(sample.estimand, "pooled")
    check_choice("balance_table", "s_d_denom", s_d_denom, ("treated", "control", "pooled"))
    include_distance = include_distance and not np.isnan(np.asarray(sample.distance, float)).all()
    check_choice("balance_table", "binary", binary, ("std", "raw"))
    pool = _table_pool(sample.n)
    try:
        # the covariates' checks and the sample sizes on the table's threads while the
        # layout is built here; their results (or errors) are taken in the order of the
        # serial code: the layout, the covariates, the rows, the sample sizes
        checked = soon(pool, _covariates_checked, sample, covariates)
        sizes = soon(pool, sample_sizes, sample)
        layout = Layout.of(sample)
        # expanded in input order; each 0/1 or numeric term is gathered into the layout's
        # order by the row that uses it (cheaper than permuting text columns)
        covariate_frame = checked()
        columns: list = [(str(column), covariate_frame[column])
                         for column in covariate_frame.columns]
        if include_distance:
            distance = np.asarray(sample.distance, dtype=np.float64)
            columns.insert(0, BalanceTerm("distance", "distance", None, distance))
        rows = _rows_in_parallel(columns, layout, s_d_denom, binary, pool)
        frame = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
        sizes_frame = sizes()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return BalanceTable(
        frame, sizes_frame, s_d_denom, binary, sample.estimand, float(threshold),
        bool(include_distance),
    )


_FRAME_COLUMNS = [
    "term", "variable", "level", "binary",
    *(f"{k}_before" for k in STAT_NAMES), *(f"{k}_after" for k in STAT_NAMES), "pair_dist_after",
]
