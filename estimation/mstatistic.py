"""Rosenbaum's M-statistic sensitivity analysis for matched sets with several controls.

With one treated unit and one or more controls per matched set, the test statistic is the
sum over sets of the treated unit's M-score (Rosenbaum 2007; R's ``sensitivitymv::senmv``):

* h = the lambda-quantile (default the median) of the absolute differences between every
  two units of the same set, over all sets;
* psi(d) = sign(d) * min(1, max(0, |d| - inner) / (trim - inner)) (Huber's psi for
  ``inner = 0``; ``trim = inf`` gives max(0, |d| - inner));
* the score of unit j in set i with n_i units: s_ij = (1 / n_i) sum_{k != j} psi((y_ij -
  y_ik) / h) (``total_on_treated``: / ((n_i - 1) * number of sets) instead, so that with
  ``trim = inf`` the statistic is the treated-minus-control mean difference);
* T = sum over sets of the treated unit's score.

Under the null of no effect the scores of a set are fixed and only which unit is treated is
random; with hidden bias Gamma, the unit is chosen with probabilities proportional to
exp(gamma u_ij), u in [0, 1]. The upper bound on the p-value uses, for each set, the u that
maximises the expectation of the treated score (ties: the larger variance), which puts u = 1
on the a highest scores for some a (Gastwirth, Krieger and Rosenbaum 2000's separable
approximation), and the normal approximation to the sum over sets. The sets may have
different sizes (variable-ratio matching).

Full matching (``treated1``; R's ``sensitivityfull::senfm``): a set may instead hold one
control and several treated units. The set's single unit comes first; for a set with a
single control its scores are negated, so that the first score is minus the control's,
which is the sum of the treated units' scores (the scores of a set sum to 0), and the same
bound applies to the choice of which unit is the single one (Rosenbaum 2007).

As in senmv, when h is 0 (say a binary outcome where most pairs agree) the differences are
used unscaled and untrimmed. This replaces, for k:1 and variable-ratio sets, the signed
rank test on treated-minus-mean-of-controls differences, whose differences are not
symmetric about 0 under the null (13.8 % rejections at nominal 5 % for a binary outcome with
3:1 matching).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from estimation.matched_pairs import matched_pairs
from estimation.outcome import _outcome
from estimation.parameters import InvalidInputError, InvalidParameterError, check_choice
from estimation.sensitivity_result import (
    DEFAULT_GAMMAS,
    SensitivityResult,
    _alternative,
    _check_gammas,
    _critical_gamma,
    ndtr,
)

OWNER = "rosenbaum_mstatistic"


def _set_matrix(sets, treated1=None) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes as (sets, max size): the single unit first (the treated unit unless
    ``treated1`` says the set has one control), NaN padding; and ``treated1`` as a bool array."""
    if isinstance(sets, np.ndarray) and sets.ndim == 2:
        y = sets.astype(np.float64)
    else:
        rows = [np.asarray(r, dtype=np.float64).ravel() for r in sets]
        width = max((r.size for r in rows), default=0)
        y = np.full((len(rows), width), np.nan)
        for i, r in enumerate(rows):
            y[i, :r.size] = r
    if y.ndim != 2 or y.shape[0] == 0 or y.shape[1] < 2:
        raise InvalidInputError(
            f"{OWNER}: expected matched sets of a treated unit and at least one control; got "
            f"an array of shape {y.shape}.")
    if np.isinf(y).any():
        raise InvalidInputError(f"{OWNER}: the outcomes must be finite; got infinite values.")
    if treated1 is None:
        flags = np.ones(y.shape[0], dtype=bool)
    else:
        flags = np.asarray(treated1)
        if flags.dtype != bool or flags.shape != (y.shape[0],):
            raise InvalidParameterError(OWNER, "treated1", f"{y.shape[0]} booleans, one per set "
                                        "(True: one treated unit first)", treated1)
    keep = ~np.isnan(y[:, 0]) & ((~np.isnan(y[:, 1:])).sum(axis=1) >= 1)
    if not keep.any():
        raise InvalidInputError(
            f"{OWNER}: no matched set has a treated outcome and a control outcome.")
    return y[keep], flags[keep]


