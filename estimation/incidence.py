"""Cumulative incidence with competing risks: the weighted Aalen-Johansen estimator.

``aalen_johansen`` estimates the probability of having had an event of one cause by time t
when other causes compete (a person who left by another route can no longer have it) and
follow-up may be cut short (right censoring), with arbitrary non-negative case weights that
may change over a unit's follow-up (censoring weights). It is R's
``survfit(Surv(entry, time, state) ~ 1, id = unit, weights = w)`` for a competing-risks
state space, computed in closed form:

    S(t)  = prod_{u <= t} (1 - dA(u)),         dA(u)  = D(u) / Y(u)        (all causes)
    F(t)  = sum_{u <= t} S(u-) dA_c(u),        dA_c(u) = D_c(u) / Y(u)     (the cause)

with Y(u) the weighted number at risk (rows with entry < u <= time) and D, D_c the weighted
numbers of events at u. Tied times are handled exactly as survfit does (all events at a time
together; a row censored at u is still at risk at u): no jitter, the same answer for the
same data.

The influence function of unit i on F(h) (the derivative of F(h) with respect to a
multiplicative perturbation of the unit's weights, survfit's ``influence.pstate`` with
``id``) is

    IF_i(h) = sum_{rows r of i} w_r sum_{u <= h, r at risk at u}
              [ S(u-) dM_rc(u) - S(u-)/S(u) (F(h) - F(u)) dM_r(u) ] / Y(u),

with dM_rc(u) = dN_rc(u) - dA_c(u) and dM_r(u) = dN_r(u) - dA(u) (dN: the row's own event
at u). sum_i IF_i(h)^2 is survfit's robust (infinitesimal jackknife) variance; summing the
IF within clusters first gives a cluster-robust variance, which is how
``estimation.incidence_effect`` combines curves of several trials and groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.summary import Summary, SummaryMethods

OWNER = "aalen_johansen"


@dataclass(frozen=True, eq=False, repr=False)
class CumulativeIncidence(SummaryMethods):
    """A weighted Aalen-Johansen curve of one cause, with influence functions; immutable.

    Attributes
    ----------
    cause, causes : the cause of interest and every event value seen (competing ones too).
    times : distinct times at which an event happened or a unit's follow-up ended.
    estimate, survival : cumulative incidence of ``cause`` and the probability of no event
        of any cause, just after each time.
    n_risk, n_risk_weighted : units at risk at each time (unweighted count; sum of weights).
    n_event, n_event_weighted : events of ``cause`` at each time.
    n_competing, n_competing_weighted : events of the other causes at each time.
    n_censor, n_censor_weighted : follow-ups ending without event at each time.
    horizons : the requested time points; ``at_horizons`` the estimate there (a step
        function, right-continuous); ``std_error`` the infinitesimal-jackknife standard
        error (units independent); ``defined`` whether the curve is known at the horizon
        (someone was followed that long, or no one is left without an event);
        ``n_risk_at_horizons`` units at risk at the horizon.
    influence : (n_units, n_horizons) influence of each unit on ``at_horizons``.
    units : the unit labels, in order of first appearance (the rows of ``influence``).
    clusters : cluster labels per unit (from ``clusters=``), for the variance of contrasts.
    weight_total : sum of the units' weights at the start of their follow-up.
    ess : Kish's effective number of units of those weights, (sum w)^2 / sum w^2.
    """

    cause: object
    causes: tuple
    times: np.ndarray
    estimate: np.ndarray
    survival: np.ndarray
    n_risk: np.ndarray
    n_risk_weighted: np.ndarray
    n_event: np.ndarray
    n_event_weighted: np.ndarray
    n_competing: np.ndarray
    n_competing_weighted: np.ndarray
    n_censor: np.ndarray
    n_censor_weighted: np.ndarray
    horizons: np.ndarray
    at_horizons: np.ndarray
    std_error: np.ndarray
    defined: np.ndarray
    n_risk_at_horizons: np.ndarray
    influence: np.ndarray
    units: np.ndarray
    clusters: Mapping[str, np.ndarray] = field(default_factory=dict)
    weight_total: float = float("nan")
    label: str = ""
    ess: float = float("nan")
    notes: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        return int(self.units.shape[0])

    def at(self, times) -> np.ndarray:
        """The estimate at any times (0 before the first event; the last value after)."""
        return _step(self.times, self.estimate, np.asarray(times, dtype=np.float64))

    def frame(self) -> pd.DataFrame:
        """The curve: one row per time with the numbers at risk, events and censorings."""
        return pd.DataFrame({
            "time": self.times, "estimate": self.estimate, "survival": self.survival,
            "n_risk": self.n_risk, "n_risk_weighted": self.n_risk_weighted,
            "n_event": self.n_event, "n_event_weighted": self.n_event_weighted,
            "n_competing": self.n_competing, "n_censor": self.n_censor,
        })

    def horizon_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimate, standard error and normal interval (clipped to [0, 1]) at the horizons."""
        z = _z(alpha)
        return pd.DataFrame({
            "estimate": self.at_horizons, "std_error": self.std_error,
            "ci_low": np.clip(self.at_horizons - z * self.std_error, 0, 1),
            "ci_high": np.clip(self.at_horizons + z * self.std_error, 0, 1),
            "n_risk": self.n_risk_at_horizons, "defined": self.defined,
        }, index=pd.Index(self.horizons, name="horizon"))

    def _headline(self) -> str:
        return (f"cumulative incidence of cause {self.cause!r} over {len(self.times)} times, "
                f"{len(self.horizons)} horizons")

    def summary(self) -> Summary:
        what = f" ({self.label})" if self.label else ""
        competing = [str(c) for c in self.causes if c != self.cause]
        notes = (
            f"Weighted Aalen-Johansen estimate of the cumulative incidence of '{self.cause}'"
            f"{what}; competing events: {', '.join(competing) or 'none'}; follow-up that ends "
            "without an event is censored.",
            f"{self.n_units} units, {int(self.n_event.sum())} events of '{self.cause}', "
            f"{int(self.n_competing.sum())} competing events.",
            "Standard errors: infinitesimal jackknife (survfit's robust variance), units "
            "independent; 95 % normal intervals clipped to [0, 1].",
            *self.notes,
        )
        tables = (("At the horizons", self.horizon_frame()),) if self.horizons.size else ()
        return Summary(f"Cumulative incidence of '{self.cause}'{what}",
                       tables + (("Curve", self.frame()),), notes)


