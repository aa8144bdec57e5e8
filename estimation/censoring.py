"""Stabilised inverse probability of censoring weights from a pooled logistic hazard.

When follow-up of some units is cut short for a reason that also predicts the outcome (a
comparison person who enrols in the measure later is censored at that enrolment, and who
enrols depends on how things are going), the units still followed are no longer
representative. Weighting each unit, at each time, by the inverse of its estimated
probability of having remained uncensored that long restores the balance (Robins and
Finkelstein 2000; Hernan and Robins, *Causal Inference: What If*, ch. 12 and 17).

Data: one row per unit per interval in which it is at risk of being censored (intervals
numbered 0, 1, 2, ... from the unit's time zero, without gaps), with ``censored`` = 1 on the
row of the interval at whose end the unit is censored (its last row). Two pooled logistic
models of the censoring hazard are fitted on all rows:

* denominator: P(censored in k | at risk in k) on the interval (a factor) and the
  time-varying ``covariates`` of the row (measured before or at the start of the interval);
* numerator: the same on the interval and the ``baseline`` covariates only (None: the
  interval alone, i.e. the marginal discrete-time censoring hazard).

The weight of a unit's row in interval k is the stabilised

    W_k = prod over the unit's rows j < k of (1 - p_num_j) / (1 - p_den_j),

so the first interval has weight 1 and a unit's weight changes only between intervals. The
convention is that censoring happens at the end of its interval: a unit censored in
interval k was followed through k. If censoring can happen within an interval, make the
intervals short (the register design uses its own), or end the censored unit's follow-up at
the start of that interval. With the numerator on baseline covariates the weighted analysis
must adjust for (or match on) those covariates. Weights can be truncated at quantiles
(``truncate=(0.01, 0.99)``): this lowers their variance at the cost of some bias toward the
unweighted analysis; the summary reports how many rows were truncated and the bounds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from estimation.design import design_matrix
from estimation.design_columns import DesignColumns
from estimation.glm import fit_binomial
from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.summary import Summary, SummaryMethods, short_number

OWNER = "censoring_weights"


@dataclass(frozen=True, eq=False, repr=False)
class CensoringWeights(SummaryMethods):
    """Stabilised censoring weights per row, with their summary; immutable.

    Attributes
    ----------
    weights : one weight per input row (in input order), after truncation.
    untruncated : the weights before truncation.
    p_denominator, p_numerator : the fitted censoring hazards per row.
    coefficients : the two models' coefficients (a frame: term x model).
    truncation : (lower, upper) bounds applied, or None.
    n_truncated : rows whose weight was changed by the truncation.
    n_units, n_rows, n_censored : sizes.
    """

    weights: np.ndarray
    untruncated: np.ndarray
    p_denominator: np.ndarray
    p_numerator: np.ndarray
    coefficients: pd.DataFrame
    truncation: tuple[float, float] | None
    n_truncated: int
    n_units: int
    n_rows: int
    n_censored: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> pd.DataFrame:
        """Mean, SD, min, quantiles, max and Kish's ESS of the weights (and untruncated)."""
        return pd.DataFrame({"weights": _describe(self.weights),
                             "untruncated": _describe(self.untruncated)})

    def _headline(self) -> str:
        w = np.asarray(self.weights, dtype=float)
        return (f"{w.size} rows, weights {short_number(w.min())} to {short_number(w.max())} "
                f"(mean {short_number(w.mean())})")

    def summary(self) -> Summary:
        bounds = ("no truncation" if self.truncation is None else
                  f"truncated to [{self.truncation[0]:.4g}, {self.truncation[1]:.4g}] "
                  f"({self.n_truncated} of {self.n_rows} rows changed)")
        notes = (
            "Stabilised inverse probability of censoring weights: product over earlier "
            "intervals of (1 - p_num) / (1 - p_den), pooled logistic censoring hazards; the "
            "numerator on the interval and baseline covariates, the denominator also on the "
            "time-varying covariates.",
            f"{self.n_units} units, {self.n_rows} unit-intervals, {self.n_censored} censored; "
            f"{bounds}. A mean far from 1 suggests a misspecified model.",
            *self.notes,
        )
        return Summary("Censoring weights", (("Weights", self.describe()),
                                             ("Censoring models", self.coefficients.copy())),
                       notes)


