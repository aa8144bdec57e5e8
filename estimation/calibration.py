"""Calibrated (entropy-balancing) comparison weights over strata, for covariate adjustment.

After matching, small differences between participants and their comparisons remain in the
baseline covariates (a largest |SMD| of 0.105 is common). For a difference in means a
regression on the matched sample removes them; for cumulative incidence curves the
comparison weights are calibrated instead: each comparison unit's weight is multiplied by
exp(lambda' x), with one lambda for all strata, chosen so that the stratum-weighted average
of the within-stratum differences in the covariate means is exactly zero:

    g(lambda) = sum_s omega_s [ xbar_control,s(lambda) - xbar_treated,s ] = 0

(Hainmueller 2012's entropy balancing, with the matched weights as base weights, solved by
Newton's method on its convex dual). The curves are then estimated with the calibrated
weights. If the outcome at a horizon is linear in x within strata (with common slopes), the
average of the within-stratum differences is then free of the remaining imbalance; if the
matching was already good, little changes. This is the covariate-adjusted option for curves
(the role regression adjustment plays for means).

The calibration is an estimating equation, so its uncertainty is carried into the influence
functions of the effect: ``estimation.incidence_effect(..., calibration=result)`` adds, for
every unit, -D' H^-1 psi_i, with D = d(effect)/d(lambda), H = dg/dlambda and psi_i the
unit's contribution to g (the derivative of g in its weight).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from estimation.design import design_matrix
from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.summary import Summary, SummaryMethods, short_number
from estimation.variance import kept_columns

OWNER = "calibrate_weights"
TOLERANCE = 1e-10
MAX_ITER = 100


@dataclass(frozen=True, eq=False, repr=False)
class CalibratedWeights(SummaryMethods):
    """Calibrated weights and what the influence-function correction needs; immutable.

    Attributes
    ----------
    weights : the calibrated weight per input row (treated rows unchanged).
    factor : exp(lambda' x) per row (1 for treated rows).
    lam : lambda, per design term (``terms``).
    stratum, unit, treated : the rows' labels (as given).
    strata : the stratum labels in order of first appearance (the order of the strata to
        pass to ``incidence_effect``).
    balance : the stratum-weighted mean differences per term before and after.
    """

    weights: np.ndarray
    factor: np.ndarray
    lam: np.ndarray
    terms: tuple[str, ...]
    x: np.ndarray  # design (rows x terms), centred
    treated: np.ndarray
    stratum: np.ndarray  # codes 0..S-1
    strata: tuple
    unit: np.ndarray
    omega: np.ndarray  # normalised stratum weights used in g
    base: np.ndarray  # base weights
    hessian: np.ndarray
    balance: pd.DataFrame
    iterations: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def psi(self) -> np.ndarray:
        """(rows, terms): each row's derivative of g in a proportional change of its weight."""
        out = np.zeros_like(self.x)
        for s in range(len(self.strata)):
            for group in (True, False):
                rows = (self.stratum == s) & (self.treated == group)
                w = self.weights[rows] if not group else self.base[rows]
                total = w.sum()
                centred = self.x[rows] - (w @ self.x[rows]) / total
                sign = -1.0 if group else 1.0
                out[rows] = sign * self.omega[s] * (w / total)[:, None] * centred
        return out

    def rows_of(self, k: int, treated: bool, units) -> np.ndarray:
        """Row index of each of ``units`` (labels) in stratum k and the given group.

        Labels are compared as text (``5`` and ``"5"`` are the same unit); whole-number
        labels on both sides are compared as the numbers, which is the same answer without
        the text."""
        mask = np.flatnonzero((self.stratum == k) & (self.treated == treated))
        mine, wanted = self._integer_units, _integers(units)
        if mine is not None and wanted is not None:
            return self._rows_of_integers(k, treated, mask, mine[mask], wanted)
        # object indexes: a string index (Arrow) looks labels up one by one in Python
        lookup = pd.Series(mask, index=pd.Index(self.unit[mask].astype(str), dtype=object))
        if lookup.index.has_duplicates:
            raise self._twice(k, treated)
        wanted = pd.Index(np.asarray(units).astype(str), dtype=object)
        missing = ~wanted.isin(lookup.index)
        if missing.any():
            raise self._missing(k, treated, int(missing.sum()))
        return lookup.loc[wanted].to_numpy()

    def _rows_of_integers(self, k: int, treated: bool, mask: np.ndarray, labels: np.ndarray,
                          wanted: np.ndarray) -> np.ndarray:
        order = np.argsort(labels, kind="stable")
        ordered = labels[order]
        if (ordered[1:] == ordered[:-1]).any():
            raise self._twice(k, treated)
        at = np.searchsorted(ordered, wanted)
        found = at < ordered.size
        found[found] = ordered[at[found]] == wanted[found]
        if not found.all():
            raise self._missing(k, treated, int((~found).sum()))
        return mask[order[at]]

    @cached_property
    def _integer_units(self) -> np.ndarray | None:
        return _integers(self.unit)

    def _twice(self, k: int, treated: bool) -> Exception:
        return InvalidInputError(f"{OWNER}: a unit appears twice in stratum "
                                 f"{self.strata[k]!r} ({'treated' if treated else 'control'}).")

    def _missing(self, k: int, treated: bool, n: int) -> Exception:
        return InvalidInputError(
            f"{OWNER}: {n} unit(s) of the "
            f"{'treated' if treated else 'control'} curve of stratum {self.strata[k]!r} "
            "are not among the calibrated rows; give aalen_johansen the same unit ids.")

    def _headline(self) -> str:
        w = np.asarray(self.weights, dtype=float)
        return f"{w.size} rows calibrated, weights {short_number(w.min())} to {short_number(w.max())}"

    def summary(self) -> Summary:
        notes = (
            "Comparison weights calibrated (entropy balancing with the matching weights as "
            "base weights, one lambda for all strata) so that the stratum-weighted mean "
            "differences of the covariates are 0.",
            f"{len(self.strata)} strata, {int(self.treated.sum())} treated and "
            f"{int((~self.treated).sum())} comparison rows; Newton iterations: "
            f"{self.iterations}; factors from {self.factor[~self.treated].min():.3g} to "
            f"{self.factor[~self.treated].max():.3g}.",
            *self.notes,
        )
        return Summary("Calibrated comparison weights", (("Balance", self.balance.copy()),),
                       notes)


# ---------------------------------------------------------------------------------------


def _integers(values) -> np.ndarray | None:
    """Whole-number labels as int64 (None when any label is something else: text, a float,
    a bool, or out of int64's range), so that they can be matched without their text."""
    array = np.asarray(values)
    if array.dtype.kind == "i":
        return array.astype(np.int64, copy=False).ravel()
    if array.dtype != object or not all(type(v) is int or (isinstance(v, np.integer) and
                                                           not isinstance(v, np.bool_))
                                        for v in array.ravel().tolist()):
        return None
    try:
        return array.astype(np.int64).ravel()
    except OverflowError:
        return None


def _inputs(covariates, treated, weights, stratum, unit):

    design = design_matrix(covariates)
    n = design.matrix.shape[0]
    t = np.asarray(treated).astype(bool).ravel()
    if t.shape[0] != n:
        raise InvalidInputError(f"{OWNER}: 'treated' has {t.shape[0]} values; expected {n}.")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != n or not np.isfinite(w).all() or (w < 0).any():
        raise InvalidInputError(f"{OWNER}: 'weights' must be {n} finite numbers >= 0.")
    labels = np.zeros(n, dtype=object) if stratum is None else np.asarray(stratum, dtype=object)
    codes, strata = pd.factorize(labels, sort=False)  # no Series: its string inference costs more
    units = np.arange(n) if unit is None else np.asarray(unit, dtype=object).ravel()
    if labels.shape[0] != n or units.shape[0] != n:
        raise InvalidInputError(f"{OWNER}: 'stratum' and 'unit' need one value per row ({n}).")
    return design, t, w, codes, tuple(strata), units


def _omega(stratum_weights, codes, t, n_strata) -> np.ndarray:
    if stratum_weights is None:
        omega = np.bincount(codes[t], minlength=n_strata).astype(np.float64)
    else:
        omega = np.asarray(stratum_weights, dtype=np.float64).ravel()
        if omega.shape[0] != n_strata or not np.isfinite(omega).all() or (omega < 0).any():
            raise InvalidParameterError(OWNER, "stratum_weights",
                                        f"{n_strata} finite numbers >= 0 (one per stratum)",
                                        stratum_weights)
    if omega.sum() <= 0:
        raise InvalidInputError(f"{OWNER}: the strata have no treated units to balance on.")
    return omega / omega.sum()


def _groups(codes, t, omega) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(stratum, comparison rows, treated rows) of every stratum with weight, found once for
    all the Newton steps (the same rows, in the same order, as the masks they replace)."""
    return [(int(s), np.flatnonzero((codes == s) & ~t), np.flatnonzero((codes == s) & t))
            for s in np.flatnonzero(omega > 0)]


def _moments(x, w, groups, t, omega, lam):
    """(g, H, factor) at lambda; factor = exp(lambda' x) for comparison rows, 1 for treated."""
    eta = x[~t] @ lam
    factor = np.ones(x.shape[0])
    factor[~t] = np.exp(eta - eta.max(initial=0.0))
    g, h = np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
    for s, c, tr in groups:
        wc, wt = w[c] * factor[c], w[tr]
        if wc.sum() <= 0 or wt.sum() <= 0:
            raise InvalidInputError(
                f"{OWNER}: a stratum needs treated and comparison rows with positive weight.")
        xc = x[c]
        mean_c, mean_t = wc @ xc / wc.sum(), wt @ x[tr] / wt.sum()
        centred = xc - mean_c
        g += omega[s] * (mean_c - mean_t)
        h += omega[s] * (centred.T @ (wc[:, None] * centred)) / wc.sum()
    return g, h, factor


def _solve(x, w, groups, t, omega) -> tuple[np.ndarray, int]:
    lam = np.zeros(x.shape[1])
    g = np.zeros(x.shape[1])
    for iteration in range(MAX_ITER + 1):
        g, h, _ = _moments(x, w, groups, t, omega, lam)
        if np.max(np.abs(g), initial=0.0) < TOLERANCE:
            return lam, iteration
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        objective, size = _objective(x, w, groups, t, omega, lam), 1.0
        while size > 1e-8 and (_objective(x, w, groups, t, omega, lam - size * step) >
                               objective - 1e-4 * size * (g @ step)):
            size /= 2
        lam = lam - size * step
    raise InvalidInputError(
        f"{OWNER}: the covariate means cannot be balanced exactly (no convergence in "
        f"{MAX_ITER} Newton steps; largest remaining difference {np.max(np.abs(g)):.3g}). A "
        "covariate level may be missing among the comparisons of the strata; drop or "
        "coarsen it.")


def _objective(x, w, groups, t, omega, lam) -> float:
    total = 0.0
    for s, c, tr in groups:
        eta = x[c] @ lam
        top = eta.max(initial=0.0)
        total += omega[s] * (top + np.log(np.sum(w[c] * np.exp(eta - top))) -
                             lam @ (w[tr] @ x[tr] / w[tr].sum()))
    return float(total)


def calibrate_weights(covariates, treated, weights=None, *, stratum=None, unit=None,
                      stratum_weights=None) -> CalibratedWeights:
    """Calibrate comparison weights so that the covariates balance over the strata.

    Parameters
    ----------
    covariates : baseline covariates per row (a frame; factors are expanded to dummies).
    treated : True for participants' rows.
    weights : base weights per row (the matching weights; default 1).
    stratum : stratum (trial) label per row; default one stratum.
    unit : unit id per row (the ids given to ``aalen_johansen``), to line the rows up with
        the curves' influence functions.
    stratum_weights : omega_s per stratum (default: treated rows per stratum, as
        ``incidence_effect``'s default weights).

    Examples
    --------
    >>> import pandas as pd
    >>> from estimation import calibrate_weights
    >>> frame = pd.DataFrame({"age": [30, 40, 50, 25, 35, 45, 55, 60]})
    >>> result = calibrate_weights(frame, [1, 1, 1, 0, 0, 0, 0, 0])
    >>> round(float(result.balance.loc["age", "after"]), 10)
    0.0
    """
    design, t, w, codes, strata, units = _inputs(covariates, treated, weights, stratum, unit)
    omega = _omega(stratum_weights, codes, t, len(strata))
    x, names, dropped = _centred_kept(design, w, t)
    groups = _groups(codes, t, omega)
    before = _moments(x, w, groups, t, omega, np.zeros(x.shape[1]))[0]
    lam, iterations = _solve(x, w, groups, t, omega)
    after, hessian, factor = _moments(x, w, groups, t, omega, lam)
    factor = _per_stratum_total(factor, w, codes, t)
    balance = pd.DataFrame({"before": before, "after": after, "lambda": lam},
                           index=pd.Index(names, name="term"))
    notes = (f"Not balanced (constant or collinear among the comparisons): "
             f"{', '.join(dropped)}.",) if dropped else ()
    return CalibratedWeights(w * factor, factor, lam, names, x, t, codes, strata, units, omega,
                             w, hessian, balance, iterations, notes)


def _per_stratum_total(factor, w, codes, t) -> np.ndarray:
    """Rescale the comparison factors of each stratum so that its comparison weights keep
    their total (the curves and the means do not depend on this scale)."""
    out = factor.copy()
    for s in np.unique(codes):
        c = (codes == s) & ~t
        calibrated = float((w[c] * factor[c]).sum())
        if calibrated > 0:
            out[c] = factor[c] * float(w[c].sum()) / calibrated
    return out


def _centred_kept(design, w, t) -> tuple[np.ndarray, tuple[str, ...]]:
    """Design columns centred on the comparison mean, collinear or constant ones dropped."""

    x = design.matrix
    wc = np.where(t, 0.0, w)
    if wc.sum() <= 0:
        raise InvalidInputError(f"{OWNER}: no comparison rows with positive weight.")
    centred = x - (wc @ x) / wc.sum()
    kept, _ = kept_columns(np.column_stack([np.ones(x.shape[0]), centred]), wc)
    columns = [k - 1 for k in kept if k > 0]
    dropped = tuple(n for j, n in enumerate(design.names) if j not in columns)
    return (np.ascontiguousarray(centred[:, columns]), tuple(design.names[c] for c in columns),
            dropped)