def _z(alpha: float) -> float:

    return NormalDist().inv_cdf(1 - alpha / 2)


def _step(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    index = np.searchsorted(times, at, side="right")
    padded = np.concatenate([[0.0], values])
    return padded[index]


# ---------------------------------------------------------------------------------------
# input checks


def _floats(name: str, values, n: int | None) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"{OWNER}: '{name}' must be numeric.") from None
    if n is not None and array.shape[0] != n:
        raise InvalidInputError(
            f"{OWNER}: '{name}' has {array.shape[0]} values; expected {n} (one per row).")
    bad = ~np.isfinite(array)
    if bad.any():
        raise InvalidInputError(
            f"{OWNER}: '{name}' is missing or not finite in {int(bad.sum())} row(s).")
    return array


def _labels(name: str, values, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=object).ravel()
    if array.shape[0] != n:
        raise InvalidInputError(
            f"{OWNER}: '{name}' has {array.shape[0]} values; expected {n} (one per row).")
    missing = pd.isna(array)  # on the object array: no Series (whose string inference costs more)
    if missing.any():
        raise InvalidInputError(f"{OWNER}: '{name}' is missing in {int(missing.sum())} row(s).")
    return array


def _integer_labels(name: str, values, n: int) -> np.ndarray | None:
    """``values`` as they are when they are integers or booleans (never missing: no check or
    object copy needed), else None (see :func:`_labels`)."""
    array = np.asarray(values)
    if array.dtype.kind not in "iub":
        return None
    array = array.ravel()
    if array.shape[0] != n:
        raise InvalidInputError(
            f"{OWNER}: '{name}' has {array.shape[0]} values; expected {n} (one per row).")
    return array


@dataclass(frozen=True)
class _Rows:
    entry: np.ndarray  # -inf when at risk from before time 0
    exit: np.ndarray
    event: np.ndarray  # bool: the row ends in an event of some cause
    cause: np.ndarray  # bool: ... of the cause of interest
    weight: np.ndarray
    unit: np.ndarray  # codes 0..n_units-1 in order of first appearance
    last: np.ndarray  # bool: the unit's last row
    first: np.ndarray  # each unit's first row (earliest exit), in the order of the units' codes
    labels: np.ndarray  # unit labels
    causes: tuple


