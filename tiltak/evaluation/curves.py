"""Register outcomes as cumulative incidence curves per trial, averaged over the trials.

Per trial (calendar month) and group, the weighted Aalen-Johansen estimator
(``estimation.aalen_johansen``) gives the cumulative incidence of the outcome with the
other exits as competing events; the effect at ``k`` months is the difference of the curves
just before ``k`` (the window ``[d, d + k months)``), averaged over the trials that reach
``k`` with weights equal to their number of matched participants (the ATT), and its
variance is two-way cluster-robust on the person and the matched set over the stacked
influence functions (``estimation.incidence_effect``). Participants weigh 1; a comparison
unit weighs ``1 / k`` of its set, times a calibration factor and, for the estimand
``enrol_vs_not``, its censoring weight in each month of follow-up (one counting-process row
per month).

Covariate adjustment: the comparison weights are calibrated (entropy balancing,
``estimation.calibrate_weights``, one set of coefficients for all trials) so that the
trial-weighted means of the model's covariates are exactly those of the participants;
the calibration is carried into the influence functions
(``incidence_effect(..., calibration=)``). This removes the residual imbalance the matching
leaves (the role regression adjustment plays for differences in means); if it cannot be
solved (a covariate level without any comparison person) the curves are left unadjusted
and a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from estimation import aalen_johansen, calibrate_weights, incidence_effect
from tiltak.evaluation.censoring import UnitCensoringWeights
from tiltak.evaluation.estimate_errors import estimate_errors
from tiltak.evaluation.followup import CENSORED, EVENT, FollowUp, at_horizon, follow_up
from tiltak.evaluation.outcomes import OutcomeSpec
from tiltak.evaluation.trials import MatchedTrials, trial_reaches


@dataclass(frozen=True)
class CurveRows:
    """Counting-process rows (entry, time] of the units, with weights."""

    unit: np.ndarray
    entry: np.ndarray
    time: np.ndarray
    event: np.ndarray
    weight: np.ndarray


def curve_rows(trials: MatchedTrials, fu: FollowUp, cap: float, censoring: UnitCensoringWeights | None,
               weight: np.ndarray | None = None) -> CurveRows:
    """One row per unit, or per month of follow-up for weighted comparison units.

    ``weight`` is each unit's base weight (default the matching weight ``1 / k``).
    """
    units = trials.units
    n = len(units)
    time = np.minimum(fu.time, cap)
    event = np.where(fu.time > cap, CENSORED, fu.event)
    weight = units["weight"].to_numpy(dtype=float) if weight is None else np.asarray(weight, dtype=float)
    if censoring is None:
        return CurveRows(np.arange(n), np.full(n, -1.0), time, event, weight)
    controls = ~units["treated"].to_numpy()
    starts = censoring.starts
    out = {k: [] for k in ("unit", "entry", "time", "event", "weight")}
    unit = np.flatnonzero(~controls)
    _append(out, unit, np.full(unit.size, -1.0), time[unit], event[unit], weight[unit])
    unit = np.flatnonzero(controls)
    first_end = np.minimum(time[unit], starts[unit, 0])
    _append(out, unit, np.full(unit.size, -1.0), first_end,
            np.where(time[unit] <= starts[unit, 0], event[unit], CENSORED), weight[unit])
    for k in range(starts.shape[1]):
        lo = starts[unit, k]
        hi = starts[unit, k + 1] if k + 1 < starts.shape[1] else np.full(unit.size, np.inf)
        live = time[unit] > lo
        u = unit[live]
        end = np.minimum(time[u], hi[live])
        w = weight[u] * np.nan_to_num(censoring.weights[u, k], nan=1.0)
        _append(out, u, lo[live], end, np.where(time[u] <= hi[live], event[u], CENSORED), w)
    arrays = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((arrays["entry"], arrays["unit"]))
    return CurveRows(**{k: v[order] for k, v in arrays.items()})


def _append(out: dict[str, list], unit, entry, time, event, weight) -> None:
    for key, value in (("unit", unit), ("entry", entry), ("time", time), ("event", event), ("weight", weight)):
        out[key].append(np.asarray(value))


@dataclass(frozen=True)
class RegisterEffect:
    """The effect on one register outcome at its horizon (or on a monthly grid of horizons).

    ``balance_weights`` per unit: matching weight x censoring weight at the horizon (the
    balance gate); ``adjusted``: whether the calibration was applied.
    """

    effect: Any
    trials: MatchedTrials
    followup: FollowUp
    balance_weights: np.ndarray
    n_trials: int
    adjusted: bool
    notes: tuple[str, ...] = ()


def calibration(trials: MatchedTrials, keep: np.ndarray, covariates: list[str]) -> tuple[Any, str | None]:
    """Entropy-balancing calibration of the kept units' weights over the trials (None, note: failed)."""

    units = trials.units.loc[keep]
    frame = trials.data[covariates].iloc[units["row"].to_numpy()].reset_index(drop=True)
    try:
        return calibrate_weights(frame, units["treated"].to_numpy(), units["weight"].to_numpy(),
                                 stratum=units["trial"].to_numpy(), unit=np.flatnonzero(keep)), None
    except estimate_errors() as exc:
        return None, f"covariate calibration not applied: {str(exc).splitlines()[0]}"


