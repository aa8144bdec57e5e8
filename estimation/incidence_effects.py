"""Differences of cumulative incidence curves at horizons, combined over strata (trials).

For strata s = 1..S (target trials), each with a treated and a control curve (weighted
Aalen-Johansen, ``estimation.aalen_johansen``), the effect at horizon h is

    delta(h) = sum_s v_s(h) [F1_s(h) - F0_s(h)],   v_s(h) = omega_s / sum of omega over the
                                                    strata whose curves are known at h,

with stated weights omega_s (default: the number of treated units of the stratum, which
makes delta the average effect on the treated over all strata). Its influence functions are
the stacked per-unit influence functions of all curves, treated ones times +v_s and control
ones times -v_s, so that the variance can be clustered over the whole stack: a person who is
a comparison in several trials (and a participant later) is one cluster however many strata
they appear in. With the default weights, estimated with the rest, each treated unit also
carries its count's influence on the weights, (D_s - delta) / N (``_estimated_stack``), so
that a stratum of one treated unit (whose curve has no influence on itself) carries its
outcome's variance; the control noise that term repeats is subtracted (``_overlap``). The default is two-way on person and matched set (Cameron, Gelbach and
Miller 2011), with the matching held fixed (Abadie and Spiess 2022).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Sequence

import numpy as np
import pandas as pd

from estimation.calibration import CalibratedWeights
from estimation.incidence import CumulativeIncidence
from estimation.parameters import InvalidInputError, InvalidParameterError
from estimation.summary import Summary, SummaryMethods, short_number
from estimation.variance import cluster_covariance

OWNER = "incidence_effect"


@dataclass(frozen=True, eq=False, repr=False)
class IncidenceEffect(SummaryMethods):
    """Treated-minus-control cumulative incidence at horizons, over strata; immutable.

    Per horizon (arrays of the length of ``horizons``): ``estimate``, ``std_error``,
    ``ci_low``, ``ci_high``, ``p_value`` of the difference; ``treated`` and ``control`` (the
    weighted averages of the curves) with ``treated_se``, ``control_se``; ``n_strata`` and
    ``weight_share`` (the strata whose curves are known at the horizon, and their share of
    the total weight); unweighted ``n_risk_treated``, ``n_risk_control`` (units at risk at
    the horizon) and ``events_treated``, ``events_control`` (events of the cause since the
    previous horizon), summed over the strata used, for disclosure rules.
    ``covariance`` is the covariance of the estimates across horizons; ``strata`` a table
    per stratum; ``cluster`` the clustering used with ``cluster_counts``; ``influence`` the
    stacked influence contributions of the estimate (rows: every treated curve's units in
    stratum order, then every control curve's), whose clustered cross-products give
    ``covariance`` (less, with the default weights, the control noise they count twice).
    """

    cause: object
    horizons: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    treated: np.ndarray
    treated_se: np.ndarray
    control: np.ndarray
    control_se: np.ndarray
    covariance: np.ndarray
    n_strata: np.ndarray
    weight_share: np.ndarray
    n_risk_treated: np.ndarray
    n_risk_control: np.ndarray
    events_treated: np.ndarray
    events_control: np.ndarray
    strata: pd.DataFrame
    cluster: tuple[str, ...] | None
    cluster_counts: tuple[int, ...]
    alpha: float = 0.05
    n_treated: int = 0
    n_control: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    influence: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    def frame(self) -> pd.DataFrame:
        """One row per horizon: the difference with its interval, and both curves."""
        level = f"{100 * (1 - self.alpha):g}%"
        return pd.DataFrame({
            "estimate": self.estimate, "std_error": self.std_error,
            f"ci_low ({level})": self.ci_low, f"ci_high ({level})": self.ci_high,
            "p_value": self.p_value, "treated": self.treated, "control": self.control,
            "n_strata": self.n_strata, "weight_share": self.weight_share,
        }, index=pd.Index(self.horizons, name="horizon"))

    def to_dict(self) -> dict:
        """Plain values for JSON: one entry per horizon, and the settings."""
        rows = []
        for j, h in enumerate(self.horizons):
            rows.append({k: _plain(getattr(self, k)[j]) for k in (
                "estimate", "std_error", "ci_low", "ci_high", "p_value", "treated",
                "treated_se", "control", "control_se", "n_strata", "weight_share")}
                | {"horizon": _plain(h)})
        return {"cause": _plain(self.cause), "alpha": self.alpha, "horizons": rows,
                "cluster": list(self.cluster) if self.cluster else None,
                "cluster_counts": list(self.cluster_counts), "n_treated": self.n_treated,
                "n_control": self.n_control, "notes": list(self.notes)}

    def _headline(self) -> str:
        parts = [f"{short_number(h)}: {short_number(e)} (SE {short_number(s)})"
                 for h, e, s in zip(self.horizons, self.estimate, self.std_error)]
        return f"difference in cumulative incidence of {self.cause!r} at " + ", ".join(parts[:4]) + (
            ", ..." if len(parts) > 4 else "")

    def summary(self) -> Summary:
        clustering = ("units independent" if not self.cluster else
                      " x ".join(f"{name} ({g})" for name, g in
                                 zip(self.cluster, self.cluster_counts)))
        notes = (
            f"Difference in the cumulative incidence of '{self.cause}' (treated minus "
            "control), averaged over strata with the stated weights (by default the number "
            "of treated units: the average effect on the treated).",
            f"Standard errors: cluster-robust from the influence functions of all curves "
            f"together, clustered on {clustering}; normal intervals and two-sided p-values, "
            "unadjusted for multiple comparisons.",
            *self.notes,
        )
        return Summary(f"Effect on the cumulative incidence of '{self.cause}'",
                       (("Estimates", self.frame()), ("Strata", self.strata.copy())), notes)


def _plain(value):
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# ---------------------------------------------------------------------------------------
# checks


def _check_strata(strata) -> list[tuple[CumulativeIncidence, CumulativeIncidence]]:
    pairs = list(strata)
    if not pairs:
        raise InvalidInputError(f"{OWNER}: no strata; expected at least one (treated, control) "
                                "pair of curves.")
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and
                all(isinstance(c, CumulativeIncidence) for c in pair)):
            raise InvalidInputError(
                f"{OWNER}: stratum {k} must be a (treated, control) pair of "
                "CumulativeIncidence curves (from estimation.aalen_johansen).")
    first = pairs[0][0]
    for k, pair in enumerate(pairs):
        for curve in pair:
            if not np.array_equal(curve.horizons, first.horizons) or curve.cause != first.cause:
                raise InvalidInputError(
                    f"{OWNER}: stratum {k}: every curve needs the same cause and horizons as "
                    f"the first ({first.cause!r} at {first.horizons.tolist()}); got "
                    f"{curve.cause!r} at {curve.horizons.tolist()}.")
    if first.horizons.size == 0:
        raise InvalidInputError(f"{OWNER}: the curves have no horizons; give horizons= to "
                                "aalen_johansen.")
    return pairs


def _weights(weights, pairs) -> np.ndarray:
    if weights is None:
        return np.array([float(t.n_units) for t, _ in pairs])
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != len(pairs) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InvalidParameterError(OWNER, "weights", f"{len(pairs)} finite numbers >= 0 with "
                                    "a positive sum (one per stratum)", weights)
    return w


def _cluster_names(cluster) -> tuple[str, ...] | None:
    if cluster is None:
        return None
    names = (cluster,) if isinstance(cluster, str) else tuple(cluster)
    if not names or not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(OWNER, "cluster", "None, a name or a tuple of names of the "
                                    "curves' clusters (e.g. ('person', 'set'))", cluster)
    return names


def _text(labels, prefix: str) -> np.ndarray:
    """``(prefix + pd.Series(labels).astype(str)).to_numpy()``: each label's ``str()`` after
    the prefix, as an object array (without pandas' string arrays, which cost more here)."""
    return np.array([prefix + str(label) for label in np.asarray(labels).tolist()], dtype=object)


def _labels(pairs, names, within) -> list[np.ndarray] | None:
    """Cluster labels per stacked row: all treated curves' units, then all control ones."""
    if names is None:
        return None
    order = [(k, pair[g]) for g in (0, 1) for k, pair in enumerate(pairs)]
    out = []
    for name in names:
        parts = []
        for k, curve in order:
            if name not in curve.clusters:
                raise InvalidInputError(
                    f"{OWNER}: a curve of stratum {k} has no cluster labels '{name}'; give "
                    f"clusters={{'{name}': ...}} to aalen_johansen (it has "
                    f"{sorted(curve.clusters) or 'none'}).")
            parts.append(_text(curve.clusters[name], f"{k}:" if name in within else ""))
        out.append(np.concatenate(parts))
    return out


# ---------------------------------------------------------------------------------------
# the estimate


def _events_since(curve: CumulativeIncidence) -> np.ndarray:
    cumulative = np.concatenate([[0], np.cumsum(curve.n_event)])
    at = cumulative[np.searchsorted(curve.times, curve.horizons, side="right")]
    return np.diff(np.concatenate([[0], at]))


@dataclass(frozen=True)
class _Stack:
    """Influence contributions per stacked row (all treated curves' units, then all control
    ones) and horizon: of the averaged treated curve, of the averaged control curve; and
    ``overlap``, the part of the clustered cross-products that counts the control curves'
    noise twice (subtracted from the covariance; zero when the weights are fixed)."""

    v: np.ndarray  # (strata, horizons) normalised weights, 0 where a stratum is not used
    treated: np.ndarray  # (rows, horizons), zero on control rows
    control: np.ndarray  # (rows, horizons); on treated rows the weights' term of the control
    overlap: np.ndarray  # (horizons, horizons)


def _small_sample(curve: CumulativeIncidence, small_sample: bool) -> float:
    """sqrt(m / (m - 1)) with m the curve's effective number of units (1 when off)."""
    m = curve.ess
    return math.sqrt(m / (m - 1)) if small_sample and m > 1 else 1.0


def _used_weights(pairs, omega) -> tuple[np.ndarray, np.ndarray]:
    """(strata, horizons): the strata used at each horizon, and their normalised weights v."""
    used = np.array([t.defined & c.defined for t, c in pairs])
    raw = omega[:, None] * used
    total = raw.sum(axis=0)
    return used, np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)


def _stack(pairs, omega, small_sample: bool, estimated: bool) -> _Stack:
    """The stacked influence contributions; ``estimated``: the weights are the numbers of
    treated units, estimated with the rest (see ``_estimated_stack``)."""
    if estimated:
        return _estimated_stack(pairs, omega, small_sample)
    used, v = _used_weights(pairs, omega)
    treated = np.concatenate([t.influence * (v[k] * _small_sample(t, small_sample))
                              for k, (t, _) in enumerate(pairs)])
    control = np.concatenate([c.influence * (v[k] * _small_sample(c, small_sample))
                              for k, (_, c) in enumerate(pairs)])
    zeros_t, zeros_c = np.zeros_like(treated), np.zeros_like(control)
    horizons = v.shape[1]
    return _Stack(v, np.concatenate([treated, zeros_c]), np.concatenate([zeros_t, control]),
                  np.zeros((horizons, horizons)))


def _estimated_stack(pairs, omega, small_sample: bool) -> _Stack:
    """The influence function of the whole stacked estimator, the weights v_s = n_s / N
    (n_s the treated units of stratum s) estimated with it.

    A treated unit of stratum s carries, besides its influence on its own curve (times v_s),
    the influence of its count on the weights: (D_s - delta) / N for the difference D_s =
    F1_s - F0_s, split as (F1_s - T) / N on the treated curve and (F0_s - C) / N on the
    control one. Over a stratum's treated units the two parts add up to each unit's own
    deviation, so a stratum of one treated unit carries the variance of its outcome (its own
    curve's influence is zero). The treated rows are scaled by sqrt(m / (m - 1)), m the
    treated units' effective number over the strata used (HC1 of the treated mean; one
    stratum: the curve's own factor), the control curves by their own factor. D_s holds the
    control curve's noise too, which the control rows already carry: ``overlap`` is its
    expected share of the cross-products, subtracted from the covariance.
    """
    used, v = _used_weights(pairs, omega)
    total = (omega[:, None] * used).sum(axis=0)
    a = np.divide(used.astype(float), total, out=np.zeros_like(v), where=total > 0)
    f1 = np.where(used, np.array([t.at_horizons for t, _ in pairs]), 0.0)
    f0 = np.where(used, np.array([c.at_horizons for _, c in pairs]), 0.0)
    m = (used * np.array([[t.ess] for t, _ in pairs])).sum(axis=0)
    scale = np.sqrt(np.divide(m, m - 1, out=np.ones_like(m), where=m > 1)) if small_sample \
        else np.ones_like(m)
    mean1, mean0 = (v * f1).sum(axis=0), (v * f0).sum(axis=0)
    treated = np.concatenate([(t.influence * v[k] + a[k] * (f1[k] - mean1)) * scale
                              for k, (t, _) in enumerate(pairs)])
    weights_c = np.concatenate([np.broadcast_to(a[k] * (f0[k] - mean0) * scale, t.influence.shape)
                                for k, (t, _) in enumerate(pairs)])
    control = np.concatenate([c.influence * (v[k] * _small_sample(c, small_sample))
                              for k, (_, c) in enumerate(pairs)])
    return _Stack(v, np.concatenate([treated, np.zeros_like(control)]),
                  np.concatenate([weights_c, control]),
                  _overlap(pairs, omega, v, a, scale, small_sample))


def _overlap(pairs, omega, v, a, scale, small_sample: bool) -> np.ndarray:
    """E of the control noise e_s in the treated rows' weights' term a_s (e_s - sum_r v_r e_r),
    summed over each stratum's treated units (each its own cluster):

        sum_s n_s a_s a_s' [C_s (1 - v_s - v_s') + sum_r v_r v_r' C_r],

    with C_s the covariance across horizons of the control curve of stratum s (its
    influence functions' cross-products, small-sample factor included); zero for one stratum.
    """
    h = v.shape[1]
    own, pooled = np.zeros((h, h)), np.zeros((h, h))
    cs = []
    for k, (_, c) in enumerate(pairs):
        cs.append(c.influence.T @ c.influence * _small_sample(c, small_sample) ** 2)
        pooled += np.outer(v[k], v[k]) * cs[k]
    weight = np.zeros((h, h))
    for k, (t, _) in enumerate(pairs):
        aa = float(omega[k]) * np.outer(a[k], a[k])
        own += aa * cs[k] * (1.0 - v[k][:, None] - v[k][None, :])
        weight += aa
    return np.outer(scale, scale) * (own + weight * pooled)


def _calibration_correction(pairs, stack: _Stack, calibration) -> np.ndarray:
    """(rows, horizons): D' H^-1 psi_r, the change of the averaged control curve through the
    calibration's lambda when row r's weight changes (see estimation.calibration)."""

    if not isinstance(calibration, CalibratedWeights):
        raise InvalidParameterError(OWNER, "calibration", "None or the result of "
                                    "estimation.calibrate_weights", type(calibration).__name__)
    if len(calibration.strata) != len(pairs):
        raise InvalidInputError(
            f"{OWNER}: the calibration has {len(calibration.strata)} strata; got "
            f"{len(pairs)} pairs of curves (pass them in the calibration's order, "
            "calibration.strata).")
    order = [(k, pair[g], g == 0) for g in (0, 1) for k, pair in enumerate(pairs)]
    rows = np.concatenate([calibration.rows_of(k, treated, curve.units)
                           for k, curve, treated in order])
    psi = calibration.psi()[rows]  # (stacked rows, terms)
    x = calibration.x[rows]
    d = np.zeros((x.shape[1], stack.v.shape[1]))  # d(control average)/d(lambda)
    start = sum(t.n_units for t, _ in pairs)
    for k, (_, c) in enumerate(pairs):
        block = slice(start, start + c.n_units)
        d += x[block].T @ (c.influence * stack.v[k])
        start += c.n_units
    solved = np.linalg.lstsq(calibration.hessian, d, rcond=None)[0]  # H^-1 D
    return -psi @ solved


def _variance(scores: np.ndarray, labels, adjust: bool) -> tuple[np.ndarray, tuple[int, ...]]:
    cov, counts = cluster_covariance(scores, labels, adjust=adjust)
    if labels is not None and len(labels) > 1:
        diag = np.diag(cov).copy()
        if (diag < 0).any():  # inclusion-exclusion gone negative: the largest one-way
            one_way = np.max([np.diag(cluster_covariance(scores, [d], adjust=adjust)[0])
                              for d in labels], axis=0)
            fix = diag < 0
            cov[fix, :], cov[:, fix] = 0.0, 0.0
            cov[fix, fix] = one_way[fix]
    return cov, counts


def _less_overlap(cov: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """cov - overlap; a horizon whose variance would become <= 0 keeps its row of cov."""
    out = cov - overlap
    keep = np.diag(out) <= 0
    out[keep, :], out[:, keep] = cov[keep, :], cov[:, keep]
    return out


def incidence_effect(
    strata: Sequence[tuple[CumulativeIncidence, CumulativeIncidence]],
    *,
    weights: Sequence[float] | None = None,
    cluster: str | Sequence[str] | None = ("person", "set"),
    within_stratum: Sequence[str] = (),
    alpha: float = 0.05,
    adjust: bool = True,
    small_sample: bool = True,
    calibration=None,
) -> IncidenceEffect:
    """The difference of cumulative incidence curves at their horizons, over strata.

    Parameters
    ----------
    strata : (treated curve, control curve) per stratum (trial); all curves of the same
        cause and horizons (``aalen_johansen(..., horizons=...)``).
    weights : one weight per stratum (default: the number of treated units in it, estimated
        with the rest: each treated unit carries its count's influence on the weights, so a
        stratum of one treated unit adds its outcome's variance; given weights are fixed and
        such a stratum adds none for its treated curve). At a horizon, strata whose treated or control curve is not known there (follow-up ends
        earlier) are left out and the weights of the others renormalised; ``n_strata`` and
        ``weight_share`` say how many and how much weight remained.
    cluster : names of the curves' ``clusters`` to cluster the variance on (default two-way
        on person and matched set); None: every unit of every curve independent.
    within_stratum : cluster names whose labels are unique only within a stratum (e.g. a
        subclass number restarting in every trial); they are made unique by the stratum.
    alpha : 1 - confidence level of the intervals.
    adjust : the G/(G-1) small-sample factor per clustering term (as sandwich::vcovCL).
    small_sample : scale each control curve's influence functions by sqrt(m / (m - 1)), m
        its effective number of units, before stacking (the infinitesimal jackknife variance
        of one curve is too small by about (m - 1) / m, as HC0 against HC1), and the treated
        rows by the same factor with m the treated units' effective number over the strata
        used (each treated curve by its own when ``weights`` are given). False gives
        survfit's variance for one curve.
    calibration : the ``estimation.calibrate_weights`` result whose weights the control
        curves were estimated with (covariate adjustment); its estimation is carried into
        the influence functions. The strata must be in ``calibration.strata`` order and the
        curves' unit ids must be the calibration's ``unit`` ids.

    Examples
    --------
    >>> from estimation import aalen_johansen, incidence_effect
    >>> t = aalen_johansen([2, 3, 5, 8, 9], [1, 1, 0, 1, 2], cause=1, horizons=[6],
    ...                    clusters={"person": ["a", "b", "c", "d", "e"]})
    >>> c = aalen_johansen([1, 4, 6, 7, 9, 9], [2, 1, 0, 0, 1, 0], cause=1, horizons=[6],
    ...                    clusters={"person": ["f", "g", "a", "h", "i", "j"]})
    >>> effect = incidence_effect([(t, c)], cluster="person")
    >>> round(float(effect.estimate[0]), 4), round(float(effect.std_error[0]), 4)
    (0.2333, 0.3265)
    """
    pairs = _check_strata(strata)
    omega = _weights(weights, pairs)
    names = _cluster_names(cluster)
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InvalidParameterError(OWNER, "alpha", "a float in (0, 1)", alpha)
    stack = _stack(pairs, omega, bool(small_sample), weights is None)
    labels = _labels(pairs, names, set(within_stratum))
    control_scores = stack.control
    if calibration is not None:
        control_scores = control_scores + _calibration_correction(pairs, stack, calibration)
    scores = stack.treated - control_scores
    cov, counts = _variance(scores, labels, adjust)
    cov_t, _ = _variance(stack.treated, labels, adjust)
    cov_c, _ = _variance(control_scores, labels, adjust)
    cov, cov_c = _less_overlap(cov, stack.overlap), _less_overlap(cov_c, stack.overlap)
    treated = (stack.v * np.array([t.at_horizons for t, _ in pairs])).sum(axis=0)
    control = (stack.v * np.array([c.at_horizons for _, c in pairs])).sum(axis=0)
    result = dataclasses.replace(
        _result(pairs, stack, omega, treated, control, (cov, cov_t, cov_c), names, counts,
                float(alpha)), influence=scores)
    if calibration is None:
        return result
    return dataclasses.replace(result, notes=(*result.notes, (
        "Covariate-adjusted: the comparison curves use calibrated weights (the covariate "
        "means balanced over the strata); the calibration is carried into the standard "
        "errors.")))


def _result(pairs, stack, omega, treated, control, covs, names, counts, alpha) -> IncidenceEffect:
    cov, cov_t, cov_c = covs
    estimate = treated - control
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    z = NormalDist().inv_cdf(1 - alpha / 2)
    used = stack.v > 0
    p = np.array([math.erfc(abs(e / s) / math.sqrt(2)) if s > 0 else math.nan
                  for e, s in zip(estimate, se)])
    first = pairs[0][0]
    n_strata = used.sum(axis=0)
    notes = _notes(first.horizons, n_strata, len(pairs))
    return IncidenceEffect(
        first.cause, first.horizons.copy(), estimate, se, estimate - z * se, estimate + z * se,
        p, treated, np.sqrt(np.maximum(np.diag(cov_t), 0)), control,
        np.sqrt(np.maximum(np.diag(cov_c), 0)), cov, n_strata,
        (omega[:, None] * used).sum(axis=0) / omega.sum(),
        _sum_used(used, [t.n_risk_at_horizons for t, _ in pairs]),
        _sum_used(used, [c.n_risk_at_horizons for _, c in pairs]),
        _sum_used(used, [_events_since(t) for t, _ in pairs]),
        _sum_used(used, [_events_since(c) for _, c in pairs]),
        _strata_table(pairs, omega), names, counts if names else (), alpha,
        sum(t.n_units for t, _ in pairs), sum(c.n_units for _, c in pairs), notes,
    )


def _sum_used(used: np.ndarray, values: list[np.ndarray]) -> np.ndarray:
    return (used * np.array(values)).sum(axis=0).astype(np.int64)


def _strata_table(pairs, omega) -> pd.DataFrame:
    rows = []
    for k, (t, c) in enumerate(pairs):
        row = {"stratum": t.label or c.label or str(k), "weight": omega[k],
               "n_treated": t.n_units, "n_control": c.n_units}
        for j, h in enumerate(t.horizons):
            row[f"treated at {h:g}"] = t.at_horizons[j] if t.defined[j] else np.nan
            row[f"control at {h:g}"] = c.at_horizons[j] if c.defined[j] else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("stratum")


def _notes(horizons, n_strata, total) -> tuple[str, ...]:
    short = [f"{h:g} ({n} of {total})" for h, n in zip(horizons, n_strata) if n < total]
    if not short:
        return ()
    return ("Strata whose follow-up ends before a horizon are left out there and the weights "
            "of the others renormalised; strata used per horizon: " + ", ".join(short) + ".",)


def cif_difference(treated: CumulativeIncidence, control: CumulativeIncidence,
                   **kwargs) -> IncidenceEffect:
    """One stratum: ``incidence_effect([(treated, control)], **kwargs)``.

    >>> from estimation import aalen_johansen, cif_difference
    >>> t = aalen_johansen([2, 3, 5, 8], [1, 1, 0, 1], cause=1, horizons=[6])
    >>> c = aalen_johansen([1, 4, 6, 7, 9], [2, 1, 0, 0, 1], cause=1, horizons=[6])
    >>> round(float(cif_difference(t, c, cluster=None).estimate[0]), 4)
    0.3
    """
    return incidence_effect([(treated, control)], **kwargs)