def _rows(time, event, cause, weights, entry, unit, censored) -> _Rows:
    exit_ = _floats("time", time, None)
    n = exit_.shape[0]
    if n == 0:
        raise InvalidInputError(f"{OWNER}: no rows; expected at least one unit.")
    codes = _labels("event", event, n)
    is_event = ~(codes == censored)
    if cause is None or bool(np.all(cause == censored)):
        raise InvalidParameterError(OWNER, "cause", "an event value other than the censoring "
                                    f"value {censored!r}", cause)
    causes = tuple(sorted({c for c in codes[is_event]}, key=lambda c: (str(type(c)), c)))
    w = np.ones(n) if weights is None else _floats("weights", weights, n)
    if (w < 0).any():
        raise InvalidInputError(
            f"{OWNER}: 'weights' must be >= 0; {int((w < 0).sum())} row(s) are negative.")
    start = np.full(n, -np.inf) if entry is None else _floats("entry", entry, n)
    if entry is not None and not (start < exit_).all():
        bad = int((start >= exit_).sum())
        raise InvalidInputError(
            f"{OWNER}: every row needs entry < time (the interval (entry, time]); "
            f"{bad} row(s) have entry >= time.")
    if unit is None:
        ids, labels = np.arange(n), np.arange(n)
    else:
        ids, labels = _unit_codes(unit, n)
    last, first = _check_units(ids, start, exit_, is_event, entry is None)
    return _Rows(start, exit_, is_event, is_event & (codes == cause), w, ids, last, first, labels,
                 causes)