@dataclass(frozen=True)
class _Reach:
    """The trials that reach a horizon, their calibration (or the note why none) and those trials."""

    keep: np.ndarray
    calibration: Any = None
    note: str | None = None
    trials: MatchedTrials | None = None


def reach(trials: MatchedTrials, data_end: Any, months: int, covariates: list[str] | None,
          shared: dict | None = None) -> _Reach:
    """The trials reaching ``months`` and their calibration; ``shared`` (a dict the caller keeps
    for one matched pool) holds them for every outcome of the pool with the same horizon."""

    key = (int(months), tuple(covariates or ()))
    if shared is not None and key in shared:
        return shared[key]
    keep = trial_reaches(trials.units, data_end, months)
    found = _Reach(keep)
    if keep.any():
        cal, note = calibration(trials, keep, covariates) if covariates else (None, None)
        found = _Reach(keep, cal, note, trials.restrict(keep))
    if shared is not None:
        shared[key] = found
    return found


def register_effect(trials: MatchedTrials, spec: OutcomeSpec, estimand: str, data_end: Any,
                    censoring: UnitCensoringWeights | None, covariates: list[str] | None = None,
                    grid: bool = False, shared: dict | None = None) -> RegisterEffect | None:
    """The effect of ``spec`` under ``estimand`` on the trials that reach its horizon (None: none do).

    ``shared``: see :func:`reach` (the same dict for every call on the same ``trials``).
    """

    reached = reach(trials, data_end, spec.months, covariates, shared)
    keep, cal, note = reached.keep, reached.calibration, reached.note
    if not keep.any():
        return None
    fu_all = follow_up(trials, spec, data_end, estimand)
    weights = censoring if estimand == "enrol_vs_not" else None
    units = trials.units
    base = units["weight"].to_numpy(dtype=float).copy()
    if cal is not None:
        base[np.flatnonzero(keep)] = cal.weights
    rows = curve_rows(trials, fu_all, float(spec.months), weights, base)
    horizons = [at_horizon(m) for m in range(1, spec.months + 1)] if grid else [at_horizon(spec.months)]
    order = list(cal.strata) if cal is not None else sorted(set(units.loc[keep, "trial"]))
    strata = _trial_curves(units, keep, rows, order, horizons)
    effect = incidence_effect(strata, cluster=("person", "set"), calibration=cal)
    balance = _balance_weights(units, fu_all, float(spec.months), weights) * keep
    return RegisterEffect(effect, reached.trials, fu_all, balance, len(strata), cal is not None,
                          (note,) if note else ())


def _trial_curves(units: pd.DataFrame, keep: np.ndarray, rows: CurveRows, order: list,
                  horizons: list[float]) -> list[tuple[Any, Any]]:
    """The (participants, comparisons) Aalen-Johansen curves of each trial in ``order``.

    The rows are grouped once by (trial, group) with a stable sort, so each curve gets its
    rows in the order of ``rows`` (as a boolean selection would give them).
    """
    trial_values, trial_of = np.unique(units["trial"].to_numpy(), return_inverse=True)
    key = np.where(keep, trial_of.ravel() * 2 + ~units["treated"].to_numpy(dtype=bool), -1)[rows.unit]
    by_key = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[by_key], np.arange(2 * len(trial_values) + 1))
    person, sets = units["person"].to_numpy(), units["set"].to_numpy()
    strata = []
    for trial in order:
        j = int(np.flatnonzero(trial_values == pd.Timestamp(trial).to_datetime64())[0])
        pair = []
        for k in (2 * j, 2 * j + 1):  # participants, then comparisons
            r = by_key[bounds[k]:bounds[k + 1]]
            u = rows.unit[r]
            pair.append(aalen_johansen(
                rows.time[r], rows.event[r], cause=EVENT, weights=rows.weight[r], entry=rows.entry[r],
                unit=u, horizons=horizons, clusters={"person": person[u], "set": sets[u]}))
        strata.append(tuple(pair))
    return strata


def _balance_weights(units: pd.DataFrame, fu: FollowUp, horizon: float,
                     censoring: UnitCensoringWeights | None) -> np.ndarray:
    """Unit weights at the horizon: matching weight x censoring weight of those still followed.

    A comparison unit censored before the horizon without an event weighs 0; one with an event
    or followed to the horizon carries the censoring weight of the month it reached.
    """
    w = units["weight"].to_numpy(dtype=float).copy()
    if censoring is None:
        return w
    controls = ~units["treated"].to_numpy()
    end = np.minimum(fu.time, horizon)
    known = (fu.event != CENSORED) | (fu.time >= horizon - 1e-9)
    k = (censoring.starts < end[:, None]).sum(axis=1) - 1
    cw = np.where(k >= 0, censoring.weights[np.arange(len(w)), np.maximum(k, 0)], 1.0)
    return np.where(controls, np.where(known, w * np.nan_to_num(cw, nan=1.0), 0.0), w)