def _psi(d: np.ndarray, inner: float, trim: float) -> np.ndarray:
    a = np.abs(d)
    if math.isinf(trim):
        magnitude = np.maximum(0.0, a - inner)
    elif inner < trim:
        magnitude = np.minimum(1.0, np.maximum(0.0, a - inner) / (trim - inner))
    else:
        magnitude = (a > inner).astype(np.float64)
    return np.sign(d) * magnitude


_CHUNK = 1 << 22
"""Values held at once by the chunked steps (32 MB of doubles per array)."""


@dataclass(frozen=True)
class Ragged:
    """Matched sets held by their width (up to each set's last unit): ``blocks`` of (rows,
    values of shape (len(rows), w)), so memory grows with the units, not with sets x the
    largest set (full matching has a few large sets among many small ones). ``width`` is
    the widest set: a set's sums are taken over that many terms, zeros beyond its units, as
    one (sets, width) array was summed, so the figures are the same bits."""

    count: int
    width: int
    blocks: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def of_padded(cls, y: np.ndarray) -> "Ragged":
        m = y.shape[1]
        widths = m - np.argmax(~np.isnan(y[:, ::-1]), axis=1)
        blocks = tuple((rows, y[rows, :w]) for w in np.unique(widths)
                       for rows in [np.flatnonzero(widths == w)])
        return cls(y.shape[0], m, blocks)

    @classmethod
    def of_rows(cls, rows: list[np.ndarray]) -> "Ragged":
        sizes = np.array([r.size for r in rows])
        blocks = []
        for w in np.unique(sizes):
            at = np.flatnonzero(sizes == w)
            blocks.append((at, np.stack([rows[i] for i in at]).astype(np.float64)))
        return cls(len(rows), int(sizes.max(initial=0)), tuple(blocks))

    def map(self, change) -> "Ragged":
        """The same sets with ``change(values, rows)`` applied to each block's values."""
        return Ragged(self.count, self.width, tuple((r, change(v, r)) for r, v in self.blocks))

    def per_set(self, of_block, dtype=np.float64) -> np.ndarray:
        """One value a set, ``of_block(values)`` giving a block's, in the sets' order."""
        out = np.empty(self.count, dtype=dtype)
        for rows, values in self.blocks:
            out[rows] = of_block(values)
        return out

    def padded(self) -> np.ndarray:
        out = np.full((self.count, self.width), np.nan)
        for rows, values in self.blocks:
            out[rows, :values.shape[1]] = values
        return out


def m_scores(y: np.ndarray, *, inner: float = 0.0, trim: float = 2.5, lam: float = 0.5,
             total_on_treated: bool = False) -> np.ndarray:
    """The M-score of every unit of every set (NaN where a set has no unit); see the module
    docstring. ``y`` is (sets, max size) with the treated unit first and NaN padding."""
    return ragged_scores(Ragged.of_padded(y), inner=inner, trim=trim, lam=lam,
                         total_on_treated=total_on_treated).padded()