def _unit_codes(unit, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the unit labels in order of first appearance, and the labels (objects).
    Integer labels are factorised as integers: the same codes and the same labels (Python
    ints) as through the object array, without making it."""
    integers = _integer_labels("unit", unit, n)
    ids, labels = pd.factorize(_labels("unit", unit, n) if integers is None else integers, sort=False)
    return ids, np.asarray(labels, dtype=object)


def _check_units(ids, start, exit_, is_event, no_entry: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a unit must not overlap and only the last may end in an event. Returns each
    row's last-of-its-unit flag and each unit's first row (the units' order)."""
    order = np.lexsort((exit_, ids))
    same = ids[order][1:] == ids[order][:-1]
    last = np.ones(ids.shape[0], dtype=bool)
    last[order[:-1][same]] = False
    first = order[np.r_[True, ~same]]
    if not same.any():
        return last, first
    if no_entry:
        raise InvalidInputError(
            f"{OWNER}: a unit has several rows but no 'entry' was given; give the start of "
            "each row's interval (entry, time].")
    overlap = start[order][1:][same] < exit_[order][:-1][same]
    if overlap.any():
        raise InvalidInputError(
            f"{OWNER}: {int(overlap.sum())} row(s) overlap an earlier row of the same unit; "
            "a unit's intervals (entry, time] must not overlap.")
    early = is_event[order][:-1][same]
    if early.any():
        raise InvalidInputError(
            f"{OWNER}: {int(early.sum())} unit(s) have an event before their last row; "
            "an event ends a unit's follow-up (competing risks are absorbing).")
    return last, first


def _horizons(horizons) -> np.ndarray:
    if horizons is None:
        return np.empty(0)
    return _floats("horizons", np.atleast_1d(np.asarray(horizons, dtype=object)), None)


# ---------------------------------------------------------------------------------------
# the estimator


def _suffix(values_sorted: np.ndarray) -> np.ndarray:
    """Sums from each position to the end, accumulated from the end (small sums stay exact)."""
    return np.concatenate([np.cumsum(values_sorted[::-1])[::-1], [0.0]])


def _risk_order(rows: _Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exits and entries sorted, and the suffix sums of their weights in those orders (for
    every ``_at_risk`` of the same rows)."""
    by_exit, by_entry = np.argsort(rows.exit, kind="stable"), np.argsort(rows.entry, kind="stable")
    return (rows.exit[by_exit], rows.entry[by_entry], _suffix(rows.weight[by_exit]),
            _suffix(rows.weight[by_entry]))


def _at_risk(rows: _Rows, times: np.ndarray, order=None) -> tuple[np.ndarray, np.ndarray]:
    """(count, weight) of rows with entry < t <= exit at each t; ``order`` is
    ``_risk_order(rows)`` if known."""
    exit_sorted, entry_sorted, exit_suffix, entry_suffix = order or _risk_order(rows)
    first_exit = np.searchsorted(exit_sorted, times, side="left")  # exit >= t
    first_entry = np.searchsorted(entry_sorted, times, side="left")  # entry >= t
    n = rows.exit.shape[0]
    count = (n - first_exit) - (n - first_entry)
    weight = exit_suffix[first_exit] - entry_suffix[first_entry]
    return count.astype(np.int64), np.where(count > 0, np.maximum(weight, 0.0), 0.0)


def _tally(index: np.ndarray, mask: np.ndarray, weight: np.ndarray, size: int):
    counts = np.bincount(index[mask], minlength=size).astype(np.int64)
    weighted = np.bincount(index[mask], weights=weight[mask], minlength=size)
    return counts, weighted


@dataclass(frozen=True)
class _Curve:
    times: np.ndarray
    y: np.ndarray  # weighted at risk
    d_cause: np.ndarray
    d_all: np.ndarray
    s: np.ndarray
    s_prev: np.ndarray
    f: np.ndarray


def _curve(rows: _Rows, times: np.ndarray, d_cause: np.ndarray, d_all: np.ndarray,
           y: np.ndarray) -> _Curve:
    positive = y > 0
    d_a = np.divide(d_all, y, out=np.zeros_like(y), where=positive)
    d_c = np.divide(d_cause, y, out=np.zeros_like(y), where=positive)
    s = np.cumprod(1.0 - d_a)
    s_prev = np.concatenate([[1.0], s[:-1]])
    f = np.cumsum(s_prev * d_c)
    return _Curve(times, y, d_c, d_a, s, s_prev, f)


@dataclass(frozen=True)
class _InfluenceParts:
    """What the influence functions at every horizon share: the curve's increments over the
    risk set, their running sums, and the time index of each row's exit."""

    a: np.ndarray  # S(u-) / Y(u)
    b: np.ndarray  # S(u-) / S(u) / Y(u)
    cum: tuple[np.ndarray, np.ndarray, np.ndarray]  # running sums of a dA_c, b dA and b F dA from 0
    lo: np.ndarray  # searchsorted(times, entry, side="right")
    exit_index: np.ndarray  # searchsorted(times, exit, side="left")


def _influence_parts(rows: _Rows, curve: _Curve) -> _InfluenceParts:
    y, s, s_prev, f = curve.y, curve.s, curve.s_prev, curve.f
    positive = y > 0
    a = np.divide(s_prev, y, out=np.zeros_like(y), where=positive)
    ratio = np.divide(s_prev, s, out=np.zeros_like(s), where=s > 0)
    b = np.divide(ratio, y, out=np.zeros_like(y), where=positive)
    cum = tuple(np.concatenate([[0.0], np.cumsum(v)]) for v in
                (a * curve.d_cause, b * curve.d_all, b * f * curve.d_all))
    return _InfluenceParts(a, b, cum, np.searchsorted(curve.times, rows.entry, side="right"),
                           np.searchsorted(curve.times, rows.exit, side="left"))


def _influence(rows: _Rows, curve: _Curve, horizon: float, n_units: int,
               parts: _InfluenceParts) -> np.ndarray:
    """IF of every unit on F(horizon) (see the module docstring); ``parts`` is
    ``_influence_parts(rows, curve)`` (the same for every horizon)."""
    f, a, b, cum, lo = curve.f, parts.a, parts.b, parts.cum, parts.lo
    j_h = int(np.searchsorted(curve.times, horizon, side="right"))
    f_h = float(f[j_h - 1]) if j_h > 0 else 0.0
    hi = np.maximum(np.searchsorted(curve.times, np.minimum(rows.exit, horizon), side="right"), lo)
    value = -(cum[0][hi] - cum[0][lo]) + f_h * (cum[1][hi] - cum[1][lo]) - (cum[2][hi] - cum[2][lo])
    jumps = rows.event & (rows.exit <= horizon)
    j = parts.exit_index[jumps]
    value[jumps] += a[j] * rows.cause[jumps] - b[j] * (f_h - f[j])
    return np.bincount(rows.unit, weights=rows.weight * value, minlength=n_units)


def _unit_clusters(clusters, rows: _Rows, n: int) -> Mapping[str, np.ndarray]:
    if clusters is None:
        return MappingProxyType({})
    if not isinstance(clusters, Mapping):
        raise InvalidParameterError(OWNER, "clusters", "a mapping of names to one label per row "
                                    "(e.g. {'person': ids, 'set': subclass})", clusters)
    _, first = np.unique(rows.unit, return_index=True)  # each unit's first row
    out = {}
    for name, values in clusters.items():
        integers = _integer_labels(f"clusters['{name}']", values, n)
        labels = _labels(f"clusters['{name}']", values, n) if integers is None else integers
        # equal labels (no label is missing): what equal factorisation codes were
        if np.asarray(labels != labels[first][rows.unit], dtype=bool).any():
            raise InvalidInputError(
                f"{OWNER}: clusters['{name}'] changes within a unit; a unit belongs to one "
                "cluster.")
        out[str(name)] = labels[first].astype(object)
    return MappingProxyType(out)


def aalen_johansen(
    time,
    event,
    *,
    cause,
    weights=None,
    entry=None,
    unit=None,
    horizons: Sequence[float] | float | None = None,
    clusters: Mapping[str, Sequence] | None = None,
    censored=0,
    label: str = "",
) -> CumulativeIncidence:
    """Weighted Aalen-Johansen cumulative incidence of ``cause`` with competing causes.

    Parameters
    ----------
    time : end of each row's interval (e.g. days since the index date).
    event : the state each row ends in: a cause, or ``censored`` (no event).
    cause : the event value whose cumulative incidence is wanted; every other non-censored
        value is a competing event.
    weights : case weights per row (>= 0; default 1). Rows of one unit may carry different
        weights (time-varying censoring weights).
    entry : start of each row's interval (entry, time]; None: at risk from before time 0
        (an event at time 0 counts). Needed when a unit has several rows.
    unit : unit id per row (default: each row is a unit). The influence functions are per
        unit, in order of first appearance.
    horizons : time points for ``at_horizons``, ``std_error`` and ``influence``.
    clusters : ``{name: labels per row}`` (constant within a unit), kept per unit for the
        clustered variance of contrasts (``estimation.incidence_effect``).
    censored : the value of ``event`` that means censored (default 0).
    label : a name for the curve (group, trial) used in summaries.

    Returns
    -------
    CumulativeIncidence

    Examples
    --------
    >>> from estimation import aalen_johansen
    >>> curve = aalen_johansen([0, 1, 1, 2, 3, 3, 4, 5], [1, 0, 1, 2, 1, 0, 2, 0],
    ...                        cause=1, horizons=[3])
    >>> curve.estimate.round(4).tolist()
    [0.125, 0.25, 0.25, 0.4, 0.4, 0.4]
    >>> round(float(curve.at_horizons[0]), 3), round(float(curve.std_error[0]), 4)
    (0.4, 0.1817)
    """
    rows = _rows(time, event, cause, weights, entry, unit, censored)
    h = _horizons(horizons)
    ends = rows.event | rows.last
    times = np.unique(rows.exit[ends])
    index = np.searchsorted(times, rows.exit)
    order = _risk_order(rows)
    n_risk, y = _at_risk(rows, times, order)
    n_event, d_cause = _tally(index, rows.cause, rows.weight, times.size)
    n_all, d_all = _tally(index, rows.event, rows.weight, times.size)
    n_censor, w_censor = _tally(index, ~rows.event & rows.last, rows.weight, times.size)
    curve = _curve(rows, times, d_cause, d_all, y)
    n_units = rows.labels.shape[0]
    parts = _influence_parts(rows, curve) if h.size else None
    influence = np.column_stack([_influence(rows, curve, float(v), n_units, parts) for v in h]) \
        if h.size else np.empty((n_units, 0))
    at_risk_h, _ = _at_risk(rows, h, order) if h.size else (np.empty(0, np.int64), None)
    defined = (h <= times.max()) | (curve.s[-1] == 0)
    notes = _notes(cause, rows, h, defined)
    first = np.zeros(rows.exit.shape[0], dtype=bool)
    first[rows.first] = True
    return CumulativeIncidence(
        cause, rows.causes, times, curve.f, curve.s, n_risk, y, n_event, d_cause,
        n_all - n_event, d_all - d_cause, n_censor, w_censor, h, _step(times, curve.f, h),
        np.sqrt(np.sum(influence**2, axis=0)), defined, at_risk_h, influence, rows.labels,
        _unit_clusters(clusters, rows, rows.exit.shape[0]),
        weight_total=float(rows.weight[first].sum()), label=label,
        ess=_ess(rows.weight[first]), notes=notes,
    )


def _ess(w: np.ndarray) -> float:
    total = float(np.sum(w**2))
    return float(w.sum() ** 2 / total) if total > 0 else 0.0


def _notes(cause, rows: _Rows, h: np.ndarray, defined: np.ndarray) -> tuple[str, ...]:
    notes = []
    if not rows.cause.any():
        notes.append(f"No events of '{cause}' in the data: the estimate is 0 throughout.")
    if h.size and not defined.all():
        late = ", ".join(f"{v:g}" for v in h[~defined])
        notes.append(f"Follow-up ends before horizon(s) {late}: the curve is not known there "
                     "(the value shown is the last one).")
    return tuple(notes)