def _describe(w: np.ndarray) -> pd.Series:
    q = np.quantile(w, [0.01, 0.05, 0.5, 0.95, 0.99]) if w.size else [np.nan] * 5
    ess = float(w.sum() ** 2 / np.sum(w**2)) if w.size and np.sum(w**2) > 0 else np.nan
    return pd.Series({"mean": w.mean(), "sd": w.std(ddof=1) if w.size > 1 else np.nan,
                      "min": w.min(), "1%": q[0], "5%": q[1], "median": q[2], "95%": q[3],
                      "99%": q[4], "max": w.max(), "ESS": ess, "n": float(w.size)})


# ---------------------------------------------------------------------------------------
# checks


@dataclass(frozen=True)
class _Rows:
    unit: np.ndarray  # codes
    interval: np.ndarray
    censored: np.ndarray
    order: np.ndarray  # rows sorted by unit, then interval


def _rows(unit, interval, censored) -> _Rows:
    units = pd.Series(np.asarray(unit, dtype=object).ravel())
    n = units.shape[0]
    if n == 0:
        raise InvalidInputError(f"{OWNER}: no rows; expected one row per unit per interval.")
    if units.isna().any():
        raise InvalidInputError(f"{OWNER}: 'unit' is missing in {int(units.isna().sum())} row(s).")
    k = _integers("interval", interval, n)
    c = _binary("censored", censored, n)
    codes = pd.factorize(units, sort=False)[0]
    order = np.lexsort((k, codes))
    _check_sequence(codes[order], k[order], c[order])
    return _Rows(codes, k, c, order)