def ragged_scores(sets: Ragged, *, inner: float = 0.0, trim: float = 2.5, lam: float = 0.5,
                  total_on_treated: bool = False) -> Ragged:
    """:func:`m_scores` of sets held by width, block by block and in chunks."""
    h = 0.0
    if not math.isinf(trim) or inner > 0:
        h = float(np.quantile(np.concatenate([_abs_pairs(v) for _, v in sets.blocks]), lam))

    def scores(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        sums = np.concatenate([_row_sums(values[part], sets.width, h, inner, trim)
                               for part in _chunks(np.arange(values.shape[0]), values.shape[1] * sets.width)])
        sizes = (~np.isnan(values)).sum(axis=1).astype(np.float64)
        out = sums / (((sizes - 1) * sets.count)[:, None] if total_on_treated else sizes[:, None])
        out[np.isnan(values)] = np.nan
        return out

    return sets.map(scores)


def _chunks(rows: np.ndarray, per_row: int) -> list[np.ndarray]:
    step = max(1, _CHUNK // max(per_row, 1))
    return [rows[i:i + step] for i in range(0, rows.size, step)]


def _abs_pairs(values: np.ndarray) -> np.ndarray:
    """|y_ij - y_ik| for every ordered pair j != k of a block's sets."""
    w = values.shape[1]
    off = ~np.eye(w, dtype=bool)
    parts = [np.empty(0)]
    for part in _chunks(np.arange(values.shape[0]), w * w):
        block = values[part]
        pairs = np.abs((block[:, :, None] - block[:, None, :])[:, off])
        parts.append(pairs[~np.isnan(pairs)])
    return np.concatenate(parts)


def _row_sums(block: np.ndarray, m: int, h: float, inner: float, trim: float) -> np.ndarray:
    """Sum over k of psi((y_ij - y_ik) / h) for a block of sets of width w <= m, each row summed
    over m terms (zeros beyond w and for NaN), as NumPy sums a row of the full-width array;
    the first w sums."""
    n, w = block.shape
    diffs = block[:, :, None] - block[:, None, :]
    if h > 0:
        diffs = _psi(diffs / h, inner, trim)
    diffs[:, np.arange(w), np.arange(w)] = 0.0
    wide = np.zeros((n, w, m))
    wide[:, :, :w] = np.nan_to_num(diffs, nan=0.0, posinf=np.inf, neginf=-np.inf)
    return wide.sum(axis=2)


class SeparableBound:
    """The sorted scores' partial sums that the separable bound needs at every Gamma (senmv's
    ``separable1v``), computed once for all the Gammas of a grid and of the critical-Gamma search.

    The sets are held by their size k (the a = 1..k-1 lowest or highest scores), so memory
    and time grow with the number of units, not with sets x the largest set; each set's
    total is summed over the full width, zeros beyond its units, and the sums over sets are
    taken in the sets' order, so the figures are the bits of one (sets, width) array."""

    def __init__(self, scores: "np.ndarray | Ragged") -> None:
        sets = scores if isinstance(scores, Ragged) else Ragged.of_padded(scores)
        self.t = float(np.sum(sets.per_set(lambda v: v[:, 0])))
        self.sets = sets.count
        self.groups = []
        for rows, values in sets.blocks:
            sizes = (~np.isnan(values)).sum(axis=1)
            self.groups += [_SizeGroup.of(values[at], rows[at], int(k), sets.width)
                            for k in np.unique(sizes) for at in [np.flatnonzero(sizes == k)]]

    def at(self, gamma: float) -> tuple[float, float, float]:
        """(statistic, expectation, variance) of the treated scores' sum at the bound for ``gamma``."""
        best, nu_best = np.full(self.sets, -np.inf), np.full(self.sets, -np.inf)
        for group in self.groups:
            best[group.rows], nu_best[group.rows] = group.at(gamma)
        return self.t, float(best.sum()), float(nu_best.sum())

    def p_value(self, gamma: float) -> float:
        """The upper bound on the one-sided p-value at ``gamma`` (normal approximation)."""
        t, mean, variance = self.at(gamma)
        if variance <= 0:
            return 1.0 if t <= mean else 0.0
        return float(ndtr(-(t - mean) / math.sqrt(variance)))


@dataclass(frozen=True)
class _SizeGroup:
    """The sets of one size k: their rows and the partial sums of their a = 1..k-1 lowest
    (``low``) and highest (``high``) scores and squares."""

    rows: np.ndarray
    low1: np.ndarray
    low2: np.ndarray
    high1: np.ndarray
    high2: np.ndarray
    a: np.ndarray
    rest: np.ndarray

    @classmethod
    def of(cls, block: np.ndarray, rows: np.ndarray, k: int, m: int) -> "_SizeGroup":
        ordered = np.sort(np.where(np.isnan(block), np.inf, block), axis=1)[:, :k]
        totals1, totals2 = np.empty(rows.size), np.empty(rows.size)
        for part in _chunks(np.arange(rows.size), m):  # over the full width, as one array summed
            wide = np.zeros((part.size, m))
            wide[:, :k] = ordered[part]
            totals1[part], totals2[part] = wide.sum(axis=1), (wide**2).sum(axis=1)
        low1, low2 = np.cumsum(ordered, axis=1)[:, :k - 1], np.cumsum(ordered**2, axis=1)[:, :k - 1]
        a = np.arange(1, k)[None, :]
        return cls(rows, low1, low2, totals1[:, None] - low1, totals2[:, None] - low2, a, k - a)

    def at(self, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """Each set's largest expectation over a and the largest variance among its ties."""
        if self.a.size == 0:  # sets of one unit: no allocation to bound
            return np.full(self.rows.size, -np.inf), np.full(self.rows.size, -np.inf)
        denom = self.a + gamma * self.rest
        mu = (self.low1 + gamma * self.high1) / denom
        nu = (self.low2 + gamma * self.high2) / denom - mu**2
        best = mu.max(axis=1)
        return best, np.where(mu == best[:, None], nu, -np.inf).max(axis=1)


def separable_bound(scores: np.ndarray, gamma: float) -> tuple[float, float, float]:
    """(statistic, expectation, variance) of the treated scores' sum at the separable upper
    bound for hidden bias ``gamma`` (senmv's ``separable1v``)."""
    return SeparableBound(scores).at(gamma)


def _check_settings(inner, trim, lam) -> None:
    if not (isinstance(trim, (int, float)) and trim > 0):
        raise InvalidParameterError(OWNER, "trim", "a number > 0 (inf allowed)", trim)
    if not (isinstance(inner, (int, float)) and 0 <= inner <= trim):
        raise InvalidParameterError(OWNER, "inner", "a number with 0 <= inner <= trim", inner)
    if not (isinstance(lam, (int, float)) and 0 < lam < 1):
        raise InvalidParameterError(OWNER, "lam", "a number in (0, 1)", lam)


def rosenbaum_mstatistic_sets(
    sets,
    *,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    alpha: float = 0.05,
    alternative: str = "greater",
    inner: float = 0.0,
    trim: float = 2.5,
    lam: float = 0.5,
    tau: float = 0.0,
    total_on_treated: bool = False,
    treated1: Sequence[bool] | None = None,
) -> SensitivityResult:
    """Rosenbaum bounds for an M-statistic on matched sets given directly.

    ``sets`` is a (sets, max size) array with the treated outcome first and NaN where a set
    has fewer controls, or a list of sequences (treated outcome, control outcomes...). The
    defaults are senmv's (Huber's psi, trim 2.5, scale = median absolute difference).
    ``alternative`` "greater" tests for larger treated outcomes, "less" for smaller (the
    outcomes are negated). ``tau`` tests the null of an additive effect tau.
    ``p_lower`` is the bound from the scores' other extreme (u = 1 on the lowest scores).
    ``treated1`` (full matching, as senfm): per set, True when its first outcome is its one
    treated unit, False when it is its one control and the others are treated.

    Examples
    --------
    >>> from estimation import rosenbaum_mstatistic_sets
    >>> sets = [[2.1, 0.3, 1.0, -0.2], [1.7, 0.9, 1.1], [0.8, -0.5, 0.1, 0.4], [1.2, 1.5]]
    >>> result = rosenbaum_mstatistic_sets(sets, gammas=[1, 2])
    >>> [round(p, 4) for p in result.p_upper]
    [0.0169, 0.0647]
    """
    grid = _checked(gammas, alpha, alternative, inner, trim, lam, tau)
    y, flags = _set_matrix(sets, treated1)
    return _bounds(Ragged.of_padded(y), flags, grid, float(alpha), alternative, inner, trim, lam,
                   tau, total_on_treated)


def _checked(gammas, alpha, alternative, inner, trim, lam, tau):
    """The Gammas, once the settings are checked."""
    check_choice(OWNER, "alternative", alternative, ("greater", "less"))
    _check_settings(inner, trim, lam)
    if not (isinstance(tau, (int, float)) and math.isfinite(tau)):
        raise InvalidParameterError(OWNER, "tau", "a finite number", tau)
    return _check_gammas(gammas, alpha, OWNER)


def _bounds(sets: Ragged, flags: np.ndarray, grid, alpha: float, alternative: str, inner, trim,
            lam, tau, total_on_treated) -> SensitivityResult:
    """The bounds of sets held by width (``flags``: the set's first unit is its one treated unit)."""
    sign = -1.0 if alternative == "less" else 1.0
    tau = sign * tau

    def shifted(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = sign * values if sign < 0 else values.copy()
        single = flags[rows]
        out[single, 0] -= tau
        out[~single, 1:] -= tau
        return out

    y = sets.map(shifted)
    scores = ragged_scores(y, inner=inner, trim=float(trim), lam=lam, total_on_treated=total_on_treated)
    scores = scores.map(lambda v, rows: np.where(flags[rows][:, None], v, -v))
    bound, other = SeparableBound(scores), SeparableBound(scores.map(lambda v, rows: -v))
    upper = [bound.p_value(g) for g in grid]
    lower = [_p_value_lower(other, g) for g in grid]
    sizes = y.per_set(lambda v: (~np.isnan(v)).sum(axis=1), dtype=np.int64)
    several = int((~flags).sum())
    source = ("sensitivityfull::senfm; " + f"{several} sets with one control and several treated units"
              if several else "sensitivitymv::senmv")
    notes = (f"{y.count} matched sets of {sizes.min()} to {sizes.max()} units; M-statistic "
             f"with inner = {inner:g}, trim = {trim:g}, scale = the {lam:g}-quantile of the "
             f"absolute within-set differences ({source}).",)
    return SensitivityResult(
        "mstatistic", alternative, grid, tuple(lower), tuple(upper), alpha,
        _critical_gamma(bound.p_value, alpha), int(y.count), bound.t, notes,
    )


def _p_value_lower(negated: SeparableBound, gamma: float) -> float:
    """The lower bound: the separable extreme with u = 1 on the lowest scores (``negated``: the
    bound of the negated scores)."""
    t, mean, variance = negated.at(gamma)
    if variance <= 0:
        return 1.0 if -t <= -mean else 0.0
    return float(ndtr((t - mean) / math.sqrt(variance)))


def rosenbaum_mstatistic(
    sample,
    outcome,
    *,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    alpha: float = 0.05,
    alternative: str = "auto",
    inner: float = 0.0,
    trim: float = 2.5,
    lam: float = 0.5,
    tau: float = 0.0,
    total_on_treated: bool = False,
) -> SensitivityResult:
    """Rosenbaum bounds by M-statistics for the matched sets of a ``MatchedSample`` (k:1 or
    variable ratio; 1:1 pairs work too), as ``sensitivitymv::senmv``.

    Each set is a treated unit and its controls (the match matrix); the sets must be
    disjoint (matching without replacement). ``alternative="auto"`` tests in the direction
    of the treated-minus-mean-of-controls difference. Binary outcomes are allowed. See
    :func:`rosenbaum_mstatistic_sets` for the other parameters.

    >>> from estimation import NearestNeighborMatching, rosenbaum_mstatistic, example_data
    >>> X, treat, y = example_data()
    >>> sample = NearestNeighborMatching(ratio=2).fit(X, treat).result_
    >>> result = rosenbaum_mstatistic(sample, y, gammas=[1, 4, 8])
    >>> [round(p, 4) for p in result.p_upper]
    [0.0, 0.0, 0.0006]
    """
    if getattr(sample, "structure", None) == "sets" and several_treated(sample):
        sets, flags, diff = full_match_sets(sample, outcome)
        direction = _alternative(alternative, diff, OWNER)
        grid = _checked(gammas, alpha, direction, inner, trim, lam, tau)
        return _bounds(sets, flags, grid, float(alpha), direction, inner, trim, lam, tau,
                       total_on_treated)
    y_t, y_c = matched_pairs(sample, outcome)
    width = 1 + max(c.size for c in y_c)
    y = np.full((y_t.size, width), np.nan)
    y[:, 0] = y_t
    for i, c in enumerate(y_c):
        y[i, 1:1 + c.size] = c
    direction = _alternative(alternative, y_t - _control_means(y, np.array([c.size for c in y_c])), OWNER)
    return rosenbaum_mstatistic_sets(y, gammas=gammas, alpha=alpha, alternative=direction,
                                     inner=inner, trim=trim, lam=lam, tau=tau,
                                     total_on_treated=total_on_treated)


def _control_means(y: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each set's mean control outcome (``y``: treated first, then ``sizes`` controls, NaN padding),
    the sets of one size at a time: a row's mean is then summed as the mean of its own array is."""
    means = np.empty(y.shape[0])
    for k in np.unique(sizes):
        rows = np.flatnonzero(sizes == k)
        means[rows] = y[rows, 1:1 + k].mean(axis=1)
    return means


def several_treated(sample) -> bool:
    """Whether a full matching has a set with several treated units (senfm's case)."""
    treat = np.asarray(sample.treat, dtype=bool)
    subclass = np.asarray(sample.subclass, dtype=np.int64)
    inside = subclass >= 0
    return bool(inside.any() and np.bincount(subclass[inside & treat]).max(initial=0) > 1)


def full_match_sets(sample, outcome) -> tuple[Ragged, np.ndarray, np.ndarray]:
    """Full matching's sets as senfm needs them: (outcomes with the single unit first, held
    by set size; treated1 per set; treated-minus-control mean difference per set for the
    direction)."""

    y_all, name = _outcome(sample, outcome)
    treat = np.asarray(sample.treat, dtype=bool)
    subclass = np.asarray(sample.subclass, dtype=np.int64)
    used = subclass >= 0
    if not np.isfinite(y_all[used]).all():
        raise InvalidInputError(f"Outcome '{name}' is missing or not finite for "
                                f"{int((~np.isfinite(y_all[used])).sum())} matched unit(s).")
    rows, flags, diffs = [], [], []
    for members in _members_by_set(subclass, used):
        t, c = members[treat[members]], members[~treat[members]]
        if t.size == 0 or c.size == 0:
            continue
        if t.size > 1 and c.size > 1:
            raise InvalidInputError(f"{OWNER}: a full-matching set holds {t.size} treated and {c.size} "
                                    "control units; senfm needs one of either in every set.")
        single_treated = t.size == 1
        rows.append(np.r_[y_all[t], y_all[c]] if single_treated else np.r_[y_all[c], y_all[t]])
        flags.append(single_treated)
        diffs.append(y_all[t].mean() - y_all[c].mean())
    if not rows:
        raise InvalidInputError(f"{OWNER}: no matched set has a treated and a control unit.")
    return Ragged.of_rows(rows), np.array(flags, dtype=bool), np.array(diffs)


def _members_by_set(subclass: np.ndarray, used: np.ndarray) -> list[np.ndarray]:
    """The rows of each set in the order of the set numbers, each set's rows in data order
    (one stable sort instead of a scan of every row per set)."""
    rows = np.flatnonzero(used)
    order = rows[np.argsort(subclass[rows], kind="stable")]
    cuts = np.flatnonzero(np.diff(subclass[order])) + 1
    return np.split(order, cuts)