def _integers(name: str, values, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.shape[0] != n:
        raise InvalidInputError(f"{OWNER}: '{name}' has {array.shape[0]} values; expected {n}.")
    bad = ~np.isfinite(array) | (array < 0) | (array != np.round(array))
    if bad.any():
        raise InvalidInputError(
            f"{OWNER}: '{name}' must be whole numbers >= 0; {int(bad.sum())} row(s) are not.")
    return array.astype(np.int64)


def _binary(name: str, values, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.shape[0] != n:
        raise InvalidInputError(f"{OWNER}: '{name}' has {array.shape[0]} values; expected {n}.")
    bad = ~np.isin(array, (0.0, 1.0))
    if bad.any():
        raise InvalidInputError(
            f"{OWNER}: '{name}' must be 0/1 (or False/True); {int(bad.sum())} row(s) are not.")
    return array.astype(bool)


def _check_sequence(unit: np.ndarray, k: np.ndarray, c: np.ndarray) -> None:
    same = unit[1:] == unit[:-1]
    if (same & (k[1:] != k[:-1] + 1)).any():
        raise InvalidInputError(
            f"{OWNER}: each unit needs one row per interval, numbered without gaps or "
            f"repeats; {int((same & (k[1:] != k[:-1] + 1)).sum())} row(s) break the sequence.")
    if (same & c[:-1]).any():
        raise InvalidInputError(
            f"{OWNER}: {int((same & c[:-1]).sum())} unit(s) have rows after the row on which "
            "they are censored; censoring ends a unit's rows.")


def _design(frame, n: int, what: str) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """The design of ``frame`` as its columns in order, each a 1-d array (see :func:`_parts`)."""
    if frame is None:
        return [], ()

    design = design_matrix(frame)
    if design.shape[0] != n:
        raise InvalidInputError(
            f"{OWNER}: '{what}' has {design.shape[0]} rows; expected {n}.")
    return _parts(design.columns), tuple(design.names)


def _parts(design: DesignColumns) -> list[np.ndarray]:
    """The design's columns in order without its n x p float64 matrix: a numeric column as it
    came, a factor's dummy as a boolean column (1 byte a row, not 8). The kernels read every
    column as float64, so the fits see the values of ``design.matrix``, column by column."""
    columns: list[np.ndarray | None] = [None] * design.p
    for values, j in zip(design.dense, design.dense_column):
        columns[j] = np.ascontiguousarray(values)
    for codes, table in zip(design.codes, design.tables):
        for code in np.flatnonzero(table >= 0):
            columns[int(design.dummy_column[table[code]])] = np.equal(codes, code)
    return columns


def _interval_terms(k: np.ndarray) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """A boolean column per interval but the first (the interval as a factor, as dense columns)."""
    levels = np.unique(k)
    return [k == level for level in levels[1:]], tuple(f"interval{level}" for level in levels[1:])


def _columns(n: int, *blocks: list[np.ndarray]):
    """The blocks' columns side by side as the model's design, each as it is (the same values,
    so the same fit, as ``np.column_stack`` of them as float64)."""

    return DesignColumns.of(n, [("dense", column) for block in blocks for column in block])


# ---------------------------------------------------------------------------------------
# fitting


def _hazard(X: np.ndarray, y: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Fitted P(censored) per row and the coefficients (NaN for dropped terms), with notes."""

    if not y.any():
        return np.zeros(y.size), np.full(X.shape[1] + 1, np.nan), [
            f"No unit is censored: the {label} hazard is 0 and every weight is 1."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_binomial(X, y.astype(np.float64))
    notes = []
    if caught:
        notes.append(f"The {label} censoring model: separation, dropped terms or "
                     "non-convergence (fitted probabilities near 0 for some rows); its weights "
                     "there are close to 1.")
    return np.asarray(fit.fitted, dtype=np.float64), fit.coef, notes


def _cumulative(rows: _Rows, factor: np.ndarray) -> np.ndarray:
    """prod over the unit's earlier rows of factor, per row (input order)."""
    f = factor[rows.order]
    unit = rows.unit[rows.order]
    log_f = np.log(f)
    cumulative = np.cumsum(log_f)
    start = np.r_[True, unit[1:] != unit[:-1]]
    offset = np.maximum.accumulate(np.where(start, np.arange(f.size), 0))
    before = cumulative - log_f  # sum up to the previous row
    base = np.where(offset > 0, cumulative[offset - 1], 0.0)
    out = np.empty_like(f)
    out[rows.order] = np.exp(before - base)
    return out


def _truncate(w: np.ndarray, truncate) -> tuple[np.ndarray, tuple[float, float] | None, int]:
    if truncate is None:
        return w, None, 0
    ok = (isinstance(truncate, (tuple, list)) and len(truncate) == 2 and
          all(isinstance(q, (int, float)) for q in truncate) and
          0 <= truncate[0] < truncate[1] <= 1)
    if not ok:
        raise InvalidParameterError(OWNER, "truncate", "None or (q_low, q_high) quantiles with "
                                    "0 <= q_low < q_high <= 1, e.g. (0.01, 0.99)", truncate)
    low, high = (float(v) for v in np.quantile(w, truncate))
    clipped = np.clip(w, low, high)
    return clipped, (low, high), int((clipped != w).sum())


def censoring_weights(unit, interval, censored, covariates=None, baseline=None, *,
                      truncate=None) -> CensoringWeights:
    """Stabilised inverse probability of censoring weights (see the module docstring).

    Parameters
    ----------
    unit : unit id per row (one row per unit per interval at risk of censoring).
    interval : interval number per row (0, 1, 2, ... from the unit's time zero, no gaps).
    censored : 1 on the row of the interval at whose end the unit is censored, else 0.
    covariates : time-varying covariates per row (a frame; factors allowed) for the
        denominator model, measured at or before the start of the interval.
    baseline : baseline covariates per row for the numerator model; None: interval only.
    truncate : None, or (q_low, q_high) quantiles of the weights to truncate at.

    Returns
    -------
    CensoringWeights

    Examples
    --------
    >>> from estimation import censoring_weights
    >>> result = censoring_weights(unit=[1, 1, 2, 2, 3, 4, 4], interval=[0, 1, 0, 1, 0, 0, 1],
    ...                            censored=[0, 1, 0, 0, 1, 0, 0])
    >>> result.weights.round(4).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    rows = _rows(unit, interval, censored)
    n = rows.unit.size
    time_terms, time_names = _interval_terms(rows.interval)
    x_den, den_names = _design(covariates, n, "covariates")
    x_num, num_names = _design(baseline, n, "baseline")
    p_den, coef_den, notes_den = _hazard(_columns(n, time_terms, x_num, x_den), rows.censored,
                                         "denominator")
    p_num, coef_num, notes_num = _hazard(_columns(n, time_terms, x_num), rows.censored,
                                         "numerator")
    factor = np.divide(1 - p_num, 1 - p_den, out=np.ones(n), where=p_den < 1)
    raw = _cumulative(rows, factor)
    weights, bounds, changed = _truncate(raw, truncate)
    names = ("(Intercept)", *time_names, *num_names, *den_names)
    coefficients = pd.DataFrame({"denominator": coef_den,
                                 "numerator": np.r_[coef_num, np.full(len(den_names), np.nan)]},
                                index=pd.Index(names, name="term"))
    return CensoringWeights(weights, raw, p_den, p_num, coefficients, bounds, changed,
                            int(rows.unit.max()) + 1, n, int(rows.censored.sum()),
                            tuple(notes_den + notes_num))
